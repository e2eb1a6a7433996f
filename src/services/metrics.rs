//! What operators watch (Prometheus text format at /metrics): requests, upload bytes,
//! verification outcomes, garbage collection, and the job queue's depth and failures.

use super::{ServiceResult, Services};
use crate::db;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

type Labels = Vec<(String, String)>;

pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<Labels, Counter>,
    pub upload_bytes: Counter,
    pub uploads_completed: Counter,
    pub verifications: Family<Labels, Counter>,
    pub verified_bytes: Counter,
    pub gc_objects_removed: Counter,
    pub transfers: Family<Labels, Counter>,
    pub transfer_bytes: Counter,
    pub fixity_checks: Family<Labels, Counter>,
    jobs_pending: Gauge,
    jobs_failed: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("arca");
        let m = Metrics {
            http_requests: Family::default(),
            upload_bytes: Counter::default(),
            uploads_completed: Counter::default(),
            verifications: Family::default(),
            verified_bytes: Counter::default(),
            gc_objects_removed: Counter::default(),
            transfers: Family::default(),
            transfer_bytes: Counter::default(),
            fixity_checks: Family::default(),
            jobs_pending: Gauge::default(),
            jobs_failed: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            m.http_requests.clone(),
        );
        registry.register(
            "upload_bytes",
            "Bytes received in uploads and made durable",
            m.upload_bytes.clone(),
        );
        registry.register(
            "uploads_completed",
            "Uploads that became files",
            m.uploads_completed.clone(),
        );
        registry.register(
            "verifications",
            "Deposit verifications by outcome",
            m.verifications.clone(),
        );
        registry.register(
            "verified_bytes",
            "Bytes read back and hashed by verification",
            m.verified_bytes.clone(),
        );
        registry.register(
            "gc_objects_removed",
            "Unreferenced objects removed",
            m.gc_objects_removed.clone(),
        );
        registry.register(
            "transfers",
            "Mirror transfer runs by outcome",
            m.transfers.clone(),
        );
        registry.register(
            "transfer_bytes",
            "Bytes of files replicated to mirrors (sent or found already there)",
            m.transfer_bytes.clone(),
        );
        registry.register(
            "fixity_checks",
            "Fixity checks of stored copies by location and outcome",
            m.fixity_checks.clone(),
        );
        registry.register(
            "jobs_pending",
            "Jobs queued or running",
            m.jobs_pending.clone(),
        );
        registry.register(
            "jobs_failed",
            "Jobs that failed for good",
            m.jobs_failed.clone(),
        );
        Metrics { registry, ..m }
    }
}

impl Metrics {
    pub fn count_request(&self, method: &str, route: &str, status: u16) {
        let labels = vec![
            ("method".to_owned(), method.to_owned()),
            ("route".to_owned(), route.to_owned()),
            ("status".to_owned(), status.to_string()),
        ];
        self.http_requests.get_or_create(&labels).inc();
    }

    /// One transfer run ended: `succeeded` or `failed`.
    pub fn count_transfer(&self, outcome: &str) {
        self.transfers
            .get_or_create(&vec![("outcome".to_owned(), outcome.to_owned())])
            .inc();
    }

    pub fn count_fixity(&self, location: &str, outcome: &str) {
        let labels = vec![
            ("location".to_owned(), location.to_owned()),
            ("outcome".to_owned(), outcome.to_owned()),
        ];
        self.fixity_checks.get_or_create(&labels).inc();
    }

    pub fn count_verification(&self, passed: bool, bytes: u64) {
        let outcome = if passed { "passed" } else { "failed" };
        self.verifications
            .get_or_create(&vec![("outcome".to_owned(), outcome.to_owned())])
            .inc();
        self.verified_bytes.inc_by(bytes);
    }
}

impl Services {
    /// The metrics in Prometheus text format, with the queue figures read now.
    pub async fn metrics_text(&self) -> ServiceResult<String> {
        let mut conn = self.db.conn().await?;
        let (pending, failed) = db::jobs::counts(&mut conn).await?;
        self.metrics.jobs_pending.set(pending);
        self.metrics.jobs_failed.set(failed);
        let mut out = String::new();
        encode(&mut out, &self.metrics.registry)
            .map_err(|e| super::ServiceError::Internal(e.to_string()))?;
        Ok(out)
    }
}
