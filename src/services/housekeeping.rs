//! Periodic upkeep that belongs to no one job (the `housekeeping` periodic task, every
//! minute): each step is safe to repeat and to run on several servers at once.

use super::ServiceResult;
use crate::db::{self, now_ms};

super::capability!(housekeeping);

impl Service<'_> {
    /// One round: expired uploads and sessions, abandoned jobs and mirror uploads,
    /// due release batches, stale staged manifest entries.
    pub async fn run(&self) -> ServiceResult<()> {
        let n = self.uploads().expire().await?;
        if n > 0 {
            tracing::info!(count = n, "expired unfinished uploads removed");
        }
        let mut conn = self.db.conn().await?;
        let n = db::jobs::fail_abandoned(&mut conn, now_ms()).await?;
        if n > 0 {
            tracing::warn!(count = n, "jobs abandoned by crashed workers marked failed");
        }
        drop(conn);
        let now = now_ms();
        self.releases().ensure_upcoming_batches(now).await?;
        let n = self.releases().start_due_batches(now).await?;
        if n > 0 {
            tracing::info!(count = n, "release batches started");
        }
        let abandon = self.config.mirrors.abandon_after_hours as i64 * 3_600_000;
        match self.mirrors().abort_stale_uploads(abandon).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(count = n, "abandoned mirror uploads aborted"),
            // A mirror that is down now is tried again at the next round.
            Err(e) => tracing::warn!(error = %e, "could not abort abandoned mirror uploads"),
        }
        self.guesses.forget_quiet();
        let mut conn = self.db.conn().await?;
        let n = db::files::drop_stale_staging(&mut conn, now - 86_400_000).await?;
        drop(conn);
        if n > 0 {
            tracing::info!(count = n, "manifest entries a crash left staged removed");
        }
        let n = self.sessions().end_expired().await?;
        if n > 0 {
            tracing::info!(count = n, "expired browser sessions removed");
        }
        Ok(())
    }
}
