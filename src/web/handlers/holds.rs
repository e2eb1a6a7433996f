//! Holds until publication: the open hold, "my paper is out", curator confirmation,
//! and people's notifications.

use crate::db::holds::HoldRow;
use crate::services::Services;
use crate::web::auth::Authenticated;
use crate::web::error::AppResult;
use crate::web::json::{parse, time};
use crate::web::openapi::Problem;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

/// A hold as the API shows it (in the deposit, and after a claim).
pub fn render(h: &HoldRow) -> Value {
    json!({
        "kind": h.kind,
        "until": h.target,
        "placed_at": time(h.placed_at),
        "lapses_at": time(h.lapses_at),
        "claimed_article": h.claimed_doi,
        "published_at": h.published_at.map(time),
        "last_checked_at": h.last_checked_at.map(time),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Claim {
    doi: String,
}

#[utoipa::path(post, path = "/deposits/{id}/publication", tag = "holds", security(("bearer" = [])), params(("id" = String, Path, description = "Deposit id")), request_body(content = Object, description = "`{\"doi\": \"10.…\"}`: the published article", content_type = "application/json"), responses((status = 200, description = "Recorded; curators are told", body = Object), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such deposit (or not yours)", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Not on hold", body = Problem, content_type = "application/problem+json"), (status = 422, description = "Not a DOI", body = Problem, content_type = "application/problem+json")))]
pub async fn claim(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Json<Value>> {
    let req: Claim = parse(&body)?;
    s.claim_publication(&actor, &id, &req.doi).await?;
    let hold = s.open_hold(&id).await?;
    Ok(Json(json!({ "hold": hold.as_ref().map(render) })))
}

#[utoipa::path(post, path = "/deposits/{id}/publication/confirm", tag = "holds", security(("bearer" = [])), params(("id" = String, Path, description = "Deposit id")), responses((status = 200, description = "Confirmed; the deposit is scheduled into the next release", body = Object), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Curators only", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such deposit", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Not on hold, or no batch open", body = Problem, content_type = "application/problem+json")))]
pub async fn confirm(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let v = s.confirm_publication(&actor, &id).await?;
    let totals = s.deposit_totals(&v.id).await?;
    Ok(Json(super::deposits::render(&v, totals)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    #[serde(default)]
    before: String,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/notifications", tag = "holds", security(("bearer" = [])), params(("before" = Option<String>, Query, description = "Keyset: older than this id"), ("limit" = Option<i64>, Query, description = "Page size, 1–200")), responses((status = 200, description = "What you were told, newest first (curators also see what every curator is told)", body = Object), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json")))]
pub async fn notifications(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Query(q): Query<Page>,
) -> AppResult<Json<Value>> {
    let list = s
        .notifications(&actor, &q.before, q.limit.unwrap_or(50))
        .await?;
    let items: Vec<Value> = list
        .iter()
        .map(|n| {
            json!({
                "id": n.id,
                "deposit": n.version_id,
                "message": n.message,
                "to_curators": n.user_id.is_none(),
                "at": time(n.created_at),
            })
        })
        .collect();
    Ok(Json(json!({ "notifications": items })))
}
