//! What a sync tells the app while it runs (throttled [`SyncProgress`] through a
//! [`SyncListener`]) and when it ends ([`SyncReport`]).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where a sync is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, uniffi::Enum)]
pub enum SyncPhase {
    /// Reading the summary feed.
    Crawling,
    /// Fetching full profiles.
    Fetching,
    /// Done (the last event of a sync).
    Done,
}

/// A progress snapshot.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, uniffi::Record)]
pub struct SyncProgress {
    /// The current phase.
    pub phase: SyncPhase,
    /// Summary pages read so far (all passes).
    pub pages_done: u32,
    /// Pages in the current pass, when known.
    pub pages_total: u32,
    /// Profiles fetched and stored so far.
    pub profiles_done: u64,
    /// Profiles known to need fetching (grows while the crawl finds more).
    pub profiles_total: u64,
}

/// Receives progress while a sync runs. Called at most every 100 ms, plus at phase
/// changes and at the end; keep it quick (hand off to the UI thread).
pub trait SyncListener: Send + Sync {
    /// A progress snapshot.
    fn on_progress(&self, progress: SyncProgress);
}

/// The outcome of a sync.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, uniffi::Record)]
pub struct SyncReport {
    /// Summary pages read.
    pub pages: u32,
    /// Crawl passes made (more than one when pages shifted during a crawl).
    pub passes: u32,
    /// Summaries read (with repeats from overlapping passes).
    pub summaries_seen: u64,
    /// Profiles fetched and stored.
    pub profiles_fetched: u64,
    /// Profiles whose fetch failed (kept stale, retried on later syncs).
    pub failed: u64,
    /// Profiles still waiting out an earlier failure's backoff.
    pub deferred: u64,
    /// Travelers the feed reported inactive.
    pub inactive: u64,
    /// Profiles removed by a reconciliation.
    pub removed: u64,
    /// Whether the checkpoint advanced: a crawl pass was consistent, so every profile is
    /// now either current or marked stale. False when pages kept shifting under heavy
    /// change: the next sync reads the same window again, so nothing is lost, but until
    /// it runs a change made during this sync may not be known yet.
    pub checkpoint_advanced: bool,
    /// HTTP requests made (retries and token refreshes included).
    pub requests: u64,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
}

/// Throttles progress events.
pub(crate) struct Reporter {
    listener: Option<Arc<dyn SyncListener>>,
    state: Mutex<(SyncProgress, Option<Instant>)>,
}

const EVERY: Duration = Duration::from_millis(100);

impl Reporter {
    pub(crate) fn new(listener: Option<Arc<dyn SyncListener>>) -> Self {
        Reporter {
            listener,
            state: Mutex::new((
                SyncProgress {
                    phase: SyncPhase::Crawling,
                    pages_done: 0,
                    pages_total: 0,
                    profiles_done: 0,
                    profiles_total: 0,
                },
                None,
            )),
        }
    }

    /// Applies `change`; emits when the phase changed, `force` is set, or 100 ms passed.
    pub(crate) fn update(&self, force: bool, change: impl FnOnce(&mut SyncProgress)) {
        let emit = {
            let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let before = guard.0.phase;
            change(&mut guard.0);
            let due = guard.1.is_none_or(|t| t.elapsed() >= EVERY);
            if force || before != guard.0.phase || due {
                guard.1 = Some(Instant::now());
                Some(guard.0.clone())
            } else {
                None
            }
        };
        if let (Some(p), Some(l)) = (emit, &self.listener) {
            l.on_progress(p);
        }
    }

    pub(crate) fn snapshot(&self) -> SyncProgress {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .clone()
    }
}
