//! `/healthz` (the process is up and its catalogue answers) and `/readyz` (it can do its
//! work: the catalogue and the object store both answer), for load balancers and
//! orchestrators.

use crate::services::Services;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

/// 200 once the server is ready: the catalogue answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Ready", body = String), (status = 503, description = "Catalogue unavailable", body = String)))]
pub async fn healthz(State(services): State<Services>) -> (StatusCode, &'static str) {
    match services.db.conn().await {
        Ok(_) => (StatusCode::OK, "ok\n"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "catalogue unavailable\n"),
    }
}

/// One dependency's answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Check {
    /// `ok`, or `failed`.
    pub status: &'static str,
    /// What failed, in general terms (the details, which may name hosts, go to the log).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Readiness {
    /// `ready`, or `not ready` when any check failed.
    pub status: &'static str,
    pub database: Check,
    pub object_store: Check,
}

fn check(ok: bool, what: &'static str) -> Check {
    Check {
        status: if ok { "ok" } else { "failed" },
        error: (!ok).then_some(what),
    }
}

/// 200 when the catalogue answers a query and the object store answers a request (each
/// within 5 s); 503 naming the one that did not.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, description = "Ready to serve and store", body = Readiness), (status = 503, description = "A dependency did not answer", body = Readiness)))]
pub async fn readyz(State(services): State<Services>) -> (StatusCode, Json<Readiness>) {
    let r = services.metrics().readiness().await;
    let ready = r.database && r.object_store;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Readiness {
            status: if ready { "ready" } else { "not ready" },
            database: check(r.database, "the catalogue did not answer a query"),
            object_store: check(r.object_store, "the object store did not answer"),
        }),
    )
}
