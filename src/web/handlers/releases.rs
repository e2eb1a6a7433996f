//! Release batches (`/api/v1/releases`) and their public Atom feed (`/releases.atom`).

use crate::db::releases::BatchRow;
use crate::model::ids::{DatasetId, DepositId};
use crate::model::{Action, BatchItemState, BatchState, DepositState};
use crate::services::Services;
use crate::services::deposits::ActionInput;
use crate::services::releases::BatchView;
use crate::web::auth::Authenticated;
use crate::web::error::AppResult;
use crate::web::json::{parse, time};
use crate::web::openapi::Problem;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A release batch: datasets that go public together at `release_at`.
#[derive(Serialize, ToSchema)]
pub struct Batch {
    id: String,
    #[schema(format = DateTime)]
    release_at: String,
    /// After it, nothing is added or taken out.
    #[schema(format = DateTime)]
    cutoff_at: String,
    state: BatchState,
    /// The curator who made it (none: the release cadence).
    created_by: Option<String>,
    #[schema(format = DateTime)]
    finished_at: Option<String>,
    /// A result per dataset (in a single batch's answers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    items: Option<Vec<BatchItem>>,
}

/// One dataset of a batch and what became of it.
#[derive(Serialize, ToSchema)]
pub struct BatchItem {
    deposit: DepositId,
    dataset_id: DatasetId,
    doi: Option<String>,
    deposit_state: DepositState,
    state: BatchItemState,
    error: Option<String>,
    attempts: i64,
    #[schema(format = DateTime)]
    finished_at: Option<String>,
}

impl From<&BatchRow> for Batch {
    fn from(b: &BatchRow) -> Self {
        Self {
            id: b.id.clone(),
            release_at: time(b.release_at),
            cutoff_at: time(b.cutoff_at),
            state: b.state,
            created_by: b.created_by.clone(),
            finished_at: b.finished_at.map(time),
            items: None,
        }
    }
}

impl From<BatchView> for Batch {
    fn from(v: BatchView) -> Self {
        let items = v
            .items
            .into_iter()
            .map(|(item, dep)| BatchItem {
                deposit: dep.id,
                dataset_id: dep.dataset_id,
                doi: dep.doi,
                deposit_state: dep.state,
                state: item.state,
                error: item.error,
                attempts: item.attempts,
                finished_at: item.finished_at.map(time),
            })
            .collect();
        Self {
            items: Some(items),
            ..Batch::from(&v.batch)
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Batches {
    releases: Vec<Batch>,
}

fn parse_time(field: &str, s: &str) -> AppResult<i64> {
    humantime::parse_rfc3339_weak(s)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64)
        .ok_or_else(|| {
            crate::services::ServiceError::invalid(
                field,
                "must be a time such as 2027-03-05T17:00:00Z",
            )
            .into()
        })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewBatch {
    release_at: String,
    cutoff_at: Option<String>,
}

#[utoipa::path(post, path = "/releases", tag = "releases", security(("bearer" = [])), request_body(content = Object, description = "`{\"release_at\": \"2027-03-05T17:00:00Z\", \"cutoff_at\": …}`", content_type = "application/json"), responses((status = 201, description = "The new batch", body = Batch), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Curators only", body = Problem, content_type = "application/problem+json"), (status = 409, description = "A batch is already set for that moment", body = Problem, content_type = "application/problem+json"), (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    body: Bytes,
) -> AppResult<(StatusCode, Json<Batch>)> {
    let req: NewBatch = parse(&body)?;
    let at = parse_time("release_at", &req.release_at)?;
    let cutoff = req
        .cutoff_at
        .as_deref()
        .map(|c| parse_time("cutoff_at", c))
        .transpose()?;
    let b = s.releases().create_batch(&actor, at, cutoff).await?;
    Ok((StatusCode::CREATED, Json(Batch::from(&b))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    state: Option<String>,
    #[serde(default)]
    before: i64,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/releases", tag = "releases", security(("bearer" = [])), params(("state" = Option<String>, Query, description = "open, running or done"), ("before" = Option<i64>, Query, description = "Keyset: batches releasing before this time (Unix ms)"), ("limit" = Option<i64>, Query, description = "Page size, 1–200")), responses((status = 200, description = "Batches, latest first", body = Batches), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(s): State<Services>,
    Authenticated(_actor): Authenticated,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<Batches>> {
    let batches = s
        .releases()
        .list_batches(q.state.as_deref(), q.before, q.limit.unwrap_or(50))
        .await?;
    Ok(Json(Batches {
        releases: batches.iter().map(Batch::from).collect(),
    }))
}

#[utoipa::path(get, path = "/releases/{id}", tag = "releases", security(("bearer" = [])), params(("id" = String, Path, description = "Batch id")), responses((status = 200, description = "The batch and a result per item (curators see every item; others only their own deposits)", body = Batch), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such batch", body = Problem, content_type = "application/problem+json")))]
pub async fn show(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> AppResult<Json<Batch>> {
    Ok(Json(s.releases().batch(&actor, &id).await?.into()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewItem {
    deposit: String,
}

#[utoipa::path(post, path = "/releases/{id}/items", tag = "releases", security(("bearer" = [])), params(("id" = String, Path, description = "Batch id")), request_body(content = Object, description = "`{\"deposit\": ID}`: an approved or held deposit", content_type = "application/json"), responses((status = 200, description = "The batch", body = Batch), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Curators only", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such batch or deposit", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Past the cut-off, or the deposit cannot be scheduled", body = Problem, content_type = "application/problem+json"), (status = 422, description = "The body is not `{\"deposit\": ID}`", body = Problem, content_type = "application/problem+json")))]
pub async fn add_item(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Json<Batch>> {
    let req: NewItem = parse(&body)?;
    let input = ActionInput {
        release: Some(id.clone()),
        ..Default::default()
    };
    s.deposits()
        .act(&actor, &req.deposit, Action::Schedule, input)
        .await?;
    Ok(Json(s.releases().batch(&actor, &id).await?.into()))
}

#[utoipa::path(delete, path = "/releases/{id}/items/{deposit}", tag = "releases", security(("bearer" = [])), params(("id" = String, Path, description = "Batch id"), ("deposit" = String, Path, description = "Deposit id")), responses((status = 200, description = "The batch", body = Batch), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Curators only", body = Problem, content_type = "application/problem+json"), (status = 404, description = "Not in this batch", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Past the cut-off", body = Problem, content_type = "application/problem+json")))]
pub async fn remove_item(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path((id, deposit)): Path<(String, String)>,
) -> AppResult<Json<Batch>> {
    let view = s.releases().batch(&actor, &id).await?;
    if !view.items.iter().any(|(i, _)| i.version_id == deposit) {
        return Err(crate::services::ServiceError::NotFound("deposit in this batch").into());
    }
    s.deposits()
        .act(&actor, &deposit, Action::Unschedule, ActionInput::default())
        .await?;
    Ok(Json(s.releases().batch(&actor, &id).await?.into()))
}

#[utoipa::path(post, path = "/releases/{id}/run", tag = "releases", security(("bearer" = [])), params(("id" = String, Path, description = "Batch id")), responses((status = 202, description = "The batch is running", body = Batch), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Curators only", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such batch", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Already run", body = Problem, content_type = "application/problem+json")))]
pub async fn run(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> AppResult<(StatusCode, Json<Batch>)> {
    s.releases().run_batch_now(&actor, &id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(s.releases().batch(&actor, &id).await?.into()),
    ))
}

/// The Atom feed of finished releases and the datasets each made public.
#[utoipa::path(get, path = "/releases.atom", tag = "public", responses((status = 200, description = "Atom 1.0 feed of releases", body = String, content_type = "application/atom+xml")))]
pub async fn feed(State(s): State<Services>) -> AppResult<Response> {
    use crate::model::date::utc_seconds;
    use quick_xml::escape::escape;
    use std::fmt::Write;
    let base = s.config.public_base();
    let name = escape(s.config.repository.name.as_str());
    let entries = s.releases().feed(50).await?;
    let updated = entries
        .first()
        .and_then(|e| e.batch.finished_at)
        .unwrap_or(0);
    let mut o = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n\
         <title>{name} releases</title>\n<id>{base}/releases.atom</id>\n\
         <link rel=\"self\" href=\"{base}/releases.atom\"/>\n<updated>{}</updated>\n",
        utc_seconds(updated)
    );
    for e in &entries {
        let b = &e.batch;
        let _ = write!(
            o,
            "<entry>\n<id>{base}/releases/{}</id>\n<title>Release of {}: {}</title>\n\
             <updated>{}</updated>\n<author><name>{name}</name></author>\n<content type=\"html\">",
            b.id,
            utc_seconds(b.release_at),
            crate::model::words::count(e.datasets.len() as u64, "dataset", "datasets"),
            utc_seconds(b.finished_at.unwrap_or(b.release_at)),
        );
        let mut html = String::from("<ul>");
        for d in &e.datasets {
            let _ = write!(
                html,
                "<li><a href=\"{base}/datasets/{}\">{}</a>{}</li>",
                d.dataset_id,
                escape(d.title.as_str()),
                d.doi
                    .as_ref()
                    .map(|doi| format!(" https://doi.org/{}", doi.to_lowercase()))
                    .unwrap_or_default()
            );
        }
        html.push_str("</ul>");
        let _ = writeln!(o, "{}</content>\n</entry>", escape(html.as_str()));
    }
    o.push_str("</feed>\n");
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        o,
    )
        .into_response())
}
