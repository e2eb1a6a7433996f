//! Garbage collection of stored objects (invariant 3): only objects no file refers to,
//! and only after they have been unreferenced for the whole grace period.

use super::ServiceResult;
use crate::db::{self, now_ms};
use std::time::Duration;

const BATCH: i64 = 1000;
super::capability!(gc);

impl Service<'_> {
    /// One collection pass. Returns how many objects were removed.
    pub async fn collect(&self, grace: Duration) -> ServiceResult<usize> {
        let now = now_ms();
        let mut conn = self.db.conn().await?;
        db::files::mark_unreferenced(&mut conn, now, BATCH).await?;
        let cutoff = now - grace.as_millis() as i64;
        let doomed = db::files::doom(&mut conn, cutoff, BATCH).await?;
        drop(conn);
        for sha256 in &doomed {
            // Bytes first, then the row: a crash in between leaves a row still marked
            // as being deleted, which the next pass finishes.
            self.storage.delete_object(sha256).await?;
            let mut conn = self.db.conn().await?;
            db::files::forget_object(&mut conn, sha256).await?;
            self.counters.gc_objects_removed.inc();
        }
        if !doomed.is_empty() {
            tracing::info!(count = doomed.len(), "unreferenced objects removed");
        }
        Ok(doomed.len())
    }
}
