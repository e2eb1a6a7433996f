//! One error type at the HTTP edge: every failure becomes a status code and an
//! RFC 9457 problem+json body. Internal details go to the log, never to the client.

use crate::services::ServiceError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// tus 1.0.0 names 460 for a checksum that does not match.
pub const CHECKSUM_MISMATCH: u16 = 460;

#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub slug: &'static str,
    pub detail: String,
    /// Per-field problems, each with a JSON Pointer into the request.
    pub errors: Vec<serde_json::Value>,
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
    /// Render as a page for people (browser routes) instead of problem+json.
    pub html: bool,
}

impl AppError {
    pub fn new(status: StatusCode, slug: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            slug,
            detail: detail.into(),
            errors: Vec::new(),
            headers: Vec::new(),
            html: false,
        }
    }

    /// A failure the client cannot act on; the detail goes to the log only.
    pub fn internal(detail: impl Into<String>) -> Self {
        ServiceError::Internal(detail.into()).into()
    }

    /// The same error as an HTML page, for routes people open in a browser.
    pub fn as_html(mut self) -> Self {
        self.html = true;
        self
    }

    /// A service's refusal, as a page for people.
    pub fn page(e: ServiceError) -> Self {
        Self::from(e).as_html()
    }

    /// A missing or malformed header or query parameter.
    pub fn bad_header(name: &str, message: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            format!("{name}: {message}"),
        )
    }

    pub fn with_header(mut self, name: header::HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    /// tus clients expect 400 for bad input in headers, not 422.
    pub fn tus(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid { field, message } => Self::bad_header(&field, message),
            other => other.into(),
        }
    }
}

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        use ServiceError as E;
        let detail = e.to_string();
        match e {
            E::NotFound(_) => Self::new(StatusCode::NOT_FOUND, "not-found", detail),
            E::Unauthenticated => Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", detail)
                .with_header(header::WWW_AUTHENTICATE, "Bearer"),
            E::Forbidden(_) => Self::new(StatusCode::FORBIDDEN, "forbidden", detail),
            E::Conflict(_) => Self::new(StatusCode::CONFLICT, "conflict", detail),
            E::Transition(_) => Self::new(StatusCode::CONFLICT, "invalid-transition", detail),
            E::OffsetMismatch {
                expected: resume_at,
                ..
            }
            | E::StagingLost { resume_at, .. } => {
                Self::new(StatusCode::CONFLICT, "offset-mismatch", detail).with_header(
                    header::HeaderName::from_static("upload-offset"),
                    &resume_at.to_string(),
                )
            }
            E::Invalid { field, message } => {
                let mut err = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-input", detail);
                err.errors
                    .push(json!({ "field": field, "detail": message }));
                err
            }
            E::InvalidMetadata(fields) => {
                let mut err =
                    Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-metadata", detail);
                err.errors = fields
                    .into_iter()
                    .map(|f| json!({ "pointer": f.pointer, "detail": f.detail }))
                    .collect();
                err
            }
            E::TooLarge(_) => Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", detail),
            E::Busy {
                retry_after_seconds,
                ..
            } => Self::new(StatusCode::TOO_MANY_REQUESTS, "too-many-requests", detail)
                .with_header(header::RETRY_AFTER, &retry_after_seconds.to_string()),
            E::ChecksumMismatch(_) => Self::new(
                StatusCode::from_u16(CHECKSUM_MISMATCH).expect("460 is a valid status"),
                "checksum-mismatch",
                detail,
            ),
            E::Gone => Self::new(StatusCode::GONE, "gone", detail),
            E::Withdrawn(_) => Self::new(StatusCode::GONE, "withdrawn", detail),
            E::InvalidBag(problems) => {
                let mut err = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-bag", detail);
                err.errors = problems
                    .into_iter()
                    .map(|p| json!({ "detail": p }))
                    .collect();
                err
            }
            E::Upstream(_) => Self::new(StatusCode::BAD_GATEWAY, "upstream", detail),
            E::Db(_) | E::Storage(_) | E::Io(_) | E::Internal(_) | E::Incomplete(_) => {
                tracing::error!(error = %detail, "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the archive could not complete the request; it has been logged",
                )
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if self.html {
            let title = self.status.canonical_reason().unwrap_or("Error");
            let page = format!(
                "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
                 <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
                 <title>{title} · Arca</title></head><body><main><h1>{title}</h1><p>{}</p>\
                 <p><a href=\"/\">Arca</a></p></main></body></html>",
                quick_xml::escape::escape(self.detail.as_str())
            );
            let mut resp = (self.status, axum::response::Html(page)).into_response();
            for (k, v) in self.headers {
                resp.headers_mut().insert(k, v);
            }
            return resp;
        }
        let mut body = json!({
            "type": format!("/problems/{}", self.slug),
            "title": self.status.canonical_reason().unwrap_or("Checksum Mismatch"),
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if !self.errors.is_empty() {
            body["errors"] = serde_json::Value::Array(self.errors);
        }
        let mut resp = (self.status, body.to_string()).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        for (k, v) in self.headers {
            resp.headers_mut().insert(k, v);
        }
        resp
    }
}

pub type AppResult<T> = Result<T, AppError>;
