use crate::services::Services;
use axum::extract::State;
use axum::http::StatusCode;

/// 200 once the server is ready: the catalogue answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Ready", body = String), (status = 503, description = "Catalogue unavailable", body = String)))]
pub async fn healthz(State(services): State<Services>) -> (StatusCode, &'static str) {
    match services.db.conn().await {
        Ok(_) => (StatusCode::OK, "ok\n"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "catalogue unavailable\n"),
    }
}
