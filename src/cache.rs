//! [`ProfileCache`]: the one public facade. Open it with a [`CacheConfig`] and a
//! [`TokenProvider`]; sync, query, and close. Queries are quick local reads that never
//! wait for a running sync (they see its last committed batch).

use crate::cancel::CancelToken;
use crate::client::{ConcurClient, TokenProvider};
use crate::config::CacheConfig;
use crate::model::Timestamp;
use crate::store::{Counts, SearchHit, Store, StoredProfile, StoredSummary, SummaryFilter};
use crate::sync::progress::Reporter;
use crate::sync::pull::Pull;
use crate::sync::{SyncListener, SyncOptions, SyncProgress, SyncReport};
use crate::{Error, Result};
use chrono::Utc;
use std::sync::{Arc, Mutex};

/// A snapshot of the cache and its sync, for a status screen.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SyncStatus {
    /// Whether a sync is running now.
    pub running: bool,
    /// The running sync's progress.
    pub progress: Option<SyncProgress>,
    /// When the last sync succeeded.
    pub last_success_at: Option<Timestamp>,
    /// When the last sync started.
    pub last_attempt_at: Option<Timestamp>,
    /// How the last sync failed (an error description without profile values), if it did.
    pub last_error: Option<String>,
    /// The checkpoint of the unfiltered feed (`LastModifiedDate` of the next crawl,
    /// before the overlap).
    pub checkpoint: Option<String>,
    /// Row counts.
    pub counts: Counts,
    /// Profiles whose last fetch failed (retried on later syncs).
    pub failed: u64,
}

struct Inner {
    store: Arc<Store>,
    client: Arc<ConcurClient>,
    config: CacheConfig,
    sync_lock: tokio::sync::Mutex<()>,
    running: Mutex<Option<(CancelToken, Arc<Reporter>)>>,
}

/// An offline cache of SAP Concur travel profiles. Cheap to clone (shared inside);
/// `Send + Sync`, safe to use from many threads.
#[derive(Clone)]
pub struct ProfileCache {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ProfileCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileCache")
            .field("db", &self.inner.config.db_path)
            .finish_non_exhaustive()
    }
}

impl ProfileCache {
    /// Opens (or creates) the cache at `config.db_path`.
    pub fn open(config: CacheConfig, tokens: Arc<dyn TokenProvider>) -> Result<Self> {
        let store = Arc::new(Store::open(&config.db_path)?);
        let client = Arc::new(ConcurClient::new(
            &config.base_url,
            tokens,
            config.http.clone(),
        )?);
        Ok(ProfileCache {
            inner: Arc::new(Inner {
                store,
                client,
                config,
                sync_lock: tokio::sync::Mutex::new(()),
                running: Mutex::new(None),
            }),
        })
    }

    /// The local store, for what the facade does not cover.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The HTTP client.
    pub fn client(&self) -> &ConcurClient {
        &self.inner.client
    }

    /// Brings the cache up to date with SAP Concur. One sync runs at a time (a second call
    /// waits for the first). Resumes where an interrupted sync stopped.
    pub async fn sync(
        &self,
        options: SyncOptions,
        listener: Option<Arc<dyn SyncListener>>,
    ) -> Result<SyncReport> {
        let _guard = self.inner.sync_lock.lock().await;
        let cancel = CancelToken::new();
        let reporter = Arc::new(Reporter::new(listener));
        *self.lock_running() = Some((cancel.clone(), reporter.clone()));
        let store = self.inner.store.clone();
        let now = crate::xml::format_timestamp(&Utc::now());
        store.set_meta("sync.last_attempt_at", &now)?;
        let pull = Pull {
            store: store.clone(),
            client: self.inner.client.clone(),
            config: self.inner.config.clone(),
            cancel,
            reporter,
        };
        let result = pull.run(&options).await;
        *self.lock_running() = None;
        match &result {
            Ok(_) => {
                store.set_meta("sync.last_success_at", &now)?;
                store.delete_meta("sync.last_error")?;
            }
            Err(e) => store.set_meta("sync.last_error", &e.to_string())?,
        }
        result
    }

    /// Stops a running sync within about a second; it ends with [`Error::Cancelled`] and
    /// the next [`Self::sync`] resumes where it stopped. Does nothing when none runs.
    pub fn cancel(&self) {
        if let Some((cancel, _)) = &*self.lock_running() {
            cancel.cancel();
        }
    }

    /// A snapshot of the cache and its sync.
    pub fn status(&self) -> Result<SyncStatus> {
        let store = &self.inner.store;
        let (running, progress) = match &*self.lock_running() {
            Some((_, reporter)) => (true, Some(reporter.snapshot())),
            None => (false, None),
        };
        let time = |key: &str| -> Result<Option<Timestamp>> {
            Ok(store
                .get_meta(key)?
                .as_deref()
                .and_then(crate::xml::parse_timestamp))
        };
        Ok(SyncStatus {
            running,
            progress,
            last_success_at: time("sync.last_success_at")?,
            last_attempt_at: time("sync.last_attempt_at")?,
            last_error: store.get_meta("sync.last_error")?,
            checkpoint: store.get_meta("sync.checkpoint")?,
            counts: store.counts()?,
            failed: store.fetch_failures()?.len() as u64,
        })
    }

    /// Fetches one traveler's profile now and stores it (e.g. after a change
    /// notification, or when an agent opens a profile and is online).
    pub async fn refresh_profile(&self, login: &str) -> Result<StoredProfile> {
        let cancel = CancelToken::new();
        let (xml, profile) = self.inner.client.profile(login, &cancel).await?;
        let store = self.inner.store.clone();
        let login = profile.login_id.clone().unwrap_or_else(|| login.to_owned());
        tokio::task::spawn_blocking(move || {
            // The document is at least as new as any summary seen before the request.
            let known = store.summary(&login)?.and_then(|s| s.last_modified);
            store.upsert_profiles(&[crate::store::NewProfile {
                login: &login,
                sync_id: None,
                status: None,
                server_modified: known,
                fetched_at: Utc::now(),
                xml: &xml,
                profile: &profile,
            }])?;
            store.get_by_login(&login)?.ok_or(Error::NotFound)
        })
        .await
        .map_err(|_| {
            Error::Store(crate::error::StoreError::Sqlite(
                "a storage task panicked".into(),
            ))
        })?
    }

    /// The stored profile of `login`.
    pub fn profile(&self, login: &str) -> Result<Option<StoredProfile>> {
        self.inner.store.get_by_login(login)
    }

    /// The stored profile with this `XmlProfileSyncID`.
    pub fn profile_by_sync_id(&self, sync_id: &str) -> Result<Option<StoredProfile>> {
        self.inner.store.get_by_sync_id(sync_id)
    }

    /// The stored profile with this UUID.
    pub fn profile_by_uuid(&self, uuid: &str) -> Result<Option<StoredProfile>> {
        self.inner.store.get_by_uuid(uuid)
    }

    /// Ranked matches for what an agent typed (names, e-mail, login, employee ID).
    pub fn search(&self, query: &str, limit: u32) -> Result<Vec<SearchHit>> {
        self.inner.store.search(query, limit)
    }

    /// Stored summaries matching `filter`.
    pub fn list(&self, filter: &SummaryFilter) -> Result<Vec<StoredSummary>> {
        self.inner.store.list_summaries(filter)
    }

    /// Closes the cache: cancels a running sync. (Dropping the last clone closes the
    /// database connections.)
    pub fn close(self) {
        self.cancel();
    }

    fn lock_running(&self) -> std::sync::MutexGuard<'_, Option<(CancelToken, Arc<Reporter>)>> {
        self.inner.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}
