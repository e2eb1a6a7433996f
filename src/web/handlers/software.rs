//! The software catalogue and the manuscript kit.

use crate::services::Services;
use crate::services::manuscript_kit::ManuscriptKit;
use crate::services::software::NewSoftware;
use crate::web::auth::Authenticated;
use crate::web::error::AppResult;
use crate::web::json::parse;
use crate::web::openapi::Problem;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

#[utoipa::path(get, path = "/software", tag = "citations", responses((status = 200, description = "The software catalogue", body = Catalogue)))]
pub async fn list(
    State(s): State<Services>,
    Authenticated(_): Authenticated,
) -> AppResult<Json<Catalogue>> {
    let software = s
        .software()
        .list()
        .await?
        .into_iter()
        .map(|x| Software {
            id: x.id,
            name: x.name,
            aliases: x.aliases,
            homepage: x.homepage,
            citation: x.citation,
        })
        .collect();
    Ok(Json(Catalogue { software }))
}

#[derive(Serialize, ToSchema)]
pub struct Catalogue {
    software: Vec<Software>,
}

/// A program and how to cite it.
#[derive(Serialize, ToSchema)]
pub struct Software {
    id: String,
    name: String,
    /// Other names it goes by in deposits ("HKL2000" for "HKL-2000").
    aliases: Vec<String>,
    homepage: Option<String>,
    /// How to cite it: one CSL-JSON item.
    citation: Value,
}

#[utoipa::path(post, path = "/software", tag = "citations", security(("bearer" = [])), request_body(content = Object, content_type = "application/json"), responses((status = 201, description = "Added"), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Curators only", body = Problem, content_type = "application/problem+json"), (status = 422, description = "Invalid input, each problem with its field", body = Problem, content_type = "application/problem+json")))]
pub async fn add(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    body: Bytes,
) -> AppResult<StatusCode> {
    let req: NewSoftware = parse(&body)?;
    s.software().add(&actor, req).await?;
    Ok(StatusCode::CREATED)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KitQuery {
    /// Deposit ids, comma-separated.
    deposits: String,
    style: Option<String>,
    locale: Option<String>,
}

/// `GET /api/v1/manuscript-kit?deposits=ID,ID&style=apa`: the reference list (data and
/// software) and a data-availability paragraph.
#[utoipa::path(get, path = "/manuscript-kit", tag = "citations", security(("bearer" = [])), params(("deposits" = String, Query, description = "Comma-separated deposit ids"), ("style" = Option<String>, Query, description = "CSL style"), ("locale" = Option<String>, Query, description = "Locale")), responses((status = 200, description = "References and a Data availability paragraph", body = ManuscriptKit), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such deposit (or not yours)", body = Problem, content_type = "application/problem+json"), (status = 422, description = "Invalid input, each problem with its field", body = Problem, content_type = "application/problem+json")))]
pub async fn kit(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Query(q): Query<KitQuery>,
) -> AppResult<Json<ManuscriptKit>> {
    let ids: Vec<String> = q
        .deposits
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let kit = s
        .manuscript_kit()
        .get(
            &actor,
            &ids,
            q.style.as_deref().unwrap_or("apa"),
            q.locale.as_deref(),
        )
        .await?;
    Ok(Json(kit))
}
