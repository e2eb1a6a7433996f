//! Mirrors, transfers and fixity for curators (`/api/v1/mirrors`, `/api/v1/transfers`,
//! `/api/v1/fixity`).

use crate::db::fixity::FixityCount;
use crate::db::mirrors::TransferRow;
use crate::model::{FixityOutcome, MirrorPolicy, TransferState};
use crate::services::{Services, require_curator};
use crate::web::auth::Authenticated;
use crate::web::error::AppResult;
use crate::web::json::time;
use crate::web::openapi::Problem;
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A copy of one deposit to one mirror, with its progress.
#[derive(Serialize, ToSchema)]
pub struct Transfer {
    id: String,
    deposit: String,
    mirror: String,
    state: TransferState,
    files: Progress,
    bytes: Progress,
    /// Errors met so far (each was retried).
    faults: i64,
    last_error: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    started_at: Option<String>,
    #[schema(format = DateTime)]
    finished_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Progress {
    done: i64,
    total: i64,
}

impl From<TransferRow> for Transfer {
    fn from(t: TransferRow) -> Self {
        Self {
            id: t.id,
            deposit: t.version_id,
            mirror: t.mirror,
            state: t.state,
            files: Progress {
                done: t.files_done,
                total: t.files_total,
            },
            bytes: Progress {
                done: t.bytes_done,
                total: t.bytes_total,
            },
            faults: t.faults,
            last_error: t.last_error,
            created_at: time(t.created_at),
            started_at: t.started_at.map(time),
            finished_at: t.finished_at.map(time),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Transfers {
    transfers: Vec<Transfer>,
}

/// A mirror site (its credentials are never shown).
#[derive(Serialize, ToSchema)]
pub struct Mirror {
    name: String,
    endpoint: String,
    region: String,
    bucket: String,
    prefix: String,
    policy: MirrorPolicy,
}

#[derive(Serialize, ToSchema)]
pub struct Mirrors {
    mirrors: Vec<Mirror>,
}

/// Fixity checks by location and outcome, and every problem found.
#[derive(Serialize, ToSchema)]
pub struct FixityReport {
    days: i64,
    checks: Vec<FixityCount>,
    problems: Vec<FixityProblemBody>,
}

/// A copy found missing or damaged, and what was done.
#[derive(Serialize, ToSchema)]
#[schema(as = FixityProblem)]
pub struct FixityProblemBody {
    location: String,
    sha256: String,
    outcome: FixityOutcome,
    detail: Option<String>,
    #[schema(format = DateTime)]
    at: String,
}

#[utoipa::path(get, path = "/mirrors", tag = "mirrors", security(("bearer" = [])), responses((status = 200, description = "Mirror sites (credentials never shown)", body = Mirrors), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Curators only", body = Problem, content_type = "application/problem+json")))]
pub async fn list_mirrors(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
) -> AppResult<Json<Mirrors>> {
    require_curator(&actor, "see replication and fixity")?;
    let mirrors = s
        .mirrors()
        .list()
        .await?
        .into_iter()
        .map(|m| Mirror {
            name: m.name,
            endpoint: m.endpoint,
            region: m.region,
            bucket: m.bucket,
            prefix: m.prefix,
            policy: m.policy,
        })
        .collect();
    Ok(Json(Mirrors { mirrors }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    deposit: Option<String>,
    #[serde(default)]
    before: String,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/transfers", tag = "mirrors", security(("bearer" = [])), params(("deposit" = Option<String>, Query, description = "Only this deposit's transfers"), ("before" = Option<String>, Query, description = "Keyset: older than this id"), ("limit" = Option<i64>, Query, description = "Page size, 1–500")), responses((status = 200, description = "Transfers, newest first, with progress", body = Transfers), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Curators only", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<Transfers>> {
    require_curator(&actor, "see replication and fixity")?;
    let list = s
        .mirrors()
        .transfers(q.deposit.as_deref(), &q.before, q.limit.unwrap_or(50))
        .await?;
    Ok(Json(Transfers {
        transfers: list.into_iter().map(Transfer::from).collect(),
    }))
}

#[utoipa::path(get, path = "/transfers/{id}", tag = "mirrors", security(("bearer" = [])), params(("id" = String, Path, description = "Transfer id")), responses((status = 200, description = "The transfer", body = Transfer), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Curators only", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such transfer", body = Problem, content_type = "application/problem+json")))]
pub async fn show(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> AppResult<Json<Transfer>> {
    require_curator(&actor, "see replication and fixity")?;
    Ok(Json(s.mirrors().transfer(&id).await?.into()))
}

#[utoipa::path(post, path = "/transfers/{id}/retry", tag = "mirrors", security(("bearer" = [])), params(("id" = String, Path, description = "Transfer id")), responses((status = 200, description = "Queued again", body = Transfer), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Curators only", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such transfer", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Running now", body = Problem, content_type = "application/problem+json")))]
pub async fn retry(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> AppResult<Json<Transfer>> {
    require_curator(&actor, "see replication and fixity")?;
    Ok(Json(s.mirrors().retry_transfer(&id).await?.into()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    days: Option<i64>,
}

#[utoipa::path(get, path = "/fixity", tag = "mirrors", security(("bearer" = [])), params(("days" = Option<i64>, Query, description = "How far back (default 30)")), responses((status = 200, description = "Checks by location and outcome, and every problem", body = FixityReport), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Curators only", body = Problem, content_type = "application/problem+json")))]
pub async fn report(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Query(q): Query<ReportQuery>,
) -> AppResult<Json<FixityReport>> {
    require_curator(&actor, "see replication and fixity")?;
    let days = q.days.unwrap_or(30).clamp(1, 3650);
    let (checks, problems) = s.fixity().report(days).await?;
    let problems = problems
        .into_iter()
        .map(|p| FixityProblemBody {
            location: p.location,
            sha256: p.sha256,
            outcome: p.outcome,
            detail: p.detail,
            at: time(p.checked_at),
        })
        .collect();
    Ok(Json(FixityReport {
        days,
        checks,
        problems,
    }))
}
