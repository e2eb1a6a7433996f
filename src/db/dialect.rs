//! The few statements that must be written differently for SQLite and PostgreSQL.

use super::Backend;

/// Claim the next runnable job: queued and due, or running with a lapsed lease (its
/// worker died). Binds: $1 now, $2 new lease deadline.
pub fn claim_job(backend: Backend) -> &'static str {
    match backend {
        // SQLite has one writer at a time, so a plain UPDATE … RETURNING is atomic.
        Backend::Sqlite => {
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = $2, updated_at = $1
             WHERE id = (SELECT id FROM jobs
                         WHERE (state = 'queued' AND run_at <= $1)
                            OR (state = 'running' AND lease_until < $1 AND attempts < max_attempts)
                         ORDER BY run_at, id LIMIT 1)
             RETURNING id, kind, payload, attempts, max_attempts"
        }
        // Several workers share PostgreSQL: skip rows another worker is claiming.
        Backend::Postgres => {
            "WITH next AS (
                 SELECT id FROM jobs
                 WHERE (state = 'queued' AND run_at <= $1)
                    OR (state = 'running' AND lease_until < $1 AND attempts < max_attempts)
                 ORDER BY run_at, id LIMIT 1
                 FOR UPDATE SKIP LOCKED)
             UPDATE jobs SET state = 'running', attempts = jobs.attempts + 1, lease_until = $2, updated_at = $1
             FROM next WHERE jobs.id = next.id
             RETURNING jobs.id, jobs.kind, jobs.payload, jobs.attempts, jobs.max_attempts"
        }
    }
}
