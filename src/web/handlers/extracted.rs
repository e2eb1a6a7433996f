//! What a deposit's files say about themselves (detector, wavelength, cell, series).

use crate::services::Services;
use crate::services::extraction::Report;
use crate::web::auth::Authenticated;
use crate::web::error::AppResult;
use crate::web::openapi::Problem;
use axum::Json;
use axum::extract::{Path, State};

/// `GET /api/v1/deposits/{id}/extracted`: facts read from the files' headers, detector
/// series with their missing frames, and suggestions for the deposit form (never
/// applied by the archive).
#[utoipa::path(get, path = "/deposits/{id}/extracted", tag = "deposits", security(("bearer" = [])), params(("id" = String, Path, description = "Deposit id")), responses((status = 200, description = "Facts per recognised file, detector series, and suggested form values", body = Report), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such deposit (or not yours)", body = Problem, content_type = "application/problem+json")))]
pub async fn show(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> AppResult<Json<Report>> {
    Ok(Json(s.extraction().report(&actor, &id).await?))
}
