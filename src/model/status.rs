//! Every other state the catalogue stores, as closed enums. The database keeps them as
//! text (with CHECK constraints); `db` parses them once when it reads a row, so services
//! and pages compare variants, never strings.

use std::fmt;
use std::str::FromStr;

/// A stored value that is not one of its enum's names: the row is damaged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} '{value}'")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

/// One enum stored as text: its variants, their names, parsing, Display and serde as
/// those same names. The names are the variants in snake_case: serde and the OpenAPI
/// schema derive them that way (a per-variant rename passed through a macro is lost on
/// utoipa), and a test checks they agree with `as_str`.
macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident ($what:literal) { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(UnknownValue { kind: $what, value: s.to_owned() }),
                }
            }
        }

        /// How the catalogue's rows (`#[sqlx(try_from = "String")]`) read it.
        impl TryFrom<String> for $name {
            type Error = UnknownValue;
            fn try_from(s: String) -> Result<Self, UnknownValue> {
                s.parse()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // `pad`, so widths and alignment in format strings apply.
                f.pad(self.as_str())
            }
        }
    };
}

stored_enum! {
    /// Where one file of a deposit stands with the verifier.
    FileStatus ("file status") {
        /// Stored, not yet checked against the manifest.
        Received = "received",
        Verified = "verified",
        /// Missing or damaged: the deposit went back to its author.
        Failed = "failed",
    }
}

stored_enum! {
    /// A background job in the queue.
    JobState ("job state") {
        Queued = "queued",
        /// Leased by a worker.
        Running = "running",
        Succeeded = "succeeded",
        /// Out of attempts: an operator looks (`arca jobs`).
        Failed = "failed",
    }
}

stored_enum! {
    /// A release batch: takes datasets until its cut-off, then releases them together.
    BatchState ("release batch state") {
        Open = "open",
        Running = "running",
        Done = "done",
    }
}

stored_enum! {
    /// One dataset in a release batch.
    BatchItemState ("release item state") {
        Pending = "pending",
        Released = "released",
        Failed = "failed",
    }
}

stored_enum! {
    /// A copy of one version to one mirror.
    TransferState ("transfer state") {
        Queued = "queued",
        Active = "active",
        Succeeded = "succeeded",
        Failed = "failed",
    }
}

stored_enum! {
    /// Which versions a mirror receives.
    MirrorPolicy ("mirror policy") {
        /// Only released data: a public mirror.
        Released = "released",
        /// Everything, held data included: a private replica.
        All = "all",
    }
}

stored_enum! {
    /// A file format whose header the archive reads (recognised by its magic number).
    DataFormat ("data format") {
        /// A CBF image (miniCBF as Pilatus and Eiger detectors write it).
        Cbf = "cbf",
        /// An mmCIF/PDBx structure.
        Mmcif = "mmcif",
        /// An HDF5 file (NeXus/NXmx masters and their data files).
        Hdf5 = "hdf5",
    }
}

stored_enum! {
    /// How large a picture of an image file is drawn.
    PreviewSize ("preview size") {
        /// A thumbnail, at most 256 pixels on its longer edge.
        Small = "small",
        /// A view, at most 1024 pixels.
        Large = "large",
    }
}

stored_enum! {
    /// What one fixity check of one stored copy found.
    FixityOutcome ("fixity outcome") {
        Ok = "ok",
        Missing = "missing",
        Corrupt = "corrupt",
        /// Bad, and rewritten from a good copy.
        Repaired = "repaired",
        /// Bad, and no good copy was found.
        Unrepairable = "unrepairable",
    }
}

stored_enum! {
    /// Where a dataset's DOI is registered.
    DoiProvider ("DOI provider") {
        /// Reserved in this archive only: it does not resolve (trials, laptops).
        Local = "local",
        Datacite = "datacite",
    }
}

stored_enum! {
    /// What a hold waits for.
    HoldKind ("hold kind") {
        Date = "date",
        /// An article's DOI, looked up at Crossref.
        Article = "article",
        /// A PDB entry, looked up at the PDB.
        Pdb = "pdb",
    }
}

stored_enum! {
    /// What a notification is about.
    NoticeKind ("notification kind") {
        /// Written before notifications had kinds.
        Notice = "notice",
        /// A deposit waits for a curator.
        Submitted = "submitted",
        /// Verification found a missing or damaged file.
        VerificationFailed = "verification_failed",
        ChangesRequested = "changes_requested",
        Approved = "approved",
        DoiRegistered = "doi_registered",
        OnHold = "on_hold",
        /// The depositor says the article is out.
        PublicationClaimed = "publication_claimed",
        PublicationFound = "publication_found",
        /// A hold nears its longest allowed length.
        HoldReminder = "hold_reminder",
        Scheduled = "scheduled",
        Released = "released",
        Withdrawn = "withdrawn",
        /// A reviewer opened a private link for the first time.
        ReviewerLinkUsed = "reviewer_link_used",
        /// A copy to a mirror site failed for good.
        TransferFailed = "transfer_failed",
        /// A stored copy is missing or damaged.
        FixityProblem = "fixity_problem",
    }
}

impl NoticeKind {
    /// The subject line of its mail (after the archive's name).
    pub fn subject(self) -> &'static str {
        match self {
            Self::Notice => "a notification",
            Self::Submitted => "a deposit waits for review",
            Self::VerificationFailed => "verification found a problem",
            Self::ChangesRequested => "changes requested",
            Self::Approved => "deposit approved",
            Self::DoiRegistered => "DOI registered",
            Self::OnHold => "deposit on hold",
            Self::PublicationClaimed => "an article is out: please confirm",
            Self::PublicationFound => "publication found",
            Self::HoldReminder => "a hold nears its end",
            Self::Scheduled => "scheduled for release",
            Self::Released => "dataset released",
            Self::Withdrawn => "dataset withdrawn",
            Self::ReviewerLinkUsed => "a reviewer opened your data",
            Self::TransferFailed => "a mirror transfer failed",
            Self::FixityProblem => "a stored copy is damaged or missing",
        }
    }
}

stored_enum! {
    /// Which notifications a person also gets by mail.
    MailNotices ("mail preference") {
        /// Each notification as it happens.
        All = "all",
        /// One mail a day listing what happened.
        Digest = "digest",
        None = "none",
    }
}

stored_enum! {
    /// What a mailed link is for.
    LinkPurpose ("link purpose") {
        PasswordReset = "password_reset",
        AddressCheck = "address_check",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agree<T>(all: &[T])
    where
        T: Copy + std::fmt::Debug + PartialEq + fmt::Display + FromStr + serde::Serialize,
        <T as FromStr>::Err: std::fmt::Debug,
    {
        for s in all {
            assert_eq!(s.to_string().parse::<T>().unwrap(), *s);
            assert_eq!(
                serde_json::to_string(s).unwrap(),
                format!("\"{s}\""),
                "{s:?}"
            );
        }
    }

    #[test]
    fn names_round_trip_and_strangers_are_named() {
        agree(FileStatus::ALL);
        agree(JobState::ALL);
        agree(BatchState::ALL);
        agree(BatchItemState::ALL);
        agree(TransferState::ALL);
        agree(MirrorPolicy::ALL);
        agree(FixityOutcome::ALL);
        agree(DataFormat::ALL);
        agree(PreviewSize::ALL);
        agree(DoiProvider::ALL);
        agree(HoldKind::ALL);
        agree(NoticeKind::ALL);
        agree(MailNotices::ALL);
        agree(LinkPurpose::ALL);
        let e = "paused".parse::<TransferState>().unwrap_err();
        assert_eq!(e.to_string(), "unknown transfer state 'paused'");
        assert!("Done".parse::<BatchState>().is_err());
    }
}

stored_enum! {
    /// How usage was generated (COUNTER's Access_Method).
    AccessMethod ("access method") {
        /// A person in a browser.
        Regular = "regular",
        /// A script or download tool (the machine list, or an API token).
        Machine = "machine",
    }
}

stored_enum! {
    /// What a reader did with a dataset (COUNTER's usage categories).
    Activity ("usage activity") {
        /// Looked at it: the landing page, a metadata export, a citation.
        Investigation = "investigation",
        /// Took the data: a file or the bag. Also an investigation.
        Request = "request",
    }
}
