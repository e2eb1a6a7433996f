//! The one place a deposit changes state: a small core (guards, the state, the event)
//! and the reactions of each capability, run in the same transaction from one list.
//! A capability that follows deposits (holds, release batches, publication and search,
//! verification, DOIs, mirrors, landing pages) writes its reaction in its own module and
//! adds one variant here; the core never learns what it does.

use super::events::{DepositEvent, record_event};
use super::{ServiceError, ServiceResult, Services};
use crate::db::{self, Tx, versions::VersionRow};
use crate::model::hold::HoldRequest;
use crate::model::{Action, DepositState, FileStatus, metadata};
use serde_json::Value;

/// A state change someone (or the archive) asks for.
pub(super) struct Change<'a> {
    pub action: Action,
    /// None when the archive itself acts (release batches, the publication watcher).
    pub actor_id: Option<&'a str>,
    pub reason: Option<String>,
    pub hold: Option<HoldRequest>,
    pub release: Option<&'a str>,
}

/// A state change written in `tx`, as the reactions see it: `version` still shows the
/// state it leaves (`from`); the core moves it to `to` after every reaction ran.
pub(super) struct Transition<'t, 'c> {
    pub version: &'t mut VersionRow,
    pub from: DepositState,
    pub to: DepositState,
    pub change: &'t Change<'c>,
    pub now: i64,
}

/// What a reaction did.
#[derive(Debug, Default)]
pub(super) struct Reacted {
    /// It enqueued jobs: workers should look.
    pub enqueued: bool,
    /// The event's reason in words, when the reaction knows it better than the request
    /// ("on hold until …", "release batch of …").
    pub reason: Option<String>,
}

impl Reacted {
    pub fn enqueued(enqueued: bool) -> Self {
        Self {
            enqueued,
            reason: None,
        }
    }
}

/// Every capability that follows a deposit's state.
#[derive(Debug, Clone, Copy)]
enum Reaction {
    /// Leaving a batch, joining one, finishing its item (`releases.rs`).
    ReleaseBatches,
    /// Placing and ending holds (`holds.rs`).
    Holds,
    /// The published record, OAI-PMH sets and the search index (`public.rs`).
    Publication,
    /// The verification job on submission (`verify.rs`).
    Verification,
    /// Reserving the DOI, moving it and the concept DOI with the dataset (`dois.rs`).
    Dois,
    /// Copies to mirror sites by their policy (`mirrors.rs`).
    Mirrors,
    /// The landing page's read model (`landing.rs`).
    LandingPage,
}

/// Reactions that shape the event (they may refuse the change or say why it happened).
const BEFORE_EVENT: [Reaction; 3] = [
    Reaction::ReleaseBatches,
    Reaction::Holds,
    Reaction::Publication,
];

/// Reactions that follow the recorded event.
const AFTER_EVENT: [Reaction; 4] = [
    Reaction::Verification,
    Reaction::Dois,
    Reaction::Mirrors,
    Reaction::LandingPage,
];

impl Reaction {
    async fn run(
        self,
        s: &Services,
        tx: &mut Tx,
        t: &mut Transition<'_, '_>,
    ) -> ServiceResult<Reacted> {
        match self {
            Self::ReleaseBatches => s.batches_follow(tx, t).await,
            Self::Holds => s.holds_follow(tx, t).await,
            Self::Publication => s.publication_follows(tx, t).await,
            Self::Verification => s.verification_follows(tx, t).await,
            Self::Dois => s.dois_follow(tx, t).await,
            Self::Mirrors => s.mirrors_follow(tx, t).await,
            Self::LandingPage => s.landing_follows(tx, t).await,
        }
    }
}

impl Services {
    /// Change a deposit's state in `tx`: the guards, the state, the event, and every
    /// reaction. Returns whether jobs were enqueued.
    pub(super) async fn transition_in_tx(
        &self,
        tx: &mut Tx,
        v: &mut VersionRow,
        c: Change<'_>,
        now: i64,
    ) -> ServiceResult<bool> {
        let from = v.state;
        let to = from.apply(c.action)?;
        match c.action {
            Action::Submit => self.check_submittable(tx, v).await?,
            Action::Release => check_all_files_verified(tx, v).await?,
            _ => {}
        }
        if !db::versions::set_state(tx, &v.id, from, to, now).await? {
            return Err(ServiceError::Conflict(
                "the deposit changed meanwhile; reload and try again".into(),
            ));
        }
        let mut t = Transition {
            version: v,
            from,
            to,
            change: &c,
            now,
        };
        let mut enqueued = false;
        let mut reason = c.reason.clone();
        for r in BEFORE_EVENT {
            let done = r.run(self, tx, &mut t).await?;
            enqueued |= done.enqueued;
            reason = done.reason.or(reason);
        }
        let event = DepositEvent {
            version_id: &t.version.id,
            actor_id: c.actor_id,
            kind: c.action.as_str(),
            states: Some((Some(from), to)),
            reason,
        };
        record_event(tx, event, now).await?;
        for r in AFTER_EVENT {
            enqueued |= r.run(self, tx, &mut t).await?.enqueued;
        }
        t.version.state = to;
        t.version.updated_at = now;
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
