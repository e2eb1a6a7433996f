//! Release batches: datasets made public together at a set moment. A cadence keeps the
//! upcoming batches ready; curators add and remove datasets until the cut-off; running
//! a batch releases each item in its own transaction, so a crash leaves nothing half
//! released and running it again finishes the rest.

use super::jobs::Job;
use super::transitions::{Change, Reacted, Transition};
use super::{Actor, ServiceError, ServiceResult};
use crate::db::releases::{BatchRow, ItemRow};
use crate::db::{self, Tx, now_ms, versions::VersionRow};
use crate::model::cadence::Cadence;
use crate::model::{Action, BatchItemState, BatchState, DepositState, ids};

/// A batch with its items and each item's deposit.
#[derive(Debug, Clone)]
pub struct BatchView {
    pub batch: BatchRow,
    pub items: Vec<(ItemRow, VersionRow)>,
}

/// What the curators' release console shows.
#[derive(Debug, Clone)]
pub struct ReleaseConsole {
    pub coming: Vec<BatchView>,
    pub past: Vec<BatchView>,
    pub direct: Vec<db::published::DirectRelease>,
}

/// For the crash test only (built with the `test-hooks` feature):
/// `ARCA_CRASH_AFTER_RELEASE_ITEMS=N` aborts the process once a batch run has released N
/// items, as a power cut would.
#[cfg(feature = "test-hooks")]
fn crash_point(released: usize) {
    if let Ok(n) = std::env::var("ARCA_CRASH_AFTER_RELEASE_ITEMS")
        && n.parse() == Ok(released)
    {
        std::process::abort();
    }
}

#[cfg(not(feature = "test-hooks"))]
fn crash_point(_released: usize) {}

/// One finished release as the feed shows it.
#[derive(Debug, Clone)]
pub struct FeedEntry {
    pub batch: BatchRow,
    pub datasets: Vec<FeedDataset>,
}

#[derive(Debug, Clone)]
pub struct FeedDataset {
    pub dataset_id: String,
    pub title: String,
    pub doi: Option<String>,
}
super::capability!(releases);

impl Service<'_> {
    /// The latest finished releases with the datasets each made public that are still
    /// public (withdrawn datasets leave the feed with their landing pages).
    pub async fn feed(&self, limit: i64) -> ServiceResult<Vec<FeedEntry>> {
        let mut entries = Vec::new();
        for batch in self.batches(Some(BatchState::Done), 0, limit).await? {
            let view = self.batch_whole(&batch.id).await?;
            let mut datasets = Vec::new();
            for (item, v) in &view.items {
                if item.state != BatchItemState::Released || v.state != DepositState::Released {
                    continue;
                }
                datasets.push(FeedDataset {
                    dataset_id: v.dataset_id.to_string(),
                    title: super::records::title_of(v),
                    doi: v.doi.clone(),
                });
            }
            entries.push(FeedEntry { batch, datasets });
        }
        Ok(entries)
    }

    /// The batch a dataset is scheduled into: the one named, or the next still open.
    pub(super) async fn batch_for(
        &self,
        tx: &mut Tx,
        named: Option<&str>,
        now: i64,
    ) -> ServiceResult<BatchRow> {
        let batch = match named {
            Some(id) => db::releases::get(tx, id)
                .await?
                .ok_or(ServiceError::NotFound("release batch"))?,
            None => {
                self.ensure_batches_in(tx, now).await?;
                db::releases::next_open(tx, now).await?.ok_or_else(|| {
                    ServiceError::Conflict(
                        "no release batch is open: create one (POST /api/v1/releases)".into(),
                    )
                })?
            }
        };
        if batch.state != BatchState::Open || batch.cutoff_at <= now {
            return Err(ServiceError::Conflict(format!(
                "the release batch of {} no longer takes datasets (cut-off {})",
                crate::model::date::utc_seconds(batch.release_at),
                crate::model::date::utc_seconds(batch.cutoff_at)
            )));
        }
        Ok(batch)
    }

    async fn ensure_batches_in(&self, tx: &mut Tx, now: i64) -> ServiceResult<usize> {
        let cadence =
            Cadence::from_settings(&self.config.releases).map_err(ServiceError::Internal)?;
        let mut added = 0;
        for slot in cadence.next_slots(now, self.config.releases.horizon) {
            let row = BatchRow {
                id: ids::new_id(),
                release_at: slot.release_at,
                cutoff_at: slot.cutoff_at,
                state: BatchState::Open,
                created_by: None,
                created_at: now,
                finished_at: None,
            };
            if db::releases::insert_unless_exists(tx, &row).await? {
                added += 1;
            }
        }
        Ok(added)
    }

    /// Keep the cadence's upcoming batches in place. Returns how many were added.
    pub async fn ensure_upcoming_batches(&self, now: i64) -> ServiceResult<usize> {
        let mut tx = self.db.begin_write().await?;
        let added = self.ensure_batches_in(&mut tx, now).await?;
        tx.commit().await?;
        Ok(added)
    }

    /// A batch of a curator's own choosing (an extra release, or a special date).
    pub async fn create_batch(
        &self,
        actor: &Actor,
        release_at: i64,
        cutoff_at: Option<i64>,
    ) -> ServiceResult<BatchRow> {
        super::require_curator(actor, "manage release batches")?;
        let now = now_ms();
        let cutoff_at = cutoff_at.unwrap_or(release_at);
        if cutoff_at > release_at {
            return Err(ServiceError::invalid(
                "cutoff_at",
                "the cut-off must not be after the release",
            ));
        }
        let row = BatchRow {
            id: ids::new_id(),
            release_at,
            cutoff_at,
            state: BatchState::Open,
            created_by: Some(actor.id.clone()),
            created_at: now,
            finished_at: None,
        };
        let mut tx = self.db.begin_write().await?;
        if !db::releases::insert_unless_exists(&mut tx, &row).await? {
            return Err(ServiceError::Conflict(
                "a release batch is already set for that moment".into(),
            ));
        }
        tx.commit().await?;
        Ok(row)
    }

    pub async fn list_batches(
        &self,
        state: Option<&str>,
        before: i64,
        limit: i64,
    ) -> ServiceResult<Vec<BatchRow>> {
        let state = state
            .map(str::parse)
            .transpose()
            .map_err(|_| ServiceError::invalid("state", "open, running or done"))?;
        self.batches(state, before, limit).await
    }

    /// Batches in `state` (all when `None`), latest first, before `before` (ms; 0 for
    /// the latest).
    pub async fn batches(
        &self,
        state: Option<BatchState>,
        before: i64,
        limit: i64,
    ) -> ServiceResult<Vec<BatchRow>> {
        let mut conn = self.db.conn().await?;
        Ok(db::releases::page(&mut conn, state, before, limit.clamp(1, 200)).await?)
    }

    /// A batch as `actor` may see it: curators see every item; anyone else only the
    /// items of their own deposits (other authors' datasets and DOIs stay private until
    /// released).
    pub async fn batch(&self, actor: &Actor, id: &str) -> ServiceResult<BatchView> {
        let mut view = self.batch_whole(id).await?;
        if !actor.role.is_curator() {
            view.items.retain(|(_, v)| v.owner_id == actor.id);
        }
        Ok(view)
    }

    async fn batch_whole(&self, id: &str) -> ServiceResult<BatchView> {
        let mut conn = self.db.conn().await?;
        let batch = db::releases::get(&mut conn, id)
            .await?
            .ok_or(ServiceError::NotFound("release batch"))?;
        let mut items = Vec::new();
        for item in db::releases::items(&mut conn, id).await? {
            if let Some(v) = db::versions::get(&mut conn, &item.version_id).await? {
                items.push((item, v));
            }
        }
        Ok(BatchView { batch, items })
    }

    /// The curators' release console: the batches still to run (soonest first), the
    /// datasets released outside any batch and the batches that ran (newest first),
    /// at most `shown` of each.
    pub async fn console(&self, actor: &Actor, shown: i64) -> ServiceResult<ReleaseConsole> {
        super::require_curator(actor, "manage release batches")?;
        let (coming, past, direct) = {
            let mut conn = self.db.conn().await?;
            (
                db::releases::coming(&mut conn, shown).await?,
                db::releases::page(&mut conn, Some(BatchState::Done), 0, shown).await?,
                db::published::released_outside_batches(&mut conn, shown).await?,
            )
        };
        let mut console = ReleaseConsole {
            coming: Vec::with_capacity(coming.len()),
            past: Vec::with_capacity(past.len()),
            direct,
        };
        for batch in coming {
            console.coming.push(self.batch_whole(&batch.id).await?);
        }
        for batch in past {
            console.past.push(self.batch_whole(&batch.id).await?);
        }
        Ok(console)
    }

    /// "Run now": the batch starts at once instead of at its time.
    pub async fn run_batch_now(&self, actor: &Actor, id: &str) -> ServiceResult<BatchRow> {
        super::require_curator(actor, "manage release batches")?;
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let batch = db::releases::get(&mut tx, id)
            .await?
            .ok_or(ServiceError::NotFound("release batch"))?;
        if batch.state == BatchState::Done {
            return Err(ServiceError::Conflict("the batch has run already".into()));
        }
        self.start_batch_in(&mut tx, &batch, now).await?;
        tx.commit().await?;
        self.jobs_enqueued();
        Ok(batch)
    }

    /// Start a batch: an open batch becomes running and gets its job, once, however
    /// many processes find it due at the same moment; a running one (a curator's "run
    /// now" after a failure) gets another run.
    async fn start_batch_in(&self, tx: &mut Tx, b: &BatchRow, now: i64) -> ServiceResult<bool> {
        if b.state == BatchState::Open
            && !db::releases::set_state(tx, &b.id, BatchState::Open, BatchState::Running, now)
                .await?
        {
            return Ok(false);
        }
        let job = Job::ReleaseBatch {
            batch_id: b.id.clone(),
        };
        super::jobs::enqueue(tx, &job, now).await?;
        Ok(true)
    }

    /// Start every open batch whose time has come (housekeeping). Returns how many.
    pub async fn start_due_batches(&self, now: i64) -> ServiceResult<usize> {
        let mut tx = self.db.begin_write().await?;
        let due = db::releases::due(&mut tx, now).await?;
        let mut started = 0;
        for b in &due {
            started += usize::from(self.start_batch_in(&mut tx, b, now).await?);
        }
        tx.commit().await?;
        if started > 0 {
            self.jobs_enqueued();
        }
        Ok(started)
    }

    /// Release one item in its own transaction. Already released: nothing to do.
    async fn release_item(&self, batch_id: &str, version_id: &str) -> ServiceResult<bool> {
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let mut v = db::versions::get(&mut tx, version_id)
            .await?
            .ok_or(ServiceError::NotFound("deposit"))?;
        if v.state == DepositState::Released {
            db::releases::finish_item(&mut tx, batch_id, version_id, None, now).await?;
            tx.commit().await?;
            return Ok(false);
        }
        // Only what is scheduled for this batch now goes out: an item whose dataset was
        // held, unscheduled or moved since is no longer the batch's to release.
        let scheduled_here = v.state == DepositState::Scheduled
            && db::releases::pending_item_of(&mut tx, version_id)
                .await?
                .is_some_and(|i| i.batch_id == batch_id);
        if !scheduled_here {
            tracing::warn!(batch = batch_id, version = version_id, state = %v.state, "not scheduled for this batch: left out");
            db::releases::remove_item(&mut tx, batch_id, version_id).await?;
            tx.commit().await?;
            return Ok(false);
        }
        let change = Change {
            action: Action::Release,
            actor_id: None,
            reason: Some("release batch".into()),
            hold: None,
            release: None,
        };
        let enqueued = self
            .transitions()
            .apply(&mut tx, &mut v, change, now)
            .await?;
        tx.commit().await?;
        self.public_changed();
        Ok(enqueued)
    }

    /// The batch job: release every item not yet released. Each item succeeds or fails
    /// on its own; if any failed, the job fails so the queue retries it with backoff.
    pub async fn run_batch(&self, batch_id: &str) -> ServiceResult<()> {
        let mut conn = self.db.conn().await?;
        let items = db::releases::items(&mut conn, batch_id).await?;
        drop(conn);
        let mut failed = Vec::new();
        let mut enqueued = false;
        let mut released = 0usize;
        for item in items.iter().filter(|i| i.state != BatchItemState::Released) {
            match self.release_item(batch_id, &item.version_id).await {
                Ok(e) => {
                    enqueued |= e;
                    released += 1;
                    crash_point(released);
                }
                Err(e) => {
                    let msg = e.to_string();
                    tracing::warn!(batch = batch_id, version = %item.version_id, error = %msg, "release item failed");
                    let mut conn = self.db.conn().await?;
                    db::releases::finish_item(
                        &mut conn,
                        batch_id,
                        &item.version_id,
                        Some(&msg),
                        now_ms(),
                    )
                    .await?;
                    failed.push(format!("{}: {msg}", item.version_id));
                }
            }
        }
        if enqueued {
            self.jobs_enqueued();
        }
        if !failed.is_empty() {
            return Err(ServiceError::Incomplete(format!(
                "{} not released yet: {}",
                crate::model::words::count(failed.len() as u64, "item", "items"),
                failed.join("; ")
            )));
        }
        let mut conn = self.db.conn().await?;
        db::releases::set_state(
            &mut conn,
            batch_id,
            BatchState::Running,
            BatchState::Done,
            now_ms(),
        )
        .await?;
        Ok(())
    }

    /// Every way out of `scheduled` but the release itself takes the dataset out of its
    /// batch in this transaction, so a batch never runs an item that is no longer
    /// scheduled (a hold placed after scheduling keeps the data private). Scheduling puts
    /// it in a batch; releasing finishes its item.
    pub(super) async fn follows(
        &self,
        tx: &mut Tx,
        t: &mut Transition<'_, '_>,
    ) -> ServiceResult<Reacted> {
        let (action, now, id) = (t.change.action, t.now, t.version.id.as_str());
        if t.from == DepositState::Scheduled
            && action != Action::Release
            && let Some(item) = db::releases::pending_item_of(tx, id).await?
        {
            if action == Action::Unschedule {
                let batch = db::releases::get(tx, &item.batch_id).await?;
                if batch.is_some_and(|b| b.cutoff_at <= now || b.state != BatchState::Open) {
                    return Err(ServiceError::Conflict(
                        "the batch's cut-off has passed: the dataset goes out with it".into(),
                    ));
                }
            }
            db::releases::remove_item(tx, &item.batch_id, id).await?;
        }
        match action {
            Action::Schedule => {
                let batch = self.batch_for(tx, t.change.release, now).await?;
                db::releases::add_item(tx, &batch.id, id, now).await?;
                Ok(Reacted {
                    enqueued: false,
                    reason: Some(format!(
                        "release batch of {}",
                        crate::model::date::utc_seconds(batch.release_at)
                    )),
                })
            }
            Action::Release => {
                if let Some(item) = db::releases::pending_item_of(tx, id).await? {
                    db::releases::finish_item(tx, &item.batch_id, id, None, now).await?;
                }
                Ok(Reacted::default())
            }
            _ => Ok(Reacted::default()),
        }
    }
}
