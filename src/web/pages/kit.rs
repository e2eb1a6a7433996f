//! The manuscript kit in the author's console: pick one or several deposits and a
//! style; get the reference list (data and software), the data-availability paragraph,
//! and copy buttons. The same service as `GET /api/v1/manuscript-kit` and `arca cite`.

use super::deposits::{Row, rows};
use super::{Chrome, page};
use crate::metadata::citation::styles::STYLES;
use crate::model::Role;
use crate::services::{Actor, ServiceError, Services};
use crate::web::error::{AppError, AppResult};
use crate::web::session::SignedIn;
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;

#[derive(Template)]
#[template(path = "kit.html")]
struct KitPage {
    chrome: Chrome,
    deposits: Vec<Row>,
    chosen: Vec<String>,
    style: String,
    styles: &'static [(&'static str, &'static str)],
    references: Vec<(String, Option<String>)>,
    availability: Option<String>,
    unmatched: Vec<String>,
    error: Option<String>,
    api: String,
}

/// The deposits one can cite from here: one's own (curators too), newest first.
const LISTED: i64 = 200;

pub async fn kit(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    RawQuery(query): RawQuery,
) -> AppResult<Response> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let chosen: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "d")
        .map(|(_, v)| v.clone())
        .collect();
    let style = pairs
        .iter()
        .find(|(k, _)| k == "style")
        .map(|(_, v)| v.clone())
        .filter(|v| STYLES.iter().any(|(id, _)| id == v))
        .unwrap_or_else(|| "apa".into());
    let mine = Actor {
        role: Role::Author,
        ..actor.clone()
    };
    let list = s
        .list_deposits(&mine, None, "", LISTED)
        .await
        .map_err(|e| AppError::from(e).as_html())?;
    let (mut references, mut availability, mut unmatched, mut error) =
        (Vec::new(), None, Vec::new(), None);
    if !chosen.is_empty() {
        match s.manuscript_kit(&actor, &chosen, &style, None).await {
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
                error = Some(super::deposit_form::plain(&e.to_string()));
            }
            Err(e) => return Err(AppError::from(e).as_html()),
        }
    }
    let api = format!(
        "/api/v1/manuscript-kit?deposits={}&style={style}",
        chosen.join(",")
    );
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
            api,
        },
    )
}
