//! Holds until publication, as asked for: what a hold waits for, in words.

use super::HoldKind;

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
