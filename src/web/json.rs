//! JSON request bodies with errors that name the offending field.

use super::error::AppError;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    if body.is_empty() {
        return Err(AppError::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "the request needs a JSON body",
        ));
    }
    // Text columns cannot hold NUL (PostgreSQL refuses it): say so instead of failing.
    if body.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-json",
            "the JSON body contains a NUL character (\\u0000), which no field accepts",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-json",
            format!("the JSON body is not what this endpoint takes: {e}"),
        )
    })
}

/// Milliseconds since the epoch as RFC 3339, as the API shows times.
pub fn time(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(t).to_string()
}
