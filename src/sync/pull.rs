//! The pull engine: crawl the summary feed from the checkpoint, mark what changed, fetch
//! the changed profiles with bounded concurrency, store them in batches.
//!
//! # Why no change can be missed
//!
//! The feed promises neither an order nor stable pages, nor whether `LastModifiedDate` is
//! inclusive. The engine relies only on this: a profile's last-modified time never goes
//! back, and the server stamps a change with (about) its own clock, the one in its HTTP
//! `Date` header.
//!
//! 1. A pass reads the window `W = [checkpoint − overlap, ∞)` page by page. Membership of
//!    `W` only grows while we read (times never go back), so if `TotalItems` is the same on
//!    every page, the set of profiles in `W` did not change during the pass.
//! 2. A pass is *consistent* when every page reported the same totals, every page but the
//!    last was full, and the distinct logins read (de-duplicated by login, persisted with
//!    each page so a resumed pass counts right) equal `TotalItems`. We read exactly the
//!    slots the server had; a profile read twice (it moved because it changed again) would
//!    leave some other profile unread and show as fewer distinct logins than `TotalItems`.
//!    So in a consistent pass every profile of `W` was read once, and a profile changed
//!    after we read it did not move into an unread slot: it changed after the pass's last
//!    page was served — after the pass started.
//! 3. Every summary read is stored in the same transaction as the crawl cursor that
//!    follows it (pages that come fast are stored a few at a time; a crash before their
//!    transaction re-reads them, since the stored cursor is still before them); a profile
//!    whose summary is newer than its stored copy is marked stale, and stays stale until a
//!    document at least that new is stored. Stale is durable: a crash or a cancel only
//!    delays the fetch.
//! 4. Only after a consistent pass does the checkpoint move, to the server time at which
//!    the pass started (its first page's `Date`; our clock if the server sent none). Any
//!    change the pass missed happened after that (2), so it is at or after the new
//!    checkpoint, inside the next window — whose `overlap` also absorbs an exclusive date
//!    bound, whole-second truncation, clock skew between the server's front end and its
//!    database, and replication lag.
//! 5. When no pass is consistent within `max_crawl_passes`, the checkpoint stays: the next
//!    sync reads the same window again. Slower, never lossy — but until then a change made
//!    *during* this sync may be unknown: a profile read early in the last pass, changed
//!    afterwards, whose new summary the others' moves shifted into a page already read,
//!    looks current. The report says so (`checkpoint_advanced: false`); only a sync that
//!    advanced the checkpoint vouches for every profile being current or stale.
//! 6. Feed times have whole seconds, so two changes in one second look alike. A stored
//!    document is therefore only trusted to cover changes up to its fetch's server time
//!    minus a margin (5 s by default, [`covered_until`]); anything later keeps it stale.
//!
//! Deletions never appear in the feed; a reconciliation (a consistent pass over all time)
//! removes what the server no longer lists, and v4 events report deletions directly.

use super::SyncOptions;
use super::blocking;
use super::progress::{Reporter, SyncReport};
use crate::cancel::CancelToken;
use crate::client::{ConcurClient, SummaryQuery};
use crate::config::CacheConfig;
use crate::model::{Profile, ProfileStatus, ProfileSummary, Timestamp};
use crate::store::{Document, DueProfile, NewProfile, Store};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The beginning of time for the feed ("everything").
pub(crate) fn epoch() -> Timestamp {
    DateTime::from_timestamp(-2_208_988_800, 0).unwrap_or_default() // 1900-01-01T00:00:00Z
}

/// The crawl cursor, persisted with every page (meta `sync.crawl`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Cursor {
    key: String,
    reconcile: bool,
    from_ms: i64,
    started_ms: i64,
    page_done: u32,
    total_items: Option<u32>,
    total_pages: Option<u32>,
    items_per_page: u32,
    consistent: bool,
}

/// Everything the engine works with.
pub(crate) struct Pull {
    pub store: Arc<Store>,
    pub client: Arc<ConcurClient>,
    pub config: CacheConfig,
    pub cancel: CancelToken,
    pub reporter: Arc<Reporter>,
}

/// Summaries recorded per transaction at most during a crawl. Each summary lands at a
/// random place of the login-keyed summaries table, so a transaction rewrites about one
/// page per summary when it holds one feed page, and far fewer per summary when it holds
/// several: on loopback, ten pages per transaction (with the then separate seen table)
/// wrote a third of the bytes one page per transaction did.
const CRAWL_BATCH: usize = 2000;
/// How long read pages may wait to be recorded: from a slow server (the usual case) each
/// page is recorded as it comes, so its profiles start fetching at once.
const CRAWL_HOLD: Duration = Duration::from_millis(200);

/// The checkpoint's meta key for a travel-config filter.
fn checkpoint_key(configs: &[String]) -> String {
    if configs.is_empty() {
        "sync.checkpoint".into()
    } else {
        let mut c = configs.to_vec();
        c.sort();
        format!("sync.checkpoint:{}", c.join(","))
    }
}

/// A fetch result on its way to the store.
struct Fetched {
    login: String,
    last_modified: Option<Timestamp>,
    /// The document encoded for the store, here on a fetch worker rather than on the
    /// writer; the text itself is dropped at once (it is the largest part of an item
    /// waiting to be written).
    encoded: Vec<u8>,
    profile: Profile,
}

/// The profiles waiting to be fetched, handed out in login order (not in the order the
/// feed listed them): the fetchers then deliver neighbouring logins together, and a batch
/// of them updates neighbouring rows of the login-keyed tables (the summaries, the
/// profiles' login index), rewriting a few pages per transaction instead of one page per
/// profile. A login queued again before its fetch started is fetched once, for the newer
/// summary.
#[derive(Default)]
struct DueQueue {
    /// By lowercased login; `true` once no more will come.
    state: Mutex<(BTreeMap<String, DueProfile>, bool)>,
    ready: tokio::sync::Notify,
}

impl DueQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, (BTreeMap<String, DueProfile>, bool)> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next profile to fetch, or `None` once the queue is closed and empty.
    async fn pop(&self) -> Option<DueProfile> {
        loop {
            let notified = self.ready.notified();
            tokio::pin!(notified);
            // Registered before looking, so a push or close in between still wakes us.
            notified.as_mut().enable();
            {
                let mut state = self.lock();
                if let Some((_, d)) = state.0.pop_first() {
                    return Some(d);
                }
                if state.1 {
                    return None;
                }
            }
            notified.await;
        }
    }
}

/// The producing side of a [`DueQueue`]; closes it when dropped.
struct Producer(Arc<DueQueue>);

impl Producer {
    fn push(&self, d: DueProfile) {
        self.0.lock().0.insert(d.login.to_lowercase(), d);
        self.0.ready.notify_one();
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        self.0.lock().1 = true;
        self.0.ready.notify_waiters();
    }
}

/// Counters shared by the tasks of one sync.
#[derive(Default)]
struct Shared {
    fetched: AtomicU64,
    failed: AtomicU64,
    /// Logins queued for fetching in this sync, with the summary time they were queued for.
    queued: Mutex<HashMap<String, Option<Timestamp>>>,
    fatal: Mutex<Option<Error>>,
}

impl Shared {
    fn fail(&self, e: Error, stop: &CancelToken) {
        let mut f = self.fatal.lock().unwrap_or_else(|p| p.into_inner());
        if f.is_none() {
            *f = Some(e);
        }
        stop.cancel();
    }
    fn take_fatal(&self) -> Option<Error> {
        self.fatal.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// The newest change time a fetched document is known to reflect.
///
/// The feed's times have whole seconds: a second change within the same second as the one
/// a summary showed gets the same time, so "the summary we fetched for" cannot prove that
/// a document is current. The server's clock when it answered (`Date`, also whole
/// seconds) can: a change stamped `margin` or more before it happened before the document
/// was read, as long as the server's clocks agree within `margin` minus two seconds (whole
/// seconds on both sides). So a document is taken to cover changes up to `Date − margin`;
/// one fetched within `margin` of its latest change stays stale and is fetched once more
/// by the next sync. Without a `Date` header, the summary's time is all we know.
pub(crate) fn covered_until(
    date: Option<Timestamp>,
    summary: Option<Timestamp>,
    margin: Duration,
) -> Option<Timestamp> {
    match date {
        Some(d) => Some(d - chrono::Duration::from_std(margin).unwrap_or_default()),
        None => summary,
    }
}

/// The error kind recorded for a per-profile failure, or `None` when the error is not
/// the profile's fault (the sync must stop instead).
fn per_profile_kind(e: &Error) -> Option<String> {
    match e {
        Error::Xml(_) => Some("malformed".into()),
        Error::Server {
            status: 400,
            message,
            ..
        } if message
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case("Invalid User")) =>
        {
            Some("invalid-user".into())
        }
        Error::Server { status, .. } if (400..500).contains(status) && *status != 429 => {
            Some(format!("http-{status}"))
        }
        _ => None,
    }
}

impl Pull {
    /// Runs one sync.
    pub(crate) async fn run(&self, options: &SyncOptions) -> Result<SyncReport> {
        let started = Instant::now();
        let requests_before = self.client.requests();
        let configs = options.travel_configs.clone().unwrap_or_default();
        let key = checkpoint_key(&configs);
        let concurrency = options
            .concurrency
            .map_or(self.config.concurrency, |c| c as usize)
            .clamp(1, 64);
        let page_size = options
            .page_size
            .unwrap_or(self.config.page_size)
            .clamp(1, 200);
        let mut report = SyncReport::default();
        log::info!(
            "sync started ({}, concurrency {concurrency}, page size {page_size}, {} travel config filter(s))",
            if options.reconcile {
                "reconcile"
            } else if options.full {
                "full"
            } else {
                "incremental"
            },
            configs.len()
        );

        if options.full {
            let store = self.store.clone();
            blocking(move || store.mark_all_stale()).await?;
        }
        let from = if options.full || options.reconcile {
            epoch()
        } else {
            let store = self.store.clone();
            let k = key.clone();
            let stored = blocking(move || store.get_meta(&k)).await?;
            let checkpoint = stored
                .as_deref()
                .and_then(crate::xml::parse_timestamp)
                .unwrap_or_else(epoch);
            let overlap = chrono::Duration::from_std(self.config.overlap).unwrap_or_default();
            (checkpoint - overlap).max(epoch())
        };

        // Fetch pipeline: workers pull due profiles, a storer writes them in batches.
        let stop = CancelToken::new();
        let shared = Arc::new(Shared::default());
        let due = Arc::new(DueQueue::default());
        // Closes the queue however this function ends, so the fetchers finish.
        let due_tx = Producer(due.clone());
        // Room for half a batch while one is written: more than the fetchers bring in
        // the time a batch takes to write, and at most one and a half batches in memory.
        let (done_tx, done_rx) = mpsc::channel::<Fetched>((self.config.store_batch / 2).max(1));
        let link = {
            let (user, stop) = (self.cancel.clone(), stop.clone());
            tokio::spawn(async move {
                user.cancelled().await;
                stop.cancel();
            })
        };
        let storer = tokio::spawn(store_loop(
            self.store.clone(),
            done_rx,
            self.config.store_batch,
            shared.clone(),
            self.reporter.clone(),
            stop.clone(),
        ));
        let mut workers = Vec::with_capacity(concurrency);
        for _ in 0..concurrency {
            workers.push(tokio::spawn(fetch_loop(
                self.config.change_margin,
                self.client.clone(),
                self.store.clone(),
                due.clone(),
                done_tx.clone(),
                shared.clone(),
                stop.clone(),
            )));
        }
        drop(done_tx);
        // Whatever an interrupted sync left stale starts at once.
        self.enqueue_due(&due_tx, &shared, &mut report).await?;

        let crawl = self
            .crawl(
                &key,
                from,
                options.reconcile,
                page_size,
                &configs,
                &due_tx,
                &shared,
                &stop,
                &mut report,
            )
            .await;
        if crawl.is_ok() {
            // Stale profiles the crawl did not report itself (there should be none).
            self.enqueue_due(&due_tx, &shared, &mut report).await?;
            self.reporter
                .update(true, |p| p.phase = super::SyncPhase::Fetching);
        }
        drop(due_tx);
        for w in workers {
            let _ = w.await;
        }
        let _ = storer.await;
        link.abort();

        report.profiles_fetched = shared.fetched.load(Ordering::Relaxed);
        report.failed = shared.failed.load(Ordering::Relaxed);
        report.requests = self.client.requests() - requests_before;
        report.duration_ms = started.elapsed().as_millis() as u64;
        self.reporter
            .update(true, |p| p.phase = super::SyncPhase::Done);
        if self.cancel.is_cancelled() {
            log::info!(
                "sync cancelled after {} ms ({} profiles stored); the next sync resumes",
                report.duration_ms,
                report.profiles_fetched
            );
            return Err(Error::Cancelled);
        }
        let outcome = crawl.and_then(|()| shared.take_fatal().map_or(Ok(()), Err));
        match outcome {
            Ok(()) => {
                log::info!(
                    "sync finished in {} ms: {} pages, {} pass(es), {} summaries, {} profiles fetched, {} failed, {} deferred, checkpoint {}",
                    report.duration_ms,
                    report.pages,
                    report.passes,
                    report.summaries_seen,
                    report.profiles_fetched,
                    report.failed,
                    report.deferred,
                    if report.checkpoint_advanced {
                        "advanced"
                    } else {
                        "kept"
                    }
                );
                Ok(report)
            }
            Err(e) => {
                log::error!(
                    "sync failed after {} ms ({} profiles stored): {e}",
                    report.duration_ms,
                    report.profiles_fetched
                );
                Err(e)
            }
        }
    }

    async fn enqueue_due(
        &self,
        due_tx: &Producer,
        shared: &Shared,
        report: &mut SyncReport,
    ) -> Result<()> {
        let store = self.store.clone();
        let now = Utc::now();
        let due = blocking(move || store.due_profiles(now, u32::MAX)).await?;
        let store = self.store.clone();
        report.deferred = blocking(move || store.deferred_count(now)).await?;
        let mut added = 0;
        for d in due {
            if shared.queue(&d.login, d.last_modified) {
                added += 1;
                due_tx.push(d);
            }
        }
        self.reporter.update(false, |p| p.profiles_total += added);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn crawl(
        &self,
        key: &str,
        from: Timestamp,
        reconcile: bool,
        page_size: u32,
        configs: &[String],
        due_tx: &Producer,
        shared: &Arc<Shared>,
        stop: &CancelToken,
        report: &mut SyncReport,
    ) -> Result<()> {
        let store = self.store.clone();
        let saved = blocking(move || store.get_meta("sync.crawl")).await?;
        let resumed: Option<Cursor> = saved
            .and_then(|s| serde_json::from_str::<Cursor>(&s).ok())
            .filter(|c| c.key == key && c.reconcile == reconcile && c.items_per_page == page_size)
            .filter(|c| reconcile || c.from_ms <= from.timestamp_millis());
        let mut cursor = match resumed {
            Some(c) => {
                log::info!("resuming an interrupted crawl after page {}", c.page_done);
                c
            }
            None => {
                let store = self.store.clone();
                blocking(move || store.reset_crawl()).await?;
                Cursor {
                    key: key.to_owned(),
                    reconcile,
                    from_ms: from.timestamp_millis(),
                    started_ms: 0,
                    page_done: 0,
                    total_items: None,
                    total_pages: None,
                    items_per_page: page_size,
                    consistent: true,
                }
            }
        };
        let window_from = DateTime::from_timestamp_millis(cursor.from_ms).unwrap_or_else(epoch);
        // Pages read but not yet recorded: recorded together (see CRAWL_BATCH), with the
        // cursor of the last one, so a crash re-reads them rather than skipping them.
        let mut held: Vec<ProfileSummary> = Vec::new();
        let mut held_pages = 0u32;
        let mut held_since: Option<Instant> = None;
        let mut times: HashMap<String, Option<Timestamp>> = HashMap::new();
        while report.passes < self.config.max_crawl_passes {
            report.passes += 1;
            loop {
                stop.check()?;
                let page = cursor.page_done + 1;
                let query = SummaryQuery {
                    last_modified: window_from,
                    page,
                    items_per_page: page_size,
                    travel_configs: configs.to_vec(),
                };
                let asked_at = Utc::now();
                // A failed crawl stops the fetchers too (the server is unreachable or
                // refusing us); what was stored so far stays.
                let (sp, date) = stop
                    .run(self.client.summary_page(&query, stop))
                    .await
                    .inspect_err(|_| stop.cancel())?;
                let paging = sp.paging.clone().unwrap_or_default();
                if page == 1 {
                    cursor.started_ms = date.unwrap_or(asked_at).timestamp_millis();
                    cursor.total_items = paging.total_items;
                    cursor.total_pages = paging.total_pages;
                    cursor.consistent = true;
                } else if paging.total_items != cursor.total_items
                    || paging.total_pages != cursor.total_pages
                {
                    cursor.consistent = false;
                }
                let last = match cursor.total_pages {
                    Some(total) => page >= total,
                    None => (sp.summaries.len() as u32) < page_size,
                };
                if !last && (sp.summaries.len() as u32) < page_size {
                    cursor.consistent = false;
                }
                cursor.page_done = page;
                report.pages += 1;
                report.summaries_seen += sp.summaries.len() as u64;
                report.inactive += sp
                    .summaries
                    .iter()
                    .filter(|s| s.status == Some(ProfileStatus::Inactive))
                    .count() as u64;
                for s in &sp.summaries {
                    if let Some(login) = &s.login_id {
                        // A login on two held pages: the newer time is the one to fetch for.
                        let t = times.entry(login.to_lowercase()).or_insert(s.last_modified);
                        *t = (*t).max(s.last_modified);
                    }
                }
                held.extend(sp.summaries);
                held_pages += 1;
                let since = *held_since.get_or_insert_with(Instant::now);
                let end = last || cursor.page_done >= cursor.total_pages.unwrap_or(u32::MAX);
                if end || held.len() >= CRAWL_BATCH || since.elapsed() >= CRAWL_HOLD {
                    let json = serde_json::to_string(&cursor).unwrap_or_default();
                    let store = self.store.clone();
                    let summaries = std::mem::take(&mut held);
                    let record =
                        blocking(move || store.record_page(&summaries, Utc::now(), &json)).await?;
                    let mut added = 0;
                    for login in record.stale {
                        let last_modified = times.get(&login.to_lowercase()).copied().flatten();
                        if shared.queue(&login, last_modified) {
                            added += 1;
                            due_tx.push(DueProfile {
                                login,
                                last_modified,
                            });
                        }
                    }
                    let pages_total = cursor.total_pages.unwrap_or(page);
                    log::debug!(
                        "summary pages up to {page}/{pages_total}: {} summaries, {added} to fetch",
                        times.len()
                    );
                    self.reporter.update(false, |p| {
                        p.pages_done += held_pages;
                        p.pages_total = pages_total;
                        p.profiles_total += added;
                    });
                    times.clear();
                    held_pages = 0;
                    held_since = None;
                }
                if end {
                    break;
                }
            }
            let store = self.store.clone();
            let distinct = blocking(move || store.crawl_seen_count()).await?;
            let expected = cursor.total_items.map(u64::from);
            if cursor.consistent && expected.is_none_or(|t| t == distinct) {
                let checkpoint =
                    DateTime::from_timestamp_millis(cursor.started_ms).unwrap_or_else(Utc::now);
                let value = crate::xml::format_timestamp(&checkpoint);
                let (store, key) = (self.store.clone(), key.to_owned());
                report.removed =
                    blocking(move || store.finish_crawl(&key, &value, reconcile)).await?;
                report.checkpoint_advanced = true;
                return Ok(());
            }
            // Pages shifted under us: read the window again.
            log::warn!(
                "crawl pass {} was inconsistent ({} distinct travelers, {} announced): reading the window again",
                report.passes,
                distinct,
                expected.map_or_else(|| "none".to_owned(), |t| t.to_string())
            );
            let store = self.store.clone();
            blocking(move || store.reset_crawl()).await?;
            cursor.page_done = 0;
        }
        Ok(())
    }
}

impl Shared {
    /// Queues a fetch unless one for this summary time (or a newer one) is queued: a newer
    /// summary than the one a queued fetch was for needs another fetch, since the document
    /// already on its way may predate it.
    fn queue(&self, login: &str, last_modified: Option<Timestamp>) -> bool {
        let mut queued = self.queued.lock().unwrap_or_else(|p| p.into_inner());
        let key = login.to_lowercase();
        match queued.get(&key) {
            Some(prev) if *prev >= last_modified => false,
            _ => {
                queued.insert(key, last_modified);
                true
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn fetch_loop(
    margin: Duration,
    client: Arc<ConcurClient>,
    store: Arc<Store>,
    due: Arc<DueQueue>,
    done: mpsc::Sender<Fetched>,
    shared: Arc<Shared>,
    stop: CancelToken,
) {
    loop {
        let next = tokio::select! {
            biased;
            _ = stop.cancelled() => None,
            d = due.pop() => d,
        };
        let Some(d) = next else { return };
        match client.profile_at(&d.login, &stop).await {
            Ok((xml, profile, date)) => {
                let item = Fetched {
                    login: d.login,
                    last_modified: covered_until(date, d.last_modified, margin),
                    encoded: crate::store::encode_document(&xml),
                    profile,
                };
                if done.send(item).await.is_err() {
                    return;
                }
            }
            Err(Error::Cancelled) => return,
            Err(e) => match per_profile_kind(&e) {
                Some(kind) => {
                    log::warn!(
                        "profile {} could not be fetched ({kind}); retried by a later sync",
                        crate::logging::tag(&d.login)
                    );
                    shared.failed.fetch_add(1, Ordering::Relaxed);
                    let (store, login) = (store.clone(), d.login.clone());
                    let recorded =
                        blocking(move || store.record_fetch_failure(&login, &kind, Utc::now()))
                            .await;
                    if let Err(e) = recorded {
                        shared.fail(e, &stop);
                        return;
                    }
                }
                None => {
                    shared.fail(e, &stop);
                    return;
                }
            },
        }
    }
}

async fn store_loop(
    store: Arc<Store>,
    mut done: mpsc::Receiver<Fetched>,
    batch: usize,
    shared: Arc<Shared>,
    reporter: Arc<Reporter>,
    stop: CancelToken,
) {
    let batch = batch.max(1);
    let mut pending: Vec<Fetched> = Vec::with_capacity(batch);
    let mut since: Option<Instant> = None;
    const MAX_WAIT: Duration = Duration::from_millis(250);
    loop {
        // Collect up to a batch, or what arrived within MAX_WAIT of the batch's first item.
        let wait = since.map_or(MAX_WAIT, |t| MAX_WAIT.saturating_sub(t.elapsed()));
        let closed = match tokio::time::timeout(wait, done.recv()).await {
            Ok(Some(f)) => {
                since.get_or_insert_with(Instant::now);
                pending.push(f);
                while pending.len() < batch {
                    match done.try_recv() {
                        Ok(f) => pending.push(f),
                        Err(_) => break,
                    }
                }
                false
            }
            Ok(None) => true,
            Err(_) => false,
        };
        let due = since.is_some_and(|t| t.elapsed() >= MAX_WAIT);
        if !pending.is_empty() && (pending.len() >= batch || closed || due) {
            since = None;
            let items = std::mem::take(&mut pending);
            let n = items.len() as u64;
            let s = store.clone();
            let written = blocking(move || {
                let now = Utc::now();
                let rows: Vec<NewProfile<'_>> = items
                    .iter()
                    .map(|f| NewProfile {
                        login: &f.login,
                        sync_id: None,
                        status: None,
                        // What the document is known to reflect: the summary seen when it
                        // was queued (it was fetched after that).
                        server_modified: f.last_modified,
                        fetched_at: now,
                        document: Document::Encoded(&f.encoded),
                        profile: &f.profile,
                    })
                    .collect();
                s.upsert_profiles(&rows)?;
                drop(rows);
                Ok(items)
            })
            .await;
            match written {
                Ok(items) => {
                    // Freed here, on a runtime thread like the ones that allocated them,
                    // not on the blocking pool's thread (cross-thread frees are slow).
                    drop(items);
                    log::debug!("stored a batch of {n} profiles");
                    shared.fetched.fetch_add(n, Ordering::Relaxed);
                    reporter.update(false, |p| {
                        p.phase = super::SyncPhase::Fetching;
                        p.profiles_done += n;
                    });
                }
                Err(e) => {
                    shared.fail(e, &stop);
                    return;
                }
            }
        }
        if closed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(login: &str, secs: i64) -> DueProfile {
        DueProfile {
            login: login.into(),
            last_modified: DateTime::from_timestamp(secs, 0),
        }
    }

    #[tokio::test]
    async fn the_queue_hands_out_logins_in_order_once_each_and_ends_when_closed() {
        let queue = Arc::new(DueQueue::default());
        let producer = Producer(queue.clone());
        // A fetcher already waiting is woken by the first push.
        let early = tokio::spawn({
            let queue = queue.clone();
            async move { queue.pop().await }
        });
        tokio::task::yield_now().await;
        producer.push(due("m@x", 1));
        let first = tokio::time::timeout(Duration::from_secs(5), early)
            .await
            .expect("woken")
            .unwrap();
        assert_eq!(first.unwrap().login, "m@x");

        producer.push(due("zed@x", 1));
        producer.push(due("Bob@x", 1));
        producer.push(due("alice@x", 1));
        // Queued again before its fetch started: one fetch, for the newer summary.
        producer.push(due("bob@x", 7));
        let mut order = Vec::new();
        for _ in 0..3 {
            let d = queue.pop().await.unwrap();
            order.push((d.login, d.last_modified.unwrap().timestamp()));
        }
        assert_eq!(
            order,
            [
                ("alice@x".into(), 1),
                ("bob@x".into(), 7),
                ("zed@x".into(), 1)
            ]
        );
        // Closing (the producer dropped) ends a waiting fetcher.
        let waiting = tokio::spawn({
            let queue = queue.clone();
            async move { queue.pop().await }
        });
        tokio::task::yield_now().await;
        drop(producer);
        let last = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("woken by close")
            .unwrap();
        assert!(last.is_none());
    }

    #[test]
    fn a_document_covers_changes_up_to_the_server_time_minus_the_margin() {
        let t = |s| DateTime::from_timestamp(s, 0);
        let margin = Duration::from_secs(5);
        assert_eq!(covered_until(t(1_000), t(999), margin), t(995));
        assert_eq!(
            covered_until(None, t(999), margin),
            t(999),
            "no Date: the summary's"
        );
        assert_eq!(covered_until(None, None, margin), None);
    }

    #[test]
    fn each_filter_has_its_own_checkpoint() {
        assert_eq!(checkpoint_key(&[]), "sync.checkpoint");
        let a = checkpoint_key(&["200".into(), "100".into()]);
        assert_eq!(a, checkpoint_key(&["100".into(), "200".into()]));
        assert_ne!(a, checkpoint_key(&["100".into()]));
    }

    #[test]
    fn only_the_profiles_own_faults_are_per_profile() {
        let server = |status, message: Option<&str>| Error::Server {
            status,
            correlation_id: None,
            message: message.map(str::to_owned),
        };
        assert_eq!(
            per_profile_kind(&server(400, Some("Invalid User"))).as_deref(),
            Some("invalid-user")
        );
        assert_eq!(
            per_profile_kind(&server(404, None)).as_deref(),
            Some("http-404")
        );
        let xml = crate::xml::parse_profile(b"<ProfileResponse>").unwrap_err();
        assert_eq!(
            per_profile_kind(&Error::Xml(xml)).as_deref(),
            Some("malformed")
        );
        for fatal in [
            server(429, None),
            server(503, None),
            Error::Offline { reason: "x".into() },
            Error::Unauthorized {
                status: 401,
                correlation_id: None,
            },
            Error::Cancelled,
        ] {
            assert_eq!(per_profile_kind(&fatal), None, "{fatal:?}");
        }
    }

    #[test]
    fn a_newer_summary_queues_another_fetch_an_older_one_does_not() {
        let shared = Shared::default();
        let t = |s| DateTime::from_timestamp(s, 0);
        assert!(shared.queue("A@x", t(100)));
        assert!(
            !shared.queue("a@X", t(100)),
            "same login, any case, same time"
        );
        assert!(!shared.queue("a@x", t(50)));
        assert!(
            shared.queue("a@x", t(200)),
            "newer summary: the document in flight may predate it"
        );
    }
}
