//! Release batches in the curators' console: the coming and past batches, what each
//! holds with a result per item, and "run now".

use super::deposits::state_words;
use super::{Chrome, page, see_other};
use crate::db::versions::VersionRow;
use crate::model::date::utc_minutes;
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

/// A dataset released at once, outside any batch.
pub struct DirectView {
    pub deposit: String,
    pub title: String,
    pub doi: Option<String>,
    pub released_at: String,
    pub released_by: Option<String>,
    pub withdrawn: bool,
}

#[derive(Template)]
#[template(path = "releases.html")]
struct ReleasesPage {
    chrome: Chrome,
    coming: Vec<BatchView>,
    direct: Vec<DirectView>,
    past: Vec<BatchView>,
    /// How many of the latest releases the direct ones are looked for among.
    scanned: i64,
}

/// Shown of each list: the batches to come, the direct releases, the batches run.
const SHOWN: i64 = 20;

fn title_of(v: &VersionRow) -> String {
    let title = crate::services::records::title_of(v);
    if title.is_empty() {
        "(untitled)".to_owned()
    } else {
        title
    }
}

fn batch_view(view: crate::services::releases::BatchView) -> BatchView {
    BatchView {
        id: view.batch.id,
        release_at: utc_minutes(view.batch.release_at),
        cutoff_at: utc_minutes(view.batch.cutoff_at),
        state: view.batch.state,
        items: view
            .items
            .into_iter()
            .map(|(item, v)| ItemView {
                title: title_of(&v),
                deposit: v.id.into(),
                deposit_state: state_words(v.state),
                result: item.state,
                error: item.error,
            })
            .collect(),
    }
}

pub async fn list(State(s): State<Services>, SignedIn(b, actor): SignedIn) -> AppResult<Response> {
    let console = s
        .releases()
        .console(&actor, SHOWN)
        .await
        .map_err(AppError::page)?;
    let direct = console
        .direct
        .into_iter()
        .map(|d| DirectView {
            title: title_of(&d.published.version),
            doi: d.published.version.doi.clone(),
            deposit: d.published.version.id.into(),
            released_at: utc_minutes(d.published.released_at),
            released_by: d.released_by,
            withdrawn: d.published.deleted,
        })
        .collect();
    page(
        &b,
        &ReleasesPage {
            chrome: Chrome::of(&b),
            coming: console.coming.into_iter().map(batch_view).collect(),
            direct,
            past: console.past.into_iter().map(batch_view).collect(),
            scanned: crate::db::published::DIRECT_RELEASES_SCANNED,
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
