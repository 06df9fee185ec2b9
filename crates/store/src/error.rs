//! The store's error type.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::EventId;

/// The error an underlying library reported, kept as it was (its message is part of ours).
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// What can go wrong talking to PostgreSQL. Messages never contain secrets or the database URL.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot connect to the database: {0}")]
    Connect(Cause),
    #[error("no database connection available: {0}")]
    Pool(Cause),
    #[error("migration failed: {0}")]
    Migration(Cause),
    /// The worker no longer holds the event's lease (another worker took it over, or the event
    /// was superseded): nothing was changed.
    #[error("lease on event {event} lost: another worker owns it now")]
    LeaseLost { event: EventId },
    /// A request the store refuses before running it (for example a bucket asked for more
    /// permits than it can ever hold), or a statement that kept losing races.
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error(transparent)]
    Query(#[from] DieselError),
}

impl StoreError {
    /// Whether the database is unreachable or unusable right now (answer 503 / retry later),
    /// as opposed to a query the database refused.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Connect(_) | Self::Pool(_) => true,
            Self::Query(DieselError::DatabaseError(kind, _)) => matches!(
                kind,
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand
            ),
            Self::Query(DieselError::BrokenTransactionManager) => true,
            _ => false,
        }
    }
}

/// Whether a statement lost a race it may simply be run again after: a unique violation on
/// `constraint`, a serialization failure or a deadlock.
pub(crate) fn is_retryable_race(error: &DieselError, constraint: &str) -> bool {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            info.constraint_name() == Some(constraint)
        }
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            info.message().starts_with("deadlock detected")
        }
        _ => false,
    }
}
