//! A deposit's history: every state change and file change writes one event, in the
//! transaction of the change.

use super::ServiceResult;
use crate::db::{self, Tx, events::Event};
use crate::model::DepositState;

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
