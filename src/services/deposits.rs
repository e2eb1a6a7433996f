//! Deposits: create, read, edit, and move through the life of a dataset.

use super::jobs::Job;
use super::{Actor, ServiceError, ServiceResult, Services, may_edit};
use crate::db::{self, Tx, events::Event, files::FileRow, now_ms, versions::VersionRow};
use crate::metadata::schema::check_deposit;
use crate::model::{Action, DepositState, FileStatus, HoldKind, MirrorPolicy, ids, metadata};
use serde_json::Value;

/// The extra input some actions carry.
#[derive(Debug, Clone, Default)]
pub struct ActionInput {
    /// Why: required for requesting changes and withdrawing; kept in the event.
    pub reason: Option<String>,
    /// For a hold: `{"until": "YYYY-MM-DD"}` or `{"until_publication": {"doi": …}}`
    /// or `{"until_publication": {"pdb": …}}`.
    pub hold: Option<Value>,
    /// For scheduling: the release batch (else the next one that is still open).
    pub release: Option<String>,
}

/// One state change as `transition_in_tx` applies it.
pub(super) struct Change<'a> {
    pub action: Action,
    /// None when the archive itself acts (release batches, the publication watcher).
    pub actor_id: Option<&'a str>,
    pub reason: Option<String>,
    pub hold: Option<HoldRequest>,
    pub release: Option<&'a str>,
}

pub(super) fn not_found_unless_visible(actor: &Actor, v: &VersionRow) -> ServiceResult<()> {
    // Someone else's deposit is "not found", not "forbidden": its existence is private.
    if may_edit(actor, &v.owner_id) {
        Ok(())
    } else {
        Err(ServiceError::NotFound("deposit"))
    }
}

pub(super) async fn load_visible(
    conn: &mut db::Conn,
    actor: &Actor,
    id: &str,
) -> ServiceResult<VersionRow> {
    if !ids::looks_like_id(id) {
        return Err(ServiceError::NotFound("deposit"));
    }
    let v = db::versions::get(conn, id)
        .await?
        .ok_or(ServiceError::NotFound("deposit"))?;
    not_found_unless_visible(actor, &v)?;
    Ok(v)
}

pub(super) fn require_editable(v: &VersionRow) -> ServiceResult<()> {
    if v.state.files_editable() {
        Ok(())
    } else {
        Err(ServiceError::Conflict(format!(
            "the deposit is {}: files and metadata can only change while it is a draft",
            v.state
        )))
    }
}

/// What happened to a deposit, for its history.
pub(super) struct DepositEvent<'a> {
    pub version_id: &'a str,
    pub actor_id: Option<&'a str>,
    pub kind: &'a str,
    /// For state changes: `(from, to)`.
    pub states: Option<(Option<DepositState>, DepositState)>,
    pub reason: Option<String>,
}

/// Write a deposit's event; every state change and file change goes through here.
pub(super) async fn record_event(tx: &mut Tx, e: DepositEvent<'_>, now: i64) -> ServiceResult<()> {
    db::events::insert(
        tx,
        &Event {
            subject_type: "deposit".into(),
            subject_id: e.version_id.to_owned(),
            actor_id: e.actor_id.map(str::to_owned),
            kind: e.kind.to_owned(),
            from_state: e.states.and_then(|(f, _)| f).map(|s| s.as_str().to_owned()),
            to_state: e.states.map(|(_, t)| t.as_str().to_owned()),
            reason: e.reason,
            created_at: now,
        },
    )
    .await?;
    Ok(())
}

/// A hold as asked for: what it waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRequest {
    pub kind: HoldKind,
    pub target: String,
}

impl HoldRequest {
    pub fn describe(&self) -> String {
        describe_hold(self.kind, &self.target)
    }
}

/// A hold in words: "on hold until …".
pub fn describe_hold(kind: HoldKind, target: &str) -> String {
    match kind {
        HoldKind::Date => format!("on hold until {target}"),
        HoldKind::Pdb => format!("on hold until PDB entry {target} is released"),
        HoldKind::Article => format!("on hold until publication of {target}"),
    }
}

fn check_hold(hold: Option<&Value>) -> ServiceResult<HoldRequest> {
    let Some(hold) = hold else {
        return Err(ServiceError::invalid(
            "until",
            "say how long to hold: {\"until\": \"YYYY-MM-DD\"} or {\"until_publication\": {\"doi\": \"10.…\"}} or {\"until_publication\": {\"pdb\": \"1ABC\"}}",
        ));
    };
    if let Some(until) = hold.get("until") {
        let s = until.as_str().unwrap_or_default();
        if !crate::model::date::is_iso_date(s) {
            return Err(ServiceError::invalid(
                "until",
                "must be a date as YYYY-MM-DD",
            ));
        }
        return Ok(HoldRequest {
            kind: HoldKind::Date,
            target: s.to_owned(),
        });
    }
    if let Some(publication) = hold.get("until_publication") {
        if let Some(pdb) = publication.get("pdb") {
            let id = pdb.as_str().unwrap_or_default();
            let parsed = crate::model::identifiers::PdbId::parse(id)
                .map_err(|e| ServiceError::invalid("until_publication.pdb", e.to_string()))?;
            return Ok(HoldRequest {
                kind: HoldKind::Pdb,
                target: parsed.as_str().to_owned(),
            });
        }
        let doi = publication
            .get("doi")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let parsed = crate::model::doi::Doi::parse(doi).map_err(|_| {
            ServiceError::invalid(
                "until_publication.doi",
                "must be the article's DOI, such as 10.1107/S2059798320000000",
            )
        })?;
        return Ok(HoldRequest {
            kind: HoldKind::Article,
            target: parsed.as_str().to_owned(),
        });
    }
    Err(ServiceError::invalid(
        "until",
        "give either 'until' or 'until_publication'",
    ))
}

impl Services {
    pub async fn create_deposit(
        &self,
        actor: &Actor,
        metadata: Value,
        facility: Value,
    ) -> ServiceResult<VersionRow> {
        check_deposit(&metadata, &facility).map_err(ServiceError::InvalidMetadata)?;
        let now = now_ms();
        let v = VersionRow::first_draft(&actor.id, metadata, facility, now);
        let mut tx = self.db.begin_write().await?;
        db::versions::insert_new_dataset(&mut tx, &v).await?;
        let event = DepositEvent {
            version_id: &v.id,
            actor_id: Some(&actor.id),
            kind: "create",
            states: Some((None, DepositState::Draft)),
            reason: None,
        };
        record_event(&mut tx, event, now).await?;
        tx.commit().await?;
        Ok(v)
    }

    pub async fn get_deposit(&self, actor: &Actor, id: &str) -> ServiceResult<VersionRow> {
        let mut conn = self.db.conn().await?;
        load_visible(&mut conn, actor, id).await
    }

    pub async fn update_deposit(
        &self,
        actor: &Actor,
        id: &str,
        metadata: Option<Value>,
        facility: Option<Value>,
    ) -> ServiceResult<VersionRow> {
        let mut tx = self.db.begin_write().await?;
        let mut v = load_visible(&mut tx, actor, id).await?;
        require_editable(&v)?;
        if let Some(m) = metadata {
            v.metadata = m;
        }
        if let Some(f) = facility {
            v.facility = f;
        }
        check_deposit(&v.metadata, &v.facility).map_err(ServiceError::InvalidMetadata)?;
        v.updated_at = now_ms();
        db::versions::update_metadata(&mut tx, id, &v.metadata, &v.facility, v.updated_at).await?;
        tx.commit().await?;
        Ok(v)
    }

    /// An author's own deposits, or (for curators) everyone's: newest first, one page.
    pub async fn list_deposits(
        &self,
        actor: &Actor,
        state: Option<&str>,
        before: &str,
        limit: i64,
    ) -> ServiceResult<Vec<VersionRow>> {
        let state = state
            .map(|s| s.parse::<DepositState>())
            .transpose()
            .map_err(|e| ServiceError::invalid("state", e.to_string()))?;
        let owner = (!actor.role.is_curator()).then_some(actor.id.as_str());
        let mut conn = self.db.conn().await?;
        Ok(db::versions::page(&mut conn, owner, state, before, limit.clamp(1, 200)).await?)
    }

    /// The actor's own deposits, whatever their role: newest first, one page.
    pub async fn own_deposits(
        &self,
        actor: &Actor,
        before: &str,
        limit: i64,
    ) -> ServiceResult<Vec<VersionRow>> {
        let mut conn = self.db.conn().await?;
        Ok(db::versions::page(
            &mut conn,
            Some(&actor.id),
            None,
            before,
            limit.clamp(1, 200),
        )
        .await?)
    }

    pub async fn deposit_events(&self, actor: &Actor, id: &str) -> ServiceResult<Vec<Event>> {
        let mut conn = self.db.conn().await?;
        load_visible(&mut conn, actor, id).await?;
        Ok(db::events::for_subject(&mut conn, id).await?)
    }

    /// One page of a deposit's files, in path order after `after`.
    pub async fn list_files(
        &self,
        actor: &Actor,
        id: &str,
        after: &str,
        limit: i64,
    ) -> ServiceResult<Vec<FileRow>> {
        let mut conn = self.db.conn().await?;
        load_visible(&mut conn, actor, id).await?;
        Ok(db::files::list(&mut conn, id, after, limit.clamp(1, 1000)).await?)
    }

    /// One file of a deposit, for its depositors and curators.
    pub async fn deposit_file(
        &self,
        actor: &Actor,
        id: &str,
        path: &str,
    ) -> ServiceResult<FileRow> {
        let mut conn = self.db.conn().await?;
        load_visible(&mut conn, actor, id).await?;
        db::files::get_by_path(&mut conn, id, path)
            .await?
            .ok_or(ServiceError::NotFound("file"))
    }

    /// Remove a file from a draft (to upload a corrected one). The stored object stays
    /// until garbage collection finds nothing else refers to it.
    pub async fn delete_file(&self, actor: &Actor, id: &str, path: &str) -> ServiceResult<()> {
        let mut tx = self.db.begin_write().await?;
        let v = load_visible(&mut tx, actor, id).await?;
        require_editable(&v)?;
        if !db::files::delete(&mut tx, id, path).await? {
            return Err(ServiceError::NotFound("file"));
        }
        db::files::clear_expected(&mut tx, id, "upload", Some(path)).await?;
        let event = DepositEvent {
            version_id: id,
            actor_id: Some(&actor.id),
            kind: "file_removed",
            states: None,
            reason: Some(path.to_owned()),
        };
        record_event(&mut tx, event, now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether `actor`'s role lets them take `action` (on a deposit they can see).
    fn may_take(&self, actor: &Actor, action: Action) -> bool {
        let author_may = action == Action::Hold && self.config.holds.authors_may_hold;
        !action.needs_curator() || actor.role.is_curator() || author_may
    }

    /// The actions `actor` may ask for now on `v`, a deposit they can see, in the order
    /// a deposit meets them.
    pub(super) fn actions_open_to(&self, actor: &Actor, v: &VersionRow) -> Vec<Action> {
        Action::REQUESTED
            .iter()
            .map(|(_, a)| *a)
            .filter(|a| v.state.apply(*a).is_ok() && self.may_take(actor, *a))
            .collect()
    }

    /// Ask for a state change. Checks who may do it and whether the state allows it,
    /// then changes state, writes the event and enqueues follow-up jobs in one
    /// transaction.
    pub async fn act(
        &self,
        actor: &Actor,
        id: &str,
        action: Action,
        input: ActionInput,
    ) -> ServiceResult<VersionRow> {
        if !self.may_take(actor, action) {
            let mut conn = self.db.conn().await?;
            load_visible(&mut conn, actor, id).await?;
            return Err(ServiceError::Forbidden(format!(
                "only curators can {}",
                action.as_str().replace('_', " ")
            )));
        }
        if matches!(
            action,
            Action::VerificationPassed | Action::VerificationFailed
        ) {
            return Err(ServiceError::Forbidden(
                "verification results come from the archive's verifier".into(),
            ));
        }
        let reason = input.reason.clone().filter(|r| !r.trim().is_empty());
        if matches!(action, Action::RequestChanges | Action::Withdraw) && reason.is_none() {
            return Err(ServiceError::invalid(
                "reason",
                "say why, so the author (or the tombstone) can tell",
            ));
        }
        let hold = match action {
            Action::Hold => Some(check_hold(input.hold.as_ref())?),
            _ => None,
        };
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let mut v = load_visible(&mut tx, actor, id).await?;
        let from = v.state;
        let change = Change {
            action,
            actor_id: Some(&actor.id),
            reason,
            hold,
            release: input.release.as_deref(),
        };
        let enqueued = self.transition_in_tx(&mut tx, &mut v, change, now).await?;
        tx.commit().await?;
        // Submissions and approvals change nothing the public sees: rendered public pages
        // stay cached through the curators' daily work.
        if from.has_public_page() || v.state.has_public_page() {
            self.public_changed();
        }
        if enqueued {
            self.jobs_enqueued();
        }
        Ok(v)
    }

    /// The one place a deposit changes state: checks, the state, the event, and what
    /// follows (hold, batch item, publication, DOI, jobs), all in `tx`. Returns whether
    /// jobs were enqueued.
    pub(super) async fn transition_in_tx(
        &self,
        tx: &mut Tx,
        v: &mut VersionRow,
        c: Change<'_>,
        now: i64,
    ) -> ServiceResult<bool> {
        let next = v.state.apply(c.action)?;
        match c.action {
            Action::Submit => self.check_submittable(tx, v).await?,
            Action::Release => check_all_files_verified(tx, v).await?,
            _ => {}
        }
        if !db::versions::set_state(tx, &v.id, v.state, next, now).await? {
            return Err(ServiceError::Conflict(
                "the deposit changed meanwhile; reload and try again".into(),
            ));
        }
        // Every way out of `scheduled` but the release itself takes the dataset out of
        // its batch in this transaction, so a batch never runs an item that is no longer
        // scheduled (a hold placed after scheduling keeps the data private).
        if v.state == DepositState::Scheduled
            && c.action != Action::Release
            && let Some(item) = db::releases::pending_item_of(tx, &v.id).await?
        {
            if c.action == Action::Unschedule {
                let batch = db::releases::get(tx, &item.batch_id).await?;
                if batch.is_some_and(|b| {
                    b.cutoff_at <= now || b.state != crate::model::BatchState::Open
                }) {
                    return Err(ServiceError::Conflict(
                        "the batch's cut-off has passed: the dataset goes out with it".into(),
                    ));
                }
            }
            db::releases::remove_item(tx, &item.batch_id, &v.id).await?;
        }
        let mut reason = c.reason;
        match (c.action, &c.hold) {
            (Action::Hold, Some(h)) => {
                db::holds::end(tx, &v.id, now).await?;
                let max = i64::from(self.config.holds.max_days) * 86_400_000;
                db::holds::insert(
                    tx,
                    &db::holds::HoldRow {
                        id: ids::new_id(),
                        version_id: v.id.clone(),
                        kind: h.kind.to_owned(),
                        target: h.target.clone(),
                        placed_by: c.actor_id.unwrap_or_default().to_owned(),
                        placed_at: now,
                        lapses_at: now + max,
                        reminded_at: None,
                        claimed_doi: None,
                        published_at: None,
                        last_checked_at: None,
                        ended_at: None,
                    },
                )
                .await?;
                reason = Some(h.describe());
            }
            (Action::Schedule, _) => {
                let batch = self.batch_for(tx, c.release, now).await?;
                db::releases::add_item(tx, &batch.id, &v.id, now).await?;
                db::holds::end(tx, &v.id, now).await?;
                reason = Some(format!(
                    "release batch of {}",
                    crate::model::date::utc_seconds(batch.release_at)
                ));
            }
            (Action::Release, _) => {
                let (record, facility) = super::dois::record_and_profile(v)?;
                let sets = crate::oai::sets_of(&record, &facility);
                db::published::publish(tx, v, &sets, now).await?;
                super::search::reindex(tx, self.db.backend, &v.dataset_id).await?;
                db::holds::end(tx, &v.id, now).await?;
                if let Some(item) = db::releases::pending_item_of(tx, &v.id).await? {
                    db::releases::finish_item(tx, &item.batch_id, &v.id, None, now).await?;
                }
            }
            (Action::Withdraw, _) => {
                db::published::withdraw(tx, &v.id, now).await?;
                super::search::reindex(tx, self.db.backend, &v.dataset_id).await?;
            }
            _ => {}
        }
        let event = DepositEvent {
            version_id: &v.id,
            actor_id: c.actor_id,
            kind: c.action.as_str(),
            states: Some((Some(v.state), next)),
            reason,
        };
        record_event(tx, event, now).await?;
        let mut enqueued = false;
        if c.action == Action::Submit {
            let job = Job::Verify {
                version_id: v.id.clone(),
            };
            super::jobs::enqueue(tx, &job, now).await?;
            enqueued = true;
            // The DOI is reserved at the latest on submission.
            if v.doi.is_none() {
                let (doi, _) = self.reserve_in_tx(tx, v, c.actor_id, now, false).await?;
                v.doi = Some(doi);
            }
        }
        if let Some(doi) = v.doi.clone() {
            enqueued |= self.follow_doi(tx, &doi, c.action, now).await?;
        }
        if matches!(c.action, Action::Release | Action::Withdraw) {
            enqueued |= self.point_concept(tx, &v.dataset_id, now).await?;
        }
        // Replication follows each mirror's policy: trusted sites get approved data,
        // public ones released data; withdrawal takes it off public ones.
        enqueued |= match c.action {
            Action::Approve => {
                self.enqueue_transfers(tx, v, &[MirrorPolicy::All], now)
                    .await?
            }
            Action::Release => {
                self.enqueue_transfers(tx, v, &[MirrorPolicy::Released], now)
                    .await?
            }
            Action::Withdraw => self.enqueue_mirror_removal(tx, &v.id, now).await?,
            _ => false,
        };
        // The dataset's page changes: the read model is rebuilt.
        if v.state.has_public_page() || next.has_public_page() {
            enqueued |= super::landing::changed(tx, &v.dataset_id, now).await?;
        }
        v.state = next;
        v.updated_at = now;
        Ok(enqueued)
    }

    async fn check_submittable(&self, tx: &mut Tx, v: &VersionRow) -> ServiceResult<()> {
        metadata::validate_for_submission(&v.metadata).map_err(ServiceError::InvalidMetadata)?;
        let (count, _) = db::files::totals(tx, &v.id).await?;
        if count == 0 {
            return Err(ServiceError::Conflict(
                "the deposit has no files yet: upload at least one before submitting".into(),
            ));
        }
        let open = db::uploads::list_for_version(tx, &v.id).await?;
        if let Some(u) = open.first() {
            return Err(ServiceError::Conflict(format!(
                "{} upload(s) are unfinished (for example '{}'): finish or cancel them first",
                open.len(),
                u.path
            )));
        }
        Ok(())
    }
}

/// Invariant 1, checked where it matters: nothing is released unless every file was
/// hashed by the server and matched.
async fn check_all_files_verified(tx: &mut Tx, v: &VersionRow) -> ServiceResult<()> {
    let passed = v
        .verification
        .as_ref()
        .and_then(|r| r.get("status"))
        .and_then(Value::as_str)
        == Some("passed");
    if !passed {
        return Err(ServiceError::Conflict(
            "the deposit has not passed verification".into(),
        ));
    }
    let mut after = String::new();
    loop {
        let page = db::files::list(tx, &v.id, &after, 1000).await?;
        let Some(last) = page.last() else { break };
        if let Some(f) = page.iter().find(|f| f.status != FileStatus::Verified) {
            return Err(ServiceError::Conflict(format!(
                "'{}' has not been verified ({})",
                f.path, f.status
            )));
        }
        after = last.path.clone();
    }
    Ok(())
}
