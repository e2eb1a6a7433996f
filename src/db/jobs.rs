//! The durable job queue (invariant 5): enqueued in the transaction that asks for the
//! work, claimed with a lease, finished only by the attempt that claimed it.

use super::{Backend, Conn, DbResult, dialect};
use crate::model::JobState;
use crate::model::ids::new_id;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    pub id: String,
    pub kind: String,
    pub payload: serde_json::Value,
    pub attempt: i64,
    pub max_attempts: i64,
}

pub async fn enqueue(
    conn: &mut Conn,
    kind: &str,
    payload: &serde_json::Value,
    max_attempts: i64,
    now: i64,
) -> DbResult<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO jobs (id, kind, payload, state, attempts, max_attempts, run_at, created_at, updated_at)
         VALUES ($1, $2, $3, 'queued', 0, $4, $5, $5, $5)",
    )
    .bind(&id)
    .bind(kind)
    .bind(payload.to_string())
    .bind(max_attempts)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Enqueue a job unless one with the same key was ever enqueued: how every worker can
/// offer a periodic round and only one of them gets it. True when this one was added.
pub async fn enqueue_unique(
    conn: &mut Conn,
    kind: &str,
    payload: &serde_json::Value,
    max_attempts: i64,
    now: i64,
    unique_key: &str,
) -> DbResult<bool> {
    let done = sqlx::query(
        "INSERT INTO jobs (id, kind, payload, state, attempts, max_attempts, run_at, created_at, updated_at, unique_key)
         VALUES ($1, $2, $3, 'queued', 0, $4, $5, $5, $5, $6)
         ON CONFLICT (unique_key) DO NOTHING",
    )
    .bind(new_id())
    .bind(kind)
    .bind(payload.to_string())
    .bind(max_attempts)
    .bind(now)
    .bind(unique_key)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Remove periodic rounds that finished before `before`.
pub async fn prune_finished_periodic(conn: &mut Conn, before: i64) -> DbResult<u64> {
    let done = sqlx::query(
        "DELETE FROM jobs WHERE unique_key IS NOT NULL AND state = 'succeeded' AND updated_at < $1",
    )
    .bind(before)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

pub async fn claim(
    conn: &mut Conn,
    backend: Backend,
    now: i64,
    lease_ms: i64,
) -> DbResult<Option<ClaimedJob>> {
    let row = sqlx::query(dialect::claim_job(backend))
        .bind(now)
        .bind(now + lease_ms)
        .fetch_optional(conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let payload: String = row.try_get("payload")?;
    Ok(Some(ClaimedJob {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        payload: serde_json::from_str(&payload)
            .map_err(|e| super::DbError::Corrupt(format!("job payload: {e}")))?,
        attempt: row.try_get("attempts")?,
        max_attempts: row.try_get("max_attempts")?,
    }))
}

/// Extend the lease of a job still held by this attempt. False: the job was taken over.
pub async fn heartbeat(
    conn: &mut Conn,
    id: &str,
    attempt: i64,
    lease_until: i64,
) -> DbResult<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET lease_until = $1 WHERE id = $2 AND attempts = $3 AND state = 'running'",
    )
    .bind(lease_until)
    .bind(id)
    .bind(attempt)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn succeed(conn: &mut Conn, id: &str, attempt: i64, now: i64) -> DbResult<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'succeeded', lease_until = NULL, last_error = NULL, updated_at = $1
         WHERE id = $2 AND attempts = $3 AND state = 'running'",
    )
    .bind(now)
    .bind(id)
    .bind(attempt)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Record a failure: back in the queue at `retry_at`, or failed for good when `retry_at`
/// is None.
pub async fn fail(
    conn: &mut Conn,
    id: &str,
    attempt: i64,
    error: &str,
    retry_at: Option<i64>,
    now: i64,
) -> DbResult<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET state = $1, run_at = COALESCE($2, run_at), lease_until = NULL, last_error = $3, updated_at = $4
         WHERE id = $5 AND attempts = $6 AND state = 'running'",
    )
    .bind(if retry_at.is_some() { JobState::Queued } else { JobState::Failed }.as_str())
    .bind(retry_at)
    .bind(error)
    .bind(now)
    .bind(id)
    .bind(attempt)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Jobs whose worker died on their last allowed attempt: nobody will claim them again.
pub async fn fail_abandoned(conn: &mut Conn, now: i64) -> DbResult<u64> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'failed', lease_until = NULL, updated_at = $1,
             last_error = COALESCE(last_error, 'the worker stopped while running this job')
         WHERE state = 'running' AND lease_until < $1 AND attempts >= max_attempts",
    )
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JobRow {
    pub id: String,
    pub kind: String,
    #[sqlx(try_from = "String")]
    pub state: JobState,
    pub attempts: i64,
    pub last_error: Option<String>,
}

fn job_from_row(r: &sqlx::any::AnyRow) -> DbResult<JobRow> {
    Ok(<JobRow as sqlx::FromRow<sqlx::any::AnyRow>>::from_row(r)?)
}

pub async fn get(conn: &mut Conn, id: &str) -> DbResult<Option<JobRow>> {
    let row = sqlx::query("SELECT id, kind, state, attempts, last_error FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(job_from_row).transpose()
}

/// Jobs not yet finished (queued or running) and jobs that failed for good.
pub async fn counts(conn: &mut Conn) -> DbResult<(i64, i64)> {
    let q = queue_figures(conn, super::now_ms()).await?;
    Ok((q.pending, q.failed))
}

/// What `/metrics` shows of the queue, for every process at once.
pub struct QueueFigures {
    pub pending: i64,
    pub failed: i64,
    /// (kind, state, count) for queued, running and failed jobs.
    pub by_kind: Vec<(String, JobState, i64)>,
    /// When the longest-waiting job that is due became due.
    pub oldest_ready_ms: Option<i64>,
}

/// Read through the `(state, run_at)` index: the cost follows the jobs not yet done, not
/// the history of finished ones.
pub async fn queue_figures(conn: &mut Conn, now: i64) -> DbResult<QueueFigures> {
    let rows = sqlx::query(
        "SELECT kind, state, COUNT(*) AS n FROM jobs
         WHERE state IN ('queued', 'running', 'failed') GROUP BY kind, state ORDER BY kind, state",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut q = QueueFigures {
        pending: 0,
        failed: 0,
        by_kind: Vec::with_capacity(rows.len()),
        oldest_ready_ms: None,
    };
    for r in &rows {
        let (kind, state, n): (String, JobState, i64) = (
            r.try_get("kind")?,
            super::get_parsed(r, "state")?,
            r.try_get("n")?,
        );
        if state == JobState::Failed {
            q.failed += n;
        } else {
            q.pending += n;
        }
        q.by_kind.push((kind, state, n));
    }
    q.oldest_ready_ms =
        sqlx::query("SELECT MIN(run_at) AS at FROM jobs WHERE state = 'queued' AND run_at <= $1")
            .bind(now)
            .fetch_one(conn)
            .await?
            .try_get("at")?;
    Ok(q)
}

pub async fn failed(conn: &mut Conn) -> DbResult<Vec<JobRow>> {
    let rows = sqlx::query(
        "SELECT id, kind, state, attempts, last_error FROM jobs WHERE state = 'failed' ORDER BY id",
    )
    .fetch_all(conn)
    .await?;
    rows.iter().map(job_from_row).collect()
}
