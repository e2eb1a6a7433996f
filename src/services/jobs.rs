//! Every kind of background job: its payload and its retry policy in one enum, enqueued
//! in the transaction of the change that asks for it and run by the worker through one
//! `match` the compiler checks. The catalogue keeps a job as its kind and its payload
//! (JSON), exactly as `serde` writes this enum adjacently tagged.

use super::ServiceError;
use crate::datacite::DataciteError;
use crate::db::{self, Conn, DbResult};
use crate::model::ids::{DatasetId, DepositId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
pub enum Job {
    /// Read back and hash every file of a submitted deposit and match its checksums.
    Verify { version_id: DepositId },
    /// Make a DOI at DataCite what the catalogue wants (state, URL, metadata).
    DoiSync { doi: String },
    /// Release every item of a batch, each in its own transaction.
    ReleaseBatch { batch_id: String },
    /// Copy a version's objects to a mirror site, verified.
    Transfer { transfer: String },
    /// Take a withdrawn version's objects off public mirrors.
    MirrorRemove { version_id: DepositId },
    /// Rebuild a dataset's landing-page read model.
    Landing { dataset_id: DatasetId },
    /// One round of periodic work (housekeeping, garbage collection, watchers, fixity).
    Periodic(Round),
    /// Send one message from the mail outbox.
    Mail { mail_id: String },
    /// Send a month's COUNTER Dataset Report (`YYYY-MM`) to DataCite.
    UsageReport { month: String },
    /// Read what a stored object's header says (detector, wavelength, cell, …).
    Extract { sha256: String },
}

impl Job {
    /// How many times a job of this kind is tried before it fails for good; retries
    /// back off exponentially (`[jobs] retry_base_ms` … `retry_max_ms`).
    pub fn max_attempts(&self) -> i64 {
        match self {
            // Storage hiccups; a deposit that does not verify is not retried (fatal).
            Job::Verify { .. } => 10,
            // DataCite may be down for hours: keep trying for about a day and a half at
            // the default backoff.
            Job::DoiSync { .. } => 40,
            Job::ReleaseBatch { .. } => 20,
            // A mirror site may be away as long as DataCite.
            Job::Transfer { .. } | Job::MirrorRemove { .. } => 40,
            // Rebuilt again by the next change anyway.
            Job::Landing { .. } => 5,
            // A worker killed while running a round uses up an attempt; the next period
            // offers a new round anyway.
            Job::Periodic(_) => 10,
            // A mail server may be down for a day: keep trying as long as for DataCite.
            Job::Mail { .. } => 40,
            Job::UsageReport { .. } => 40,
            // Storage hiccups; what a header says does not change between tries.
            Job::Extract { .. } => 5,
        }
    }

    /// The catalogue's `kind` and `payload` of this job.
    pub fn to_row(&self) -> (String, serde_json::Value) {
        let mut v = serde_json::to_value(self).expect("a job serializes");
        let kind = v["kind"].as_str().expect("jobs are tagged").to_owned();
        (kind, v["payload"].take())
    }

    /// A job from the catalogue's `kind` and `payload`.
    pub fn from_row(kind: &str, payload: &serde_json::Value) -> Result<Self, serde_json::Error> {
        serde_json::from_value(serde_json::json!({ "kind": kind, "payload": payload }))
    }
}

/// Queue `job` in the caller's transaction, due at `now`.
pub async fn enqueue(conn: &mut Conn, job: &Job, now: i64) -> DbResult<String> {
    let (kind, payload) = job.to_row();
    db::jobs::enqueue(conn, &kind, &payload, job.max_attempts(), now).await
}

/// Queue `job` unless one with `key` was ever queued (periodic rounds: every worker
/// offers, one gets it). True when this one was added.
pub async fn enqueue_unique(conn: &mut Conn, job: &Job, now: i64, key: &str) -> DbResult<bool> {
    let (kind, payload) = job.to_row();
    db::jobs::enqueue_unique(conn, &kind, &payload, job.max_attempts(), now, key).await
}

/// How a job ended.
#[derive(Debug)]
pub enum JobError {
    /// Worth another try later (storage or database hiccup).
    Retry(String),
    /// Will never succeed; retrying would only repeat the failure.
    Fatal(String),
}

impl From<ServiceError> for JobError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Db(_)
            | ServiceError::Storage(_)
            | ServiceError::Io(_)
            | ServiceError::Incomplete(_) => JobError::Retry(e.to_string()),
            other => JobError::Fatal(other.to_string()),
        }
    }
}

impl From<db::DbError> for JobError {
    fn from(e: db::DbError) -> Self {
        JobError::Retry(e.to_string())
    }
}

impl From<DataciteError> for JobError {
    fn from(e: DataciteError) -> Self {
        match e {
            DataciteError::Unavailable(_) | DataciteError::Protocol(_) => {
                JobError::Retry(e.to_string())
            }
            // A curator must fix the metadata or the credentials; a later change
            // enqueues the sync again.
            DataciteError::Rejected(_) | DataciteError::Unauthorized => {
                JobError::Fatal(e.to_string())
            }
        }
    }
}
/// The periodic tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Expired uploads and sessions, abandoned jobs and mirror uploads, due release
    /// batches.
    Housekeeping,
    /// Objects nothing has referred to for the grace period.
    GarbageCollection,
    /// Holds whose publication has appeared.
    WatchHolds,
    /// One round of the fixity audit of the period starting at `period_start`.
    Fixity,
    /// The daily mail of those who chose a digest of their notifications.
    Digest,
    /// Last month's usage report to DataCite, once the month is over.
    UsageReport,
}

impl Task {
    pub const ALL: [Task; 6] = [
        Task::Housekeeping,
        Task::GarbageCollection,
        Task::WatchHolds,
        Task::Fixity,
        Task::Digest,
        Task::UsageReport,
    ];

    pub(super) fn name(self) -> &'static str {
        match self {
            Task::Housekeeping => "housekeeping",
            Task::GarbageCollection => "garbage_collection",
            Task::WatchHolds => "watch_holds",
            Task::Fixity => "fixity",
            Task::Digest => "digest",
            Task::UsageReport => "usage_report",
        }
    }
}

/// What a periodic job carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Round {
    pub task: Task,
    /// Start of the period (ms since the epoch) this round belongs to.
    pub period_start: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalogue holds jobs queued by earlier versions: kinds and payloads keep
    /// their shape, so a job queued before an upgrade runs after it.
    #[test]
    fn rows_keep_the_kinds_and_payloads_the_catalogue_holds() {
        let cases = [
            (
                Job::Verify {
                    version_id: "v1".into(),
                },
                "verify",
                r#"{"version_id":"v1"}"#,
            ),
            (
                Job::DoiSync {
                    doi: "10.5072/x".into(),
                },
                "doi_sync",
                r#"{"doi":"10.5072/x"}"#,
            ),
            (
                Job::ReleaseBatch {
                    batch_id: "b".into(),
                },
                "release_batch",
                r#"{"batch_id":"b"}"#,
            ),
            (
                Job::Transfer {
                    transfer: "t".into(),
                },
                "transfer",
                r#"{"transfer":"t"}"#,
            ),
            (
                Job::MirrorRemove {
                    version_id: "v".into(),
                },
                "mirror_remove",
                r#"{"version_id":"v"}"#,
            ),
            (
                Job::Landing {
                    dataset_id: "d".into(),
                },
                "landing",
                r#"{"dataset_id":"d"}"#,
            ),
            (
                Job::Mail {
                    mail_id: "m".into(),
                },
                "mail",
                r#"{"mail_id":"m"}"#,
            ),
        ];
        for (job, kind, payload) in cases {
            let (k, p) = job.to_row();
            assert_eq!((k.as_str(), p.to_string().as_str()), (kind, payload));
            assert_eq!(
                Job::from_row(kind, &serde_json::from_str(payload).unwrap()).unwrap(),
                job
            );
        }
        let round = Job::Periodic(Round {
            task: Task::Fixity,
            period_start: 42,
        });
        let (k, p) = round.to_row();
        assert_eq!(k, "periodic");
        assert_eq!(p["period_start"], 42);
        assert_eq!(Job::from_row(&k, &p).unwrap(), round);
        assert!(Job::from_row("verify", &serde_json::json!({})).is_err());
        assert!(Job::from_row("make_coffee", &serde_json::json!({})).is_err());
    }
}
