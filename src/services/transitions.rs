//! The one place a deposit changes state: a small core (guards, the state, the event)
//! and the reactions of each capability, run in the same transaction from one list.
//! A capability that follows deposits (holds, release batches, publication and search,
//! verification, DOIs, mirrors, landing pages) writes its reaction in its own module and
//! adds it to the list in `reactions.rs`; the core never learns what it does.

use super::events::{DepositEvent, record_event};
use super::{ServiceError, ServiceResult, Services};
use crate::db::{self, Tx, versions::VersionRow};
use crate::model::hold::HoldRequest;
use crate::model::{Action, DepositState, FileStatus, metadata};
use serde_json::Value;
use std::pin::Pin;

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
    /// Why, as the event records it (after the reactions before the event had their
    /// say: "on hold until …"); for the reactions after it.
    pub reason: Option<String>,
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

/// A capability's reaction to a transition, run in its transaction. The list is
/// registered in `reactions.rs` and handed to the core through the context, so the
/// core depends on no capability.
pub(super) type React =
    for<'a, 'b, 'c> fn(
        &'a Services,
        &'a mut Tx,
        &'a mut Transition<'b, 'c>,
    ) -> Pin<Box<dyn Future<Output = ServiceResult<Reacted>> + Send + 'a>>;

/// The reactions, each list in order.
pub struct Reactions {
    /// Those that shape the event: they may refuse the change or say why it happened.
    pub(super) before_event: &'static [React],
    /// Those that follow the recorded event.
    pub(super) after_event: &'static [React],
}

super::capability!(transitions);

impl Service<'_> {
    /// Change a deposit's state in `tx`: the guards, the state, the event, and every
    /// reaction. Returns whether jobs were enqueued.
    pub(super) async fn apply(
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
            reason: None,
        };
        let mut enqueued = false;
        let mut reason = c.reason.clone();
        for react in self.reactions.before_event {
            let done = react(self, tx, &mut t).await?;
            enqueued |= done.enqueued;
            reason = done.reason.or(reason);
        }
        let event = DepositEvent {
            version_id: &t.version.id,
            actor_id: c.actor_id,
            kind: c.action.as_str(),
            states: Some((Some(from), to)),
            reason: reason.clone(),
        };
        record_event(tx, event, now).await?;
        t.reason = reason;
        for react in self.reactions.after_event {
            enqueued |= react(self, tx, &mut t).await?.enqueued;
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
                "{} unfinished (for example '{}'): finish or cancel them first",
                crate::model::words::count(open.len() as u64, "upload is", "uploads are"),
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
