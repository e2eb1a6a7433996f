//! What is under way for a deposit, as its page says it: the DOI's registration at
//! DataCite, the copies to mirror sites, what the hold's watcher does, and the key the
//! page's script watches to load the page again when any of it (or verification)
//! moves on.

use crate::config::HoldSettings;
use crate::db::dois::DoiRow;
use crate::db::holds::HoldRow;
use crate::db::mirrors::TransferRow;
use crate::model::date::utc_day;
use crate::model::doi::DoiState;
use crate::model::{DepositState, DoiProvider, HoldKind, TransferState};
use crate::web::format::human_size;

/// Whether and where the DOI resolves, in one place (the page says nothing else about
/// it), and whether DataCite has it yet.
pub fn doi_note(r: &DoiRow) -> String {
    let wanted = match (r.provider, r.wanted_state) {
        (DoiProvider::Local, _) => {
            return "This archive runs without DataCite: the DOI is reserved here only and does not resolve at doi.org.".into();
        }
        (_, DoiState::Draft) => {
            "Reserved at DataCite as a draft: it resolves at doi.org once the dataset is put on hold or released."
        }
        (_, DoiState::Registered) => {
            "Registered at DataCite: it resolves at doi.org to a page that keeps the files private until release."
        }
        (_, DoiState::Findable) => {
            "Findable at DataCite: it resolves at doi.org to the public page."
        }
    };
    if doi_settled(r) {
        return wanted.into();
    }
    let mut note = format!(
        "Being sent to DataCite (to be {}); this page follows it.",
        r.wanted_state.as_str()
    );
    if let Some(e) = &r.last_error {
        note.push_str(&format!(
            " The last attempt failed ({e}); the archive tries again."
        ));
    }
    note
}

/// DataCite holds the DOI in the state the archive wants (a local DOI always does).
fn doi_settled(r: &DoiRow) -> bool {
    r.provider == DoiProvider::Local || r.remote_state.as_deref() == Some(r.wanted_state.as_str())
}

/// How a hold ends, in words: what the archive watches and how often, what happens
/// then, and the longest the hold may last.
pub fn hold_note(h: &HoldRow, s: &HoldSettings) -> String {
    let then = if s.auto_schedule {
        "the dataset goes into the next release batch by itself"
    } else {
        "the curators are told, and release it"
    };
    let checked = h
        .last_checked_at
        .map(|t| format!(" (last looked on {})", utc_day(t)))
        .unwrap_or_default();
    let watch = match h.kind {
        HoldKind::Date => format!("On {}, {then}.", h.target),
        HoldKind::Article => format!(
            "The archive looks the article up at Crossref every {} hours{checked}; once it is published, {then}. If it is out already, say so with “My paper is out”.",
            s.check_every_hours
        ),
        HoldKind::Pdb => format!(
            "The archive looks the entry up in the PDB every {} hours{checked}; once it is released, {then}.",
            s.check_every_hours
        ),
    };
    format!(
        "{watch} A hold lasts at most {} days: this one reaches its limit on {}, and the author and curators are reminded {} days before.",
        s.max_days,
        utc_day(h.lapses_at),
        s.remind_days
    )
}

/// One copy to a mirror site, in words.
pub struct CopyLine {
    pub mirror: String,
    pub status: String,
    pub failed: bool,
}

pub fn copies(transfers: &[TransferRow]) -> Vec<CopyLine> {
    transfers
        .iter()
        .map(|t| CopyLine {
            mirror: t.mirror.clone(),
            status: match t.state {
                TransferState::Queued => "waiting to start".into(),
                TransferState::Active => format!(
                    "copying: {} of {} file{}, {} of {}",
                    t.files_done,
                    t.files_total,
                    if t.files_total == 1 { "" } else { "s" },
                    human_size(t.bytes_done),
                    human_size(t.bytes_total)
                ),
                TransferState::Succeeded => format!(
                    "copied and checked: {} file{}, {}",
                    t.files_total,
                    if t.files_total == 1 { "" } else { "s" },
                    human_size(t.bytes_total)
                ),
                TransferState::Failed => format!(
                    "failed{}; a curator can retry it",
                    t.last_error
                        .as_deref()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default()
                ),
            },
            failed: t.state == TransferState::Failed,
        })
        .collect()
}

/// What the page's script compares to know the page is out of date: set while
/// something is under way (verification, the DOI's registration, a copy), None when
/// nothing is, so a settled page is never polled.
pub fn live_key(
    state: DepositState,
    doi: Option<&DoiRow>,
    transfers: &[TransferRow],
) -> Option<String> {
    let mut under_way = Vec::new();
    if state == DepositState::Submitted {
        under_way.push("verifying".to_owned());
    }
    if let Some(r) = doi.filter(|r| !doi_settled(r)) {
        under_way.push(format!(
            "doi:{}:{}",
            r.wanted_state.as_str(),
            r.last_error.is_some()
        ));
    }
    for t in transfers {
        if matches!(t.state, TransferState::Queued | TransferState::Active) {
            under_way.push(format!(
                "{}:{}:{}",
                t.mirror,
                t.state.as_str(),
                t.bytes_done
            ));
        }
    }
    (!under_way.is_empty()).then(|| under_way.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doi(provider: DoiProvider, wanted: DoiState, remote: Option<&str>) -> DoiRow {
        DoiRow {
            doi: "10.5072/x".into(),
            version_id: "v".into(),
            provider,
            wanted_state: wanted,
            remote_state: remote.map(str::to_owned),
            synced_at: None,
            last_error: None,
        }
    }

    #[test]
    fn a_doi_on_its_way_to_datacite_is_said_and_watched() {
        let sent = doi(
            DoiProvider::Datacite,
            DoiState::Findable,
            Some("registered"),
        );
        assert!(doi_note(&sent).starts_with("Being sent to DataCite (to be findable)"));
        assert!(live_key(DepositState::Released, Some(&sent), &[]).is_some());
        let mut failing = sent.clone();
        failing.last_error = Some("DataCite could not be reached".into());
        assert!(
            doi_note(&failing).contains("The last attempt failed (DataCite could not be reached)")
        );
        let there = doi(DoiProvider::Datacite, DoiState::Findable, Some("findable"));
        assert!(doi_note(&there).starts_with("Findable at DataCite"));
        assert_eq!(live_key(DepositState::Released, Some(&there), &[]), None);
        let local = doi(DoiProvider::Local, DoiState::Findable, None);
        assert_eq!(live_key(DepositState::Released, Some(&local), &[]), None);
        assert_eq!(
            live_key(DepositState::Submitted, Some(&local), &[]).as_deref(),
            Some("verifying")
        );
    }

    #[test]
    fn a_hold_says_what_is_watched_how_often_and_its_limit() {
        let h = HoldRow {
            id: "h".into(),
            version_id: "v".into(),
            kind: HoldKind::Article,
            target: "10.1107/S2059798326000001".into(),
            placed_by: "u".into(),
            placed_at: 0,
            lapses_at: 1_893_456_000_000,
            reminded_at: None,
            claimed_doi: None,
            published_at: None,
            last_checked_at: Some(1_796_083_200_000),
            ended_at: None,
        };
        let s = HoldSettings::default();
        let said = hold_note(&h, &s);
        assert!(
            said.contains(
                "looks the article up at Crossref every 24 hours (last looked on 2026-12-01)"
            ),
            "{said}"
        );
        assert!(said.contains("the curators are told"), "{said}");
        assert!(
            said.contains(
                "A hold lasts at most 1096 days: this one reaches its limit on 2030-01-01"
            ),
            "{said}"
        );
        let date = HoldRow {
            kind: HoldKind::Date,
            target: "2027-06-01".into(),
            ..h
        };
        assert!(
            hold_note(
                &date,
                &HoldSettings {
                    auto_schedule: true,
                    ..s
                }
            )
            .starts_with("On 2027-06-01, the dataset goes into the next release batch by itself.")
        );
    }

    #[test]
    fn copies_say_how_far_they_are_and_change_the_key_as_they_go() {
        let mut t = TransferRow::queued("v", "tape", 2, 2048, 0);
        assert_eq!(
            copies(std::slice::from_ref(&t))[0].status,
            "waiting to start"
        );
        let waiting = live_key(DepositState::Released, None, std::slice::from_ref(&t));
        t.state = TransferState::Active;
        t.files_done = 1;
        t.bytes_done = 1024;
        assert_eq!(
            copies(std::slice::from_ref(&t))[0].status,
            "copying: 1 of 2 files, 1.0 kB of 2.0 kB"
        );
        let copying = live_key(DepositState::Released, None, std::slice::from_ref(&t));
        assert!(copying.is_some() && copying != waiting);
        t.state = TransferState::Succeeded;
        assert_eq!(live_key(DepositState::Released, None, &[t]), None);
    }
}
