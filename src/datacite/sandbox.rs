//! `arca datacite-sandbox`: a local server speaking the subset of the DataCite REST API
//! that Arca uses (JSON:API, basic auth, POST/PUT/GET/DELETE /dois, the events register,
//! publish and hide), with DataCite's rules (a registered or findable DOI needs a URL and
//! the required metadata; only drafts can be deleted; an invalid event is ignored, not
//! refused) and switchable faults: an error rate (half the errors happen *after* the
//! change was applied, as real timeouts do), latency and timeouts.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Share of /dois requests answered with 500 (0.0–1.0).
    pub error_rate: f64,
    /// Each /dois request waits a random time up to this many milliseconds.
    pub latency_ms: u64,
    /// Share of /dois requests that hang for `timeout_ms` before answering 504.
    pub timeout_rate: f64,
    pub timeout_ms: u64,
}

#[derive(Debug, Default, Serialize)]
pub struct Stats {
    /// How many times each DOI was created (more than once would be a bug in a client).
    pub creations: BTreeMap<String, u32>,
    pub requests: u64,
    pub injected_errors: u64,
}

struct Inner {
    dois: BTreeMap<String, Value>,
    /// Usage reports by id.
    reports: BTreeMap<String, Value>,
    faults: Faults,
    stats: Stats,
}

#[derive(Clone)]
pub struct Sandbox {
    repository_id: String,
    password: String,
    inner: Arc<Mutex<Inner>>,
}

/// A refused request, as DataCite words it: `{"errors": [{"source", "title"}]}`.
struct Refusal(Box<Response>);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        *self.0
    }
}

type Reply = Result<Response, Refusal>;

fn errors(status: StatusCode, list: &[(&str, String)]) -> Refusal {
    let errs: Vec<Value> = list
        .iter()
        .map(|(src, title)| json!({ "source": src, "title": title }))
        .collect();
    Refusal(Box::new(
        (status, Json(json!({ "errors": errs }))).into_response(),
    ))
}

fn document(attrs: &Value) -> Response {
    let id = attrs["doi"].clone();
    let attrs = with_xml(attrs);
    Json(json!({ "data": { "id": id, "type": "dois", "attributes": attrs } })).into_response()
}

/// DataCite validates metadata against its schema: here, the 4.7 model and its closed
/// lists. Attributes that are not metadata (the URL, state, event) are left out.
fn schema_problems(attrs: &Value) -> Vec<(&'static str, String)> {
    let mut meta = attrs.clone();
    if let Some(o) = meta.as_object_mut() {
        for k in [
            "url",
            "state",
            "event",
            "doi",
            "prefix",
            "suffix",
            "schemaVersion",
        ] {
            o.remove(k);
        }
    }
    match serde_json::from_value::<crate::metadata::datacite::Resource>(meta) {
        Ok(_) => Vec::new(),
        Err(e) => vec![(
            "metadata",
            format!("Does not match the DataCite 4.7 schema: {e}"),
        )],
    }
}

/// DataCite takes metadata as JSON attributes or as DataCite XML, base64-encoded in the
/// `xml` attribute; XML, when sent, is the metadata, and the JSON attributes are what
/// DataCite reads out of it. Whatever is stored is served back as `xml` too.
fn take_xml(attrs: &mut Value) -> Result<(), Refusal> {
    use base64::Engine;
    let Some(encoded) = attrs.as_object_mut().and_then(|o| o.remove("xml")) else {
        return Ok(());
    };
    let invalid = |why: String| errors(StatusCode::UNPROCESSABLE_ENTITY, &[("xml", why)]);
    let bytes = encoded
        .as_str()
        .and_then(|t| {
            base64::engine::general_purpose::STANDARD
                .decode(t.trim())
                .ok()
        })
        .ok_or_else(|| invalid("Is not base64-encoded XML".into()))?;
    let text = String::from_utf8(bytes).map_err(|_| invalid("Is not UTF-8".into()))?;
    let record = crate::metadata::datacite::xml::from_xml(&text)
        .map_err(|e| invalid(format!("Does not match the DataCite 4 schema: {e}")))?;
    let from_xml = serde_json::to_value(&record).map_err(|e| invalid(e.to_string()))?;
    for (k, v) in from_xml.as_object().into_iter().flatten() {
        if k == "doi" {
            // The DOI in the XML names the record only when the request does not.
            if attrs["doi"].is_null() {
                attrs["doi"] = v.clone();
            }
            continue;
        }
        attrs[k] = v.clone();
    }
    Ok(())
}

/// The record as DataCite XML, base64-encoded, as DataCite serves it in `xml`.
fn with_xml(attrs: &Value) -> Value {
    use base64::Engine;
    let mut out = attrs.clone();
    let mut meta = attrs.clone();
    if let Some(o) = meta.as_object_mut() {
        for k in [
            "url",
            "state",
            "event",
            "prefix",
            "suffix",
            "schemaVersion",
            "xml",
        ] {
            o.remove(k);
        }
    }
    if let Ok(r) = serde_json::from_value::<crate::metadata::datacite::Resource>(meta) {
        let xml = crate::metadata::datacite::xml::to_xml(&r);
        out["xml"] = json!(base64::engine::general_purpose::STANDARD.encode(xml));
    }
    out
}

/// What DataCite requires before a DOI may be registered or findable. Written here on its
/// own, not shared with Arca's submission checks: a fake that reused Arca's code would
/// agree with Arca by construction and prove nothing.
fn missing_for_registration(attrs: &Value) -> Vec<(&'static str, String)> {
    let mut missing = Vec::new();
    let url_ok = attrs["url"]
        .as_str()
        .is_some_and(|u| u.starts_with("http://") || u.starts_with("https://"));
    if !url_ok {
        missing.push(("url", "Can't be blank".to_owned()));
    }
    let non_empty = |k: &str| attrs[k].as_array().is_some_and(|a| !a.is_empty());
    if !non_empty("titles") {
        missing.push(("titles", "Title is required".into()));
    }
    if !non_empty("creators") {
        missing.push(("creators", "Creator is required".into()));
    }
    let publisher = match &attrs["publisher"] {
        Value::String(s) => !s.is_empty(),
        Value::Object(o) => o
            .get("name")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty()),
        _ => false,
    };
    if !publisher {
        missing.push(("publisher", "Publisher is required".into()));
    }
    if attrs["publicationYear"].is_null() {
        missing.push(("publicationYear", "Publication year is required".into()));
    }
    if attrs
        .pointer("/types/resourceTypeGeneral")
        .and_then(Value::as_str)
        .is_none()
    {
        missing.push(("types", "Resource type general is required".into()));
    }
    missing
}

/// The state an event leads to; an event that does not apply leaves the state alone,
/// as DataCite does.
fn apply_event(state: &str, event: Option<&str>) -> String {
    match (state, event) {
        ("draft", Some("register")) => "registered",
        ("draft" | "registered", Some("publish")) => "findable",
        ("findable", Some("hide")) => "registered",
        (s, _) => s,
    }
    .to_owned()
}

impl Sandbox {
    pub fn new(repository_id: &str, password: &str) -> Self {
        Self {
            repository_id: repository_id.to_owned(),
            password: password.to_owned(),
            inner: Arc::new(Mutex::new(Inner {
                dois: BTreeMap::new(),
                reports: BTreeMap::new(),
                faults: Faults::default(),
                stats: Stats::default(),
            })),
        }
    }

    pub fn set_faults(&self, faults: Faults) {
        self.lock().faults = faults;
    }

    /// The DOI as the sandbox holds it (for tests).
    pub fn doi(&self, doi: &str) -> Option<Value> {
        self.lock().dois.get(&doi.to_lowercase()).cloned()
    }

    /// The usage reports received, by id (for tests).
    pub fn reports(&self) -> BTreeMap<String, Value> {
        self.lock().reports.clone()
    }

    /// How many requests were failed on purpose (for tests).
    pub fn injected_errors(&self) -> u64 {
        self.lock().stats.injected_errors
    }

    pub fn creations(&self) -> BTreeMap<String, u32> {
        self.lock().stats.creations.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn authorised(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let expected = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.repository_id, self.password));
        let given = headers.get("authorization").and_then(|v| v.to_str().ok());
        // Usage reports may come with a bearer token instead: the sandbox takes its
        // password as one.
        let ok = given.and_then(|v| v.strip_prefix("Basic ")) == Some(expected.as_str())
            || given.and_then(|v| v.strip_prefix("Bearer ")) == Some(self.password.as_str());
        if ok {
            Ok(())
        } else {
            Err(errors(
                StatusCode::UNAUTHORIZED,
                &[("", "Bad credentials".into())],
            ))
        }
    }

    /// Latency, timeouts, and errors before the change. Returns whether to fail *after*
    /// applying the change.
    async fn faults(&self) -> Result<bool, Refusal> {
        let f = {
            let mut inner = self.lock();
            inner.stats.requests += 1;
            inner.faults.clone()
        };
        if f.latency_ms > 0 {
            let ms = rand::random_range(0..=f.latency_ms);
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if f.timeout_rate > 0.0 && rand::random::<f64>() < f.timeout_rate {
            tokio::time::sleep(Duration::from_millis(f.timeout_ms)).await;
            return Err(Refusal(Box::new(
                StatusCode::GATEWAY_TIMEOUT.into_response(),
            )));
        }
        if f.error_rate > 0.0 && rand::random::<f64>() < f.error_rate {
            self.lock().stats.injected_errors += 1;
            if rand::random::<bool>() {
                return Err(errors(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &[("", "Injected failure".into())],
                ));
            }
            return Ok(true);
        }
        Ok(false)
    }

    fn after(fail_after: bool, ok: Response) -> Reply {
        if fail_after {
            Err(errors(
                StatusCode::INTERNAL_SERVER_ERROR,
                &[("", "Injected failure after the change".into())],
            ))
        } else {
            Ok(ok)
        }
    }

    pub fn router(self) -> Router {
        Router::new()
            .route("/heartbeat", get(|| async { "OK" }))
            .route("/dois", axum::routing::post(create))
            .route("/dois/{*doi}", get(show).put(update).delete(remove))
            .route("/reports", axum::routing::post(create_report))
            .route("/reports/{id}", get(show_report).put(replace_report))
            .route("/_sandbox/faults", put(set_faults).get(get_faults))
            .route("/_sandbox/stats", get(stats))
            .with_state(self)
    }
}

fn body_attributes(body: &Value) -> Result<Value, Refusal> {
    body.pointer("/data/attributes")
        .filter(|a| a.is_object())
        .cloned()
        .ok_or_else(|| {
            errors(
                StatusCode::BAD_REQUEST,
                &[(
                    "data",
                    "A JSON:API document with data.attributes is required".into(),
                )],
            )
        })
}

async fn create(State(s): State<Sandbox>, headers: HeaderMap, Json(body): Json<Value>) -> Reply {
    s.authorised(&headers)?;
    let fail_after = s.faults().await?;
    let mut attrs = body_attributes(&body)?;
    take_xml(&mut attrs)?;
    let Some(doi) = attrs["doi"].as_str().map(str::to_lowercase) else {
        return Err(errors(
            StatusCode::UNPROCESSABLE_ENTITY,
            &[("doi", "Can't be blank".into())],
        ));
    };
    if crate::model::doi::Doi::parse(&doi).is_err() {
        return Err(errors(
            StatusCode::UNPROCESSABLE_ENTITY,
            &[("doi", "Is invalid".into())],
        ));
    }
    let event = attrs.as_object_mut().and_then(|o| o.remove("event"));
    let state = apply_event("draft", event.as_ref().and_then(Value::as_str));
    attrs["doi"] = json!(doi);
    attrs["state"] = json!(state);
    let problems = schema_problems(&attrs);
    if !problems.is_empty() {
        return Err(errors(StatusCode::UNPROCESSABLE_ENTITY, &problems));
    }
    if state != "draft" {
        let missing = missing_for_registration(&attrs);
        if !missing.is_empty() {
            return Err(errors(StatusCode::UNPROCESSABLE_ENTITY, &missing));
        }
    }
    {
        let mut inner = s.lock();
        if inner.dois.contains_key(&doi) {
            return Err(errors(
                StatusCode::UNPROCESSABLE_ENTITY,
                &[("doi", "This DOI has already been taken".into())],
            ));
        }
        inner.dois.insert(doi.clone(), attrs.clone());
        *inner.stats.creations.entry(doi).or_default() += 1;
    }
    Sandbox::after(
        fail_after,
        (StatusCode::CREATED, document(&attrs)).into_response(),
    )
}

async fn show(State(s): State<Sandbox>, headers: HeaderMap, Path(doi): Path<String>) -> Reply {
    s.authorised(&headers)?;
    s.faults().await?;
    match s.doi(&doi) {
        Some(attrs) => Ok(document(&attrs)),
        None => Err(errors(
            StatusCode::NOT_FOUND,
            &[("", "The resource you are looking for doesn't exist.".into())],
        )),
    }
}

async fn update(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Path(doi): Path<String>,
    Json(body): Json<Value>,
) -> Reply {
    s.authorised(&headers)?;
    let fail_after = s.faults().await?;
    let mut changes = body_attributes(&body)?;
    take_xml(&mut changes)?;
    let doi = doi.to_lowercase();
    let event = changes.as_object_mut().and_then(|o| o.remove("event"));
    let mut inner = s.lock();
    let Some(current) = inner.dois.get(&doi).cloned() else {
        return Err(errors(
            StatusCode::NOT_FOUND,
            &[("", "The resource you are looking for doesn't exist.".into())],
        ));
    };
    let mut next = current.clone();
    for (k, v) in changes.as_object().into_iter().flatten() {
        if k != "doi" && k != "state" {
            next[k] = v.clone();
        }
    }
    let state = apply_event(
        current["state"].as_str().unwrap_or("draft"),
        event.as_ref().and_then(Value::as_str),
    );
    next["state"] = json!(state);
    let problems = schema_problems(&next);
    if !problems.is_empty() {
        return Err(errors(StatusCode::UNPROCESSABLE_ENTITY, &problems));
    }
    if state != "draft" {
        let missing = missing_for_registration(&next);
        if !missing.is_empty() {
            return Err(errors(StatusCode::UNPROCESSABLE_ENTITY, &missing));
        }
    }
    inner.dois.insert(doi, next.clone());
    drop(inner);
    Sandbox::after(fail_after, document(&next))
}

async fn remove(State(s): State<Sandbox>, headers: HeaderMap, Path(doi): Path<String>) -> Reply {
    s.authorised(&headers)?;
    let fail_after = s.faults().await?;
    let doi = doi.to_lowercase();
    let mut inner = s.lock();
    match inner
        .dois
        .get(&doi)
        .and_then(|a| a["state"].as_str().map(str::to_owned))
    {
        None => Err(errors(
            StatusCode::NOT_FOUND,
            &[("", "The resource you are looking for doesn't exist.".into())],
        )),
        Some(state) if state != "draft" => Err(errors(
            StatusCode::METHOD_NOT_ALLOWED,
            &[(
                "state",
                format!("Only draft DOIs can be deleted; this one is {state}"),
            )],
        )),
        Some(_) => {
            inner.dois.remove(&doi);
            drop(inner);
            Sandbox::after(fail_after, StatusCode::NO_CONTENT.into_response())
        }
    }
}

async fn set_faults(State(s): State<Sandbox>, headers: HeaderMap, Json(f): Json<Faults>) -> Reply {
    s.authorised(&headers)?;
    s.set_faults(f);
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn get_faults(State(s): State<Sandbox>, headers: HeaderMap) -> Reply {
    s.authorised(&headers)?;
    Ok(Json(s.lock().faults.clone()).into_response())
}

async fn stats(State(s): State<Sandbox>, headers: HeaderMap) -> Reply {
    s.authorised(&headers)?;
    let inner = s.lock();
    Ok(Json(json!({
        "dois": inner.dois.len(),
        "creations": inner.stats.creations,
        "requests": inner.stats.requests,
        "injected_errors": inner.stats.injected_errors,
    }))
    .into_response())
}

/// What the Code of Practice for Research Data requires of a Dataset Report, as far as
/// DataCite checks it: the header's fields and the period, and for each dataset an
/// identifier, title, publisher, platform and performance with known metrics.
fn report_problems(r: &Value) -> Vec<(&'static str, String)> {
    let mut p = Vec::new();
    let text = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    let h = &r["report-header"];
    for k in [
        "report-name",
        "report-id",
        "release",
        "created",
        "created-by",
    ] {
        if !text(h, k) {
            p.push(("report-header", format!("{k} is required")));
        }
    }
    for k in ["begin-date", "end-date"] {
        if !text(&h["reporting-period"], k) {
            p.push(("report-header", format!("reporting-period.{k} is required")));
        }
    }
    let Some(datasets) = r["report-datasets"].as_array() else {
        p.push(("report-datasets", "an array is required".into()));
        return p;
    };
    for (i, d) in datasets.iter().enumerate() {
        let ids = d["dataset-id"].as_array().is_some_and(|a| !a.is_empty());
        if !ids && !text(d, "uri") {
            p.push(("report-datasets", format!("[{i}] needs dataset-id or uri")));
        }
        for k in ["dataset-title", "publisher", "platform", "data-type"] {
            if !text(d, k) {
                p.push(("report-datasets", format!("[{i}].{k} is required")));
            }
        }
        let Some(perf) = d["performance"].as_array() else {
            p.push(("report-datasets", format!("[{i}].performance is required")));
            continue;
        };
        for x in perf {
            for inst in x["instance"].as_array().into_iter().flatten() {
                let metric = inst["metric-type"].as_str().unwrap_or_default();
                let known = [
                    "total-dataset-investigations",
                    "unique-dataset-investigations",
                    "total-dataset-requests",
                    "unique-dataset-requests",
                ];
                if !known.contains(&metric)
                    || !matches!(inst["access-method"].as_str(), Some("regular" | "machine"))
                    || !inst["count"].is_u64()
                {
                    p.push(("report-datasets", format!("[{i}]: bad instance {inst}")));
                }
            }
        }
    }
    p
}

async fn store_report(s: &Sandbox, id: String, body: Value, status: StatusCode) -> Reply {
    let problems = report_problems(&body);
    if !problems.is_empty() {
        return Err(errors(StatusCode::UNPROCESSABLE_ENTITY, &problems));
    }
    s.lock().reports.insert(id.clone(), body.clone());
    let mut report = body;
    report["id"] = json!(id);
    Ok((status, Json(json!({ "report": report }))).into_response())
}

async fn create_report(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Reply {
    s.authorised(&headers)?;
    s.faults().await?;
    let id = crate::model::ids::new_id().to_lowercase();
    store_report(&s, id, body, StatusCode::CREATED).await
}

async fn replace_report(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Reply {
    s.authorised(&headers)?;
    s.faults().await?;
    if !s.lock().reports.contains_key(&id) {
        return Err(errors(
            StatusCode::NOT_FOUND,
            &[("", "no such report".into())],
        ));
    }
    store_report(&s, id, body, StatusCode::OK).await
}

async fn show_report(
    State(s): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    s.authorised(&headers)?;
    match s.lock().reports.get(&id) {
        Some(r) => Ok(Json(json!({ "report": r })).into_response()),
        None => Err(errors(
            StatusCode::NOT_FOUND,
            &[("", "no such report".into())],
        )),
    }
}
