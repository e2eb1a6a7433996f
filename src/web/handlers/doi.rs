//! `/doi/{doi}`: DOI content negotiation with the media types DOI resolvers use, and
//! `?format=` for links. HTML goes to the landing page.

use crate::metadata::citation::{
    self, BIBLIOGRAPHY, BIBTEX, CSL_JSON, DATACITE_XML, Format, LD_JSON, RIS,
};
use crate::services::Services;
use crate::web::conneg;
use crate::web::error::{AppError, AppResult};
use crate::web::openapi::Problem;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

const HTML: &str = "text/html";
const OFFERS: &[&str] = &[
    HTML,
    DATACITE_XML,
    BIBTEX,
    RIS,
    CSL_JSON,
    BIBLIOGRAPHY,
    LD_JSON,
];

#[derive(Deserialize, Default)]
pub struct Params {
    format: Option<String>,
    style: Option<String>,
    locale: Option<String>,
}

fn not_acceptable() -> AppError {
    AppError::new(
        StatusCode::NOT_ACCEPTABLE,
        "not-acceptable",
        format!(
            "this DOI is available as: {} (or ?format=bibtex|biblatex|ris|csl|text|datacite|datacite-xml)",
            OFFERS.join(", ")
        ),
    )
}

/// The format asked for by `?format=`, else by `Accept`; None means the landing page.
pub fn requested(headers: &HeaderMap, q: &Params) -> AppResult<Option<Format>> {
    if let Some(name) = &q.format {
        if name == "html" {
            return Ok(None);
        }
        return Format::from_name(name, q.style.clone(), q.locale.clone())
            .map(Some)
            .ok_or_else(not_acceptable);
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let (chosen, params) = conneg::choose_with_params(accept, OFFERS).ok_or_else(not_acceptable)?;
    let param = |k: &str| {
        params
            .iter()
            .find(|(pk, _)| pk == k)
            .map(|(_, v)| v.clone())
    };
    Ok(match chosen {
        HTML => None,
        DATACITE_XML => Some(Format::DataciteXml),
        BIBTEX => Some(Format::Bibtex),
        RIS => Some(Format::Ris),
        CSL_JSON => Some(Format::CslJson),
        LD_JSON => Some(Format::SchemaOrg),
        _ => Some(Format::Text {
            style: param("style").or_else(|| q.style.clone()),
            locale: param("locale").or_else(|| q.locale.clone()),
        }),
    })
}

/// The record in `format` as a response with the format's media type.
/// A metadata export or citation download of a released version: an investigation.
pub fn export_hit(
    dataset_id: &str,
    version_id: &str,
    format: &Format,
    url: &str,
) -> crate::services::usage::Hit {
    crate::services::usage::Hit {
        dataset_id: dataset_id.to_owned(),
        version_id: version_id.to_owned(),
        activity: crate::model::Activity::Investigation,
        url: format!("{url} {format:?}"),
        range: false,
    }
}

pub fn cite(record: &crate::metadata::datacite::Resource, format: &Format) -> AppResult<Response> {
    let body = citation::render(record, format)
        .map_err(|e| AppError::new(StatusCode::BAD_REQUEST, "bad-request", e.to_string()))?;
    let media = match format.media_type() {
        m if m.starts_with("text/") || m == BIBTEX || m == RIS => format!("{m}; charset=utf-8"),
        m => m.to_owned(),
    };
    Ok(([(header::CONTENT_TYPE, media)], body).into_response())
}

#[utoipa::path(get, path = "/doi/{*doi}", tag = "public", params(("doi" = String, Path, description = "A DOI of this archive"), ("format" = Option<String>, Query, description = "Instead of Accept: bibtex, ris, csl, text, datacite-xml, …"), ("style" = Option<String>, Query, description = "CSL style"), ("locale" = Option<String>, Query, description = "Locale")), responses((status = 200, description = "The record in the negotiated format", content((String = "text/x-bibliography"), (String = "application/x-bibtex"), (String = "application/x-research-info-systems"), (Object = "application/vnd.citationstyles.csl+json"), (String = "application/vnd.datacite.datacite+xml"), (Object = "application/ld+json"), (String = "application/x-yaml"))), (status = 303, description = "HTML: to the landing page"), (status = 404, description = "Unknown DOI", body = Problem, content_type = "application/problem+json"), (status = 406, description = "Unknown media type; the offers are listed", body = Problem, content_type = "application/problem+json")))]
pub async fn resolve(
    State(s): State<Services>,
    Path(doi): Path<String>,
    Query(q): Query<Params>,
    visitor: crate::web::visits::Visitor,
    headers: HeaderMap,
) -> AppResult<Response> {
    let format = requested(&headers, &q)?;
    let found = s.dois().resolve(&doi).await?;
    let mut resp = match format {
        // The landing page counts the view when the reader gets there.
        None => Redirect::to(&found.landing).into_response(),
        Some(f) => {
            let resp = cite(&found.record, &f)?;
            if let Some(version_id) = &found.released_version {
                let hit = export_hit(&found.dataset_id, version_id, &f, &format!("/doi/{doi}"));
                crate::web::visits::count(&s, &visitor, hit).await;
            }
            resp
        }
    };
    resp.headers_mut()
        .insert(header::VARY, "Accept".parse().expect("static"));
    Ok(resp)
}
