//! Reviewer links of a deposit: create, list, revoke.

use crate::db::reviewers::LinkRow;
use crate::services::Services;
use crate::web::auth::Authenticated;
use crate::web::error::AppResult;
use crate::web::json::{parse, time};
use crate::web::openapi::Problem;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A reviewer link: read access to a held deposit for an editor or referee.
#[derive(Serialize, ToSchema)]
pub struct Link {
    id: String,
    /// Who it is for, in the author's words.
    note: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    expires_at: String,
    #[schema(format = DateTime)]
    revoked_at: Option<String>,
    /// The secret URL: given once, when the link is made.
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

impl From<LinkRow> for Link {
    fn from(l: LinkRow) -> Self {
        Self {
            id: l.id,
            note: l.note,
            created_at: time(l.created_at),
            expires_at: time(l.expires_at),
            revoked_at: l.revoked_at.map(time),
            url: None,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Links {
    links: Vec<Link>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewLink {
    #[serde(default = "default_days")]
    days: u32,
    note: Option<String>,
}

fn default_days() -> u32 {
    90
}

#[utoipa::path(post, path = "/deposits/{id}/reviewer-links", tag = "holds", security(("bearer" = [])), params(("id" = String, Path, description = "Deposit id")), request_body(content = Object, description = "`{\"days\": 90, \"note\": \"Acta D, manuscript 1234\"}`", content_type = "application/json"), responses((status = 201, description = "The link; its URL is shown only now", body = Link), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such deposit (or not yours)", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Not verified yet, or already public", body = Problem, content_type = "application/problem+json"), (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<(StatusCode, Json<Link>)> {
    let req: NewLink = if body.iter().all(u8::is_ascii_whitespace) {
        NewLink {
            days: default_days(),
            note: None,
        }
    } else {
        parse(&body)?
    };
    let (link, token) = s
        .reviewers()
        .create_link(&actor, &id, req.days, req.note)
        .await?;
    let link = Link {
        url: Some(format!("{}/review/{token}", s.config.public_base())),
        ..link.into()
    };
    Ok((StatusCode::CREATED, Json(link)))
}

#[utoipa::path(get, path = "/deposits/{id}/reviewer-links", tag = "holds", security(("bearer" = [])), params(("id" = String, Path, description = "Deposit id")), responses((status = 200, description = "The deposit's links (without their secrets)", body = Links), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such deposit (or not yours)", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> AppResult<Json<Links>> {
    let links = s.reviewers().links(&actor, &id).await?;
    Ok(Json(Links {
        links: links.into_iter().map(Link::from).collect(),
    }))
}

#[utoipa::path(delete, path = "/deposits/{id}/reviewer-links/{link}", tag = "holds", security(("bearer" = [])), params(("id" = String, Path, description = "Deposit id"), ("link" = String, Path, description = "Link id")), responses((status = 204, description = "Revoked"), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such link", body = Problem, content_type = "application/problem+json")))]
pub async fn revoke(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path((id, link)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    s.reviewers().revoke_link(&actor, &id, &link).await?;
    Ok(StatusCode::NO_CONTENT)
}
