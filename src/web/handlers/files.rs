use crate::db::files::FileRow;
use crate::model::FileStatus;
use crate::model::manifest::ManifestFormat;
use crate::services::Services;
use crate::services::manifest::ManifestSummary;
use crate::web::auth::Authenticated;
use crate::web::error::{AppError, AppResult};
use crate::web::json::time;
use crate::web::openapi::Problem;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use utoipa::ToSchema;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    #[serde(default)]
    after: String,
    limit: Option<i64>,
}

/// One file of a deposit.
#[derive(Serialize, ToSchema)]
pub struct File {
    /// Its path in the dataset.
    path: String,
    size: i64,
    sha256: String,
    status: FileStatus,
    /// Why verification failed.
    problem: Option<String>,
    #[schema(format = DateTime)]
    verified_at: Option<String>,
}

impl From<FileRow> for File {
    fn from(f: FileRow) -> Self {
        Self {
            path: f.path,
            size: f.size,
            sha256: f.sha256,
            status: f.status,
            problem: f.problem,
            verified_at: f.verified_at.map(time),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Files {
    files: Vec<File>,
    /// Pass as `after` for the next page; null on the last.
    next_after: Option<String>,
}

/// `GET /api/v1/deposits/{id}/files?after=PATH&limit=N`: keyset pages in path order.
#[utoipa::path(get, path = "/deposits/{id}/files", tag = "deposits", security(("bearer" = [])), params(("id" = String, Path, description = "Deposit id"), ("after" = Option<String>, Query, description = "Keyset: files after this path"), ("limit" = Option<i64>, Query, description = "Page size, 1–1000")), responses((status = 200, description = "Path, size, SHA-256 and status of each file", body = Files), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such deposit (or not yours)", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    Query(page): Query<Page>,
) -> AppResult<Json<Files>> {
    let limit = page.limit.unwrap_or(1000);
    let files = s.deposits().files(&actor, &id, &page.after, limit).await?;
    let next_after = (files.len() as i64 >= limit.clamp(1, 1000))
        .then(|| files.last().map(|f| f.path.clone()))
        .flatten();
    Ok(Json(Files {
        files: files.into_iter().map(File::from).collect(),
        next_after,
    }))
}

#[utoipa::path(delete, path = "/deposits/{id}/files/{*path}", tag = "deposits", security(("bearer" = [])), params(("id" = String, Path, description = "Deposit id"), ("path" = String, Path, description = "The file's path in the dataset")), responses((status = 204, description = "Removed"), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such deposit (or not yours)", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Not possible in the deposit's state", body = Problem, content_type = "application/problem+json")))]
pub async fn remove(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path((id, path)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    s.deposits().delete_file(&actor, &id, &path).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestQuery {
    algorithm: Option<String>,
    format: Option<String>,
}

/// `PUT /api/v1/deposits/{id}/manifest`: BagIt manifest or `sha256sum`/`md5sum` output.
#[utoipa::path(put, path = "/deposits/{id}/manifest", tag = "deposits", security(("bearer" = [])), params(("id" = String, Path, description = "Deposit id"), ("algorithm" = Option<String>, Query, description = "sha256, sha512, sha1 or md5 (else inferred)"), ("format" = Option<String>, Query, description = "bagit, plain or auto")), request_body(content = String, description = "A BagIt manifest or sha256sum/md5sum output", content_type = "text/plain"), responses((status = 200, description = "What the manifest says: its algorithm, how many files it lists, and which are not uploaded yet", body = ManifestSummary), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such deposit (or not yours)", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Not possible in the deposit's state", body = Problem, content_type = "application/problem+json"), (status = 422, description = "Invalid input, each problem with its field", body = Problem, content_type = "application/problem+json")))]
pub async fn put_manifest(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    Query(q): Query<ManifestQuery>,
    body: String,
) -> AppResult<Json<ManifestSummary>> {
    let algorithm = q
        .algorithm
        .map(|a| a.parse())
        .transpose()
        .map_err(|e| AppError::bad_header("algorithm", e))?;
    let format = match q.format.as_deref() {
        None | Some("auto") => ManifestFormat::Auto,
        Some("bagit") => ManifestFormat::BagIt,
        Some("plain") => ManifestFormat::Plain,
        Some(other) => {
            return Err(AppError::bad_header(
                "format",
                format!("'{other}' is not one of auto, bagit, plain"),
            ));
        }
    };
    let summary = s
        .manifest()
        .put(&actor, &id, &body, algorithm, format)
        .await?;
    Ok(Json(summary))
}

/// A deposit's file, for its depositors and curators, whatever its state.
#[utoipa::path(get, path = "/deposits/{id}/files/{*path}", tag = "deposits", security(("bearer" = [])), params(("id" = String, Path, description = "Deposit id"), ("path" = String, Path, description = "The file's path in the dataset"), ("Range" = Option<String>, Header, description = "bytes=first-last")), responses((status = 200, description = "The file", body = Vec<u8>, content_type = "application/octet-stream"), (status = 206, description = "The range asked for", body = Vec<u8>, content_type = "application/octet-stream"), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such deposit or file (or not yours)", body = Problem, content_type = "application/problem+json"), (status = 416, description = "Range outside the file", body = Problem, content_type = "application/problem+json")))]
pub async fn download(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path((id, path)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
) -> AppResult<axum::response::Response> {
    let f = s.deposits().file(&actor, &id, &path).await?;
    super::datasets::serve_file(&s, &f, &headers, None).await
}
