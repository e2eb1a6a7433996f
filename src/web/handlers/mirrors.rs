//! Mirrors, transfers and fixity for curators (`/api/v1/mirrors`, `/api/v1/transfers`,
//! `/api/v1/fixity`).

use crate::db::mirrors::TransferRow;
use crate::services::{Services, require_curator};
use crate::web::auth::Authenticated;
use crate::web::error::AppResult;
use crate::web::json::time;
use crate::web::openapi::Problem;
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

fn render(t: &TransferRow) -> Value {
    json!({
        "id": t.id,
        "deposit": t.version_id,
        "mirror": t.mirror,
        "state": t.state,
        "files": { "done": t.files_done, "total": t.files_total },
        "bytes": { "done": t.bytes_done, "total": t.bytes_total },
        "faults": t.faults,
        "last_error": t.last_error,
        "created_at": time(t.created_at),
        "started_at": t.started_at.map(time),
        "finished_at": t.finished_at.map(time),
    })
}

#[utoipa::path(get, path = "/mirrors", tag = "mirrors", security(("bearer" = [])), responses((status = 200, description = "Mirror sites (credentials never shown)", body = Object), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Curators only", body = Problem, content_type = "application/problem+json")))]
pub async fn list_mirrors(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
) -> AppResult<Json<Value>> {
    require_curator(&actor, "see replication and fixity")?;
    let mirrors: Vec<Value> = s
        .mirrors()
        .await?
        .iter()
        .map(|m| {
            json!({
                "name": m.name, "endpoint": m.endpoint, "region": m.region,
                "bucket": m.bucket, "prefix": m.prefix, "policy": m.policy,
            })
        })
        .collect();
    Ok(Json(json!({ "mirrors": mirrors })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    deposit: Option<String>,
    #[serde(default)]
    before: String,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/transfers", tag = "mirrors", security(("bearer" = [])), params(("deposit" = Option<String>, Query, description = "Only this deposit's transfers"), ("before" = Option<String>, Query, description = "Keyset: older than this id"), ("limit" = Option<i64>, Query, description = "Page size, 1–500")), responses((status = 200, description = "Transfers, newest first, with progress", body = Object), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Curators only", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<Value>> {
    require_curator(&actor, "see replication and fixity")?;
    let list = s
        .transfers(q.deposit.as_deref(), &q.before, q.limit.unwrap_or(50))
        .await?;
    Ok(Json(
        json!({ "transfers": list.iter().map(render).collect::<Vec<_>>() }),
    ))
}

#[utoipa::path(get, path = "/transfers/{id}", tag = "mirrors", security(("bearer" = [])), params(("id" = String, Path, description = "Transfer id")), responses((status = 200, description = "The transfer", body = Object), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Curators only", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such transfer", body = Problem, content_type = "application/problem+json")))]
pub async fn show(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    require_curator(&actor, "see replication and fixity")?;
    Ok(Json(render(&s.transfer(&id).await?)))
}

#[utoipa::path(post, path = "/transfers/{id}/retry", tag = "mirrors", security(("bearer" = [])), params(("id" = String, Path, description = "Transfer id")), responses((status = 200, description = "Queued again", body = Object), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Curators only", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such transfer", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Running now", body = Problem, content_type = "application/problem+json")))]
pub async fn retry(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    require_curator(&actor, "see replication and fixity")?;
    Ok(Json(render(&s.retry_transfer(&id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    days: Option<i64>,
}

#[utoipa::path(get, path = "/fixity", tag = "mirrors", security(("bearer" = [])), params(("days" = Option<i64>, Query, description = "How far back (default 30)")), responses((status = 200, description = "Checks by location and outcome, and every problem", body = Object), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Curators only", body = Problem, content_type = "application/problem+json")))]
pub async fn report(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Query(q): Query<ReportQuery>,
) -> AppResult<Json<Value>> {
    require_curator(&actor, "see replication and fixity")?;
    let days = q.days.unwrap_or(30).clamp(1, 3650);
    let (summary, problems) = s.fixity_report(days).await?;
    Ok(Json(json!({
        "days": days,
        "checks": summary.iter().map(|(l, o, n)| json!({"location": l, "outcome": o, "count": n})).collect::<Vec<_>>(),
        "problems": problems.iter().map(|(l, sha, o, d, at)| json!({
            "location": l, "sha256": sha, "outcome": o, "detail": d, "at": time(*at)
        })).collect::<Vec<_>>(),
    })))
}
