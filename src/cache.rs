//! [`ProfileCache`]: the one public facade. Open it with a [`CacheConfig`] and a
//! [`TokenProvider`]; sync, query, queue loyalty updates, handle notifications, and
//! close. Queries are quick local reads that never wait for a running sync (they see its
//! last committed batch). The logic lives below: `sync::pull`, `sync::push` (the
//! outbox), `sync::notify`, and the store.

use crate::cancel::CancelToken;
use crate::client::Jitter;
use crate::client::{ConcurClient, TokenProvider};
use crate::config::CacheConfig;
use crate::model::LoyaltyMembership;
use crate::model::Timestamp;
use crate::store::{
    CachedProfile, Counts, Document, ItineraryEvent, OutboxCounts, OutboxEvent, QueuedUpdate,
    Resolution, SearchHit, Store, StoredProfile, StoredSummary, SummaryFilter, UpdateFilter,
};
use crate::sync::blocking;
use crate::sync::notify::{
    self, NotificationKind, NotificationListener, NotificationOutcome, ProfileEvent,
    SubscriptionScope,
};
use crate::sync::progress::Reporter;
use crate::sync::pull::Pull;
use crate::sync::push::{self, Dispatcher, FlushReport, OutboxListener, Push};
use crate::sync::{SyncListener, SyncOptions, SyncProgress, SyncReport};
use crate::{Error, Result};
use chrono::Utc;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};

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
    /// `None` also for a sync that was cancelled or cut off by the end of the process:
    /// then `last_attempt_at` is newer than `last_success_at` while nothing runs.
    pub last_error: Option<String>,
    /// The checkpoint of the unfiltered feed (`LastModifiedDate` of the next crawl,
    /// before the overlap).
    pub checkpoint: Option<String>,
    /// Row counts.
    pub counts: Counts,
    /// Profiles whose last fetch failed (retried on later syncs).
    pub failed: u64,
    /// The loyalty outbox: updates by state, the latest event's sequence number.
    pub outbox: OutboxCounts,
}

struct Inner {
    store: Arc<Store>,
    client: Arc<ConcurClient>,
    config: CacheConfig,
    sync_lock: tokio::sync::Mutex<()>,
    running: Mutex<Option<(CancelToken, Arc<Reporter>)>>,
    /// One flush at a time.
    push_lock: tokio::sync::Mutex<()>,
    /// The running flush's cancel token.
    flushing: Mutex<Option<CancelToken>>,
    in_flight: Arc<Mutex<HashSet<i64>>>,
    dispatcher: Arc<Dispatcher>,
    jitter: Arc<Jitter>,
    notifications: RwLock<Option<Arc<dyn NotificationListener>>>,
    /// Wakes the automatic flush (after a queue or a kick).
    wake: Arc<tokio::sync::Notify>,
    auto_flush: Mutex<Option<tokio::task::JoinHandle<()>>>,
    closed: AtomicBool,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(task) = lock(&self.auto_flush).take() {
            task.abort();
        }
        self.store.set_outbox_hook(None);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
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
    /// Opens (or creates) the cache at `config.db_path`. With
    /// `config.outbox.auto_flush` set, also starts the automatic flush (on the current
    /// tokio runtime; without one, flushes happen only when the app asks).
    pub fn open(config: CacheConfig, tokens: Arc<dyn TokenProvider>) -> Result<Self> {
        let store = Arc::new(Store::open(&config.db_path)?);
        let client = Arc::new(ConcurClient::new(
            &config.base_url,
            tokens,
            config.http.clone(),
        )?);
        let dispatcher = Arc::new(Dispatcher::default());
        let d = dispatcher.clone();
        store.set_outbox_hook(Some(Arc::new(move |s: &Store| d.dispatch(s))));
        let cache = ProfileCache {
            inner: Arc::new(Inner {
                store,
                client,
                config,
                sync_lock: tokio::sync::Mutex::new(()),
                running: Mutex::new(None),
                push_lock: tokio::sync::Mutex::new(()),
                flushing: Mutex::new(None),
                in_flight: Arc::default(),
                dispatcher,
                jitter: Arc::new(Jitter::new()),
                notifications: RwLock::new(None),
                wake: Arc::new(tokio::sync::Notify::new()),
                auto_flush: Mutex::new(None),
                closed: AtomicBool::new(false),
            }),
        };
        cache.start_auto_flush();
        Ok(cache)
    }

    fn start_auto_flush(&self) {
        let Some(interval) = self.inner.config.outbox.auto_flush else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        let wake = self.inner.wake.clone();
        let task = runtime.spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = wake.notified() => {}
                }
                let Some(inner) = weak.upgrade() else { return };
                let cache = ProfileCache { inner };
                if cache.inner.closed.load(Ordering::Acquire) {
                    return;
                }
                // Failures stay in the outbox (states, attempts, events); nothing to do here.
                let _ = cache.flush_updates().await;
            }
        });
        *lock(&self.inner.auto_flush) = Some(task);
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
    ///
    /// `reconcile` cannot be combined with `travel_configs` ([`Error::InvalidInput`]): a
    /// filtered feed does not list the travelers of other configs, so a reconciliation
    /// would remove them.
    pub async fn sync(
        &self,
        options: SyncOptions,
        listener: Option<Arc<dyn SyncListener>>,
    ) -> Result<SyncReport> {
        if options.reconcile
            && options
                .travel_configs
                .as_ref()
                .is_some_and(|c| !c.is_empty())
        {
            return Err(Error::InvalidInput {
                field: "travel_configs".into(),
                reason: "cannot be combined with reconcile (it would remove the travelers of \
                         other travel configs)"
                    .into(),
            });
        }
        let _guard = self.inner.sync_lock.lock().await;
        let cancel = CancelToken::new();
        let reporter = Arc::new(Reporter::new(listener));
        *self.lock_running() = Some((cancel.clone(), reporter.clone()));
        let store = self.inner.store.clone();
        let now = crate::xml::format_timestamp(&Utc::now());
        store.set_meta("sync.last_attempt_at", &now)?;
        // A new attempt: an earlier failure's error no longer describes the last sync (a
        // process killed during this one leaves none, and reads as interrupted).
        store.delete_meta("sync.last_error")?;
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
            // Interrupted, not failed: no error to show (`last_attempt_at` is newer than
            // `last_success_at` and nothing runs); the next sync resumes.
            Err(Error::Cancelled) => {}
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
            outbox: store.outbox_counts()?,
        })
    }

    /// Fetches one traveler's profile now and stores it (e.g. after a change
    /// notification, or when an agent opens a profile and is online).
    pub async fn refresh_profile(&self, login: &str) -> Result<CachedProfile> {
        let cancel = CancelToken::new();
        let (xml, profile, date) = self.inner.client.profile_at(login, &cancel).await?;
        let margin = self.inner.config.change_margin;
        let store = self.inner.store.clone();
        let login = profile.login_id.clone().unwrap_or_else(|| login.to_owned());
        blocking(move || {
            // What the document is known to reflect (see `sync::pull::covered_until`).
            let known = crate::sync::pull::covered_until(
                date,
                store.summary(&login)?.and_then(|s| s.last_modified),
                margin,
            );
            store.upsert_profiles(&[crate::store::NewProfile {
                login: &login,
                sync_id: None,
                status: None,
                server_modified: known,
                fetched_at: Utc::now(),
                document: Document::Xml(&xml),
                profile: &profile,
            }])?;
            let stored = store.get_by_login(&login)?.ok_or(Error::NotFound)?;
            store.with_overlay(stored)
        })
        .await
    }

    /// The stored profile of `login`, showing the loyalty updates not confirmed yet
    /// (see [`CachedProfile`]).
    pub fn profile(&self, login: &str) -> Result<Option<CachedProfile>> {
        self.overlay(self.inner.store.get_by_login(login)?)
    }

    /// The stored profile with this `XmlProfileSyncID`, with its overlay.
    pub fn profile_by_sync_id(&self, sync_id: &str) -> Result<Option<CachedProfile>> {
        self.overlay(self.inner.store.get_by_sync_id(sync_id)?)
    }

    /// The stored profile with this UUID, with its overlay.
    pub fn profile_by_uuid(&self, uuid: &str) -> Result<Option<CachedProfile>> {
        self.overlay(self.inner.store.get_by_uuid(uuid)?)
    }

    fn overlay(&self, stored: Option<StoredProfile>) -> Result<Option<CachedProfile>> {
        stored.map(|s| self.inner.store.with_overlay(s)).transpose()
    }

    /// Ranked matches for what an agent typed (names, e-mail, login, employee ID).
    pub fn search(&self, query: &str, limit: u32) -> Result<Vec<SearchHit>> {
        self.inner.store.search(query, limit)
    }

    /// Stored summaries matching `filter`.
    pub fn list(&self, filter: &SummaryFilter) -> Result<Vec<StoredSummary>> {
        self.inner.store.list_summaries(filter)
    }

    /// Closes the cache: cancels a running sync and a running flush (an update cut off
    /// while being sent is sent again by the next flush) and stops the automatic flush.
    /// (Dropping the last clone closes the database connections.)
    pub fn close(self) {
        self.inner.closed.store(true, Ordering::Release);
        self.cancel();
        if let Some(c) = &*lock(&self.inner.flushing) {
            c.cancel();
        }
        if let Some(task) = lock(&self.inner.auto_flush).take() {
            task.abort();
        }
    }

    // ---------------------------------------------------------------------------------
    // The loyalty outbox (logic in sync::push and store::outbox)

    /// Queues a loyalty membership update for `login` and returns its id. Validated
    /// against the configured [`CallerRole`](crate::CallerRole) first (an invalid one is
    /// [`Error::InvalidInput`] naming the field, and nothing is stored); then stored in
    /// one durable transaction: once this returns, the update survives a crash. The
    /// profile shows it at once. It replaces an unsent update of the same program.
    pub fn queue_loyalty_update(&self, login: &str, membership: LoyaltyMembership) -> Result<i64> {
        if login.trim().is_empty() {
            return Err(Error::InvalidInput {
                field: "login".into(),
                reason: "must not be empty".into(),
            });
        }
        let membership = push::validate(membership, &self.inner.config.role)?;
        let id = self
            .inner
            .store
            .queue_update(login.trim(), &membership, Utc::now())?;
        log::info!(
            "update {id} queued for {}",
            crate::logging::tag(login.trim())
        );
        if self.inner.config.outbox.auto_flush.is_some() {
            self.inner.wake.notify_one();
        }
        Ok(id)
    }

    /// Sends the due updates (one attempt each; see [`crate::sync::push`]). One flush
    /// runs at a time (a second call waits for the first). Ends with
    /// [`Error::Unauthorized`] when the token is refused also after a refresh (the
    /// updates stay pending).
    pub async fn flush_updates(&self) -> Result<FlushReport> {
        let _guard = self.inner.push_lock.lock().await;
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::Cancelled);
        }
        let cancel = CancelToken::new();
        *lock(&self.inner.flushing) = Some(cancel.clone());
        let push = Arc::new(Push {
            store: self.inner.store.clone(),
            client: self.inner.client.clone(),
            policy: self.inner.config.outbox.clone(),
            cancel,
            in_flight: self.inner.in_flight.clone(),
            jitter: self.inner.jitter.clone(),
        });
        let result = push.flush().await;
        *lock(&self.inner.flushing) = None;
        result
    }

    /// Retry now (the network is back, the app came to the foreground): every pending
    /// update is due at once, then a flush runs.
    pub async fn kick(&self) -> Result<FlushReport> {
        let store = self.inner.store.clone();
        blocking(move || store.clear_backoff(Utc::now())).await?;
        self.flush_updates().await
    }

    /// Queued updates matching `filter` (all, one traveler's, one state's), oldest first.
    pub fn updates(&self, filter: &UpdateFilter) -> Result<Vec<QueuedUpdate>> {
        self.inner.store.list_updates(filter)
    }

    /// One queued update.
    pub fn update(&self, id: i64) -> Result<Option<QueuedUpdate>> {
        self.inner.store.get_update(id)
    }

    /// Sends a failed update again (pending, due now).
    pub fn retry_update(&self, id: i64) -> Result<QueuedUpdate> {
        let u = self.inner.store.retry_update(id, Utc::now())?;
        if self.inner.config.outbox.auto_flush.is_some() {
            self.inner.wake.notify_one();
        }
        Ok(u)
    }

    /// Removes an update, in any state but while its request is under way. Returns
    /// whether it existed.
    pub fn discard_update(&self, id: i64) -> Result<bool> {
        let in_flight = self.inner.in_flight.clone();
        self.inner
            .store
            .discard_update(id, move |id| lock(&in_flight).contains(&id))
    }

    /// Resolves a conflict: [`Resolution::KeepMine`] queues the local values again (sent
    /// by the next flush), [`Resolution::TakeTheirs`] drops the update. Returns the
    /// update, or `None` when dropped.
    pub fn resolve_conflict(
        &self,
        id: i64,
        resolution: Resolution,
    ) -> Result<Option<QueuedUpdate>> {
        self.inner
            .store
            .resolve_conflict(id, resolution, Utc::now())
    }

    /// Sets (or removes) the listener told about every outbox state change from now on
    /// (do not call this from inside the listener).
    pub fn set_outbox_listener(&self, listener: Option<Arc<dyn OutboxListener>>) {
        self.inner
            .dispatcher
            .set_listener(&self.inner.store, listener);
    }

    /// Up to `limit` outbox state changes after sequence number `seq`, in order: how an
    /// app that missed events catches up.
    pub fn outbox_events_since(&self, seq: u64, limit: u32) -> Result<Vec<OutboxEvent>> {
        self.inner.store.outbox_events_since(seq, limit)
    }

    /// Queued updates by state and the latest sequence number (also in [`Self::status`]).
    pub fn outbox_status(&self) -> Result<OutboxCounts> {
        self.inner.store.outbox_counts()
    }

    // ---------------------------------------------------------------------------------
    // Notifications (logic in sync::notify)

    /// Subscribes to change notifications (v1): an empty POST to the scope's URL.
    pub async fn subscribe(&self, scope: SubscriptionScope, kind: NotificationKind) -> Result<()> {
        self.subscription(scope, kind, true).await
    }

    /// Ends a subscription (v1). Ending one that does not exist is fine.
    pub async fn unsubscribe(
        &self,
        scope: SubscriptionScope,
        kind: NotificationKind,
    ) -> Result<()> {
        self.subscription(scope, kind, false).await
    }

    async fn subscription(
        &self,
        scope: SubscriptionScope,
        kind: NotificationKind,
        on: bool,
    ) -> Result<()> {
        let path = notify::subscription_path(&scope, on);
        let acting_for = match &scope {
            SubscriptionScope::User { login } => login.as_deref(),
            SubscriptionScope::Company => None,
        };
        self.inner
            .client
            .execute(acting_for, &CancelToken::new(), |http, base| {
                http.post(format!("{base}{path}"))
                    .query(&[("type", kind.as_wire())])
                    .header(reqwest::header::CONTENT_LENGTH, "0")
            })
            .await?;
        Ok(())
    }

    /// Sets (or removes) the listener told about new itinerary events.
    pub fn set_notification_listener(&self, listener: Option<Arc<dyn NotificationListener>>) {
        *self
            .inner
            .notifications
            .write()
            .unwrap_or_else(|p| p.into_inner()) = listener;
    }

    /// Handles a v1 postback as SAP Concur posted it to the app's backend: its query
    /// string (`type`, `oauth_token_key`, `userid_type=login&userid_value=…`) and body. A
    /// profile notification refreshes that traveler's profile (marks it stale when the
    /// server cannot be reached); an fop one marks it stale; an itinerary one is recorded
    /// and passed to the notification listener. Malformed input is
    /// [`Error::InvalidInput`] and changes nothing; a repeat is harmless.
    pub async fn handle_postback(&self, query: &str, body: &[u8]) -> Result<NotificationOutcome> {
        let p = notify::parse_postback(query)?;
        log::info!(
            "postback ({}) for {}",
            p.kind.as_wire(),
            p.login
                .as_deref()
                .map_or_else(|| "-".into(), crate::logging::tag)
        );
        let need_login = || {
            p.login.clone().ok_or_else(|| Error::InvalidInput {
                field: "userid_value".into(),
                reason: "is required for profile and fop notifications".into(),
            })
        };
        match p.kind {
            NotificationKind::Profile => self.refresh_or_mark(need_login()?).await,
            NotificationKind::Fop => {
                let login = need_login()?;
                let (store, l) = (self.inner.store.clone(), login.clone());
                blocking(move || store.mark_stale(&l, Utc::now())).await?;
                Ok(NotificationOutcome::MarkedStale { login })
            }
            NotificationKind::Itinerary => {
                let event = notify::parse_itinerary(body, p.login.as_deref(), Utc::now())?;
                let (store, e) = (self.inner.store.clone(), event.clone());
                let new = blocking(move || store.record_itinerary_event(&e)).await?;
                if new {
                    let listener = self
                        .inner
                        .notifications
                        .read()
                        .unwrap_or_else(|p| p.into_inner())
                        .clone();
                    if let Some(l) = listener {
                        l.on_itinerary(event.clone());
                    }
                }
                Ok(NotificationOutcome::Itinerary { event, new })
            }
        }
    }

    /// Handles a v4 Event Subscription Service event (JSON) of the topic
    /// `public.concur.user.travel.profile`: `TravelProfileCreated` and
    /// `TravelProfileUpdated` refresh the traveler's profile (or mark it stale when
    /// offline), `TravelProfileDeleted` removes it from the cache. The traveler is the
    /// event's `loginId` (or the cached profile with its `userId` as UUID). Other topics,
    /// event types and malformed events are [`Error::InvalidInput`] and change nothing.
    /// Queued loyalty updates of a deleted traveler stay in the outbox (the server refuses
    /// them when sent: `failed`, for the app to discard).
    pub async fn handle_event(&self, json: &str) -> Result<NotificationOutcome> {
        let event = notify::parse_event(json)?;
        log::info!(
            "event ({})",
            match &event {
                ProfileEvent::Changed { .. } => "profile changed",
                ProfileEvent::Deleted { .. } => "profile deleted",
            }
        );
        let (ProfileEvent::Changed { login, user_id } | ProfileEvent::Deleted { login, user_id }) =
            &event;
        let login = match (login, user_id) {
            (Some(l), _) => l.clone(),
            (None, Some(uuid)) => match self.inner.store.get_by_uuid(uuid)? {
                Some(p) => p.login,
                None => {
                    return Err(Error::InvalidInput {
                        field: "userId".into(),
                        reason: "names no cached profile, and the event has no loginId".into(),
                    });
                }
            },
            (None, None) => unreachable!("parse_event requires one"),
        };
        match event {
            ProfileEvent::Changed { .. } => self.refresh_or_mark(login).await,
            ProfileEvent::Deleted { .. } => {
                let (store, l) = (self.inner.store.clone(), login.clone());
                let existed = blocking(move || store.remove_profile(&l)).await?;
                Ok(NotificationOutcome::Removed { login, existed })
            }
        }
    }

    /// The latest `limit` itinerary events received, newest first.
    pub fn itinerary_events(&self, limit: u32) -> Result<Vec<ItineraryEvent>> {
        self.inner.store.itinerary_events(limit)
    }

    /// Refreshes `login`, or marks it stale when that fails (any failure: the next sync
    /// tries again). Transient failures are not errors; others are returned after marking.
    async fn refresh_or_mark(&self, login: String) -> Result<NotificationOutcome> {
        match self.refresh_profile(&login).await {
            Ok(p) => Ok(NotificationOutcome::Refreshed {
                login: p.login.clone(),
            }),
            Err(e) => {
                let (store, l) = (self.inner.store.clone(), login.clone());
                blocking(move || store.mark_stale(&l, Utc::now())).await?;
                if e.is_transient() {
                    Ok(NotificationOutcome::MarkedStale { login })
                } else {
                    Err(e)
                }
            }
        }
    }

    fn lock_running(&self) -> std::sync::MutexGuard<'_, Option<(CancelToken, Arc<Reporter>)>> {
        self.inner.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}
