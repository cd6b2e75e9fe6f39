//! Access tokens: the [`TokenProvider`] the host app implements, a fixed [`StaticToken`],
//! and the rule that a refused token is refreshed exactly once.

use std::fmt;

/// Why a token provider could not give a token. Its text must not contain the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TokenError {
    /// What went wrong, for logs and error reports.
    pub message: String,
    /// The token server could not be reached (or answered 5xx/429): the request is
    /// retried like any network failure and ends as offline, not unauthorized.
    pub transient: bool,
}

impl TokenError {
    /// A token error with a message: no token can be had (the grant was refused, no user
    /// is signed in). Ends the operation as unauthorized.
    pub fn new(message: impl Into<String>) -> Self {
        TokenError {
            message: message.into(),
            transient: false,
        }
    }

    /// The token server could not be reached: retried, then offline.
    pub fn unreachable(message: impl Into<String>) -> Self {
        TokenError {
            message: message.into(),
            transient: true,
        }
    }
}

/// Gives the library access tokens. The host app implements it (tokens live in its secure
/// storage), or uses the built-in [`OAuthProvider`](super::OAuthProvider).
///
/// Called from a blocking-capable thread, never from the caller's UI thread: an
/// implementation may do network I/O to refresh.
pub trait TokenProvider: Send + Sync {
    /// A token to send as `Authorization: Bearer …`.
    ///
    /// `acting_for` names the traveler (login) a request acts for, when it acts for one
    /// (loyalty updates); `None` for company-level requests. `force_refresh` is set after
    /// the server refused the previous token (401/403): return a fresh one. A second
    /// refusal ends the operation with an unauthorized error.
    fn access_token(
        &self,
        acting_for: Option<&str>,
        force_refresh: bool,
    ) -> Result<String, TokenError>;

    /// The API base URL the tokens belong to (the `geolocation` of Concur's token
    /// response), when the provider knows it: requests then go there instead of the
    /// configured base URL. Asked after each new token. Default: none.
    fn geolocation(&self) -> Option<String> {
        None
    }
}

/// A fixed bearer token (e.g. from `--token` or an environment variable). Refreshing
/// gives the same token, so an expired one ends in an unauthorized error.
#[derive(Clone)]
pub struct StaticToken(String);

impl StaticToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        StaticToken(token.into())
    }
}

impl fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaticToken(…)")
    }
}

impl TokenProvider for StaticToken {
    fn access_token(&self, _: Option<&str>, _: bool) -> Result<String, TokenError> {
        Ok(self.0.clone())
    }
}
