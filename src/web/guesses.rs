//! The edge of the guessing limits (`services::guesses`): which requests are guesses,
//! and which address a request comes from.

use crate::services::Services;
use crate::web::error::AppError;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};

/// The client's address: the peer, or, when the peer is a proxy the operator trusts
/// (`[web] trusted_proxies`), the nearest address in `X-Forwarded-For` that is not one.
pub fn client_addr(req: &Request, trusted: &[IpAddr]) -> Option<IpAddr> {
    client_addr_of(req.extensions(), req.headers(), trusted)
}

/// [`client_addr`] from a request's parts.
pub fn client_addr_of(
    extensions: &axum::http::Extensions,
    headers: &axum::http::HeaderMap,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip();
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    let nearest = forwarded
        .iter()
        .rev()
        .filter_map(|a| a.parse::<IpAddr>().ok())
        .find(|a| !trusted.contains(a));
    Some(nearest.unwrap_or(peer))
}

/// Sign-in, sign-up, token and password-reset forms count every attempt; reviewer
/// links count misses.
pub async fn limit(State(s): State<Services>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let review = path.starts_with("/review/");
    let attempt = req.method() == Method::POST
        && (matches!(path, "/signin" | "/signup" | "/my/token" | "/reset")
            || path.starts_with("/reset/")
            || path.starts_with("/signin/link/"));
    if !(review || attempt) {
        return next.run(req).await;
    }
    let Some(addr) = client_addr(&req, &s.config.web.trusted_proxies) else {
        return next.run(req).await;
    };
    if attempt {
        if let Err(e) = s.guesses.attempt_from(addr) {
            return AppError::page(e).into_response();
        }
        return next.run(req).await;
    }
    if let Err(e) = s.guesses.check_not_blocked(addr) {
        return AppError::page(e).into_response();
    }
    let resp = next.run(req).await;
    if resp.status() == axum::http::StatusCode::NOT_FOUND {
        s.guesses.missed(addr);
    }
    resp
}
