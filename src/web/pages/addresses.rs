//! Confirming one's address: the mailed link, and asking for it again.

use super::{Chrome, no_referrer, page_with_status, see_other};
use crate::services::{ServiceError, Services};
use crate::web::error::{AppError, AppResult};
use crate::web::session::{Browser, SignedIn, checked_form};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

#[derive(Template)]
#[template(path = "address_confirmed.html")]
struct ConfirmedPage {
    chrome: Chrome,
    /// The address confirmed, or why not.
    outcome: Result<String, String>,
}

pub async fn confirm(
    State(s): State<Services>,
    b: Browser,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let (outcome, status) = match s.addresses().confirm(&token).await {
        Ok(email) => (Ok(email), StatusCode::OK),
        Err(ServiceError::Invalid { message, .. }) => (Err(message), StatusCode::GONE),
        Err(e) => return Err(AppError::page(e)),
    };
    let resp = page_with_status(
        &b,
        &ConfirmedPage {
            chrome: Chrome::of(&b),
            outcome,
        },
        status,
    )?;
    Ok(no_referrer(resp))
}

pub async fn ask_again(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    body: Bytes,
) -> AppResult<Response> {
    checked_form(&b, &body)?;
    s.addresses()
        .ask_again(&actor)
        .await
        .map_err(AppError::page)?;
    Ok(see_other("/my"))
}
