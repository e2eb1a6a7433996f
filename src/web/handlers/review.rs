//! `/review/{token}`: what a reviewer link opens (an unreleased dataset's page and
//! files). Unknown, expired and revoked links are all plain 404s.

use super::datasets::{PageQuery, render_page, serve_file};
use crate::services::Services;
use crate::web::error::{AppError, AppResult};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

/// Reviewer pages must not be cached by proxies or indexed.
pub(super) fn private(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    resp.headers_mut().insert(
        "x-robots-tag",
        HeaderValue::from_static("noindex, nofollow"),
    );
    resp
}

#[utoipa::path(get, path = "/review/{token}", tag = "public", params(("token" = String, Path, description = "The reviewer link's secret"), ("after" = Option<String>, Query, description = "Files after this path")), responses((status = 200, description = "The dataset's page, marked confidential", body = String, content_type = "text/html"), (status = 404, description = "No live link with this secret", body = String, content_type = "text/html"), (status = 429, description = "Too many unknown links from this address ([web] guesses_per_minute); Retry-After says when to try again")))]
pub async fn page(
    State(s): State<Services>,
    Path(token): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let page = async {
        let d = s.reviewers().dataset(&token, "page").await?;
        let d = s.landing().of(d, &q.after, false).await?;
        let (html, _) = render_page(
            s.config.public_base(),
            &d,
            &format!("/review/{token}"),
            &q,
            true,
        )?;
        AppResult::Ok(Html(html).into_response())
    };
    Ok(private(page.await.map_err(AppError::as_html)?))
}

#[utoipa::path(get, path = "/review/{token}/files/{*path}", tag = "public", params(("token" = String, Path, description = "The reviewer link's secret"), ("path" = String, Path, description = "File path"), ("Range" = Option<String>, Header, description = "bytes=first-last")), responses((status = 200, description = "The file", body = Vec<u8>, content_type = "application/octet-stream"), (status = 206, description = "The range asked for", body = Vec<u8>, content_type = "application/octet-stream"), (status = 404, description = "No live link, or no such file", body = crate::web::openapi::Problem, content_type = "application/problem+json"), (status = 416, description = "Range outside the file", body = crate::web::openapi::Problem, content_type = "application/problem+json"), (status = 429, description = "Too many unknown links from this address ([web] guesses_per_minute); Retry-After says when to try again")))]
pub async fn file(
    State(s): State<Services>,
    Path((token, path)): Path<(String, String)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let f = s.reviewers().file(&token, &path).await?;
    Ok(private(serve_file(&s, &f, &headers, None).await?))
}
