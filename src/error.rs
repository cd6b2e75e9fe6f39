//! Errors. Internal code returns [`Result`]; every variant says what went wrong without
//! quoting profile values or tokens, so an error can be logged or shown as is.

pub use crate::xml::{XmlError, XmlErrorKind};

/// The crate's internal result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong inside the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A document from the server (or stored) is not valid Concur XML.
    #[error("malformed XML: {0}")]
    Xml(#[from] XmlError),
    /// The local database failed.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// The caller passed a value that cannot be accepted.
    #[error("invalid input for {field}: {reason}")]
    InvalidInput {
        /// The field (or argument) at fault.
        field: String,
        /// Why it was refused (never the value itself).
        reason: String,
    },
}

/// What went wrong with the local SQLite database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file exists but is not an SQLite database (nothing was changed or deleted).
    #[error("the file is not a profile-cache database (nothing was changed)")]
    NotADatabase,
    /// The database is corrupt (SQLite reported a malformed image).
    #[error("the database file is corrupt")]
    Corrupt,
    /// The database was written by a newer version of profile-cache; it was left untouched.
    #[error("the database has schema version {found}, newer than this build supports ({supported}); it was left untouched")]
    TooNew {
        /// The version found in the file.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// Another process holds a lock on the database for longer than the busy timeout.
    #[error("the database is locked by another connection or process")]
    Busy,
    /// The database file or its folder could not be opened or created.
    #[error("cannot open the database file: {0}")]
    Open(String),
    /// Any other SQLite failure.
    #[error("SQLite: {0}")]
    Sqlite(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => StoreError::NotADatabase,
            Some(ErrorCode::DatabaseCorrupt) => StoreError::Corrupt,
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy,
            Some(ErrorCode::CannotOpen) => StoreError::Open(e.to_string()),
            // SQLite's own messages name tables and columns, never bound values.
            _ => StoreError::Sqlite(e.to_string()),
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Store(e.into())
    }
}
