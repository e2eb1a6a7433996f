//! A person's notifications: the newest first, unread ones marked, links to the
//! deposits, and which of them also come by mail.

use super::{Chrome, page, see_other};
use crate::model::MailNotices;
use crate::model::date::utc_minutes;
use crate::services::Services;
use crate::services::notices::NoticePage;
use crate::web::error::{AppError, AppResult};
use crate::web::session::{SignedIn, checked_form};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

/// One line of the page.
struct Row {
    id: String,
    at: String,
    what: String,
    message: String,
    deposit: Option<String>,
    unread: bool,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    chrome: Chrome,
    rows: Vec<Row>,
    /// The newest shown: "mark as read" reads up to it.
    newest: String,
    /// Older ones: `?before=` this.
    older: Option<String>,
    unread: i64,
    /// The mail preference: "all", "digest" or "none".
    mail: &'static str,
    mail_on: bool,
}

/// "dataset released" → "Dataset released": a heading, not a mail subject's tail.
fn sentence_case(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|first| first.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[derive(Deserialize)]
pub struct Before {
    #[serde(default)]
    before: String,
}

pub async fn page_of(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    Query(q): Query<Before>,
) -> AppResult<Response> {
    let p: NoticePage = s
        .notices()
        .page(&actor, &q.before)
        .await
        .map_err(AppError::page)?;
    let rows: Vec<Row> = p
        .notifications
        .iter()
        .map(|n| Row {
            unread: n.id > p.read_up_to,
            id: n.id.clone(),
            at: utc_minutes(n.created_at),
            what: sentence_case(n.kind.subject()),
            message: n.message.clone(),
            deposit: n.version_id.clone(),
        })
        .collect();
    let older = (rows.len() == 50)
        .then(|| rows.last().map(|r| r.id.clone()))
        .flatten();
    page(
        &b,
        &NotificationsPage {
            chrome: Chrome::of(&b),
            newest: rows.first().map(|r| r.id.clone()).unwrap_or_default(),
            rows,
            older,
            unread: p.unread,
            mail: p.mail.as_str(),
            mail_on: p.mail_on,
        },
    )
}

pub async fn mark_read(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    body: Bytes,
) -> AppResult<Response> {
    let form = checked_form(&b, &body)?;
    s.notices()
        .mark_read(&actor, &form.get("up_to"))
        .await
        .map_err(AppError::page)?;
    Ok(see_other("/notifications"))
}

pub async fn set_mail(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    body: Bytes,
) -> AppResult<Response> {
    let form = checked_form(&b, &body)?;
    let wanted: MailNotices = form.get("mail").parse().map_err(|e| {
        AppError::page(crate::services::ServiceError::invalid(
            "mail",
            format!("{e}"),
        ))
    })?;
    s.notices()
        .set_mail(&actor, wanted)
        .await
        .map_err(AppError::page)?;
    Ok(see_other("/notifications"))
}
