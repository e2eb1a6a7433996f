//! The manuscript kit in the author's console: pick one or several deposits and a
//! style; get the reference list (data and software), the data-availability paragraph,
//! and copy buttons. The same service as `GET /api/v1/manuscript-kit` and `arca cite`.

use super::deposits::{Row, rows};
use super::{Chrome, page};
use crate::metadata::citation::styles::STYLES;
use crate::services::{ServiceError, Services};
use crate::web::error::{AppError, AppResult};
use crate::web::session::{Form, SignedIn};
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

#[derive(Template)]
#[template(path = "kit.html")]
struct KitPage {
    chrome: Chrome,
    deposits: Vec<Row>,
    chosen: Vec<String>,
    style: String,
    styles: &'static [(&'static str, &'static str)],
    /// (text, DOI) of each reference.
    references: Vec<(String, Option<String>)>,
    availability: Option<String>,
    unmatched: Vec<String>,
    error: Option<String>,
    /// The CSL-JSON file of the same references.
    download: String,
}

/// The deposits one can cite from here: one's own (curators too), newest first.
const LISTED: i64 = 200;

/// What the kit is asked for: the chosen deposits (`d=ID`, repeated) and a style.
fn chosen(query: Option<String>) -> (Vec<String>, String) {
    let q = Form::parse(query.unwrap_or_default().as_bytes());
    let style = Some(q.get("style"))
        .filter(|v| STYLES.iter().any(|(id, _)| id == v))
        .unwrap_or_else(|| "apa".into());
    (q.all("d"), style)
}

/// Every reference of the kit as one CSL-JSON file, for Zotero and other managers.
pub async fn kit_json(
    State(s): State<Services>,
    SignedIn(_, actor): SignedIn,
    RawQuery(query): RawQuery,
) -> AppResult<Response> {
    let (chosen, style) = chosen(query);
    let kit = s
        .manuscript_kit()
        .get(&actor, &chosen, &style, None)
        .await
        .map_err(AppError::page)?;
    let items: Vec<serde_json::Value> = kit.references.into_iter().map(|r| r.csl).collect();
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.citationstyles.csl+json",
            ),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"references.json\"",
            ),
        ],
        serde_json::Value::Array(items).to_string(),
    )
        .into_response())
}

pub async fn kit(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    RawQuery(query): RawQuery,
) -> AppResult<Response> {
    let (chosen, style) = chosen(query);
    let list = s
        .deposits()
        .own(&actor, "", LISTED)
        .await
        .map_err(AppError::page)?;
    let (mut references, mut availability, mut unmatched, mut error) =
        (Vec::new(), None, Vec::new(), None);
    if !chosen.is_empty() {
        match s.manuscript_kit().get(&actor, &chosen, &style, None).await {
            Ok(k) => {
                references = k.references.into_iter().map(|r| (r.text, r.doi)).collect();
                availability = Some(k.data_availability);
                unmatched = k.unmatched_software;
            }
            Err(ServiceError::InvalidMetadata(_)) => {
                error = Some(
                    "A chosen deposit's description is not complete enough to cite yet: finish it first."
                        .into(),
                );
            }
            Err(e @ (ServiceError::Invalid { .. } | ServiceError::NotFound(_))) => {
                error = Some(super::plain(&e.to_string()));
            }
            Err(e) => return Err(AppError::page(e)),
        }
    }
    let download = {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for d in &chosen {
            q.append_pair("d", d);
        }
        q.append_pair("style", &style);
        format!("/my/kit.json?{}", q.finish())
    };
    page(
        &b,
        &KitPage {
            chrome: Chrome::of(&b),
            deposits: rows(&list),
            chosen,
            style,
            styles: STYLES,
            references,
            availability,
            unmatched,
            error,
            download,
        },
    )
}
