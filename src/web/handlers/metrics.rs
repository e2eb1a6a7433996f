//! `/metrics` and the middleware that counts requests.

use crate::services::Services;
use crate::web::error::AppResult;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain")))]
pub async fn metrics(State(s): State<Services>) -> AppResult<impl IntoResponse> {
    let text = s.metrics_text().await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    ))
}

/// Count each request by its route template (not its path: ids would explode the label
/// set) and status.
pub async fn count(State(s): State<Services>, req: Request, next: Next) -> Response {
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
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let resp = next.run(req).await;
    s.metrics
        .count_request(method, &route, resp.status().as_u16());
    resp
}
