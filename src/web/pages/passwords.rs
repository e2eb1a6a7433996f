//! Forgotten passwords: ask for a reset link by mail, then choose a new password.

use super::{Chrome, page, see_other};
use crate::services::{ServiceError, Services};
use crate::web::error::{AppError, AppResult};
use crate::web::session::{Browser, checked_form, session_cookie};
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
    let mut resp = page(
        &b,
        &ResetPage {
            chrome: Chrome::of(&b),
            email,
            sent,
            error,
        },
    )?;
    *resp.status_mut() = status;
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
    let mut resp = page(
        &b,
        &NewPasswordPage {
            chrome: Chrome::of(&b),
            token,
            live,
            error: None,
        },
    )?;
    if !live {
        *resp.status_mut() = StatusCode::GONE;
    }
    // The token is in the path: keep it out of other sites' logs.
    resp.headers_mut().insert(
        axum::http::header::REFERRER_POLICY,
        axum::http::HeaderValue::from_static("no-referrer"),
    );
    Ok(resp)
}

pub async fn set_password(
    State(s): State<Services>,
    b: Browser,
    Path(token): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let form = checked_form(&b, &body)?;
    match s.passwords().reset(&token, &form.raw("password")).await {
        Ok(session) => {
            let mut resp = see_other("/my");
            session_cookie(
                &mut resp,
                &session.token,
                s.config.web.session_hours,
                b.secure(),
            );
            Ok(resp)
        }
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
