//! `/oai`: OAI-PMH 2.0, by GET or by form POST (§3.1.1.2).

use crate::db::now_ms;
use crate::oai::request;
use crate::oai::response::{self, Envelope, Repository};
use crate::services::Services;
use crate::services::harvest::OaiAnswer;
use crate::web::error::AppResult;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The protocol's arguments, for the API description only: requests are read as raw
/// pairs so that repeated arguments can be refused as the protocol requires.
#[allow(dead_code)]
#[derive(utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OaiArgs {
    /// Identify, ListMetadataFormats, ListSets, GetRecord, ListIdentifiers, ListRecords.
    verb: Option<String>,
    /// oai_dc or oai_datacite.
    #[schema(rename = "metadataPrefix")]
    #[param(rename = "metadataPrefix")]
    metadata_prefix: Option<String>,
    /// oai:<namespace>:<id>.
    identifier: Option<String>,
    /// A set spec from ListSets.
    set: Option<String>,
    /// YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ.
    from: Option<String>,
    /// YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ.
    until: Option<String>,
    /// From the previous page.
    #[schema(rename = "resumptionToken")]
    #[param(rename = "resumptionToken")]
    resumption_token: Option<String>,
}

#[utoipa::path(get, path = "/oai", tag = "public", params(OaiArgs), responses((status = 200, description = "OAI-PMH 2.0 response (protocol errors included)", body = String, content_type = "text/xml")))]
pub async fn get(
    State(s): State<Services>,
    Query(args): Query<Vec<(String, String)>>,
) -> AppResult<Response> {
    answer(&s, args).await
}

#[utoipa::path(post, path = "/oai", tag = "public", request_body(content = OaiArgs, description = "The same arguments, form-encoded", content_type = "application/x-www-form-urlencoded"), responses((status = 200, description = "OAI-PMH 2.0 response", body = String, content_type = "text/xml")))]
pub async fn post(
    State(s): State<Services>,
    Form(args): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    answer(&s, args).await
}

async fn answer(s: &Services, args: Vec<(String, String)>) -> AppResult<Response> {
    let base_url = format!("{}/oai", s.config.public_base());
    let env = Envelope {
        base_url: &base_url,
        now_ms: now_ms(),
        args: &args,
    };
    let r = &s.config.repository;
    let mut repo = Repository {
        name: &r.name,
        admin_email: &r.admin_email,
        earliest_ms: 0,
        identifier_namespace: &r.oai_namespace,
        datacentre_symbol: &r.datacentre_symbol,
    };
    let body = match request::parse(&args) {
        Err(e) => response::error(&env, &e),
        Ok(verb) => match s.harvest().oai(&verb).await? {
            OaiAnswer::Error(e) => response::error(&env, &e),
            OaiAnswer::Identify { earliest_ms } => {
                repo.earliest_ms = earliest_ms;
                response::identify(&env, &repo)
            }
            OaiAnswer::Formats => response::metadata_formats(&env),
            OaiAnswer::Sets(sets) => response::sets(&env, &sets),
            OaiAnswer::Record(rec, prefix) => response::get_record(&env, &repo, &rec, prefix),
            OaiAnswer::List(records, resumption) => {
                response::list(&env, &repo, &verb, &records, resumption.as_ref())
            }
        },
    };
    Ok(([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response())
}
