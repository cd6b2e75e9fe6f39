//! Synchronisation with SAP Concur: `pull` brings profiles in (summary feed, then full
//! profiles); `progress` reports on it; [`push`] sends the loyalty outbox; [`notify`]
//! handles change notifications.

pub mod notify;
pub(crate) mod progress;
pub(crate) mod pull;
pub mod push;

pub use notify::{NotificationKind, NotificationListener, NotificationOutcome, SubscriptionScope};
pub use progress::{SyncListener, SyncPhase, SyncProgress, SyncReport};
pub use push::{FlushReport, OutboxListener};

/// Options of one [`ProfileCache::sync`](crate::ProfileCache::sync). Every field has a
/// default in Kotlin and Swift (`SyncOptions()`: an incremental sync).
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct SyncOptions {
    /// Crawl from the beginning of time and re-fetch every profile.
    #[uniffi(default)]
    pub full: bool,
    /// Crawl from the beginning of time and remove profiles the server no longer lists
    /// (only after a consistent pass).
    #[uniffi(default)]
    pub reconcile: bool,
    /// Only these travel configs (`travelConfigs`); each filter keeps its own checkpoint.
    #[uniffi(default)]
    pub travel_configs: Option<Vec<String>>,
    /// Profiles fetched at once (default: the cache's configuration, 8).
    #[uniffi(default)]
    pub concurrency: Option<u32>,
    /// Summary page size, 1..=200 (default: the cache's configuration, 200).
    #[uniffi(default)]
    pub page_size: Option<u32>,
}

/// Runs blocking store work off the async runtime's threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> crate::Result<T> + Send + 'static,
) -> crate::Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|_| {
        crate::Error::Store(crate::error::StoreError::Sqlite(
            "a storage task panicked".into(),
        ))
    })?
}
