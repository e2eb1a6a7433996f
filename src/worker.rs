//! Runs jobs from the durable queue: claim with a lease, heartbeat while running,
//! finish guarded by the attempt number, retry with exponential backoff.

use crate::db::{self, jobs::ClaimedJob, now_ms};
use crate::services::jobs::{Job, JobError};
use crate::services::{ServiceError, Services};
use std::time::Duration;

const LEASE_MS: i64 = 60_000;
const HEARTBEAT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_secs(1);
/// Each worker offers the periodic rounds this often; the queue takes each round once.
const OFFER_PERIODIC: Duration = Duration::from_secs(20);

/// Delay before attempt `attempt + 1`: `base * 2^(attempt-1)`, at most `max_ms`.
pub fn backoff_ms(base_ms: u64, max_ms: u64, attempt: i64) -> i64 {
    let factor = 1i64 << (attempt - 1).clamp(0, 20);
    (base_ms as i64).saturating_mul(factor).min(max_ms as i64)
}

async fn dispatch(services: &Services, claimed: &ClaimedJob) -> Result<(), JobError> {
    let job = Job::from_row(&claimed.kind, &claimed.payload).map_err(|e| {
        JobError::Fatal(format!(
            "a '{}' job this version cannot read: {e}",
            claimed.kind
        ))
    })?;
    services.dispatch().run(&claimed.id, &job).await
}

/// Claim and run one job. Returns false when none was ready.
pub async fn run_one(services: &Services) -> Result<bool, ServiceError> {
    let db = &services.db;
    let job = {
        let mut tx = db.begin_write().await?;
        let job = db::jobs::claim(&mut tx, db.backend, now_ms(), LEASE_MS).await?;
        tx.commit().await?;
        job
    };
    let Some(job) = job else { return Ok(false) };
    tracing::info!(job = %job.id, kind = %job.kind, attempt = job.attempt, "job started");
    let heartbeat = {
        let db = db.clone();
        let (id, attempt) = (job.id.clone(), job.attempt);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(HEARTBEAT).await;
                let Ok(mut conn) = db.conn().await else {
                    continue;
                };
                match db::jobs::heartbeat(&mut conn, &id, attempt, now_ms() + LEASE_MS).await {
                    Ok(true) => {}
                    _ => break,
                }
            }
        })
    };
    let outcome = dispatch(services, &job).await;
    heartbeat.abort();
    let mut conn = db.conn().await?;
    let now = now_ms();
    let recorded = match outcome {
        Ok(()) => db::jobs::succeed(&mut conn, &job.id, job.attempt, now).await?,
        Err(JobError::Retry(msg)) if job.attempt < job.max_attempts => {
            tracing::warn!(job = %job.id, error = %msg, "job failed; will retry");
            let jobs = &services.config.jobs;
            let at = now + backoff_ms(jobs.retry_base_ms, jobs.retry_max_ms, job.attempt);
            db::jobs::fail(&mut conn, &job.id, job.attempt, &msg, Some(at), now).await?
        }
        Err(JobError::Retry(msg) | JobError::Fatal(msg)) => {
            tracing::error!(job = %job.id, error = %msg, "job failed for good");
            let recorded = db::jobs::fail(&mut conn, &job.id, job.attempt, &msg, None, now).await?;
            drop(conn);
            if recorded && let Ok(parsed) = Job::from_row(&job.kind, &job.payload) {
                // The job's own failure stands; telling people is best effort.
                if let Err(e) = services.dispatch().gave_up(&parsed, &msg).await {
                    tracing::warn!(job = %job.id, error = %e, "cannot tell curators of the failure");
                }
            }
            recorded
        }
    };
    if !recorded {
        // Our lease lapsed and another worker took the job over: its result stands.
        tracing::warn!(job = %job.id, "job was taken over by another worker");
    }
    Ok(true)
}

/// Run jobs until the process stops; offer the periodic rounds as they fall due.
pub async fn run(services: Services) {
    let mut last_offer: Option<tokio::time::Instant> = None;
    loop {
        if last_offer.is_none_or(|t| t.elapsed() >= OFFER_PERIODIC) {
            if let Err(e) = services.periodic().offer(now_ms()).await {
                tracing::error!(error = %e, "could not offer the periodic rounds");
            }
            last_offer = Some(tokio::time::Instant::now());
        }
        match run_one(&services).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "worker could not claim a job"),
        }
        let notified = services.jobs_ready.notified();
        let _ = tokio::time::timeout(POLL, notified).await;
    }
}

/// Run every job that is ready now, and the ones they enqueue, until none is left.
/// For tests and one-shot admin use.
pub async fn run_until_idle(services: &Services) -> Result<usize, ServiceError> {
    let mut n = 0;
    while run_one(services).await? {
        n += 1;
    }
    Ok(n)
}
