//! Forgotten passwords: ask for a reset link by mail, then choose a new password.

use super::{Chrome, no_referrer, page, page_with_status, signed_in};
use crate::services::{ServiceError, Services};
use crate::web::error::{AppError, AppResult};
use crate::web::session::{Browser, checked_form};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetPage {
    chrome: Chrome,
    email: String,
    /// The request was taken: the same words whether or not the address has an account.
    sent: bool,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "reset_new.html")]
struct NewPasswordPage {
    chrome: Chrome,
    token: String,
    /// False: the link is used up or expired; the page offers a new one.
    live: bool,
    error: Option<String>,
}

pub async fn reset_form(b: Browser) -> AppResult<Response> {
    page(
        &b,
        &ResetPage {
            chrome: Chrome::of(&b),
            email: String::new(),
            sent: false,
            error: None,
        },
    )
}

pub async fn request_reset(
    State(s): State<Services>,
    b: Browser,
    body: Bytes,
) -> AppResult<Response> {
    let form = checked_form(&b, &body)?;
    let email = form.get("email");
    let (sent, error, status) = match s.passwords().request_reset(&email).await {
        Ok(()) => (true, None, StatusCode::OK),
        Err(ServiceError::Conflict(m)) => (false, Some(m), StatusCode::CONFLICT),
        Err(e) => return Err(AppError::page(e)),
    };
    let resp = page_with_status(
        &b,
        &ResetPage {
            chrome: Chrome::of(&b),
            email,
            sent,
            error,
        },
        status,
    )?;
    Ok(resp)
}

pub async fn new_password_form(
    State(s): State<Services>,
    b: Browser,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let live = s
        .passwords()
        .reset_is_live(&token)
        .await
        .map_err(AppError::page)?;
    let status = if live {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    let page = page_with_status(
        &b,
        &NewPasswordPage {
            chrome: Chrome::of(&b),
            token,
            live,
            error: None,
        },
        status,
    )?;
    Ok(no_referrer(page))
}

pub async fn set_password(
    State(s): State<Services>,
    b: Browser,
    Path(token): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let form = checked_form(&b, &body)?;
    match s.passwords().reset(&token, &form.raw("password")).await {
        Ok(session) => Ok(signed_in(&s, &b, &session.token, "/my")),
        Err(ServiceError::Invalid { field, message }) => {
            let live = field != "link";
            let mut resp = page(
                &b,
                &NewPasswordPage {
                    chrome: Chrome::of(&b),
                    token,
                    live,
                    error: Some(message),
                },
            )?;
            *resp.status_mut() = if live {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::GONE
            };
            Ok(resp)
        }
        Err(e) => Err(AppError::page(e)),
    }
}
