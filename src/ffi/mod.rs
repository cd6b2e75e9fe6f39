//! The API across the FFI (uniffi): the [`ProfileCache`] object apps use from Kotlin and
//! Swift, its records ([`types`]), the public [`CacheError`], the traits the app
//! implements ([`callbacks`]), and — in test builds of the bindings only (feature
//! `ffi-sandbox`) — the in-process sandbox. The model records and enums are exported
//! where they are defined (`model`, `store`, `sync`).
//!
//! Build the library and generate the bindings with the same features: an export that
//! exists in one build and not the other fails the bindings' checksum check.

mod cache;
pub mod callbacks;
mod error;
#[cfg(feature = "ffi-sandbox")]
mod sandbox;
pub mod types;

pub use cache::ProfileCache;
pub use callbacks::{
    LogSink, NotificationListener, OutboxListener, SyncListener, TokenProvider, set_log_sink,
};
pub use error::{AppError, CacheError};
#[cfg(feature = "ffi-sandbox")]
pub use sandbox::TestSandbox;
