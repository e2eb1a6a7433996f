//! Who is calling the API: a token in `Authorization: Bearer …`, or a signed-in
//! browser's session cookie. A browser's requests that change anything must also
//! carry the session's CSRF token in `X-CSRF-Token` (the page's scripts do).

use super::error::AppError;
use super::session::{CSRF_HEADER, SESSION_COOKIE, cookie_value, csrf_refused, same_secret};
use crate::services::{Actor, ServiceError, Services};
use axum::extract::FromRequestParts;
use axum::http::{Method, header, request::Parts};

pub struct Authenticated(pub Actor);

/// The token of `Authorization: Bearer …`, if the request carries one.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

impl FromRequestParts<Services> for Authenticated {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, services: &Services) -> Result<Self, AppError> {
        if let Some(token) = bearer(&parts.headers) {
            return Ok(Self(services.users().authenticate(token).await?));
        }
        let session = match cookie_value(&parts.headers, SESSION_COOKIE) {
            Some(token) => services.sessions().session(&token).await?,
            None => None,
        };
        let (actor, csrf) = session.ok_or(ServiceError::Unauthenticated)?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !same_secret(sent, &csrf) {
                return Err(csrf_refused());
            }
        }
        Ok(Self(actor))
    }
}
