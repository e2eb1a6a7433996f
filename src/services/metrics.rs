//! What operators watch (OpenMetrics text at /metrics): requests and their durations,
//! upload bytes, verification outcomes, garbage collection, transfers, fixity, the job
//! queue and the database pool. The queue figures are read from the catalogue at each
//! scrape, so every process reports the same, whole queue; the rest are this process's.

use super::ServiceResult;
use crate::db;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(String, String)>;

pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<Labels, Counter>,
    http_request_duration: Family<Labels, Histogram, fn() -> Histogram>,
    pub upload_bytes: Counter,
    pub uploads_completed: Counter,
    pub verifications: Family<Labels, Counter>,
    pub verified_bytes: Counter,
    pub gc_objects_removed: Counter,
    pub transfers: Family<Labels, Counter>,
    pub transfer_bytes: Counter,
    pub fixity_checks: Family<Labels, Counter>,
    /// Uses counted ("regular", "machine"), left out ("robot", "depositor",
    /// "double_click") or dropped ("dropped": more pending than the bound).
    pub usage: Family<Labels, Counter>,
    jobs_pending: Gauge,
    jobs_failed: Gauge,
    jobs: Family<Labels, Gauge>,
    jobs_oldest_ready: Gauge<f64, std::sync::atomic::AtomicU64>,
    db_connections: Family<Labels, Gauge>,
}

/// 1 ms to about 33 s, doubling: a page, a search and a long upload PATCH all land in a
/// bucket of their own.
fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("arca");
        let m = Metrics {
            http_requests: Family::default(),
            http_request_duration: Family::new_with_constructor(duration_histogram),
            upload_bytes: Counter::default(),
            uploads_completed: Counter::default(),
            verifications: Family::default(),
            verified_bytes: Counter::default(),
            gc_objects_removed: Counter::default(),
            transfers: Family::default(),
            transfer_bytes: Counter::default(),
            fixity_checks: Family::default(),
            usage: Family::default(),
            jobs_pending: Gauge::default(),
            jobs_failed: Gauge::default(),
            jobs: Family::default(),
            jobs_oldest_ready: Gauge::default(),
            db_connections: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            m.http_requests.clone(),
        );
        registry.register_with_unit(
            "http_request_duration",
            "Time from a request's arrival to its response's headers, by route",
            prometheus_client::registry::Unit::Seconds,
            m.http_request_duration.clone(),
        );
        registry.register(
            "usage",
            "Views and downloads by outcome: counted (regular, machine) or left out (robot, depositor, double_click, dropped)",
            m.usage.clone(),
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
        registry.register(
            "jobs",
            "Jobs in the queue by kind and state (queued, running, failed), all processes",
            m.jobs.clone(),
        );
        registry.register_with_unit(
            "jobs_oldest_ready",
            "How long the oldest job that is due has waited to be claimed",
            prometheus_client::registry::Unit::Seconds,
            m.jobs_oldest_ready.clone(),
        );
        registry.register(
            "db_connections",
            "This process's catalogue connections by state (idle, in_use)",
            m.db_connections.clone(),
        );
        Metrics { registry, ..m }
    }
}

impl Metrics {
    /// One request answered: counted by route and status, timed by route.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut labels = vec![
            ("method".to_owned(), method.to_owned()),
            ("route".to_owned(), route.to_owned()),
        ];
        self.http_request_duration
            .get_or_create(&labels)
            .observe(seconds);
        labels.push(("status".to_owned(), status.to_string()));
        self.http_requests.get_or_create(&labels).inc();
    }

    /// One transfer run ended: `succeeded` or `failed`.
    pub fn count_transfer(&self, outcome: crate::model::TransferState) {
        self.transfers
            .get_or_create(&vec![("outcome".to_owned(), outcome.as_str().to_owned())])
            .inc();
    }

    pub fn count_fixity(&self, location: &str, outcome: crate::model::FixityOutcome) {
        let labels = vec![
            ("location".to_owned(), location.to_owned()),
            ("outcome".to_owned(), outcome.as_str().to_owned()),
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
super::capability!(metrics);

impl Service<'_> {
    /// The metrics in Prometheus text format, with the queue figures read now.
    pub async fn text(&self) -> ServiceResult<String> {
        let mut conn = self.db.conn().await?;
        let now = db::now_ms();
        let queue = db::jobs::queue_figures(&mut conn, now).await?;
        drop(conn);
        let m = &self.counters;
        m.jobs_pending.set(queue.pending);
        m.jobs_failed.set(queue.failed);
        // A kind whose jobs are all done leaves the family (absent, not a stale count).
        m.jobs.clear();
        for (kind, state, n) in &queue.by_kind {
            m.jobs
                .get_or_create(&vec![
                    ("kind".to_owned(), kind.clone()),
                    ("state".to_owned(), state.as_str().to_owned()),
                ])
                .set(*n);
        }
        m.jobs_oldest_ready.set(
            queue
                .oldest_ready_ms
                .map_or(0.0, |at| (now - at).max(0) as f64 / 1000.0),
        );
        let size = i64::from(self.db.pool.size());
        let idle = self.db.pool.num_idle() as i64;
        for (state, n) in [("idle", idle), ("in_use", size - idle)] {
            m.db_connections
                .get_or_create(&vec![("state".to_owned(), state.to_owned())])
                .set(n);
        }
        let mut out = String::new();
        encode(&mut out, &self.counters.registry)
            .map_err(|e| super::ServiceError::Internal(e.to_string()))?;
        Ok(out)
    }
}

/// What `/readyz` reports: whether each dependency answered in time. The errors (which
/// may name hosts or paths) are logged here, not handed on.
pub struct Readiness {
    pub database: bool,
    pub object_store: bool,
}

/// How long readiness waits for each dependency.
pub const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

impl Service<'_> {
    /// One query through the catalogue's pool and one request to the object store.
    pub async fn readiness(&self) -> Readiness {
        let database = match tokio::time::timeout(PROBE_TIMEOUT, self.db.ping()).await {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "not ready: the catalogue did not answer");
                false
            }
            Err(_) => {
                tracing::warn!("not ready: the catalogue did not answer within {PROBE_TIMEOUT:?}");
                false
            }
        };
        let object_store = match self.storage.probe(PROBE_TIMEOUT).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "not ready: the object store did not answer");
                false
            }
        };
        Readiness {
            database,
            object_store,
        }
    }
}
