//! The pure core: what a dataset is and what may happen to it. No I/O, no async.

pub mod bagit;
pub mod cadence;
pub mod checksum;
pub mod date;
pub mod doi;
pub mod hold;
pub mod identifiers;
pub mod ids;
pub mod manifest;
pub mod metadata;
pub mod path;
pub mod role;
pub mod state;
pub mod status;
pub mod tar_scan;
pub mod usage;
pub mod words;

pub use checksum::{Algorithm, Checksum};
pub use path::DatasetPath;
pub use role::Role;
pub use state::{Action, DepositState};
pub use status::{
    AccessMethod, Activity, BatchItemState, BatchState, DataFormat, DoiProvider, FileStatus,
    FixityOutcome, HoldKind, JobState, LinkPurpose, MailNotices, MirrorPolicy, NoticeKind,
    PreviewSize, TransferState,
};
