//! The HTTP edge: parse, authorise, call one service, render.

pub mod auth;
pub mod conneg;
pub mod error;
pub mod format;
pub mod guesses;
pub mod handlers;
pub mod json;
pub mod observe;
pub mod openapi;
pub mod page_cache;
pub mod paged;
pub mod pages;
pub mod range;
pub mod server;
pub mod session;
pub mod tus;
pub mod visits;

use crate::services::Services;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use handlers::{
    bags, citation_styles, datasets, deposits, doi, extracted, files, health, holds, lookups,
    manifests, metrics, mirrors, oai, previews, releases, review, reviewers, sitemap, software,
    uploads, usage,
};
use utoipa::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

/// Manifests of large datasets run to tens of megabytes.
const MANIFEST_LIMIT: usize = 256 << 20;

/// NUL cannot be stored or looked up in a text column: refuse it in any path or query.
async fn refuse_nul(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let has_nul = |s: &str| s.contains('\0') || s.to_ascii_lowercase().contains("%00");
    if has_nul(req.uri().path()) || req.uri().query().is_some_and(has_nul) {
        return error::AppError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "bad-request",
            "the URL contains a NUL character (%00), which no parameter accepts",
        )
        .into_response();
    }
    next.run(req).await
}

/// Sent with every response. Pages load scripts, styles and images from this archive
/// only, and no inline script can run: a value that slipped past validation into a page
/// still cannot execute.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
    frame-ancestors 'none'; form-action 'self'";

async fn security_headers(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
    ] {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    }
    resp
}

async fn not_found(uri: axum::http::Uri) -> error::AppError {
    error::AppError::new(
        axum::http::StatusCode::NOT_FOUND,
        "not-found",
        format!("nothing at {}", uri.path()),
    )
}

/// A route's handler with a request body limit of its own.
fn with_body_limit(
    (schemas, paths, router): UtoipaMethodRouter<Services>,
    limit: DefaultBodyLimit,
) -> UtoipaMethodRouter<Services> {
    (schemas, paths, router.layer(limit))
}

/// The whole application, used by `arca serve` and by the tests alike. Every API and
/// machine-facing route is registered with `routes!`, which also adds it to the
/// OpenAPI document; the pages for people (forms) come from [`pages::router`].
/// What the web edge lends the services: rendering landing pages for the job that
/// rebuilds them (`arca worker` installs it too).
pub fn install_renderers(services: &Services) {
    services
        .landing()
        .set_renderer(std::sync::Arc::new(handlers::datasets::LandingPages::new(
            services.config.public_base(),
        )));
}

pub fn build_app(services: Services) -> Router {
    install_renderers(&services);
    let api = OpenApiRouter::new()
        .routes(routes!(deposits::create, deposits::list))
        .routes(with_body_limit(
            routes!(bags::import),
            DefaultBodyLimit::disable(),
        ))
        .routes(routes!(deposits::show, deposits::update))
        .routes(routes!(deposits::events))
        .routes(routes!(deposits::new_version))
        .routes(routes!(deposits::reserve_doi))
        .routes(routes!(deposits::datacite_xml))
        .routes(routes!(deposits::citation))
        .routes(routes!(deposits::schema))
        .routes(routes!(software::list, software::add))
        .routes(routes!(software::kit))
        .routes(routes!(lookups::find))
        .routes(routes!(datasets::search))
        .routes(routes!(usage::of_dataset))
        .routes(routes!(usage::dsr))
        .routes(routes!(files::list))
        .routes(routes!(extracted::show))
        .routes(routes!(previews::of_deposit))
        .routes(routes!(files::remove, files::download))
        .routes(routes!(holds::claim))
        .routes(routes!(holds::confirm))
        .routes(routes!(holds::notifications))
        .routes(routes!(reviewers::create, reviewers::list))
        .routes(routes!(reviewers::revoke))
        .routes(routes!(releases::create, releases::list))
        .routes(routes!(releases::show))
        .routes(routes!(releases::add_item))
        .routes(routes!(releases::remove_item))
        .routes(routes!(releases::run))
        .routes(routes!(mirrors::list_mirrors))
        .routes(routes!(mirrors::list))
        .routes(routes!(mirrors::show))
        .routes(routes!(mirrors::retry))
        .routes(routes!(mirrors::report))
        .routes(with_body_limit(
            routes!(files::put_manifest),
            DefaultBodyLimit::max(MANIFEST_LIMIT),
        ))
        .routes(routes!(uploads::list_for_deposit))
        .routes(routes!(deposits::act))
        .routes(routes!(uploads::create, uploads::options))
        .routes(routes!(
            uploads::head,
            uploads::patch,
            uploads::terminate,
            uploads::options_one
        ));
    let (router, doc) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(metrics::metrics))
        .routes(routes!(doi::resolve))
        .routes(routes!(oai::get, oai::post))
        .routes(routes!(datasets::landing))
        .routes(routes!(datasets::linkset))
        .routes(routes!(manifests::json))
        .routes(routes!(manifests::sha256sums))
        .routes(routes!(manifests::review_json))
        .routes(routes!(manifests::review_sha256sums))
        .routes(routes!(bags::export))
        .routes(routes!(datasets::download))
        .routes(routes!(datasets::download_version))
        .routes(routes!(previews::of_dataset))
        .routes(routes!(sitemap::index))
        .routes(routes!(sitemap::month))
        .routes(routes!(sitemap::robots))
        .routes(routes!(citation_styles::file))
        .routes(routes!(openapi::document))
        .routes(routes!(releases::feed))
        .routes(routes!(review::page))
        .routes(routes!(review::file))
        .routes(routes!(previews::of_review))
        .nest("/api/v1", api)
        .split_for_parts();
    router
        .merge(pages::router())
        .layer(axum::Extension(std::sync::Arc::new(openapi::finish(doc))))
        .layer(axum::Extension(std::sync::Arc::new(
            page_cache::PageCache::new(std::time::Duration::from_secs(
                services.config.web.page_cache_seconds,
            )),
        )))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            services.clone(),
            guesses::limit,
        ))
        .layer(axum::middleware::from_fn(refuse_nul))
        .layer(axum::middleware::from_fn(security_headers))
        .layer(axum::middleware::from_fn_with_state(
            services.clone(),
            observe::observe,
        ))
        .with_state(services)
}
