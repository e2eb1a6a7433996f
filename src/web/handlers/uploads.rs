//! tus 1.0.0 at /api/v1/uploads (core, creation, creation-with-upload, checksum,
//! termination, expiration).

use crate::db::uploads::UploadRow;
use crate::services::Services;
use crate::services::uploads::{FirstBytes, NewUpload};
use crate::web::auth::Authenticated;
use crate::web::error::{AppError, AppResult};
use crate::web::json::time;
use crate::web::openapi::Problem;
use crate::web::tus::{self, h};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use serde::Serialize;
use utoipa::ToSchema;

/// Every tus response says which version it speaks, errors included.
fn tus_response(status: StatusCode, extra: Vec<(axum::http::HeaderName, HeaderValue)>) -> Response {
    let mut resp = status.into_response();
    let headers = resp.headers_mut();
    headers.insert(h("tus-resumable"), HeaderValue::from_static(tus::VERSION));
    for (k, v) in extra {
        headers.insert(k, v);
    }
    resp
}

fn with_version(err: AppError) -> AppError {
    err.with_header(h("tus-resumable"), tus::VERSION)
}

fn num(n: i64) -> HeaderValue {
    HeaderValue::from(n)
}

/// OPTIONS on one upload: the same capabilities.
#[utoipa::path(options, path = "/uploads/{id}", tag = "uploads", params(("id" = String, Path, description = "Upload id")), responses((status = 204, description = "tus capabilities in Tus-* headers")))]
pub async fn options_one(state: State<Services>) -> Response {
    options(state).await
}

#[utoipa::path(options, path = "/uploads", tag = "uploads", responses((status = 204, description = "tus capabilities in Tus-* headers")))]
pub async fn options(State(s): State<Services>) -> Response {
    tus_response(
        StatusCode::NO_CONTENT,
        vec![
            (h("tus-version"), HeaderValue::from_static(tus::VERSION)),
            (
                h("tus-extension"),
                HeaderValue::from_static(tus::EXTENSIONS),
            ),
            (
                h("tus-max-size"),
                HeaderValue::from(s.config.uploads.max_size),
            ),
            (
                h("tus-checksum-algorithm"),
                HeaderValue::from_static(tus::CHECKSUM_ALGORITHMS),
            ),
        ],
    )
}

#[utoipa::path(post, path = "/uploads", tag = "uploads", security(("bearer" = [])), params(("Tus-Resumable" = String, Header, description = "1.0.0"), ("Upload-Length" = u64, Header, description = "The file's size"), ("Upload-Metadata" = String, Header, description = "tus metadata: deposit, filename, optional sha256"), ("Upload-Checksum" = Option<String>, Header, description = "With a body: e.g. `sha256 <base64>` of the body's bytes")), request_body(content = Vec<u8>, content_type = "application/offset+octet-stream", description = "Optional (tus creation-with-upload): the file's first bytes, or all of them"), responses((status = 201, description = "Created; Location names the upload, Upload-Offset says how many bytes of the body were kept"), (status = 400, description = "A header is missing or malformed", body = Problem, content_type = "application/problem+json"), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such deposit (or not yours)", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Not possible in the deposit's state", body = Problem, content_type = "application/problem+json"), (status = 412, description = "Unsupported tus version"), (status = 413, description = "Larger than Tus-Max-Size"), (status = 415, description = "A body sent with another Content-Type than application/offset+octet-stream"), (status = 460, description = "The body's checksum did not match: the upload exists (Location) with none of its bytes")))]
pub async fn create(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    create_inner(&s, &actor, &headers, body)
        .await
        .map_err(with_version)
}

/// The `Content-Type` a PATCH body, or the body of a creation that carries the first
/// bytes (tus creation-with-upload), must have.
fn require_offset_content_type(headers: &HeaderMap) -> AppResult<()> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if content_type != Some(tus::OFFSET_CONTENT_TYPE) {
        return Err(AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            format!(
                "upload bytes must be sent as Content-Type: {}",
                tus::OFFSET_CONTENT_TYPE
            ),
        ));
    }
    Ok(())
}

async fn create_inner(
    s: &Services,
    actor: &crate::services::Actor,
    headers: &HeaderMap,
    body: Body,
) -> AppResult<Response> {
    tus::check_resumable(headers)?;
    if headers.contains_key("upload-defer-length") {
        return Err(AppError::bad_header(
            "Upload-Defer-Length",
            "is not supported: send Upload-Length",
        ));
    }
    let length = tus::required_number(headers, "Upload-Length")?;
    if length > s.config.uploads.max_size {
        return Err(AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            format!(
                "Upload-Length {length} exceeds Tus-Max-Size {}",
                s.config.uploads.max_size
            ),
        ));
    }
    let (raw, meta) = tus::metadata(headers)?;
    let deposit_id = meta
        .get("deposit")
        .filter(|d| !d.is_empty())
        .ok_or_else(|| {
            AppError::bad_header("Upload-Metadata", "must carry 'deposit' (the deposit id)")
        })?;
    let filename = meta.get("filename").ok_or_else(|| {
        AppError::bad_header(
            "Upload-Metadata",
            "must carry 'filename' (the file's path in the dataset)",
        )
    })?;
    // creation-with-upload: the request may carry the first bytes (a small file all of
    // them, in one round trip). Checked before anything is created.
    let content_length = tus::number(headers, "Content-Length")?;
    let carries_bytes = match content_length {
        Some(n) => n > 0,
        // A chunked body, announced by its type.
        None => {
            headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                == Some(tus::OFFSET_CONTENT_TYPE)
        }
    };
    let new = NewUpload {
        deposit_id: deposit_id.clone(),
        filename: filename.clone(),
        length: length as i64,
        sha256: meta.get("sha256").cloned(),
        raw_metadata: raw,
    };
    let location_of = |up: &UploadRow| format!("/api/v1/uploads/{}", up.id);
    let (location, offset, expires) = if carries_bytes {
        require_offset_content_type(headers)?;
        let first = FirstBytes {
            content_length,
            checksum: tus::checksum(headers)?,
            body: body.into_data_stream().map_err(|e| e.to_string()),
        };
        let (up, appended) = s
            .uploads()
            .create_with(actor, new, first)
            .await
            .map_err(AppError::tus)?;
        let location = location_of(&up);
        // The upload exists whatever became of its first bytes: an error names it, so
        // the client can ask for its offset and go on with PATCH.
        let (offset, expires) =
            appended.map_err(|e| AppError::tus(e).with_header(header::LOCATION, &location))?;
        (location, offset, expires)
    } else {
        let up = s
            .uploads()
            .create(actor, new)
            .await
            .map_err(AppError::tus)?;
        (location_of(&up), 0, up.expires_at)
    };
    Ok(tus_response(
        StatusCode::CREATED,
        vec![
            (
                header::LOCATION,
                HeaderValue::from_str(&location).expect("ids are ASCII"),
            ),
            (h("upload-expires"), tus::expires(expires)),
            (h("upload-offset"), num(offset)),
        ],
    ))
}

#[utoipa::path(head, path = "/uploads/{id}", tag = "uploads", security(("bearer" = [])), params(("id" = String, Path, description = "Upload id"), ("Tus-Resumable" = String, Header, description = "1.0.0")), responses((status = 200, description = "Upload-Offset and Upload-Length"), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such upload"), (status = 410, description = "Expired")))]
pub async fn head(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let run = async {
        tus::check_resumable(&headers)?;
        let up = s
            .uploads()
            .status(&actor, &id)
            .await
            .map_err(AppError::tus)?;
        let mut extra = vec![
            (h("upload-offset"), num(up.offset)),
            (h("upload-length"), num(up.length)),
            (h("upload-expires"), tus::expires(up.expires_at)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ];
        if let Ok(v) = HeaderValue::from_str(&up.metadata)
            && !up.metadata.is_empty()
        {
            extra.push((h("upload-metadata"), v));
        }
        Ok(tus_response(StatusCode::OK, extra))
    };
    run.await.map_err(with_version)
}

#[utoipa::path(patch, path = "/uploads/{id}", tag = "uploads", security(("bearer" = [])), params(("id" = String, Path, description = "Upload id"), ("Tus-Resumable" = String, Header, description = "1.0.0"), ("Upload-Offset" = u64, Header, description = "Where these bytes start"), ("Upload-Checksum" = Option<String>, Header, description = "e.g. `sha256 <base64>` of this request's bytes")), request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"), responses((status = 204, description = "Stored; Upload-Offset is the new offset"), (status = 400, description = "A header is missing or malformed", body = Problem, content_type = "application/problem+json"), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such upload"), (status = 409, description = "Wrong offset"), (status = 415, description = "Wrong content type"), (status = 429, description = "Too many uploads sending at once for this account or the archive ([uploads] max_concurrent_per_account, max_concurrent); Retry-After says when to try again", body = Problem, content_type = "application/problem+json"), (status = 460, description = "Checksum mismatch: nothing kept")))]
pub async fn patch(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let run = async {
        tus::check_resumable(&headers)?;
        require_offset_content_type(&headers)?;
        let offset = tus::required_number(&headers, "Upload-Offset")?;
        let content_length = tus::number(&headers, "Content-Length")?;
        let checksum = tus::checksum(&headers)?;
        let stream = body.into_data_stream().map_err(|e| e.to_string());
        let (new_offset, expires) = s
            .uploads()
            .append(&actor, &id, offset as i64, content_length, checksum, stream)
            .await
            .map_err(AppError::tus)?;
        Ok(tus_response(
            StatusCode::NO_CONTENT,
            vec![
                (h("upload-offset"), num(new_offset)),
                (h("upload-expires"), tus::expires(expires)),
            ],
        ))
    };
    run.await.map_err(with_version)
}

#[utoipa::path(delete, path = "/uploads/{id}", tag = "uploads", security(("bearer" = [])), params(("id" = String, Path, description = "Upload id"), ("Tus-Resumable" = String, Header, description = "1.0.0")), responses((status = 204, description = "Cancelled"), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such upload")))]
pub async fn terminate(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let run = async {
        tus::check_resumable(&headers)?;
        s.uploads()
            .terminate(&actor, &id)
            .await
            .map_err(AppError::tus)?;
        Ok(tus_response(StatusCode::NO_CONTENT, vec![]))
    };
    run.await.map_err(with_version)
}

/// An unfinished upload, to resume with tus at `location` from `offset`.
#[derive(Serialize, ToSchema)]
pub struct Upload {
    id: String,
    /// The file's path in the dataset.
    path: String,
    /// Bytes received so far.
    offset: i64,
    length: i64,
    /// The tus upload URL.
    location: String,
    #[schema(format = DateTime)]
    expires_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct Uploads {
    uploads: Vec<Upload>,
}

/// `GET /api/v1/deposits/{id}/uploads`: unfinished uploads, so a client can resume.
#[utoipa::path(get, path = "/deposits/{id}/uploads", tag = "uploads", security(("bearer" = [])), params(("id" = String, Path, description = "Deposit id")), responses((status = 200, description = "Unfinished uploads with their offsets", body = Uploads), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such deposit (or not yours)", body = Problem, content_type = "application/problem+json")))]
pub async fn list_for_deposit(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> AppResult<Json<Uploads>> {
    let uploads = s
        .uploads()
        .list(&actor, &id)
        .await?
        .into_iter()
        .map(|u| Upload {
            location: format!("/api/v1/uploads/{}", u.id),
            expires_at: time(u.expires_at),
            id: u.id,
            path: u.path,
            offset: u.offset,
            length: u.length,
        })
        .collect();
    Ok(Json(Uploads { uploads }))
}
