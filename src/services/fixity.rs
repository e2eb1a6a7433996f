//! The fixity audit: re-hash every stored object on the primary store (at a pace that
//! leaves the disk to uploads) and every copy on every mirror; record each check; raise
//! and repair what is damaged or missing from a copy that still verifies, and verify the
//! repair.

use super::ServiceResult;
use crate::db::fixity::{FixityCount, FixityProblem};
use crate::db::{self, events::Event, now_ms};
use crate::model::{FixityOutcome, ids};
use crate::storage::mirror::Mirror;
use std::time::{Duration, Instant};

/// Copies one round of the audit checks at most, and how long it runs at most, before
/// it hands over to the next round (a job of its own, so other jobs get their turn).
const ROUND_COPIES: usize = 1000;
const ROUND_TIME: Duration = Duration::from_secs(300);
/// Copies fetched from the catalogue at a time.
const PAGE: i64 = 100;

/// What one audit found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FixityRun {
    pub checked: usize,
    pub bytes: u64,
    /// (location, sha256, what was wrong, what was done)
    pub problems: Vec<(String, String, String, String)>,
}

/// Reads at most `bytes_per_sec` on average, sleeping between objects.
struct Pace {
    start: Instant,
    bytes: u64,
    limit: u64,
}

impl Pace {
    async fn after(&mut self, bytes: u64) {
        self.bytes += bytes;
        if self.limit == 0 {
            return;
        }
        let due = Duration::from_secs_f64(self.bytes as f64 / self.limit as f64);
        if let Some(wait) = due.checked_sub(self.start.elapsed()) {
            tokio::time::sleep(wait).await;
        }
    }
}
super::capability!(fixity);

impl Service<'_> {
    async fn raise(
        &self,
        location: &str,
        sha256: &str,
        problem: &str,
        done: &str,
    ) -> ServiceResult<()> {
        let now = now_ms();
        let message = format!("fixity: the copy of {sha256} on {location} is {problem}; {done}");
        let mut tx = self.db.begin_write().await?;
        db::events::insert(
            &mut tx,
            &Event {
                subject_type: "object".into(),
                subject_id: sha256.to_owned(),
                actor_id: None,
                kind: "fixity_problem".into(),
                from_state: None,
                to_state: None,
                reason: Some(message.clone()),
                created_at: now,
            },
        )
        .await?;
        let notice = super::notices::Notice {
            to: super::notices::To::Curators,
            kind: crate::model::NoticeKind::FixityProblem,
            deposit: None,
            message: message.clone(),
        };
        let enqueued = self.notices().notify(&mut tx, notice, now).await?;
        tx.commit().await?;
        if enqueued {
            self.jobs_enqueued();
        }
        tracing::warn!(location, sha256, problem, done, "fixity problem");
        Ok(())
    }

    async fn record_check(
        &self,
        location: &str,
        sha256: &str,
        outcome: FixityOutcome,
        detail: Option<&str>,
    ) -> ServiceResult<()> {
        let mut conn = self.db.conn().await?;
        db::fixity::record_check(&mut conn, location, sha256, outcome, detail, now_ms()).await?;
        self.counters.count_fixity(location, outcome);
        Ok(())
    }

    /// Audit the primary store and every mirror once: every copy not checked since now.
    pub async fn run(&self) -> ServiceResult<FixityRun> {
        let since = now_ms();
        let mut run = FixityRun::default();
        while self.round(since, &mut run).await? {}
        Ok(run)
    }

    /// One round of the audit: check, least recently checked first, up to a round's
    /// worth of copies not checked since `since`. Each check is recorded as it is made,
    /// so an audit cut short by a restart goes on where it stopped. Returns whether
    /// copies remain to be checked.
    pub async fn round(&self, since: i64, run: &mut FixityRun) -> ServiceResult<bool> {
        let started = Instant::now();
        let checked_before = run.checked;
        // A check is marked at no earlier than `since`, so it is never due again in this
        // audit even when another server's clock is ahead of this one's.
        let checked_at = || now_ms().max(since);
        let round_over = |run: &FixityRun| {
            run.checked - checked_before >= ROUND_COPIES || started.elapsed() >= ROUND_TIME
        };
        let mut pace = Pace {
            start: started,
            bytes: 0,
            limit: self.config.fixity.max_mb_per_sec << 20,
        };
        let mirrors = self.mirrors().open_mirrors(None).await?;

        // The primary store.
        loop {
            if round_over(run) {
                return Ok(true);
            }
            let mut conn = self.db.conn().await?;
            let page = db::fixity::objects_due_for_fixity(&mut conn, since, PAGE).await?;
            drop(conn);
            if page.is_empty() {
                break;
            }
            for (sha256, size) in page {
                let found = match self.storage.hash_object(&sha256, &[]).await {
                    Ok((n, sums)) if sums[0].hex == sha256 && n == size as u64 => Ok(None),
                    Ok(_) => Ok(Some(FixityOutcome::Corrupt)),
                    Err(crate::storage::StorageError::Missing(_)) => {
                        Ok(Some(FixityOutcome::Missing))
                    }
                    Err(e) => Err(e),
                };
                run.checked += 1;
                run.bytes += size as u64;
                pace.after(size as u64).await;
                match found {
                    Ok(None) => {
                        self.record_check("primary", &sha256, FixityOutcome::Ok, None)
                            .await?
                    }
                    Ok(Some(problem)) => {
                        self.record_check("primary", &sha256, problem, None).await?;
                        let done = self.repair_primary(&sha256, size as u64, &mirrors).await?;
                        run.problems.push((
                            "primary".into(),
                            sha256.clone(),
                            problem.to_string(),
                            done,
                        ));
                    }
                    // One object that cannot be read now does not stop the audit.
                    Err(e) => {
                        let problem = format!("unreadable ({e})");
                        let done = "it is checked again in the next audit";
                        self.raise("primary", &sha256, &problem, done).await?;
                        run.problems
                            .push(("primary".into(), sha256.clone(), problem, done.into()));
                    }
                }
                let mut conn = self.db.conn().await?;
                db::fixity::mark_fixity(&mut conn, &sha256, checked_at()).await?;
            }
        }

        // Every copy on every mirror.
        for m in &mirrors {
            'mirror: loop {
                if round_over(run) {
                    return Ok(true);
                }
                let mut conn = self.db.conn().await?;
                let page =
                    db::fixity::replicas_due_for_fixity(&mut conn, &m.name, since, PAGE).await?;
                drop(conn);
                if page.is_empty() {
                    break;
                }
                for sha256 in page {
                    let found = match m.hash(&sha256).await {
                        Ok(Some((n, hex))) if hex == sha256 => {
                            pace.after(n).await;
                            run.bytes += n;
                            None
                        }
                        Ok(Some(_)) => Some(FixityOutcome::Corrupt),
                        Ok(None) => Some(FixityOutcome::Missing),
                        // A mirror that cannot be reached is audited in the next round.
                        Err(e) => {
                            tracing::warn!(mirror = %m.name, error = %e, "fixity: mirror unreachable, its copies wait for the next audit");
                            break 'mirror;
                        }
                    };
                    run.checked += 1;
                    match found {
                        None => {
                            let mut conn = self.db.conn().await?;
                            db::mirrors::record_replica(&mut conn, &m.name, &sha256, checked_at())
                                .await?;
                            drop(conn);
                            self.record_check(&m.name, &sha256, FixityOutcome::Ok, None)
                                .await?;
                        }
                        Some(problem) => {
                            self.record_check(&m.name, &sha256, problem, None).await?;
                            let done = self.repair_mirror(m, &sha256).await?;
                            run.problems
                                .push((m.name.clone(), sha256, problem.to_string(), done));
                        }
                    }
                }
            }
        }
        Ok(false)
    }

    /// Replace a damaged primary copy with a mirror's copy that hashes right.
    async fn repair_primary(
        &self,
        sha256: &str,
        size: u64,
        mirrors: &[Mirror],
    ) -> ServiceResult<String> {
        let staged = self
            .storage
            .staging_path(&format!("fixity-{}", ids::new_id()));
        for m in mirrors {
            match m.download(sha256, &staged).await {
                Ok(Some((n, hex))) if hex == sha256 && n == size => {
                    self.storage.replace_object(&staged, sha256, size).await?;
                    // The repair is itself verified.
                    let (n, sums) = self.storage.hash_object(sha256, &[]).await?;
                    let done = if sums[0].hex == sha256 && n == size {
                        self.record_check(
                            "primary",
                            sha256,
                            FixityOutcome::Repaired,
                            Some(&m.name),
                        )
                        .await?;
                        format!("repaired from mirror {}", m.name)
                    } else {
                        self.record_check(
                            "primary",
                            sha256,
                            FixityOutcome::Unrepairable,
                            Some("the repair did not verify"),
                        )
                        .await?;
                        "the repair did not verify".to_owned()
                    };
                    self.raise("primary", sha256, "damaged", &done).await?;
                    return Ok(done);
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(mirror = %m.name, error = %e, "could not read a mirror's copy")
                }
            }
        }
        crate::storage::remove_if_present(&staged).await?;
        let done = "no mirror holds a copy that verifies".to_owned();
        self.record_check("primary", sha256, FixityOutcome::Unrepairable, Some(&done))
            .await?;
        self.raise("primary", sha256, "damaged", &done).await?;
        Ok(done)
    }

    /// Put a good copy back on a mirror from the primary store, if that verifies.
    async fn repair_mirror(&self, m: &Mirror, sha256: &str) -> ServiceResult<String> {
        let (size, sums) = match self.storage.hash_object(sha256, &[]).await {
            Ok(r) => r,
            Err(crate::storage::StorageError::Missing(_)) => (0, Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let done = if sums.first().is_some_and(|c| c.hex == sha256) {
            let mut conn = self.db.conn().await?;
            db::mirrors::forget_replica(&mut conn, &m.name, sha256).await?;
            drop(conn);
            m.delete(sha256).await?;
            self.mirrors()
                .replicate(&self.mirrors().sending(m, ""), sha256, size)
                .await?;
            match m.hash(sha256).await? {
                Some((_, hex)) if hex == sha256 => {
                    self.record_check(
                        &m.name,
                        sha256,
                        FixityOutcome::Repaired,
                        Some("from the primary store"),
                    )
                    .await?;
                    "repaired from the primary store".to_owned()
                }
                _ => {
                    self.record_check(
                        &m.name,
                        sha256,
                        FixityOutcome::Unrepairable,
                        Some("the repair did not verify"),
                    )
                    .await?;
                    self.forget_bad_replica(m, sha256).await?;
                    "the repair did not verify".to_owned()
                }
            }
        } else {
            let done = "the primary copy does not verify either".to_owned();
            self.record_check(&m.name, sha256, FixityOutcome::Unrepairable, Some(&done))
                .await?;
            self.forget_bad_replica(m, sha256).await?;
            done
        };
        self.raise(&m.name, sha256, "damaged or missing", &done)
            .await?;
        Ok(done)
    }

    /// A mirror's copy that is not intact and could not be repaired is no longer counted
    /// as a copy (and so not audited again and again within one audit).
    async fn forget_bad_replica(&self, m: &Mirror, sha256: &str) -> ServiceResult<()> {
        let mut tx = self.db.begin_write().await?;
        db::mirrors::forget_replica(&mut tx, &m.name, sha256).await?;
        // Pages that listed this mirror are built again when next read.
        db::landing::bump_holding(&mut tx, sha256).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Checks of the last `days` days: counts by location and outcome, and every problem.
    #[allow(clippy::type_complexity)]
    pub async fn report(&self, days: i64) -> ServiceResult<(Vec<FixityCount>, Vec<FixityProblem>)> {
        let since = now_ms() - days * 86_400_000;
        let mut conn = self.db.conn().await?;
        let summary = db::fixity::check_summary(&mut conn, since).await?;
        let problems = db::fixity::problems_since(&mut conn, since).await?;
        Ok((summary, problems))
    }
}
