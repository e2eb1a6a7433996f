use crate::db::DbError;
use crate::model::metadata::FieldError;
use crate::model::state::TransitionError;
use crate::storage::StorageError;

/// Why an operation did not happen. Each variant says what a user can do about it.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("a valid API token is required")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// Bad input in one named field or header.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Bad metadata: one entry per field, named by JSON Pointer.
    #[error("the metadata has {}", crate::model::words::count(.0.len() as u64, "problem", "problems"))]
    InvalidMetadata(Vec<FieldError>),
    #[error("{0}")]
    TooLarge(String),
    /// Over a limit on work at once: try again after the given time.
    #[error("{message}")]
    Busy {
        message: String,
        retry_after_seconds: u64,
    },
    /// A bag that failed BagIt validation: every problem found.
    #[error("the bag is not valid: {}", .0.join("; "))]
    InvalidBag(Vec<String>),
    /// tus: the PATCH did not start where the upload stands.
    #[error("the upload is at offset {expected}, not {got}")]
    OffsetMismatch { expected: i64, got: i64 },
    /// tus: bytes acknowledged earlier are missing from this server's staging disk (a
    /// lost volume, or another server's disk); the upload was set back to what is here.
    #[error(
        "this server holds only {resume_at} of the {acknowledged} bytes acknowledged for this upload (its staging disk was lost, or the upload went to a server that does not share it): the upload now stands at offset {resume_at}, send the rest from there"
    )]
    StagingLost { resume_at: i64, acknowledged: i64 },
    #[error("{0}")]
    ChecksumMismatch(String),
    #[error("the upload has expired")]
    Gone,
    /// A withdrawn dataset: its record stays, its files are no longer served.
    #[error("this dataset was withdrawn: {0}")]
    Withdrawn(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("disk: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Internal(String),
    /// A service Arca depends on (an identity provider) did not answer: try later.
    #[error("{0}")]
    Upstream(String),
    /// Part of the work is done and the rest will be retried (a release batch with
    /// failed items).
    #[error("{0}")]
    Incomplete(String),
}

impl ServiceError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(DbError::Sqlx(e))
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;
