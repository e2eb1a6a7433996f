//! Sign in, create an account (openly or from an invitation), sign out.

use super::{Chrome, page, page_with_status, see_other, signed_in};
use crate::services::{ServiceError, Services};
use crate::web::error::{AppError, AppResult};
use crate::web::session::{
    Browser, SESSION_COOKIE, checked_form, clear_session_cookie, cookie_value, safe_next,
    session_cookie,
};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    chrome: Chrome,
    email: String,
    next: String,
    error: Option<String>,
    /// "Sign in with …" buttons: link and provider name.
    providers: Vec<(String, String)>,
    /// Password sign-in is on (`[web] local_passwords`).
    passwords: bool,
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignUpPage {
    chrome: Chrome,
    email: String,
    name: String,
    invitation: String,
    /// The address is fixed by the invitation.
    invited: bool,
    open: bool,
    errors: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    invitation: String,
}

pub async fn signin_form(
    State(s): State<Services>,
    b: Browser,
    Query(q): Query<NextQuery>,
) -> AppResult<Response> {
    if b.user.is_some() {
        return Ok(see_other(&safe_next(&q.next)));
    }
    page(
        &b,
        &SignInPage {
            chrome: Chrome::of(&b),
            email: String::new(),
            next: safe_next(&q.next),
            error: None,
            providers: buttons(&s, &q.next),
            passwords: s.config.web.local_passwords,
        },
    )
}

pub async fn signin(State(s): State<Services>, b: Browser, body: Bytes) -> AppResult<Response> {
    let form = checked_form(&b, &body)?;
    let email = form.get("email");
    let next = safe_next(&form.get("next"));
    match s.sessions().sign_in(&email, &form.raw("password")).await {
        Ok(session) => Ok(signed_in(&s, &b, &session.token, &next)),
        // Shown on the form: the person can try again, or knows whom to ask.
        Err(ServiceError::Invalid { message, .. }) => sign_in_again(
            &s,
            &b,
            email,
            next,
            message,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(ServiceError::Forbidden(message)) => {
            sign_in_again(&s, &b, email, next, message, StatusCode::FORBIDDEN)
        }
        Err(e) => Err(AppError::page(e)),
    }
}

/// "Sign in with …": each provider's start, coming back to `next`.
fn buttons(s: &Services, next: &str) -> Vec<(String, String)> {
    let next: String = form_urlencoded::byte_serialize(safe_next(next).as_bytes()).collect();
    s.identities()
        .providers()
        .into_iter()
        .map(|p| {
            (
                format!("/signin/oidc/{}?next={next}", p.name),
                p.display_name,
            )
        })
        .collect()
}

fn sign_in_again(
    s: &Services,
    b: &Browser,
    email: String,
    next: String,
    message: String,
    status: StatusCode,
) -> AppResult<Response> {
    let resp = page_with_status(
        b,
        &SignInPage {
            chrome: Chrome::of(b),
            email,
            providers: buttons(s, &next),
            next,
            error: Some(message),
            passwords: s.config.web.local_passwords,
        },
        status,
    )?;
    Ok(resp)
}

pub async fn signup_form(
    State(s): State<Services>,
    b: Browser,
    Query(q): Query<NextQuery>,
) -> AppResult<Response> {
    let invited = if q.invitation.is_empty() {
        None
    } else {
        s.sessions()
            .invitation_email(&q.invitation)
            .await
            .map_err(AppError::page)?
    };
    let mut errors = std::collections::BTreeMap::new();
    if !q.invitation.is_empty() && invited.is_none() {
        errors.insert(
            String::new(),
            "This invitation has been used or has expired; ask the curators for a new one."
                .to_owned(),
        );
    }
    page(
        &b,
        &SignUpPage {
            chrome: Chrome::of(&b),
            email: invited.clone().unwrap_or_default(),
            name: String::new(),
            invited: invited.is_some(),
            invitation: if invited.is_some() {
                q.invitation
            } else {
                String::new()
            },
            open: s.config.web.open_signup,
            errors,
        },
    )
}

pub async fn signup(State(s): State<Services>, b: Browser, body: Bytes) -> AppResult<Response> {
    let form = checked_form(&b, &body)?;
    let raw = |k: &str| form.raw(k);
    let (email, name, invitation) = (form.get("email"), form.get("name"), form.get("invitation"));
    let mut errors = std::collections::BTreeMap::new();
    if raw("password") != raw("password_again") {
        errors.insert(
            "password_again".to_owned(),
            "The two passwords are not the same.".to_owned(),
        );
    } else {
        let invited = (!invitation.is_empty()).then_some(invitation.as_str());
        match s
            .sessions()
            .sign_up(&email, &name, &raw("password"), invited)
            .await
        {
            Ok(session) => {
                let mut resp = see_other("/my");
                session_cookie(
                    &mut resp,
                    &session.token,
                    s.config.web.session_hours,
                    b.secure(),
                );
                return Ok(resp);
            }
            Err(ServiceError::Invalid { field, message }) => {
                // The invitation is not a field one can fix: said above the form.
                let at = if field == "invitation" {
                    String::new()
                } else {
                    field
                };
                errors.insert(at, super::plain(&message));
            }
            Err(ServiceError::Conflict(_)) => {
                errors.insert(
                    "email".to_owned(),
                    "There is already an account with this address: sign in instead.".to_owned(),
                );
            }
            Err(e) => return Err(AppError::page(e)),
        }
    }
    let resp = page_with_status(
        &b,
        &SignUpPage {
            chrome: Chrome::of(&b),
            invited: !invitation.is_empty(),
            email,
            name,
            invitation,
            open: s.config.web.open_signup,
            errors,
        },
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    )?;
    Ok(resp)
}

pub async fn signout(
    State(s): State<Services>,
    b: Browser,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    checked_form(&b, &body)?;
    if let Some(token) = cookie_value(&headers, SESSION_COOKIE) {
        s.sessions()
            .sign_out(&token)
            .await
            .map_err(AppError::page)?;
    }
    let mut resp = see_other("/");
    clear_session_cookie(&mut resp);
    Ok(resp)
}
