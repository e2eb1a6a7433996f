//! Reviewer links on the deposit's page: made with a note and a lifetime (the secret URL
//! shown once, to copy), listed with their state, revoked with a click.

use super::deposits::{deposit_page, refused};
use super::see_other;
use crate::db::events::HistoryRow;
use crate::db::reviewers::LinkRow;
use crate::services::Services;
use crate::web::error::AppResult;
use crate::web::session::{SignedIn, checked_form};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;

/// A link as its deposit's page lists it.
pub struct LinkLine {
    pub id: String,
    /// Who it is for, in the author's words.
    pub note: String,
    pub created: String,
    /// "until 2027-03-01", "expired on …", "revoked on …".
    pub status: String,
    pub live: bool,
    /// "3, the last on 2026-12-08" or "not yet", from the deposit's history (every
    /// opening of a page or file through a link is recorded there).
    pub uses: String,
}

/// Each link with its uses, counted in `history`.
pub fn lines(links: &[LinkRow], history: &[HistoryRow], now: i64) -> Vec<LinkLine> {
    use crate::model::date::utc_day;
    links
        .iter()
        .rev()
        .map(|l| {
            let (status, live) = match l.revoked_at {
                Some(at) => (format!("revoked on {}", utc_day(at)), false),
                None if l.expires_at <= now => {
                    (format!("expired on {}", utc_day(l.expires_at)), false)
                }
                None => (format!("works until {}", utc_day(l.expires_at)), true),
            };
            let prefix = format!("link {}:", l.id);
            let used: Vec<i64> = history
                .iter()
                .map(|h| &h.event)
                .filter(|e| {
                    e.kind == "reviewer_access"
                        && e.reason.as_deref().is_some_and(|r| r.starts_with(&prefix))
                })
                .map(|e| e.created_at)
                .collect();
            let uses = match used.iter().max() {
                None => "not yet".to_owned(),
                Some(last) => format!("{}, the last on {}", used.len(), utc_day(*last)),
            };
            LinkLine {
                uses,
                id: l.id.clone(),
                note: l.note.clone().unwrap_or_default(),
                created: utc_day(l.created_at),
                status,
                live,
            }
        })
        .collect()
}

pub async fn create(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let form = checked_form(&b, &body)?;
    let days = match form.get("days").trim().parse::<u32>() {
        Ok(d) => d,
        Err(_) => {
            let e = crate::services::ServiceError::invalid(
                "days",
                "give the days the link works, as a number",
            );
            return refused(&s, &b, &actor, &id, e).await;
        }
    };
    let note = Some(form.get("note"));
    match s.reviewers().create_link(&actor, &id, days, note).await {
        Ok((_, token)) => {
            let url = format!("{}/review/{token}", s.config.public_base());
            let done = "Reviewer link made. Copy it now and send it to the editor: the archive keeps only a fingerprint of it and cannot show it again.";
            deposit_page(&s, &b, &actor, &id, Some(done.into()), None, Some(url)).await
        }
        Err(e) => refused(&s, &b, &actor, &id, e).await,
    }
}

pub async fn revoke(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    Path((id, link)): Path<(String, String)>,
    body: Bytes,
) -> AppResult<Response> {
    checked_form(&b, &body)?;
    match s.reviewers().revoke_link(&actor, &id, &link).await {
        Ok(()) => Ok(see_other(&format!(
            "/deposits/{id}?done=link-revoked#reviewers"
        ))),
        Err(e) => refused(&s, &b, &actor, &id, e).await,
    }
}
