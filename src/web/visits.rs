//! The edge of usage statistics: who is using a public page or file (address, user
//! agent, the account a cookie or token names), handed to `services::usage`.

use crate::services::Services;
use crate::services::usage::{Hit, Visit};
use crate::web::session::{SESSION_COOKIE, cookie_value};
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};

/// The visit a public request makes; None when it does not count (usage off, or a
/// HEAD request, which transfers nothing).
pub struct Visitor(pub Option<Visit>);

impl FromRequestParts<Services> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, s: &Services) -> Result<Self, Self::Rejection> {
        if !s.config.usage.enabled || parts.method == axum::http::Method::HEAD {
            return Ok(Self(None));
        }
        let mut visit = Visit {
            addr: super::guesses::client_addr_of(
                &parts.extensions,
                &parts.headers,
                &s.config.web.trusted_proxies,
            ),
            user_agent: parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
            ..Visit::default()
        };
        // Only requests that carry a credential pay for looking it up; a wrong one is
        // an anonymous visit here (the page is public).
        if let Some(token) = super::auth::bearer(&parts.headers) {
            visit.api_client = true;
            visit.user_id = s.users().authenticate(token).await.ok().map(|u| u.id);
        } else if let Some(token) = cookie_value(&parts.headers, SESSION_COOKIE) {
            visit.user_id = s
                .sessions()
                .session(&token)
                .await
                .ok()
                .flatten()
                .map(|(u, _)| u.id);
        }
        Ok(Self(Some(visit)))
    }
}

/// Count a use; a failure to count never fails the reader's request.
pub async fn count(s: &Services, visitor: &Visitor, hit: Hit) {
    let Some(visit) = &visitor.0 else { return };
    if let Err(e) = s.usage().record(visit, hit).await {
        tracing::warn!(error = %e, "a use was not counted");
    }
}
