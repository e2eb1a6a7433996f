//! `/doi/{doi}`: DOI content negotiation, as DOI resolvers do it.

use crate::services::Services;
use crate::web::conneg;
use crate::web::error::{AppError, AppResult};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

const HTML: &str = "text/html";
const DATACITE_XML: &str = "application/vnd.datacite.datacite+xml";
const OFFERS: &[&str] = &[HTML, DATACITE_XML];

pub async fn resolve(
    State(s): State<Services>,
    Path(doi): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let Some(chosen) = conneg::choose(accept, OFFERS) else {
        return Err(AppError::new(
            StatusCode::NOT_ACCEPTABLE,
            "not-acceptable",
            format!("this DOI is available as: {}", OFFERS.join(", ")),
        ));
    };
    let found = s.resolve_doi(&doi).await?;
    let mut resp = match chosen {
        DATACITE_XML => ([(header::CONTENT_TYPE, DATACITE_XML)], found.xml).into_response(),
        _ => Redirect::to(&format!("/datasets/{}", found.dataset_id)).into_response(),
    };
    resp.headers_mut()
        .insert(header::VARY, "Accept".parse().expect("static"));
    Ok(resp)
}
