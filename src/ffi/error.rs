//! [`CacheError`]: the small public error of the FFI, one variant per thing an app can do
//! about a failure, mapped from the internal [`Error`](crate::Error); and [`AppError`],
//! what the app's own code (a token provider, a listener) reports back.
//!
//! Not flat on purpose: the fields an app branches on (`retry_after_ms`, `status`,
//! `field`) are exposed. Uniffi builds a Kotlin exception's message from the fields, so
//! every variant also carries `detail`, the library's sentence for it (first, so the
//! message starts with it). No detail ever quotes a profile value or a token. (`message`
//! cannot be the name: it clashes with `Throwable.message` in Kotlin.)

use crate::error::{Error, StoreError};

/// A failure an app can act on. Every variant's `detail` is a sentence safe to log or show
/// (no profile values, no tokens).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum CacheError {
    /// SAP Concur could not be reached; the cache keeps working offline. Retry later
    /// (e.g. when the network comes back).
    #[error("{detail}")]
    Offline {
        /// What failed, in general terms.
        detail: String,
    },
    /// The access token was refused (also after one refresh), or the token provider
    /// failed: sign the user in again.
    #[error("{detail}")]
    Unauthorized {
        /// What was refused.
        detail: String,
        /// The HTTP status (401 or 403); `None` when the token provider failed.
        status: Option<u16>,
    },
    /// SAP Concur asks to slow down: retry after `retry_after_ms`.
    #[error("{detail}")]
    RateLimited {
        /// The sentence.
        detail: String,
        /// How long to wait, in milliseconds.
        retry_after_ms: u64,
    },
    /// SAP Concur answered with an error status.
    #[error("{detail}")]
    Server {
        /// The sentence (with the correlation id for support, when there was one).
        detail: String,
        /// The HTTP status.
        status: u16,
    },
    /// An argument was refused; `field` names it (the value itself is never quoted).
    #[error("{detail}")]
    InvalidInput {
        /// The sentence.
        detail: String,
        /// The field or argument at fault.
        field: String,
        /// Why it was refused.
        reason: String,
    },
    /// The item does not exist (in the cache, or on the server).
    #[error("{detail}")]
    NotFound {
        /// The sentence.
        detail: String,
    },
    /// The local database failed (disk full, locked by another process, corrupt…).
    #[error("{detail}")]
    Storage {
        /// The sentence.
        detail: String,
        /// SQLite's or the store's reason, without values.
        reason: String,
    },
    /// The operation was cancelled (`cancel()`, or the cache was shut down).
    #[error("{detail}")]
    Cancelled {
        /// The sentence.
        detail: String,
    },
    /// This version cannot use what it found: a database written by a newer version, or
    /// a document from the server it cannot read. Update the app.
    #[error("{detail}")]
    Incompatible {
        /// The sentence.
        detail: String,
    },
    /// The cache was shut down (`shutdown()` or `close()`); open a new one.
    #[error("{detail}")]
    Closed {
        /// The sentence.
        detail: String,
    },
}

impl CacheError {
    pub(crate) fn closed() -> Self {
        CacheError::Closed {
            detail: "the cache was shut down".into(),
        }
    }

    pub(crate) fn invalid(field: &str, reason: &str) -> Self {
        Error::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
        .into()
    }
}

impl From<Error> for CacheError {
    fn from(e: Error) -> Self {
        let detail = e.to_string();
        match e {
            Error::Offline { .. } => CacheError::Offline { detail },
            Error::Unauthorized { status, .. } => CacheError::Unauthorized {
                detail,
                status: Some(status),
            },
            Error::TokenProvider(_) => CacheError::Unauthorized {
                detail,
                status: None,
            },
            Error::RateLimited { retry_after_ms } => CacheError::RateLimited {
                detail,
                retry_after_ms,
            },
            Error::Server { status, .. } => CacheError::Server { detail, status },
            Error::InvalidInput { field, reason } => CacheError::InvalidInput {
                detail,
                field,
                reason,
            },
            Error::NotFound => CacheError::NotFound { detail },
            Error::Cancelled => CacheError::Cancelled { detail },
            Error::Xml(_) | Error::Store(StoreError::TooNew { .. }) => {
                CacheError::Incompatible { detail }
            }
            Error::Store(s) => CacheError::Storage {
                detail,
                reason: s.to_string(),
            },
        }
    }
}

/// What the app's code (a token provider, a listener) reports when it fails. An
/// exception thrown in Kotlin or Swift arrives as `Failed` too, instead of a crash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum AppError {
    /// The app's code failed.
    #[error("{detail}")]
    Failed {
        /// What failed (must not contain a token).
        detail: String,
    },
    /// The app's code could not reach its server (a token provider refreshing over a
    /// dead network): the library retries, then reports `CacheError.Offline`.
    #[error("{detail}")]
    Offline {
        /// What failed (must not contain a token).
        detail: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for AppError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        AppError::Failed {
            detail: format!("the app's callback threw: {}", e.reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_keep_their_kind() {
        let e: CacheError = Error::InvalidInput {
            field: "membership.account_no".into(),
            reason: "must not be empty".into(),
        }
        .into();
        assert!(
            matches!(&e, CacheError::InvalidInput { field, .. } if field == "membership.account_no")
        );
        assert!(e.to_string().contains("membership.account_no"));
        let e: CacheError = Error::RateLimited {
            retry_after_ms: 1500,
        }
        .into();
        assert!(matches!(
            e,
            CacheError::RateLimited {
                retry_after_ms: 1500,
                ..
            }
        ));
        let e: CacheError = Error::Store(StoreError::TooNew {
            found: 9,
            supported: 3,
        })
        .into();
        assert!(matches!(e, CacheError::Incompatible { .. }));
        let e: CacheError = Error::Store(StoreError::Busy).into();
        assert!(matches!(e, CacheError::Storage { .. }));
        let e: CacheError = Error::TokenProvider("no session".into()).into();
        assert!(matches!(e, CacheError::Unauthorized { status: None, .. }));
    }
}
