//! The HTTP edge: parse, authorise, call one service, render.

pub mod auth;
pub mod conneg;
pub mod error;
pub mod handlers;
pub mod json;
pub mod tus;

use crate::services::Services;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use handlers::{
    bags, datasets, deposits, doi, files, health, metrics, oai, sitemap, software, uploads,
};

/// Manifests of large datasets run to tens of megabytes.
const MANIFEST_LIMIT: usize = 256 << 20;

async fn not_found(uri: axum::http::Uri) -> error::AppError {
    error::AppError::new(
        axum::http::StatusCode::NOT_FOUND,
        "not-found",
        format!("nothing at {}", uri.path()),
    )
}

/// The whole application, used by `arca serve` and by the tests alike.
pub fn build_app(services: Services) -> Router {
    let api = Router::new()
        .route("/deposits", post(deposits::create).get(deposits::list))
        .route(
            "/deposits/import",
            post(bags::import).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/deposits/{id}",
            get(deposits::show).patch(deposits::update),
        )
        .route("/deposits/{id}/events", get(deposits::events))
        .route("/deposits/{id}/doi", post(deposits::reserve_doi))
        .route("/deposits/{id}/datacite.xml", get(deposits::datacite_xml))
        .route("/deposits/{id}/citation", get(deposits::citation))
        .route("/schemas/deposit.json", get(deposits::schema))
        .route("/software", get(software::list).post(software::add))
        .route("/manuscript-kit", get(software::kit))
        .route("/deposits/{id}/files", get(files::list))
        .route(
            "/deposits/{id}/files/{*path}",
            axum::routing::delete(files::remove),
        )
        .route(
            "/deposits/{id}/manifest",
            put(files::put_manifest).layer(DefaultBodyLimit::max(MANIFEST_LIMIT)),
        )
        .route("/deposits/{id}/uploads", get(uploads::list_for_deposit))
        .route("/deposits/{id}/{action}", post(deposits::act))
        .route("/uploads", post(uploads::create).options(uploads::options))
        .route(
            "/uploads/{id}",
            axum::routing::head(uploads::head)
                .patch(uploads::patch)
                .delete(uploads::terminate)
                .options(uploads::options),
        );
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(metrics::metrics))
        .route("/doi/{*doi}", get(doi::resolve))
        .route("/oai", get(oai::get).post(oai::post))
        .route("/datasets/{id}", get(datasets::landing))
        .route("/datasets/{id}/linkset", get(datasets::linkset))
        .route("/datasets/{id}/bag.tar", get(bags::export))
        .route("/datasets/{id}/files/{*path}", get(datasets::download))
        .route("/sitemap.xml", get(sitemap::index))
        .route("/sitemaps/{name}", get(sitemap::month))
        .route("/robots.txt", get(sitemap::robots))
        .nest("/api/v1", api)
        .fallback(not_found)
        .route_layer(axum::middleware::from_fn_with_state(
            services.clone(),
            metrics::count,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(services)
}
