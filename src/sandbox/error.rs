//! The sandbox's typed errors. Messages name what went wrong, never a profile value or a
//! token.

use std::io;

/// The sandbox's result type.
pub type Result<T, E = SandboxError> = std::result::Result<T, E>;

/// Everything that can go wrong when configuring, starting or steering the sandbox.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The listening socket could not be bound (port in use, no permission …).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address that was tried.
        addr: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A configuration value is not acceptable.
    #[error("invalid sandbox configuration: {0}")]
    Config(String),
    /// A fault specification does not follow the documented syntax.
    #[error("invalid fault {spec:?}: {reason}")]
    FaultSyntax {
        /// The specification as given (fault specs hold no personal data).
        spec: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An admin call named a traveler the sandbox does not hold (or has deleted).
    #[error("no such traveler")]
    UnknownTraveler,
    /// The operation needs a running server, but it is stopped.
    #[error("the sandbox server is not running")]
    NotRunning,
    /// The operation needs a stopped server, but it is running.
    #[error("the sandbox server is already running")]
    AlreadyRunning,
    /// The HTTP client used for postbacks could not be built.
    #[error("HTTP client: {0}")]
    Client(String),
}
