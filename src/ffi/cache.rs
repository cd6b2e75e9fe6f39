//! The exported `ProfileCache` object: a thin shell over [`crate::ProfileCache`]. Quick
//! local reads are blocking methods (they never wait for a running sync); everything that
//! talks to the network is async (Kotlin `suspend`, Swift `async`).
//!
//! Cancelling a Kotlin coroutine or a Swift task does not stop the Rust work: call
//! [`ProfileCache::cancel`] (a running sync) or [`ProfileCache::shutdown`] (everything).

use super::CacheError;
use super::callbacks::{
    NotificationListener, Notifications, Outbox, OutboxListener, Progress, SyncListener,
    TokenProvider, Tokens,
};
use super::types::{CacheConfig, CachedProfile, ListFilter, ProfileListing, SearchHit, SyncStatus};
use crate::model::LoyaltyMembership;
use crate::store::{
    ItineraryEvent, OutboxCounts, OutboxEvent, QueuedUpdate, Resolution, UpdateFilter,
};
use crate::sync::{
    FlushReport, NotificationKind, NotificationOutcome, SubscriptionScope, SyncOptions, SyncReport,
};
use std::sync::{Arc, RwLock};

type Result<T> = std::result::Result<T, CacheError>;

/// An offline cache of SAP Concur travel profiles. Safe to use from many threads at
/// once. Close it when done (`use {}` in Kotlin): that also cancels a running sync and
/// flush.
#[derive(uniffi::Object)]
pub struct ProfileCache {
    inner: RwLock<Option<crate::ProfileCache>>,
}

impl std::fmt::Debug for ProfileCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileCache").finish_non_exhaustive()
    }
}

impl ProfileCache {
    fn cache(&self) -> Result<crate::ProfileCache> {
        self.inner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(CacheError::closed)
    }
}

impl Drop for ProfileCache {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[uniffi::export]
impl ProfileCache {
    /// Opens (or creates) the cache at `config.db_path`. Quick (opens the database, runs
    /// migrations); no network.
    #[uniffi::constructor]
    pub fn open(config: CacheConfig, tokens: Arc<dyn TokenProvider>) -> Result<Arc<Self>> {
        let config = crate::CacheConfig::try_from(config)?;
        let cache = crate::ProfileCache::open(config, Arc::new(Tokens(tokens)))?;
        Ok(Arc::new(ProfileCache {
            inner: RwLock::new(Some(cache)),
        }))
    }

    /// Cancels a running sync and a running flush, and makes every later call fail with
    /// `CacheError.Closed`. Closing the object (`close()`/`use {}` in Kotlin) does this
    /// too. Calling it again does nothing.
    pub fn shutdown(&self) {
        let cache = self.inner.write().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(cache) = cache {
            cache.close();
        }
    }

    /// Stops a running sync within about a second (it ends with `CacheError.Cancelled`;
    /// the next sync resumes where it stopped). Does nothing when none runs.
    pub fn cancel(&self) -> Result<()> {
        self.cache()?.cancel();
        Ok(())
    }

    /// A snapshot of the cache and its sync.
    pub fn status(&self) -> Result<SyncStatus> {
        Ok(self.cache()?.status()?.into())
    }

    /// The stored profile of `login` (with pending loyalty values shown), or `null`.
    pub fn profile(&self, login: String) -> Result<Option<CachedProfile>> {
        Ok(self.cache()?.profile(&login)?.map(Into::into))
    }

    /// The stored profile with this `XmlProfileSyncID`, or `null`.
    pub fn profile_by_sync_id(&self, sync_id: String) -> Result<Option<CachedProfile>> {
        Ok(self.cache()?.profile_by_sync_id(&sync_id)?.map(Into::into))
    }

    /// The stored profile with this UUID, or `null`.
    pub fn profile_by_uuid(&self, uuid: String) -> Result<Option<CachedProfile>> {
        Ok(self.cache()?.profile_by_uuid(&uuid)?.map(Into::into))
    }

    /// Ranked matches for what an agent typed (name prefixes, e-mail, login, employee
    /// ID), at most `limit` (and never more than 500).
    pub fn search(&self, query: String, limit: u32) -> Result<Vec<SearchHit>> {
        Ok(self
            .cache()?
            .search(&query, limit)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// The stored listings (summaries of the change feed) matching `filter`.
    pub fn list(&self, filter: ListFilter) -> Result<Vec<ProfileListing>> {
        Ok(self
            .cache()?
            .list(&filter.into())?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Queues a loyalty membership update for `login` and returns its id. Validated first
    /// (`CacheError.InvalidInput` names the field; nothing is stored), then stored
    /// durably: the profile shows it at once. Sent by `flush_updates` or `kick`.
    pub fn queue_loyalty_update(
        &self,
        login: String,
        membership: LoyaltyMembership,
    ) -> Result<i64> {
        Ok(self.cache()?.queue_loyalty_update(&login, membership)?)
    }

    /// Queued updates matching `filter`, oldest first.
    pub fn updates(&self, filter: UpdateFilter) -> Result<Vec<QueuedUpdate>> {
        Ok(self.cache()?.updates(&filter)?)
    }

    /// One queued update, or `null`.
    pub fn update(&self, id: i64) -> Result<Option<QueuedUpdate>> {
        Ok(self.cache()?.update(id)?)
    }

    /// Makes a failed update pending again (due now).
    pub fn retry_update(&self, id: i64) -> Result<QueuedUpdate> {
        Ok(self.cache()?.retry_update(id)?)
    }

    /// Removes an update (not while it is being sent). Returns whether it existed.
    pub fn discard_update(&self, id: i64) -> Result<bool> {
        Ok(self.cache()?.discard_update(id)?)
    }

    /// Resolves a conflict; returns the update, or `null` when it was dropped.
    pub fn resolve_conflict(
        &self,
        id: i64,
        resolution: Resolution,
    ) -> Result<Option<QueuedUpdate>> {
        Ok(self.cache()?.resolve_conflict(id, resolution)?)
    }

    /// Queued updates by state.
    pub fn outbox_status(&self) -> Result<OutboxCounts> {
        Ok(self.cache()?.outbox_status()?)
    }

    /// Up to `limit` outbox state changes after sequence number `seq`: how an app that
    /// missed events catches up.
    pub fn outbox_events_since(&self, seq: u64, limit: u32) -> Result<Vec<OutboxEvent>> {
        Ok(self.cache()?.outbox_events_since(seq, limit)?)
    }

    /// Sets (or removes, with `null`) the listener told about every outbox state change.
    pub fn set_outbox_listener(&self, listener: Option<Arc<dyn OutboxListener>>) -> Result<()> {
        let l = listener.map(|l| Arc::new(Outbox(l)) as Arc<dyn crate::sync::OutboxListener>);
        self.cache()?.set_outbox_listener(l);
        Ok(())
    }

    /// Sets (or removes) the listener told about new itinerary events.
    pub fn set_notification_listener(
        &self,
        listener: Option<Arc<dyn NotificationListener>>,
    ) -> Result<()> {
        let l = listener
            .map(|l| Arc::new(Notifications(l)) as Arc<dyn crate::sync::NotificationListener>);
        self.cache()?.set_notification_listener(l);
        Ok(())
    }

    /// The latest `limit` itinerary events received, newest first.
    pub fn itinerary_events(&self, limit: u32) -> Result<Vec<ItineraryEvent>> {
        Ok(self.cache()?.itinerary_events(limit)?)
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl ProfileCache {
    /// Brings the cache up to date with SAP Concur. One sync runs at a time (a second call
    /// waits). Cancelling the coroutine does not stop it: call `cancel()`.
    pub async fn sync(
        &self,
        options: SyncOptions,
        listener: Option<Arc<dyn SyncListener>>,
    ) -> Result<SyncReport> {
        let l = listener.map(|l| Arc::new(Progress(l)) as Arc<dyn crate::sync::SyncListener>);
        Ok(self.cache()?.sync(options, l).await?)
    }

    /// Fetches one traveler's profile now and stores it.
    pub async fn refresh_profile(&self, login: String) -> Result<CachedProfile> {
        Ok(self.cache()?.refresh_profile(&login).await?.into())
    }

    /// Sends the due loyalty updates (one attempt each).
    pub async fn flush_updates(&self) -> Result<FlushReport> {
        Ok(self.cache()?.flush_updates().await?)
    }

    /// Makes every pending update due now, then flushes (the network is back, the app
    /// came to the foreground).
    pub async fn kick(&self) -> Result<FlushReport> {
        Ok(self.cache()?.kick().await?)
    }

    /// Subscribes to change notifications (v1).
    pub async fn subscribe(&self, scope: SubscriptionScope, kind: NotificationKind) -> Result<()> {
        Ok(self.cache()?.subscribe(scope, kind).await?)
    }

    /// Ends a subscription (v1); ending one that does not exist is fine.
    pub async fn unsubscribe(
        &self,
        scope: SubscriptionScope,
        kind: NotificationKind,
    ) -> Result<()> {
        Ok(self.cache()?.unsubscribe(scope, kind).await?)
    }

    /// Handles a v1 postback as SAP Concur posted it to the app's backend (query string
    /// and body).
    pub async fn handle_postback(
        &self,
        query: String,
        body: Vec<u8>,
    ) -> Result<NotificationOutcome> {
        Ok(self.cache()?.handle_postback(&query, &body).await?)
    }

    /// Handles a v4 Event Subscription Service event (JSON) of the travel profile topic.
    pub async fn handle_event(&self, json: String) -> Result<NotificationOutcome> {
        Ok(self.cache()?.handle_event(&json).await?)
    }
}
