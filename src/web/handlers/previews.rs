//! Pictures of image files (PNG): a deposit's for its depositors and curators, a
//! released dataset's for everyone. Drawn once, then served from the catalogue.

use crate::model::PreviewSize;
use crate::services::Services;
use crate::web::auth::Authenticated;
use crate::web::error::AppResult;
use crate::web::openapi::Problem;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeQuery {
    /// `small` (a thumbnail, the default) or `large`.
    size: Option<PreviewSize>,
}

impl SizeQuery {
    fn size(&self) -> PreviewSize {
        self.size.unwrap_or(PreviewSize::Small)
    }
}

fn png(bytes: Vec<u8>, cache: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /api/v1/deposits/{id}/previews/{path}?size=small|large`.
#[utoipa::path(get, path = "/deposits/{id}/previews/{*path}", tag = "deposits", security(("bearer" = [])), params(("id" = String, Path, description = "Deposit id"), ("path" = String, Path, description = "The image file's path"), ("size" = Option<PreviewSize>, Query, description = "small (at most 256 pixels, the default) or large (1024)")), responses((status = 200, description = "A picture of the image: log-scaled, masked pixels in blue", body = Vec<u8>, content_type = "image/png"), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such deposit or file (or not yours)", body = Problem, content_type = "application/problem+json"), (status = 422, description = "The file has no preview, and why", body = Problem, content_type = "application/problem+json")))]
pub async fn of_deposit(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path((id, path)): Path<(String, String)>,
    Query(q): Query<SizeQuery>,
) -> AppResult<Response> {
    let bytes = s
        .previews()
        .of_deposit(&actor, &id, &path, q.size())
        .await?;
    Ok(png(bytes, "private, max-age=3600"))
}

/// `GET /datasets/{id}/previews/{path}?size=small|large`: of the latest released version.
#[utoipa::path(get, path = "/datasets/{id}/previews/{*path}", tag = "public", params(("id" = String, Path, description = "Dataset id"), ("path" = String, Path, description = "The image file's path"), ("size" = Option<PreviewSize>, Query, description = "small (at most 256 pixels, the default) or large (1024)")), responses((status = 200, description = "A picture of the image: log-scaled, masked pixels in blue", body = Vec<u8>, content_type = "image/png"), (status = 404, description = "No such public file", body = Problem, content_type = "application/problem+json"), (status = 410, description = "Withdrawn", body = Problem, content_type = "application/problem+json"), (status = 422, description = "The file has no preview, and why", body = Problem, content_type = "application/problem+json")))]
pub async fn of_dataset(
    State(s): State<Services>,
    Path((id, path)): Path<(String, String)>,
    Query(q): Query<SizeQuery>,
) -> AppResult<Response> {
    let bytes = s.previews().of_dataset(&id, &path, q.size()).await?;
    Ok(png(bytes, "public, max-age=3600"))
}

/// `GET /review/{token}/previews/{path}?size=small|large`: through a reviewer link.
#[utoipa::path(get, path = "/review/{token}/previews/{*path}", tag = "public", params(("token" = String, Path, description = "The reviewer link's secret"), ("path" = String, Path, description = "The image file's path"), ("size" = Option<PreviewSize>, Query, description = "small (at most 256 pixels, the default) or large (1024)")), responses((status = 200, description = "A picture of the image: log-scaled, masked pixels in blue", body = Vec<u8>, content_type = "image/png"), (status = 404, description = "No live link, or no such file", body = Problem, content_type = "application/problem+json"), (status = 422, description = "The file has no preview, and why", body = Problem, content_type = "application/problem+json"), (status = 429, description = "Too many unknown links from this address ([web] guesses_per_minute); Retry-After says when to try again")))]
pub async fn of_review(
    State(s): State<Services>,
    Path((token, path)): Path<(String, String)>,
    Query(q): Query<SizeQuery>,
) -> AppResult<Response> {
    let bytes = s.previews().of_review(&token, &path, q.size()).await?;
    Ok(png(bytes, "private, no-store"))
}
