//! Deposits: create, read, edit, and move through the life of a dataset.

use super::events::{DepositEvent, record_event};
use super::transitions::Change;
use super::{Actor, ServiceError, ServiceResult, may_edit};
use crate::db::{self, events::Event, files::FileRow, now_ms, versions::VersionRow};
use crate::metadata::schema::check_deposit;
use crate::model::hold::HoldRequest;
use crate::model::{Action, DepositState, HoldKind, ids};
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
/// Deposits in a state are counted up to this many ("999+").
pub const WAITING_CAP: i64 = 1000;

/// A deposit in the curators' queue.
#[derive(Debug, Clone)]
pub struct QueueItem {
    pub version: VersionRow,
    /// The depositor's name.
    pub depositor: String,
    pub files: i64,
    pub bytes: i64,
}

/// How many deposits are in a state, and since when the oldest has been there.
#[derive(Debug, Clone)]
pub struct Waiting {
    pub state: DepositState,
    pub count: i64,
    /// Milliseconds since the epoch.
    pub since: Option<i64>,
}

super::capability!(deposits);

impl Service<'_> {
    pub async fn create(
        &self,
        actor: &Actor,
        metadata: Value,
        mut facility: Value,
    ) -> ServiceResult<VersionRow> {
        super::known_facility::apply(&mut facility, &self.config.facility);
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

    pub async fn get(&self, actor: &Actor, id: &str) -> ServiceResult<VersionRow> {
        let mut conn = self.db.conn().await?;
        load_visible(&mut conn, actor, id).await
    }

    pub async fn update(
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
        if let Some(mut f) = facility {
            super::known_facility::apply(&mut f, &self.config.facility);
            v.facility = f;
        }
        check_deposit(&v.metadata, &v.facility).map_err(ServiceError::InvalidMetadata)?;
        v.updated_at = now_ms();
        db::versions::update_metadata(&mut tx, id, &v.metadata, &v.facility, v.updated_at).await?;
        tx.commit().await?;
        Ok(v)
    }

    /// An author's own deposits, or (for curators) everyone's: newest first, one page.
    pub async fn list(
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

    /// The curators' queue: a page of deposits, each with who deposited it and its files'
    /// count and size (one page, so its cost is the page's).
    pub async fn queue(
        &self,
        actor: &Actor,
        state: Option<&str>,
        before: &str,
        limit: i64,
    ) -> ServiceResult<Vec<QueueItem>> {
        super::require_curator(actor, "see the curation queue")?;
        let page = self.list(actor, state, before, limit).await?;
        let mut conn = self.db.conn().await?;
        let mut names: std::collections::HashMap<String, String> = Default::default();
        let mut out = Vec::with_capacity(page.len());
        for v in page {
            if !names.contains_key(&v.owner_id) {
                let name = db::users::get(&mut conn, &v.owner_id)
                    .await?
                    .map(|u| u.name)
                    .unwrap_or_default();
                names.insert(v.owner_id.clone(), name);
            }
            let (files, bytes) = db::files::totals(&mut conn, v.id.as_str()).await?;
            out.push(QueueItem {
                depositor: names[&v.owner_id].clone(),
                files,
                bytes,
                version: v,
            });
        }
        Ok(out)
    }

    /// What waits for the curators: for each state a curator acts on, how many deposits
    /// are in it (counted up to [`WAITING_CAP`]) and since when the oldest has waited.
    pub async fn waiting(&self, actor: &Actor) -> ServiceResult<Vec<Waiting>> {
        super::require_curator(actor, "see what waits for curators")?;
        let mut conn = self.db.conn().await?;
        let mut out = Vec::new();
        for state in [
            DepositState::Submitted,
            DepositState::Verified,
            DepositState::Approved,
            DepositState::OnHold,
            DepositState::Scheduled,
        ] {
            let (count, oldest) = db::versions::waiting_in(&mut conn, state, WAITING_CAP).await?;
            out.push(Waiting {
                state,
                count,
                since: oldest,
            });
        }
        Ok(out)
    }

    /// The actor's own deposits, whatever their role: newest first, one page.
    pub async fn own(
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

    pub async fn events(&self, actor: &Actor, id: &str) -> ServiceResult<Vec<Event>> {
        let mut conn = self.db.conn().await?;
        load_visible(&mut conn, actor, id).await?;
        Ok(db::events::for_subject(&mut conn, id).await?)
    }

    /// One page of a deposit's files, in path order after `after`.
    pub async fn files(
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
    pub async fn file(&self, actor: &Actor, id: &str, path: &str) -> ServiceResult<FileRow> {
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
        let enqueued = self
            .transitions()
            .apply(&mut tx, &mut v, change, now)
            .await?;
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
}
