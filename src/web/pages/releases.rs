//! Release batches in the curators' console: the coming and past batches, what each
//! holds with a result per item, and "run now".

use super::deposits::state_words;
use super::{Chrome, page, see_other};
use crate::model::date::utc_seconds;
use crate::model::{BatchItemState, BatchState};
use crate::services::Services;
use crate::web::error::{AppError, AppResult};
use crate::web::session::{SignedIn, checked_form};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;

pub struct BatchView {
    pub id: String,
    pub release_at: String,
    pub cutoff_at: String,
    pub state: BatchState,
    pub items: Vec<ItemView>,
}

pub struct ItemView {
    pub deposit: String,
    pub title: String,
    pub deposit_state: &'static str,
    pub result: BatchItemState,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "releases.html")]
struct ReleasesPage {
    chrome: Chrome,
    batches: Vec<BatchView>,
}

/// Batches shown: the open ones and the latest run, newest first.
const SHOWN: i64 = 20;

pub async fn list(State(s): State<Services>, SignedIn(b, actor): SignedIn) -> AppResult<Response> {
    let batches = s
        .releases()
        .console(&actor, SHOWN)
        .await
        .map_err(AppError::page)?
        .into_iter()
        .map(|view| BatchView {
            id: view.batch.id,
            release_at: utc_seconds(view.batch.release_at),
            cutoff_at: utc_seconds(view.batch.cutoff_at),
            state: view.batch.state,
            items: view
                .items
                .into_iter()
                .map(|(item, v)| ItemView {
                    title: v
                        .metadata
                        .pointer("/titles/0/title")
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or("(untitled)")
                        .to_owned(),
                    deposit: v.id.into(),
                    deposit_state: state_words(v.state),
                    result: item.state,
                    error: item.error,
                })
                .collect(),
        })
        .collect();
    page(
        &b,
        &ReleasesPage {
            chrome: Chrome::of(&b),
            batches,
        },
    )
}

pub async fn run(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    checked_form(&b, &body)?;
    s.releases()
        .run_batch_now(&actor, &id)
        .await
        .map_err(AppError::page)?;
    Ok(see_other("/curate/releases"))
}
