//! # profile-cache
//!
//! An offline copy of SAP Concur travel profiles for phones and desktops.
//!
//! The crate is layered (each module only uses those below it):
//!
//! * [`model`]: plain data types for profiles, summaries, loyalty updates, notifications;
//! * [`xml`]: tolerant parsing and schema-ordered writing of Concur's XML documents;
//! * [`store`]: the local SQLite store (migrations, lookups, search);
//! * [`client`]: the HTTP client (auth, retries); [`sync`]: the pull engine, the loyalty
//!   outbox's sending side ([`sync::push`]) and change notifications ([`sync::notify`]);
//! * [`ProfileCache`]: the facade apps use; [`ffi`]: the same API for Kotlin and Swift;
//!   [`logging`]: what the library logs (never profile values or tokens) and the bridge to
//!   an app's own logging.
//! * `sandbox` (feature `sandbox`): a local fake of the Concur API and its test data.
#![warn(missing_docs)]

mod cache;
pub mod cancel;
pub mod client;
pub mod config;
pub mod error;
pub mod ffi;
pub mod logging;
pub mod model;
pub mod store;
pub mod sync;
pub mod xml;

#[cfg(feature = "sandbox")]
pub mod sandbox;

pub use cache::{ProfileCache, SyncStatus};
pub use config::{CacheConfig, CallerRole, HttpPolicy, OutboxPolicy};
pub use error::{Error, Result};
pub use store::CachedProfile;

uniffi::setup_scaffolding!();
