//! Periodic work as jobs: every worker offers each task once per period under a key
//! naming the task and the period, and the queue's unique key lets the first offer in.
//! So N worker processes do each round once, a round a crashed worker started is taken
//! over by another (the job's lease), and a process restarted every week still audits:
//! a round is due from the start of its period, not a period after the process started.

use super::ServiceResult;
use super::jobs::{Job, Round, Task};
use crate::db::{self, now_ms};
use std::time::Duration;

/// Finished rounds are kept this long in the queue (for `arca jobs`), then removed.
const KEEP_FINISHED_MS: i64 = 7 * 86_400_000;
super::capability!(periodic);

impl Service<'_> {
    fn period_of(&self, task: Task) -> Duration {
        match task {
            Task::Housekeeping => Duration::from_secs(60),
            // Hourly is plenty with a grace period of days.
            Task::GarbageCollection => Duration::from_secs(3600),
            // Each hold is looked up every `[holds] check_every_hours`.
            Task::WatchHolds => Duration::from_secs(15 * 60),
            Task::Fixity => Duration::from_secs(self.config.fixity.every_hours.max(1) * 3600),
            Task::Digest => Duration::from_secs(86_400),
            Task::UsageReport => Duration::from_secs(6 * 3600),
        }
    }

    /// Offer every task's round for the current period. Returns how many were new.
    pub async fn offer(&self, now: i64) -> ServiceResult<usize> {
        let mut added = 0;
        let mut conn = self.db.conn().await?;
        for task in Task::ALL {
            let period = self.period_of(task).as_millis() as i64;
            let start = now - now.rem_euclid(period);
            let round = Round {
                task,
                period_start: start,
            };
            let key = format!("{}:{}", task.name(), start);
            // Due at once, whatever `now` the caller's clock said.
            if super::jobs::enqueue_unique(&mut conn, &Job::Periodic(round), now_ms(), &key).await?
            {
                added += 1;
            }
        }
        if added > 0 {
            self.jobs_enqueued();
        }
        Ok(added)
    }

    /// Run one periodic round (the job `job_id`).
    pub async fn run(&self, job_id: &str, round: &Round) -> ServiceResult<()> {
        match round.task {
            Task::Housekeeping => {
                self.housekeeping().run().await?;
                let mut conn = self.db.conn().await?;
                db::jobs::prune_finished_periodic(&mut conn, now_ms() - KEEP_FINISHED_MS).await?;
            }
            Task::GarbageCollection => {
                let grace = Duration::from_secs(self.config.jobs.gc_grace_hours * 3600);
                self.gc().collect(grace).await?;
            }
            Task::WatchHolds => {
                self.holds().watch(now_ms()).await?;
            }
            Task::UsageReport => {
                self.usage_report().send_due(now_ms()).await?;
            }
            Task::Digest => {
                let sent = self.notices().send_digests(now_ms()).await?;
                tracing::info!(sent, "digests queued");
            }
            Task::Fixity => {
                let mut run = super::fixity::FixityRun::default();
                let more = self.fixity().round(round.period_start, &mut run).await?;
                tracing::info!(
                    checked = run.checked,
                    problems = run.problems.len(),
                    more,
                    "fixity round done"
                );
                if more {
                    // The next round follows this one; its key is this job's, so a
                    // retried round does not start a second chain.
                    let mut conn = self.db.conn().await?;
                    let key = format!("fixity:{}:after:{job_id}", round.period_start);
                    let next = Job::Periodic(round.clone());
                    super::jobs::enqueue_unique(&mut conn, &next, now_ms(), &key).await?;
                    self.jobs_enqueued();
                }
            }
        }
        Ok(())
    }
}
