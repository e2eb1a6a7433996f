//! The curators' console: the queue of deposits by state, and invitations.

use super::deposits::{Row, rows};
use super::{Chrome, page};
use crate::model::{DepositState, Role};
use crate::services::{Services, require_curator};
use crate::web::error::{AppError, AppResult};
use crate::web::session::{SignedIn, checked_form};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "curate.html")]
struct QueuePage {
    chrome: Chrome,
    state: String,
    states: Vec<(&'static str, &'static str)>,
    deposits: Vec<QueueRow>,
    next: Option<String>,
    invitation: Option<String>,
    invite_error: Option<String>,
    /// For each state curators act on: its name, words, how many (capped), since when.
    waiting: Vec<(&'static str, &'static str, String, String)>,
}

/// A line of the queue: the deposit, who deposited it, what it holds, how long it waits.
struct QueueRow {
    row: Row,
    depositor: String,
    /// "3 files, 1.2 GB".
    holds: String,
    /// "for 3 days" (since its last change).
    waiting: String,
}

fn queue_rows(items: &[crate::services::deposits::QueueItem], now: i64) -> Vec<QueueRow> {
    let versions: Vec<_> = items.iter().map(|i| i.version.clone()).collect();
    rows(&versions)
        .into_iter()
        .zip(items)
        .map(|(row, i)| QueueRow {
            row,
            depositor: i.depositor.clone(),
            holds: format!(
                "{}, {}",
                crate::model::words::count(i.files as u64, "file", "files"),
                crate::web::format::human_size(i.bytes)
            ),
            waiting: since(now - i.version.updated_at),
        })
        .collect()
}

/// How long, in the largest unit that fits: "for 3 days", "for 5 hours", "for 2 minutes".
fn since(ms: i64) -> String {
    let minutes = (ms / 60_000).max(0) as u64;
    let (n, one, many) = match minutes {
        m if m >= 2 * 24 * 60 => (m / (24 * 60), "day", "days"),
        m if m >= 120 => (m / 60, "hour", "hours"),
        m => (m, "minute", "minutes"),
    };
    format!("for {}", crate::model::words::count(n, one, many))
}

#[derive(Deserialize)]
pub struct QueueQuery {
    #[serde(default = "waiting")]
    state: String,
    #[serde(default)]
    before: String,
}

fn waiting() -> String {
    "verified".into()
}

const QUEUE_PAGE: i64 = 50;

pub async fn queue(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    Query(q): Query<QueueQuery>,
) -> AppResult<Response> {
    require_curator(&actor, "see the curation queue").map_err(AppError::page)?;
    render(&s, b, &actor, &q.state, &q.before, None, None).await
}

async fn render(
    s: &Services,
    b: crate::web::session::Browser,
    actor: &crate::services::Actor,
    state: &str,
    before: &str,
    invitation: Option<String>,
    invite_error: Option<String>,
) -> AppResult<Response> {
    let filter = (!state.is_empty() && state != "all").then_some(state);
    let list = s
        .deposits()
        .queue(actor, filter, before, QUEUE_PAGE)
        .await
        .map_err(AppError::page)?;
    let next = (list.len() as i64 == QUEUE_PAGE)
        .then(|| list.last().map(|i| i.version.id.to_string()))
        .flatten();
    let waiting = waiting_lines(s, actor).await?;
    let states = DepositState::ALL
        .iter()
        .map(|st| (st.as_str(), super::deposits::state_words(*st)))
        .collect();
    page(
        &b,
        &QueuePage {
            chrome: Chrome::of(&b),
            state: state.to_owned(),
            states,
            waiting,
            deposits: queue_rows(&list, crate::db::now_ms()),
            next,
            invitation,
            invite_error,
        },
    )
}

pub async fn invite(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    body: Bytes,
) -> AppResult<Response> {
    let form = checked_form(&b, &body)?;
    let role = if form.get("role") == "curator" {
        Role::Curator
    } else {
        Role::Author
    };
    let (link, error) = match s.sessions().invite(&actor, &form.get("email"), role).await {
        Ok(token) => (
            Some(format!(
                "{}/signup?invitation={token}",
                s.config.public_base()
            )),
            None,
        ),
        Err(crate::services::ServiceError::Invalid { message, .. }) => {
            (None, Some(super::plain(&message)))
        }
        Err(e) => return Err(AppError::page(e)),
    };
    render(&s, b, &actor, "verified", "", link, error).await
}

/// The counts at the top of the queue: "Verified 3, the oldest since 2026-11-28".
pub async fn waiting_lines(
    s: &Services,
    actor: &crate::services::Actor,
) -> AppResult<Vec<(&'static str, &'static str, String, String)>> {
    let cap = crate::services::deposits::WAITING_CAP;
    Ok(s.deposits()
        .waiting(actor)
        .await
        .map_err(AppError::page)?
        .into_iter()
        .map(|w| {
            let count = if w.count >= cap {
                format!("{}+", cap - 1)
            } else {
                w.count.to_string()
            };
            let since = w.since.map(crate::model::date::utc_day).unwrap_or_default();
            let label = match w.state {
                DepositState::Submitted => "Submitted, being verified",
                DepositState::Verified => "Verified, to review",
                DepositState::Approved => "Approved",
                DepositState::OnHold => "On hold",
                DepositState::Scheduled => "Scheduled for release",
                _ => w.state.as_str(),
            };
            (w.state.as_str(), label, count, since)
        })
        .collect())
}
