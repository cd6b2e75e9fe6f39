//! Records the FFI needs where the Rust types are not uniffi-friendly (paths, durations,
//! `Deref`, internal fields): the cache's configuration, a cached profile, search hits,
//! summaries and the status snapshot. Each converts from (or into) its Rust counterpart.

use super::CacheError;
use crate::model::{LoyaltyVendorType, Profile, ProfileStatus, Timestamp};
use crate::store::{self, OutboxCounts, PendingMembership};
use std::time::Duration;

/// How to open a [`ProfileCache`](super::ProfileCache). Only the database path and the
/// server are required; every other field left `null`/`nil` keeps the library's default.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CacheConfig {
    /// The SQLite database file (created when missing; its folder must exist).
    pub db_path: String,
    /// The API base URL, e.g. `https://us.api.concursolutions.com`.
    pub base_url: String,
    /// Profiles fetched at once during a sync (default 8).
    #[uniffi(default)]
    pub concurrency: Option<u32>,
    /// Summary page size, 1..=200 (default 200).
    #[uniffi(default)]
    pub page_size: Option<u32>,
    /// Time to establish a connection, in ms (default 10 s).
    #[uniffi(default)]
    pub connect_timeout_ms: Option<u64>,
    /// Time for a whole request, in ms (default 75 s).
    #[uniffi(default)]
    pub request_timeout_ms: Option<u64>,
    /// Attempts per request, the first included (default 5).
    #[uniffi(default)]
    pub max_attempts: Option<u32>,
    /// Base of the HTTP retry backoff, in ms (default 200).
    #[uniffi(default)]
    pub retry_base_delay_ms: Option<u64>,
    /// Cap of one HTTP retry delay, in ms (default 20 s).
    #[uniffi(default)]
    pub retry_max_delay_ms: Option<u64>,
    /// How long to keep trying when the server cannot be reached at all, in ms (default
    /// 3 s): how quickly an offline device learns it is offline.
    #[uniffi(default)]
    pub offline_total_ms: Option<u64>,
    /// Base of the outbox's backoff after a transient failure, in ms (default 5 s).
    #[uniffi(default)]
    pub outbox_base_delay_ms: Option<u64>,
    /// Cap of one outbox backoff, in ms (default 15 min).
    #[uniffi(default)]
    pub outbox_max_delay_ms: Option<u64>,
    /// Set when the app is a travel supplier (it may update only its own program);
    /// `null`: a travel management company (the default).
    #[uniffi(default)]
    pub supplier: Option<SupplierRole>,
}

/// A travel supplier's own loyalty program.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SupplierRole {
    /// The two-character vendor code (e.g. `LH`).
    pub vendor_code: String,
    /// The kind of program.
    pub vendor_type: LoyaltyVendorType,
}

fn ms(v: Option<u64>, default: Duration) -> Duration {
    v.map_or(default, Duration::from_millis)
}

impl TryFrom<CacheConfig> for crate::CacheConfig {
    type Error = CacheError;

    fn try_from(c: CacheConfig) -> Result<Self, CacheError> {
        if c.db_path.trim().is_empty() {
            return Err(CacheError::invalid("db_path", "must not be empty"));
        }
        if c.base_url.trim().is_empty() {
            return Err(CacheError::invalid("base_url", "must not be empty"));
        }
        let mut r = crate::CacheConfig::new(c.db_path, c.base_url);
        if let Some(n) = c.concurrency {
            if n == 0 {
                return Err(CacheError::invalid("concurrency", "must be at least 1"));
            }
            r.concurrency = n as usize;
        }
        if let Some(n) = c.page_size {
            if !(1..=200).contains(&n) {
                return Err(CacheError::invalid("page_size", "must be 1..=200"));
            }
            r.page_size = n;
        }
        let h = &mut r.http;
        h.connect_timeout = ms(c.connect_timeout_ms, h.connect_timeout);
        h.request_timeout = ms(c.request_timeout_ms, h.request_timeout);
        if let Some(n) = c.max_attempts {
            if n == 0 {
                return Err(CacheError::invalid("max_attempts", "must be at least 1"));
            }
            h.max_attempts = n;
        }
        h.base_delay = ms(c.retry_base_delay_ms, h.base_delay);
        h.max_delay = ms(c.retry_max_delay_ms, h.max_delay);
        h.offline_total = ms(c.offline_total_ms, h.offline_total);
        let o = &mut r.outbox;
        o.base_delay = ms(c.outbox_base_delay_ms, o.base_delay);
        o.max_delay = ms(c.outbox_max_delay_ms, o.max_delay);
        if let Some(s) = c.supplier {
            r.role = crate::CallerRole::Supplier {
                vendor_code: s.vendor_code,
                vendor_type: s.vendor_type,
            };
        }
        Ok(r)
    }
}

/// A traveler's profile as the app shows it: the stored server copy with the loyalty
/// updates not confirmed yet applied to their memberships (`pending` says which).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CachedProfile {
    /// The login ID (the cache's key).
    pub login: String,
    /// `XmlProfileSyncID`, when known.
    pub sync_id: Option<String>,
    /// `General/UUID`, when the document had one.
    pub uuid: Option<String>,
    /// The stored status.
    pub status: Option<ProfileStatus>,
    /// The last-modified time the document reflects, when known.
    pub server_modified: Option<Timestamp>,
    /// When the document was fetched.
    pub fetched_at: Timestamp,
    /// The profile, with pending loyalty values shown.
    pub profile: Profile,
    /// The local changes of this traveler not confirmed yet, oldest first.
    pub pending: Vec<PendingMembership>,
    /// Whether any membership shows local values (a "pending" badge).
    pub has_pending: bool,
}

impl From<store::CachedProfile> for CachedProfile {
    fn from(c: store::CachedProfile) -> Self {
        let has_pending = c.has_pending();
        let s = c.stored;
        CachedProfile {
            login: s.login,
            sync_id: s.sync_id,
            uuid: s.uuid,
            status: s.status,
            server_modified: s.server_modified,
            fetched_at: s.fetched_at,
            profile: s.profile,
            pending: c.pending,
            has_pending,
        }
    }
}

/// One search result, best first.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SearchHit {
    /// The traveler's login (the key for `profile`).
    pub login: String,
    /// The name to show, when the profile has one.
    pub display_name: Option<String>,
    /// The stored status.
    pub status: Option<ProfileStatus>,
    /// Higher is better; comparable only within one query's hits.
    pub score: f64,
}

impl From<store::SearchHit> for SearchHit {
    fn from(h: store::SearchHit) -> Self {
        SearchHit {
            login: h.login,
            display_name: h.display_name,
            status: h.status,
            score: h.score,
        }
    }
}

/// A stored summary of the change feed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ProfileListing {
    /// The login ID.
    pub login: String,
    /// `XmlProfileSyncID`, when the server sent one.
    pub sync_id: Option<String>,
    /// The status the feed reported.
    pub status: Option<ProfileStatus>,
    /// `ProfileLastModifiedUTC`, when the server sent one.
    pub last_modified: Option<Timestamp>,
    /// When it was last seen in the feed.
    pub seen_at: Timestamp,
    /// Whether the profile must be (re)fetched.
    pub stale: bool,
}

impl From<store::StoredSummary> for ProfileListing {
    fn from(s: store::StoredSummary) -> Self {
        ProfileListing {
            login: s.login,
            sync_id: s.sync_id,
            status: s.status,
            last_modified: s.last_modified,
            seen_at: s.seen_at,
            stale: s.stale,
        }
    }
}

/// Which listings `list` returns, ordered by last-modified time, then login.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct ListFilter {
    /// Only this status.
    #[uniffi(default)]
    pub status: Option<ProfileStatus>,
    /// Only those modified at or after this time.
    #[uniffi(default)]
    pub modified_since: Option<Timestamp>,
    /// At most this many (`null`: all).
    #[uniffi(default)]
    pub limit: Option<u32>,
    /// Skip this many first.
    #[uniffi(default = 0)]
    pub offset: u32,
}

impl From<ListFilter> for store::SummaryFilter {
    fn from(f: ListFilter) -> Self {
        store::SummaryFilter {
            status: f.status,
            modified_since: f.modified_since,
            limit: f.limit,
            offset: f.offset,
        }
    }
}

/// How many rows the cache holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, uniffi::Record)]
pub struct Counts {
    /// Stored profiles.
    pub profiles: u64,
    /// Stored summaries.
    pub summaries: u64,
    /// Stored profiles whose status is active.
    pub active: u64,
    /// Stored profiles whose status is inactive.
    pub inactive: u64,
    /// Summaries whose profile must be (re)fetched.
    pub stale: u64,
}

impl From<store::Counts> for Counts {
    fn from(c: store::Counts) -> Self {
        Counts {
            profiles: c.profiles,
            summaries: c.summaries,
            active: c.active,
            inactive: c.inactive,
            stale: c.stale,
        }
    }
}

/// A snapshot of the cache and its sync, for a status screen.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SyncStatus {
    /// Whether a sync is running now.
    pub running: bool,
    /// The running sync's progress.
    pub progress: Option<crate::sync::SyncProgress>,
    /// When the last sync succeeded.
    pub last_success_at: Option<Timestamp>,
    /// When the last sync started.
    pub last_attempt_at: Option<Timestamp>,
    /// How the last sync failed, if it did (no profile values).
    pub last_error: Option<String>,
    /// Row counts.
    pub counts: Counts,
    /// Profiles whose last fetch failed (retried on later syncs).
    pub failed: u64,
    /// The loyalty outbox by state.
    pub outbox: OutboxCounts,
}

impl From<crate::SyncStatus> for SyncStatus {
    fn from(s: crate::SyncStatus) -> Self {
        SyncStatus {
            running: s.running,
            progress: s.progress,
            last_success_at: s.last_success_at,
            last_attempt_at: s.last_attempt_at,
            last_error: s.last_error,
            counts: s.counts.into(),
            failed: s.failed,
            outbox: s.outbox,
        }
    }
}
