//! What every request leaves for operators: a request id (the client's `X-Request-Id`
//! when it is a sane token, else a new one), returned in the response and carried by
//! every log line of the request; one access-log line; and the request counted and timed
//! by its route template (never by its path: ids would explode the label set).

use crate::services::Services;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id a request is logged under, in its extensions for handlers that want it.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// A client's id is kept when it is 1 to 128 characters of letters, digits and
/// `-_.:/+=@`: what proxies and tracing systems send, and nothing that could forge a log
/// line or a header.
pub fn usable(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=@".contains(&b))
}

pub async fn observe(State(s): State<Services>, mut req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| usable(v))
        .map(str::to_owned)
        .unwrap_or_else(crate::model::ids::new_id);
    let header = HeaderValue::from_str(&id).expect("checked or generated: visible ASCII");
    req.headers_mut()
        .insert(X_REQUEST_ID.clone(), header.clone());
    req.extensions_mut().insert(RequestId(id.clone()));
    // Labels come from a closed set: a client's made-up method (any token is a valid
    // HTTP method) must not create a new time series per request.
    let method = match *req.method() {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    // A reviewer link's secret is its path: such routes are logged by their template.
    let path = match &route {
        Some(r) if r.contains("{token}") => r.clone(),
        _ => req.uri().path().to_owned(),
    };
    let client =
        super::guesses::client_addr(&req, &s.config.web.trusted_proxies).map(|a| a.to_string());
    let route = route.unwrap_or_else(|| "unmatched".into());
    let span = tracing::info_span!("request", request_id = %id);
    let mut resp = next.run(req).instrument(span.clone()).await;
    let status = resp.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    s.counters.observe_request(method, &route, status, seconds);
    span.in_scope(|| {
        tracing::info!(
            target: "arca::access",
            method = %method,
            path = %path,
            route = %route,
            status,
            duration_ms = (seconds * 1000.0).round() as u64,
            client = client.as_deref().unwrap_or("-"),
            "request"
        );
    });
    resp.headers_mut().insert(X_REQUEST_ID.clone(), header);
    resp
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_sane_ids_are_kept() {
        assert!(super::usable("4bf92f3577b34da6a3ce929d0e0e4736"));
        assert!(super::usable("req-1:a/b+c=@d.e_f"));
        for bad in ["", "a b", "x\ty", "é", &"a".repeat(129), "a\"b", "a,b"] {
            assert!(!super::usable(bad), "{bad:?}");
        }
    }
}
