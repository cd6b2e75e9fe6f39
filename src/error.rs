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
    /// The server could not be reached (no network, DNS failure, connection refused or
    /// reset, timeouts) after the retries the policy allows.
    #[error("SAP Concur is unreachable ({reason}); the cache keeps working offline")]
    Offline {
        /// What failed, in general terms (never a URL with parameters or a token).
        reason: String,
    },
    /// The token was refused, also after one refresh.
    #[error("the access token was refused by SAP Concur (HTTP {status}), also after a refresh")]
    Unauthorized {
        /// 401 or 403.
        status: u16,
        /// The response's `Concur-Correlationid`, for support requests.
        correlation_id: Option<String>,
    },
    /// The server kept answering 429 after the retries the policy allows.
    #[error("SAP Concur asks to slow down (HTTP 429); retry in {retry_after_ms} ms")]
    RateLimited {
        /// How long the server asked to wait (or our backoff's estimate).
        retry_after_ms: u64,
    },
    /// The server answered with an error status.
    #[error("SAP Concur answered HTTP {status}{}", correlation_id.as_deref().map(|c| format!(" (correlation id {c})")).unwrap_or_default())]
    Server {
        /// The HTTP status.
        status: u16,
        /// The response's `Concur-Correlationid`, for support requests.
        correlation_id: Option<String>,
        /// The server's `Error/Message` kind, when it sent one (e.g. `Invalid User`),
        /// without the user it names.
        message: Option<String>,
    },
    /// The token provider (the host app's code) failed.
    #[error("the token provider failed: {0}")]
    TokenProvider(String),
    /// The requested item does not exist (in the cache or on the server).
    #[error("not found")]
    NotFound,
    /// The operation was cancelled by the caller.
    #[error("cancelled")]
    Cancelled,
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
    #[error(
        "the database has schema version {found}, newer than this build supports ({supported}); it was left untouched"
    )]
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

impl Error {
    /// Whether retrying the same request later may succeed (network trouble, rate
    /// limits, server-side failures).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Offline { .. } | Error::RateLimited { .. } => true,
            Error::Server { status, .. } => matches!(status, 500 | 502 | 503 | 504),
            _ => false,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Store(e.into())
    }
}
