//! BagIt: `GET /datasets/{id}/bag.tar` streams a released dataset as a bag (no temporary
//! copy: tag files first, then each file straight from storage); `POST
//! /api/v1/deposits/import` takes a bag as a tar body and makes a draft deposit of it.

use crate::services::Services;
use crate::web::auth::Authenticated;
use crate::web::error::{AppError, AppResult};
use crate::web::openapi::Problem;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::{StreamExt, TryStreamExt};
use tokio_util::io::{ReaderStream, StreamReader};

#[utoipa::path(get, path = "/datasets/{id}/bag.tar", tag = "public", params(("id" = String, Path, description = "Dataset id"), ("Range" = Option<String>, Header, description = "bytes=first-last: a broken download resumes"), ("If-Range" = Option<String>, Header, description = "The ETag of the bag the range belongs to")), responses((status = 200, description = "The dataset as a BagIt bag, its length given up front", body = Vec<u8>, content_type = "application/x-tar"), (status = 206, description = "The range asked for", body = Vec<u8>, content_type = "application/x-tar"), (status = 304, description = "The bag named in If-None-Match has not changed"), (status = 404, description = "Not a released dataset", body = Problem, content_type = "application/problem+json"), (status = 410, description = "Withdrawn", body = Problem, content_type = "application/problem+json"), (status = 416, description = "Range outside the bag", body = Problem, content_type = "application/problem+json")))]
pub async fn export(
    State(s): State<Services>,
    Path(id): Path<String>,
    visitor: crate::web::visits::Visitor,
    headers: axum::http::HeaderMap,
) -> AppResult<Response> {
    let plan = s.bags().export(&id).await?;
    let etag = format!("\"{}\"", plan.etag);
    let length = plan.length;
    let range = match crate::web::range::conditional(&headers, &etag, length, "the bag")? {
        crate::web::range::Conditional::NotModified(resp) => return Ok(resp),
        crate::web::range::Conditional::Send(range) => range,
    };
    let hit = crate::services::usage::Hit {
        dataset_id: id.clone(),
        version_id: plan.version_id().to_owned(),
        activity: crate::model::Activity::Request,
        url: format!("/datasets/{id}/bag.tar"),
        range: range.is_some(),
    };
    crate::web::visits::count(&s, &visitor, hit).await;
    let filename = format!("{}.tar", plan.name);
    let span = match &range {
        Some(r) => *r.start()..*r.end() + 1,
        None => 0..length,
    };
    let (writer, reader) = tokio::io::duplex(1 << 20);
    let services = s.clone();
    let bytes = span.clone();
    let task = tokio::spawn(async move { services.bags().write(&plan, bytes, writer).await });
    // A failure part-way must not look like a complete download: end the body with an
    // error, so the connection is cut instead of closed cleanly.
    let tail = futures::stream::once(async move {
        match task.await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(Err(e)),
            Err(e) => Some(Err(std::io::Error::other(e.to_string()))),
        }
    })
    .filter_map(|x| async move { x });
    let body = Body::from_stream(ReaderStream::new(reader).chain(tail));
    let mut resp = Response::builder()
        .header(header::CONTENT_TYPE, "application/x-tar")
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        )
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ETAG, &etag)
        .header(header::CONTENT_LENGTH, span.end - span.start);
    if range.is_some() {
        resp = resp.status(StatusCode::PARTIAL_CONTENT).header(
            header::CONTENT_RANGE,
            format!("bytes {}-{}/{length}", span.start, span.end - 1),
        );
    }
    resp.body(body)
        .map_err(|e| AppError::internal(e.to_string()))
}

#[utoipa::path(post, path = "/deposits/import", tag = "deposits", security(("bearer" = [])), request_body(content = Vec<u8>, description = "A BagIt bag as a tar archive", content_type = "application/x-tar"), responses((status = 201, description = "The new draft deposit", body = super::deposits::Deposit), (status = 400, description = "Not a tar archive", body = Problem, content_type = "application/problem+json"), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 422, description = "The bag is not valid: every problem listed", body = Problem, content_type = "application/problem+json")))]
pub async fn import(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    body: Body,
) -> AppResult<Response> {
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let v = s
        .bags()
        .import(&actor, StreamReader::new(stream))
        .await
        .map_err(AppError::from)?;
    Ok((
        StatusCode::CREATED,
        super::deposits::view(&s, &actor, &v.id).await?,
    )
        .into_response())
}
