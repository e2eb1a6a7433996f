//! `/metrics`: OpenMetrics text (requests are counted and timed in [`crate::web::observe`]).

use crate::services::Services;
use crate::web::error::AppResult;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "OpenMetrics 1.0 text: requests (counted, and timed by route), uploads, verification, transfers, fixity, the job queue by kind and state, the database pool", body = String, content_type = "application/openmetrics-text")))]
pub async fn metrics(State(s): State<Services>) -> AppResult<impl IntoResponse> {
    let text = s.metrics().text().await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    ))
}
