//! `GET /api/v1/lookups/{registry}?q=…`: suggestions for the deposit form from ORCID,
//! ROR or the Funder Registry, for a signed-in person (the archive is not an open proxy
//! to the registries).

use crate::lookups::{Registry, Suggestion};
use crate::services::{ServiceError, Services};
use crate::web::auth::Authenticated;
use crate::web::error::AppResult;
use crate::web::openapi::Problem;
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupQuery {
    q: String,
}

/// What a registry suggested.
#[derive(Serialize, ToSchema)]
pub struct Suggestions {
    registry: Registry,
    /// At most ten, best first.
    suggestions: Vec<Suggestion>,
    /// Set when the registry could not be asked (turned off, unreachable, a strange
    /// answer): no suggestions this time, and the value may still be typed.
    #[serde(skip_serializing_if = "Option::is_none")]
    unavailable: Option<String>,
}

#[utoipa::path(get, path = "/lookups/{registry}", tag = "deposits", security(("bearer" = [])),
    params(("registry" = String, Path, description = "orcid (people), ror (organisations) or funders (the Crossref Funder Registry)"),
           ("q" = String, Query, description = "A name, or an ORCID iD; 2 to 200 characters")),
    responses((status = 200, description = "Suggestions, or why there are none", body = Suggestions),
              (status = 401, description = "No valid token or session", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such registry", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "The query is too short or too long", body = Problem, content_type = "application/problem+json")))]
pub async fn find(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(registry): Path<String>,
    Query(query): Query<LookupQuery>,
) -> AppResult<Json<Suggestions>> {
    let registry: Registry = registry
        .parse()
        .map_err(|()| ServiceError::NotFound("registry (orcid, ror or funders)"))?;
    let found = s.lookups().find(&actor, registry, &query.q).await?;
    Ok(Json(Suggestions {
        registry,
        suggestions: found.suggestions,
        unavailable: found.unavailable,
    }))
}
