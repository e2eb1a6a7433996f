//! `/citation-styles/{id}.csl`: the CSL file Arca renders each offered style with, so a
//! reference manager or another CSL engine can write the same references.

use crate::metadata::citation::style_file;
use crate::services::ServiceError;
use crate::web::error::AppResult;
use crate::web::openapi::Problem;
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

#[utoipa::path(get, path = "/citation-styles/{name}", tag = "public",
    params(("name" = String, Path, description = "A style id with .csl: apa.csl, chicago-author-date.csl, harvard-cite-them-right.csl, ieee.csl, nature.csl, vancouver.csl")),
    responses((status = 200, description = "The CSL 1.0.2 style", body = String, content_type = "application/vnd.citationstyles.style+xml"),
              (status = 404, description = "Not a style Arca offers", body = Problem, content_type = "application/problem+json")))]
pub async fn file(Path(name): Path<String>) -> AppResult<Response> {
    let xml = name
        .strip_suffix(".csl")
        .and_then(style_file)
        .ok_or(ServiceError::NotFound("citation style"))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.citationstyles.style+xml; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        xml,
    )
        .into_response())
}
