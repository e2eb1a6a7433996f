//! Who is at the browser: the session cookie, and CSRF protection for every form.
//!
//! A signed-in browser holds `arca_session` (HttpOnly, SameSite=Lax, Secure behind
//! HTTPS); its forms carry the session's own CSRF token, and scripts send it as
//! `X-CSRF-Token`. Before sign-in, forms carry the value of an `arca_csrf` cookie
//! (double submit), so sign-in and sign-up cannot be forged either.

use super::error::AppError;
use crate::services::{Actor, Services};
use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};

pub const SESSION_COOKIE: &str = "arca_session";
pub const CSRF_COOKIE: &str = "arca_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "csrf";

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// Compare secrets without leaking where they differ through timing.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The browser's visitor: signed in or not, with the CSRF token its forms must carry.
#[derive(Clone)]
pub struct Browser {
    pub user: Option<Actor>,
    pub csrf: String,
    /// The signed-in person's unread notifications (up to the cap).
    pub unread: i64,
    /// A fresh anonymous CSRF cookie to send with the response.
    new_csrf_cookie: Option<String>,
    secure: bool,
}

impl Browser {
    /// Attach what this visitor's browser must keep (a new CSRF cookie) to a response.
    pub fn respond(&self, resp: impl IntoResponse) -> Response {
        let mut resp = resp.into_response();
        if let Some(v) = &self.new_csrf_cookie {
            let c = Cookie::build((CSRF_COOKIE, v.clone()))
                .path("/")
                .http_only(true)
                .secure(self.secure)
                .same_site(SameSite::Strict)
                .build();
            append_cookie(&mut resp, &c);
        }
        // Pages with a user's data or a form's token are nobody else's.
        resp.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
        resp
    }

    pub fn secure(&self) -> bool {
        self.secure
    }
}

fn append_cookie(resp: &mut Response, c: &Cookie<'_>) {
    if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// Start a browser session: the cookie that carries it.
pub fn session_cookie(resp: &mut Response, token: &str, hours: u64, secure: bool) {
    let c = Cookie::build((SESSION_COOKIE, token.to_owned()))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::hours(hours as i64))
        .build();
    append_cookie(resp, &c);
}

/// The browser's half of a sign-in with another provider: only this browser can
/// finish the login it started (ten minutes, sent back on the provider's redirect).
pub const LOGIN_COOKIE: &str = "arca_login";

pub fn login_cookie(resp: &mut Response, secret: &str, secure: bool) {
    let c = Cookie::build((LOGIN_COOKIE, secret.to_owned()))
        .path("/signin/oidc")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::minutes(10))
        .build();
    append_cookie(resp, &c);
}

/// End it in the browser too.
pub fn clear_session_cookie(resp: &mut Response) {
    let mut c = Cookie::build((SESSION_COOKIE, "")).path("/").build();
    c.make_removal();
    append_cookie(resp, &c);
}

impl FromRequestParts<Services> for Browser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, s: &Services) -> Result<Self, AppError> {
        let secure = s.config.public_base().starts_with("https://");
        if let Some(token) = cookie_value(&parts.headers, SESSION_COOKIE)
            && let Some((user, csrf)) =
                s.sessions().session(&token).await.map_err(AppError::page)?
        {
            let unread = s.notices().unread(&user).await.map_err(AppError::page)?;
            return Ok(Self {
                user: Some(user),
                csrf,
                unread,
                new_csrf_cookie: None,
                secure,
            });
        }
        let existing = cookie_value(&parts.headers, CSRF_COOKIE).filter(|v| v.len() >= 32);
        let (csrf, new_csrf_cookie) = match existing {
            Some(v) => (v, None),
            None => {
                let v = crate::services::users::random_token();
                (v.clone(), Some(v))
            }
        };
        Ok(Self {
            user: None,
            csrf,
            unread: 0,
            new_csrf_cookie,
            secure,
        })
    }
}

/// A signed-in visitor; anyone else is sent to the sign-in page and brought back.
pub struct SignedIn(pub Browser, pub Actor);

impl FromRequestParts<Services> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &Services) -> Result<Self, Response> {
        let b = Browser::from_request_parts(parts, s)
            .await
            .map_err(IntoResponse::into_response)?;
        match b.user.clone() {
            Some(u) => Ok(Self(b, u)),
            None => {
                let here = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let next: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
                Err(Redirect::to(&format!("/signin?next={next}")).into_response())
            }
        }
    }
}

/// A submitted form, as its fields in order, once its CSRF token has been checked.
pub struct Form(pub Vec<(String, String)>);

impl Form {
    /// Fields of an `application/x-www-form-urlencoded` body or a query string.
    pub fn parse(encoded: &[u8]) -> Self {
        Self(
            form_urlencoded::parse(encoded)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// Every value of a repeated field, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The first value of a field, trimmed; empty when absent.
    pub fn get(&self, name: &str) -> String {
        self.raw(name).trim().to_owned()
    }

    /// The first value as sent (passwords are not trimmed).
    pub fn raw(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

/// Check a form's CSRF token against the visitor's and parse the rest.
pub fn checked_form(b: &Browser, body: &[u8]) -> Result<Form, AppError> {
    let Form(fields) = Form::parse(body);
    if fields
        .iter()
        .any(|(k, v)| k.contains('\0') || v.contains('\0'))
    {
        return Err(AppError::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "the form contains a NUL character, which no field accepts",
        )
        .as_html());
    }
    let sent = fields
        .iter()
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    if !same_secret(sent, &b.csrf) {
        return Err(csrf_refused().as_html());
    }
    Ok(Form(fields))
}

pub fn csrf_refused() -> AppError {
    AppError::new(
        StatusCode::FORBIDDEN,
        "csrf",
        "this form is out of date or did not come from this archive's pages; \
         go back, reload the page and send it again",
    )
}

/// Where to go after signing in: only a path on this site, never another site. The
/// value is resolved as a browser would (WHATWG URL parsing drops tabs and line breaks,
/// reads `\\` as `/`), and kept only when it stays on this origin.
pub fn safe_next(next: &str) -> String {
    const HOME: &str = "/my";
    let base = url::Url::parse("https://arca.invalid/").expect("a valid base URL");
    let plain = next.starts_with('/') && !next.chars().any(|c| c.is_control() || c.is_whitespace());
    match base.join(next) {
        Ok(u) if plain && u.origin() == base.origin() && u.username().is_empty() => {
            let mut out = u.path().to_owned();
            if let Some(q) = u.query() {
                out.push('?');
                out.push_str(q);
            }
            // "/.//evil.example" normalises to "//evil.example": another host again.
            if out.starts_with("//") {
                return HOME.to_owned();
            }
            out
        }
        _ => HOME.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next("/deposits/x"), "/deposits/x");
        assert_eq!(safe_next("//evil.example/"), "/my");
        assert_eq!(safe_next("https://evil.example/"), "/my");
        assert_eq!(safe_next("/\\evil.example"), "/my");
        // Browsers drop tabs and line breaks: "/\t/evil.example" is "//evil.example".
        assert_eq!(safe_next("/\t/evil.example"), "/my");
        assert_eq!(safe_next("/\n/evil.example"), "/my");
        assert_eq!(safe_next("/%09/evil.example"), "/%09/evil.example");
        assert_eq!(safe_next("javascript:alert(1)"), "/my");
        assert_eq!(safe_next("/deposits/x?tab=files"), "/deposits/x?tab=files");
        assert_eq!(safe_next("/a/../curate"), "/curate");
        assert_eq!(safe_next("/.//evil.example"), "/my");
        assert_eq!(safe_next("/a/..//evil.example"), "/my");
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert!(!same_secret("", "a"));
    }
}
