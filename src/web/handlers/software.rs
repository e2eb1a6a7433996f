//! The software catalogue and the manuscript kit.

use crate::services::Services;
use crate::services::software::NewSoftware;
use crate::web::auth::Authenticated;
use crate::web::error::AppResult;
use crate::web::json::parse;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

pub async fn list(
    State(s): State<Services>,
    Authenticated(_): Authenticated,
) -> AppResult<Json<Value>> {
    let all = s.list_software().await?;
    let items: Vec<Value> = all
        .iter()
        .map(|x| json!({ "id": x.id, "name": x.name, "aliases": x.aliases, "homepage": x.homepage, "citation": x.citation }))
        .collect();
    Ok(Json(json!({ "software": items })))
}

pub async fn add(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    body: Bytes,
) -> AppResult<StatusCode> {
    let req: NewSoftware = parse(&body)?;
    s.add_software(&actor, req).await?;
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
pub async fn kit(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Query(q): Query<KitQuery>,
) -> AppResult<Json<Value>> {
    let ids: Vec<String> = q
        .deposits
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let kit = s
        .manuscript_kit(
            &actor,
            &ids,
            q.style.as_deref().unwrap_or("apa"),
            q.locale.as_deref(),
        )
        .await?;
    Ok(Json(serde_json::to_value(kit).unwrap_or_default()))
}
