//! Pages for people: sign-in, the deposit form and the author's console, the curators'
//! console, browse and search. Plain server-rendered HTML with small scripts; every
//! form carries a CSRF token, and every page calls the same services as the API.
//! These routes are for browsers, so they are not in the OpenAPI document.

pub mod account;
pub mod addresses;
pub mod browse;
pub mod curate;
pub mod deposit_form;
pub mod deposits;
pub mod found;
pub mod identities;
pub mod kit;
pub mod mirrors;
pub mod notices;
pub mod passwords;
pub mod progress;
pub mod releases;
pub mod reviewer_links;
pub mod usage;

use super::error::{AppError, AppResult};
use super::session::Browser;
use crate::services::Services;
use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

/// What every page's header needs to know about the visitor.
pub struct Chrome {
    /// The signed-in person's name.
    pub user: Option<String>,
    pub curator: bool,
    pub csrf: String,
    /// False on pages rendered without looking the visitor up (public landing pages).
    pub known: bool,
    /// Unread notifications, counted up to [`crate::services::notices::UNREAD_CAP`].
    pub unread: i64,
}

impl Chrome {
    pub fn of(b: &Browser) -> Self {
        Self {
            user: b.user.as_ref().map(|u| u.name.clone()),
            curator: b.user.as_ref().is_some_and(|u| u.role.is_curator()),
            csrf: b.csrf.clone(),
            known: true,
            unread: b.unread,
        }
    }

    /// For public pages served to everyone alike (and cached).
    pub fn public() -> Self {
        Self {
            user: None,
            curator: false,
            csrf: String::new(),
            known: false,
            unread: 0,
        }
    }
}

/// Render a page for this visitor with another status than 200.
pub fn page_with_status(b: &Browser, t: &impl Template, status: StatusCode) -> AppResult<Response> {
    let mut resp = page(b, t)?;
    *resp.status_mut() = status;
    Ok(resp)
}

/// A page whose address holds a secret (a mailed link): no other site learns it from a
/// `Referer`.
pub fn no_referrer(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

/// Signed in: on to `to`, with the new session's cookie.
pub fn signed_in(s: &Services, b: &Browser, session_token: &str, to: &str) -> Response {
    let mut resp = see_other(to);
    crate::web::session::session_cookie(
        &mut resp,
        session_token,
        s.config.web.session_hours,
        b.secure(),
    );
    resp
}

/// Render a page for this visitor.
pub fn page(b: &Browser, t: &impl Template) -> AppResult<Response> {
    let html = t
        .render()
        .map_err(|e| AppError::internal(format!("template: {e}")).as_html())?;
    Ok(b.respond(Html(html)))
}

/// A service's message in plain words for a page: a capital first, a full stop last.
pub fn plain(detail: &str) -> String {
    let d = detail.trim();
    let mut out = d.to_owned();
    if let Some(first) = out.get(..1) {
        out.replace_range(..1, &first.to_uppercase());
    }
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// A redirect after a form: the browser asks for the next page with GET (303).
pub fn see_other(to: &str) -> Response {
    axum::response::Redirect::to(to).into_response()
}

/// Scripts and the style sheet, built into the binary.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "arca.css",
        "text/css; charset=utf-8",
        include_str!("../../../static/arca.css"),
    ),
    (
        "arca.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../static/arca.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../../../static/favicon.svg"),
    ),
    (
        "upload.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../static/upload.js"),
    ),
];

async fn asset(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, ty, body)) => {
            let mut r = (*body).into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(ty));
            // An hour: a new release's scripts reach browsers the same day.
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            );
            r
        }
        None => AppError::new(
            axum::http::StatusCode::NOT_FOUND,
            "not-found",
            format!("no asset {name}"),
        )
        .into_response(),
    }
}

pub fn router() -> Router<Services> {
    Router::new()
        .route("/", get(browse::home))
        .route("/search", get(browse::search))
        .route("/static/{name}", get(asset))
        .route("/signin", get(account::signin_form).post(account::signin))
        .route("/signup", get(account::signup_form).post(account::signup))
        .route("/signout", post(account::signout))
        .route("/signin/oidc/{provider}", get(identities::start))
        .route(
            "/signin/oidc/{provider}/callback",
            get(identities::callback),
        )
        .route("/signin/oidc/{provider}/link", post(identities::link))
        .route(
            "/signin/link/{token}",
            get(identities::confirm_form).post(identities::confirm),
        )
        .route(
            "/reset",
            get(passwords::reset_form).post(passwords::request_reset),
        )
        .route(
            "/reset/{token}",
            get(passwords::new_password_form).post(passwords::set_password),
        )
        .route("/notifications", get(notices::page_of))
        .route("/notifications/read", post(notices::mark_read))
        .route("/notifications/mail", post(notices::set_mail))
        .route("/my", get(deposits::mine))
        .route("/my/token", post(deposits::token))
        .route("/my/confirm-address", post(addresses::ask_again))
        .route("/confirm-address/{token}", get(addresses::confirm))
        .route("/my/tokens/{id}/revoke", post(deposits::revoke_token))
        .route("/my/kit", get(kit::kit))
        .route("/my/kit.json", get(kit::kit_json))
        .route(
            "/deposits/new",
            get(deposits::new_form).post(deposits::create),
        )
        .route("/deposits/{id}", get(deposits::show))
        .route(
            "/deposits/{id}/edit",
            get(deposits::edit_form).post(deposits::save),
        )
        .route("/deposits/{id}/act", post(deposits::act))
        .route("/deposits/{id}/doi", post(deposits::reserve_doi))
        .route("/deposits/{id}/manifest", post(deposits::manifest))
        .route("/deposits/{id}/files/remove", post(deposits::remove_file))
        .route(
            "/deposits/{id}/reviewer-links",
            post(reviewer_links::create),
        )
        .route(
            "/deposits/{id}/reviewer-links/{link}/revoke",
            post(reviewer_links::revoke),
        )
        .route("/curate", get(curate::queue))
        .route("/curate/invite", post(curate::invite))
        .route("/curate/releases", get(releases::list))
        .route("/curate/usage", get(usage::overview))
        .route("/curate/mirrors", get(mirrors::console).post(mirrors::add))
        .route("/curate/transfers/{id}/retry", post(mirrors::retry))
        .route("/curate/releases/{id}/run", post(releases::run))
}
