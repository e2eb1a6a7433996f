//! Holds until publication: the open hold, "my paper is out", curator confirmation,
//! and people's notifications.

use crate::db::holds::HoldRow;
use crate::model::HoldKind;
use crate::model::NoticeKind;
use crate::services::Services;
use crate::web::auth::Authenticated;
use crate::web::error::AppResult;
use crate::web::json::{parse, time};
use crate::web::openapi::Problem;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A hold until publication as the API shows it (in the deposit, and after a claim).
#[derive(Serialize, ToSchema)]
pub struct Hold {
    kind: HoldKind,
    /// YYYY-MM-DD, the article's DOI, or the PDB id.
    until: String,
    #[schema(format = DateTime)]
    placed_at: String,
    /// When the hold lapses unless renewed.
    #[schema(format = DateTime)]
    lapses_at: String,
    /// The article an author said is out.
    claimed_article: Option<String>,
    #[schema(format = DateTime)]
    published_at: Option<String>,
    /// When Crossref or the PDB was last asked.
    #[schema(format = DateTime)]
    last_checked_at: Option<String>,
}

impl From<&HoldRow> for Hold {
    fn from(h: &HoldRow) -> Self {
        Self {
            kind: h.kind,
            until: h.target.clone(),
            placed_at: time(h.placed_at),
            lapses_at: time(h.lapses_at),
            claimed_article: h.claimed_doi.clone(),
            published_at: h.published_at.map(time),
            last_checked_at: h.last_checked_at.map(time),
        }
    }
}

/// The hold after a claim.
#[derive(Serialize, ToSchema)]
pub struct Claimed {
    hold: Option<Hold>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Claim {
    doi: String,
}

#[utoipa::path(post, path = "/deposits/{id}/publication", tag = "holds", security(("bearer" = [])), params(("id" = String, Path, description = "Deposit id")), request_body(content = Object, description = "`{\"doi\": \"10.…\"}`: the published article", content_type = "application/json"), responses((status = 200, description = "Recorded; curators are told", body = Claimed), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such deposit (or not yours)", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Not on hold", body = Problem, content_type = "application/problem+json"), (status = 422, description = "Not a DOI", body = Problem, content_type = "application/problem+json")))]
pub async fn claim(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Json<Claimed>> {
    let req: Claim = parse(&body)?;
    s.holds().claim(&actor, &id, &req.doi).await?;
    let view = s.deposit_view().get(&actor, &id).await?;
    Ok(Json(Claimed {
        hold: view.hold.as_ref().map(Hold::from),
    }))
}

#[utoipa::path(post, path = "/deposits/{id}/publication/confirm", tag = "holds", security(("bearer" = [])), params(("id" = String, Path, description = "Deposit id")), responses((status = 200, description = "Confirmed; the deposit is scheduled into the next release", body = super::deposits::Deposit), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Curators only", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such deposit", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Not on hold, or no batch open", body = Problem, content_type = "application/problem+json")))]
pub async fn confirm(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> AppResult<Json<super::deposits::Deposit>> {
    let v = s.holds().confirm(&actor, &id).await?;
    super::deposits::view(&s, &actor, &v.id).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    #[serde(default)]
    before: String,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/notifications", tag = "holds", security(("bearer" = [])), params(("before" = Option<String>, Query, description = "Keyset: older than this id"), ("limit" = Option<i64>, Query, description = "Page size, 1–200")), responses((status = 200, description = "What you were told, newest first (curators also see what every curator is told)", body = Notifications), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json")))]
pub async fn notifications(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Query(q): Query<Page>,
) -> AppResult<Json<Notifications>> {
    let list = s
        .notices()
        .list(&actor, &q.before, q.limit.unwrap_or(50))
        .await?;
    let notifications = list
        .into_iter()
        .map(|n| Notification {
            kind: n.kind,
            to_curators: n.user_id.is_none(),
            at: time(n.created_at),
            id: n.id,
            deposit: n.version_id,
            message: n.message,
        })
        .collect();
    let unread = s.notices().unread(&actor).await?;
    Ok(Json(Notifications {
        notifications,
        unread,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Notifications {
    notifications: Vec<Notification>,
    /// How many are unread (counted up to 100).
    unread: i64,
}

/// One message the archive left for a person (or for every curator).
#[derive(Serialize, ToSchema)]
pub struct Notification {
    id: String,
    /// What it is about.
    kind: NoticeKind,
    /// The deposit it is about.
    deposit: Option<String>,
    message: String,
    /// Addressed to every curator rather than to one person.
    to_curators: bool,
    #[schema(format = DateTime)]
    at: String,
}
