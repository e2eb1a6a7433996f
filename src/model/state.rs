//! The life of a dataset (docs/architecture.md, "Life of a dataset") as a closed state machine.

use std::fmt;
use std::str::FromStr;

/// Where a deposit (one version of a dataset) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DepositState {
    Draft,
    Submitted,
    Verified,
    Approved,
    OnHold,
    Scheduled,
    Released,
    Withdrawn,
}

/// What someone (or the verifier) asks to happen to a deposit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Submit,
    /// The verification job found every file intact.
    VerificationPassed,
    /// The verification job found a missing or damaged file: back to the author.
    VerificationFailed,
    RequestChanges,
    Approve,
    Hold,
    Schedule,
    /// Take a scheduled dataset out of its release batch (before the cut-off).
    Unschedule,
    Release,
    Withdraw,
}

impl DepositState {
    pub const ALL: [DepositState; 8] = [
        Self::Draft,
        Self::Submitted,
        Self::Verified,
        Self::Approved,
        Self::OnHold,
        Self::Scheduled,
        Self::Released,
        Self::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::Verified => "verified",
            Self::Approved => "approved",
            Self::OnHold => "on_hold",
            Self::Scheduled => "scheduled",
            Self::Released => "released",
            Self::Withdrawn => "withdrawn",
        }
    }

    /// The state `action` leads to from here, or why it may not happen.
    pub fn apply(self, action: Action) -> Result<DepositState, TransitionError> {
        use Action::*;
        use DepositState::*;
        let next = match (self, action) {
            (Draft, Submit) => Submitted,
            (Submitted, VerificationPassed) => Verified,
            (Submitted, VerificationFailed) => Draft,
            (Submitted | Verified, RequestChanges) => Draft,
            (Verified, Approve) => Approved,
            (Approved | Scheduled, Hold) => OnHold,
            (Approved | OnHold, Schedule) => Scheduled,
            (Scheduled, Unschedule) => Approved,
            (Approved | OnHold | Scheduled, Release) => Released,
            (Released, Withdraw) => Withdrawn,
            (from, action) => return Err(TransitionError { from, action }),
        };
        Ok(next)
    }

    /// Files may be added, replaced or removed only while the author is editing.
    pub fn files_editable(self) -> bool {
        self == Self::Draft
    }

    /// Whether the dataset has a public page in this state: released, withdrawn (the
    /// tombstone), or on hold (the page its registered DOI resolves to).
    pub fn has_public_page(self) -> bool {
        matches!(self, Self::OnHold | Self::Released | Self::Withdrawn)
    }

    /// Whether the public may see this version's bytes (invariant 4).
    pub fn is_public(self) -> bool {
        self == Self::Released
    }
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::VerificationPassed => "verification_passed",
            Self::VerificationFailed => "verification_failed",
            Self::RequestChanges => "request_changes",
            Self::Approve => "approve",
            Self::Hold => "hold",
            Self::Schedule => "schedule",
            Self::Unschedule => "unschedule",
            Self::Release => "release",
            Self::Withdraw => "withdraw",
        }
    }

    /// The actions people ask for by name (the API's `…/{action}` and the forms), with
    /// those names, in the order a deposit meets them.
    pub const REQUESTED: [(&'static str, Action); 8] = [
        ("submit", Self::Submit),
        ("request-changes", Self::RequestChanges),
        ("approve", Self::Approve),
        ("hold", Self::Hold),
        ("schedule", Self::Schedule),
        ("unschedule", Self::Unschedule),
        ("release", Self::Release),
        ("withdraw", Self::Withdraw),
    ];

    /// The action a request names (`request-changes`), if people may ask for it.
    pub fn requested(name: &str) -> Option<Self> {
        Self::REQUESTED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| *a)
    }

    /// The name people ask for this action by.
    pub fn request_name(self) -> Option<&'static str> {
        Self::REQUESTED
            .iter()
            .find(|(_, a)| *a == self)
            .map(|(n, _)| *n)
    }

    /// Actions only curators (and admins) may take.
    pub fn needs_curator(self) -> bool {
        !matches!(
            self,
            Self::Submit | Self::VerificationPassed | Self::VerificationFailed
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a deposit in state '{from}' cannot {}", action.as_str().replace('_', " "))]
pub struct TransitionError {
    pub from: DepositState,
    pub action: Action,
}

impl fmt::Display for DepositState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown deposit state '{0}'")]
pub struct UnknownState(pub String);

impl FromStr for DepositState {
    type Err = UnknownState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownState(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path_reaches_released_and_withdrawn() {
        let mut s = DepositState::Draft;
        for a in [
            Action::Submit,
            Action::VerificationPassed,
            Action::Approve,
            Action::Hold,
            Action::Schedule,
            Action::Release,
            Action::Withdraw,
        ] {
            s = s.apply(a).unwrap();
        }
        assert_eq!(s, DepositState::Withdrawn);
    }

    #[test]
    fn nothing_skips_verification() {
        for a in [
            Action::Approve,
            Action::Release,
            Action::Schedule,
            Action::Hold,
        ] {
            assert!(DepositState::Submitted.apply(a).is_err(), "{a:?}");
            assert!(DepositState::Draft.apply(a).is_err(), "{a:?}");
        }
    }

    #[test]
    fn states_round_trip_through_text() {
        for s in DepositState::ALL {
            assert_eq!(s.as_str().parse::<DepositState>().unwrap(), s);
        }
        assert!("published".parse::<DepositState>().is_err());
    }

    #[test]
    fn refusal_names_state_and_action() {
        let e = DepositState::Released.apply(Action::Submit).unwrap_err();
        assert_eq!(e.to_string(), "a deposit in state 'released' cannot submit");
    }
}
