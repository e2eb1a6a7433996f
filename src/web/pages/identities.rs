//! Sign-in with the facility's identity provider or ORCID (OpenID Connect): the two
//! legs of a login, linking a provider to an account, and confirming a link with the
//! account's password.

use super::{Chrome, no_referrer, page, page_with_status, see_other, signed_in};
use crate::services::identities::Finished;
use crate::services::{ServiceError, Services};
use crate::web::error::{AppError, AppResult};
use crate::web::session::{
    Browser, LOGIN_COOKIE, SignedIn, checked_form, cookie_value, login_cookie, safe_next,
};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct StartQuery {
    #[serde(default)]
    next: String,
}

/// Off to the provider, with a secret for this browser in a cookie.
async fn go(
    s: &Services,
    b: &Browser,
    provider: &str,
    next: &str,
    link: Option<&crate::services::Actor>,
) -> AppResult<Response> {
    let secret = crate::services::users::random_token();
    let url = s
        .identities()
        .start(provider, &secret, next, link)
        .await
        .map_err(AppError::page)?;
    let mut resp = see_other(&url);
    login_cookie(&mut resp, &secret, b.secure());
    Ok(resp)
}

pub async fn start(
    State(s): State<Services>,
    b: Browser,
    Path(provider): Path<String>,
    Query(q): Query<StartQuery>,
) -> AppResult<Response> {
    go(&s, &b, &provider, &safe_next(&q.next), None).await
}

/// A signed-in person links the provider to their account.
pub async fn link(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    Path(provider): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    checked_form(&b, &body)?;
    go(&s, &b, &provider, "/my", Some(&actor)).await
}

#[derive(Deserialize, Default)]
pub struct Callback {
    #[serde(default)]
    code: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

#[derive(Template)]
#[template(path = "signin_failed.html")]
struct FailedPage {
    chrome: Chrome,
    message: String,
}

fn failed(b: &Browser, message: String, status: StatusCode) -> AppResult<Response> {
    let resp = page_with_status(
        b,
        &FailedPage {
            chrome: Chrome::of(b),
            message,
        },
        status,
    )?;
    Ok(resp)
}

pub async fn callback(
    State(s): State<Services>,
    b: Browser,
    headers: HeaderMap,
    Path(provider): Path<String>,
    Query(q): Query<Callback>,
) -> AppResult<Response> {
    if !q.error.is_empty() {
        let why = if q.error_description.is_empty() {
            q.error.clone()
        } else {
            format!("{} ({})", q.error_description, q.error)
        };
        return failed(
            &b,
            format!("the identity provider did not sign you in: {why}"),
            StatusCode::BAD_REQUEST,
        );
    }
    let browser = cookie_value(&headers, LOGIN_COOKIE).unwrap_or_default();
    match s
        .identities()
        .finish(&provider, &browser, &q.code, &q.state)
        .await
    {
        Ok(Finished::SignedIn { session, next }) => {
            Ok(signed_in(&s, &b, &session.token, &safe_next(&next)))
        }
        Ok(Finished::Linked { next }) => Ok(see_other(&safe_next(&next))),
        Ok(Finished::ProveAccount { token }) => Ok(see_other(&format!("/signin/link/{token}"))),
        Err(ServiceError::Invalid { message, .. }) => failed(&b, message, StatusCode::BAD_REQUEST),
        Err(ServiceError::Forbidden(message)) => failed(&b, message, StatusCode::FORBIDDEN),
        Err(ServiceError::Conflict(message)) => failed(&b, message, StatusCode::CONFLICT),
        Err(ServiceError::Upstream(message)) => failed(&b, message, StatusCode::BAD_GATEWAY),
        Err(e) => Err(AppError::page(e)),
    }
}

#[derive(Template)]
#[template(path = "signin_link.html")]
struct LinkPage {
    chrome: Chrome,
    token: String,
    email: String,
    provider: String,
    error: Option<String>,
}

pub async fn confirm_form(
    State(s): State<Services>,
    b: Browser,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let pending = s
        .identities()
        .pending(&token)
        .await
        .map_err(AppError::page)?;
    let resp = page(
        &b,
        &LinkPage {
            chrome: Chrome::of(&b),
            token,
            email: pending.email,
            provider: pending.provider,
            error: None,
        },
    )?;
    Ok(no_referrer(resp))
}

pub async fn confirm(
    State(s): State<Services>,
    b: Browser,
    Path(token): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let form = checked_form(&b, &body)?;
    match s
        .identities()
        .confirm_link(&token, &form.raw("password"))
        .await
    {
        Ok(session) => Ok(signed_in(&s, &b, &session.token, "/my")),
        Err(ServiceError::Invalid { message, .. }) => {
            let pending = s
                .identities()
                .pending(&token)
                .await
                .map_err(AppError::page)?;
            let resp = page_with_status(
                &b,
                &LinkPage {
                    chrome: Chrome::of(&b),
                    token,
                    email: pending.email,
                    provider: pending.provider,
                    error: Some(message),
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )?;
            Ok(resp)
        }
        Err(e) => Err(AppError::page(e)),
    }
}
