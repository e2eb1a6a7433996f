//! The DataCite REST API (JSON:API) as Arca uses it: read a DOI, create a draft, update
//! attributes with an event (register, publish, hide), delete a draft.

use crate::config::DataciteSettings;
use serde_json::{Value, json};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum DataciteError {
    /// The network, a timeout, or a 5xx/429: worth another try.
    #[error("DataCite could not be reached or failed ({0}); will retry")]
    Unavailable(String),
    /// DataCite refused the request for reasons a curator can act on.
    #[error("DataCite refused the DOI: {}", .0.join("; "))]
    Rejected(Vec<String>),
    #[error("DataCite refused Arca's credentials: check [doi.datacite] repository_id and password")]
    Unauthorized,
    #[error("DataCite answered something Arca does not understand: {0}")]
    Protocol(String),
}

/// What DataCite holds for a DOI.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteDoi {
    pub doi: String,
    pub state: String,
    pub url: Option<String>,
    pub attributes: Value,
}

#[derive(Clone)]
pub struct DataciteClient {
    http: reqwest::Client,
    base: String,
    repository_id: String,
    password: String,
}

/// DataCite's JSON:API errors: `{"errors": [{"source": "titles", "title": "…"}]}`.
fn reasons(body: &Value) -> Vec<String> {
    body.get("errors")
        .and_then(Value::as_array)
        .map(|errs| {
            errs.iter()
                .map(|e| {
                    let title = e.get("title").and_then(Value::as_str).unwrap_or("refused");
                    match e.get("source").and_then(Value::as_str) {
                        Some(src) => format!("{src}: {title}"),
                        None => title.to_owned(),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

fn remote(body: &Value) -> Result<RemoteDoi, DataciteError> {
    let attrs = body
        .pointer("/data/attributes")
        .cloned()
        .ok_or_else(|| DataciteError::Protocol("no data.attributes in the answer".into()))?;
    let doi = attrs
        .get("doi")
        .or_else(|| body.pointer("/data/id"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_lowercase();
    let state = attrs
        .get("state")
        .and_then(Value::as_str)
        .ok_or_else(|| DataciteError::Protocol("no state in the answer".into()))?
        .to_owned();
    Ok(RemoteDoi {
        doi,
        state,
        url: attrs.get("url").and_then(Value::as_str).map(str::to_owned),
        attributes: attrs,
    })
}

impl DataciteClient {
    pub fn new(settings: &DataciteSettings) -> Result<Self, DataciteError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.timeout_secs))
            .build()
            .map_err(|e| DataciteError::Protocol(e.to_string()))?;
        Ok(Self {
            http,
            base: settings.url.trim_end_matches('/').to_owned(),
            repository_id: settings.repository_id.clone(),
            password: settings.password.0.clone(),
        })
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .basic_auth(&self.repository_id, Some(&self.password))
            .header("accept", "application/vnd.api+json")
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<(u16, Value), DataciteError> {
        let resp = req
            .send()
            .await
            .map_err(|e| DataciteError::Unavailable(e.to_string()))?;
        let status = resp.status().as_u16();
        let text = resp
            .text()
            .await
            .map_err(|e| DataciteError::Unavailable(e.to_string()))?;
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        match status {
            200..=299 | 404 => Ok((status, body)),
            401 | 403 => Err(DataciteError::Unauthorized),
            429 | 500..=599 => Err(DataciteError::Unavailable(format!("HTTP {status}"))),
            _ => {
                let mut r = reasons(&body);
                if r.is_empty() {
                    r.push(format!("HTTP {status}"));
                }
                Err(DataciteError::Rejected(r))
            }
        }
    }

    fn path(doi: &str) -> String {
        // DOI suffixes may hold '/', which the API takes as is in the path.
        format!("/dois/{doi}")
    }

    pub async fn get(&self, doi: &str) -> Result<Option<RemoteDoi>, DataciteError> {
        let (status, body) = self
            .send(self.request(reqwest::Method::GET, &Self::path(doi)))
            .await?;
        if status == 404 {
            return Ok(None);
        }
        remote(&body).map(Some)
    }

    /// Create the DOI as a draft, with whatever metadata there is.
    pub async fn create_draft(
        &self,
        doi: &str,
        attributes: &Value,
    ) -> Result<RemoteDoi, DataciteError> {
        let mut attrs = attributes.clone();
        attrs["doi"] = json!(doi);
        let body = json!({ "data": { "type": "dois", "attributes": attrs } });
        let (status, body) = self
            .send(self.request(reqwest::Method::POST, "/dois").json(&body))
            .await?;
        if status == 404 {
            return Err(DataciteError::Protocol("POST /dois answered 404".into()));
        }
        remote(&body)
    }

    /// Replace the DOI's attributes and, with `event`, move its state.
    pub async fn update(
        &self,
        doi: &str,
        attributes: &Value,
        event: Option<&str>,
    ) -> Result<RemoteDoi, DataciteError> {
        let mut attrs = attributes.clone();
        if let Some(e) = event {
            attrs["event"] = json!(e);
        }
        let body = json!({ "data": { "id": doi, "type": "dois", "attributes": attrs } });
        let (status, body) = self
            .send(
                self.request(reqwest::Method::PUT, &Self::path(doi))
                    .json(&body),
            )
            .await?;
        if status == 404 {
            return Err(DataciteError::Protocol(format!("PUT {doi} answered 404")));
        }
        remote(&body)
    }

    /// Only drafts can be deleted; DataCite refuses the rest.
    pub async fn delete_draft(&self, doi: &str) -> Result<(), DataciteError> {
        self.send(self.request(reqwest::Method::DELETE, &Self::path(doi)))
            .await
            .map(|_| ())
    }

    /// Send a COUNTER Dataset Report to the usage reports API (`POST /reports`, or
    /// `PUT /reports/{id}` to replace one sent before), with DataCite's usage token
    /// when there is one. Returns the report's id.
    pub async fn send_usage_report(
        &self,
        report: Vec<u8>,
        previous: Option<&str>,
        token: Option<&str>,
    ) -> Result<String, DataciteError> {
        let (method, path) = match previous {
            Some(id) => (reqwest::Method::PUT, format!("/reports/{id}")),
            None => (reqwest::Method::POST, "/reports".to_owned()),
        };
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .header("accept", "application/json");
        req = match token {
            Some(t) => req.bearer_auth(t),
            None => req.basic_auth(&self.repository_id, Some(&self.password)),
        };
        let (status, body) = self.send(req.body(report)).await?;
        if status == 404 {
            return Err(DataciteError::Protocol(format!("{path} answered 404")));
        }
        body.pointer("/report/id")
            .or_else(|| body.pointer("/data/id"))
            .or_else(|| body.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| previous.map(str::to_owned))
            .ok_or_else(|| DataciteError::Protocol("no report id in the answer".into()))
    }
}
