//! [`CacheConfig`]: where the cache lives, which server it talks to, and how hard it tries.

use crate::model::LoyaltyVendorType;
use std::path::PathBuf;
use std::time::Duration;

/// How a [`ProfileCache`](crate::ProfileCache) is set up. `CacheConfig::new(db, base_url)`
/// gives the defaults below; every field can be changed before opening.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// The SQLite database file (created when missing).
    pub db_path: PathBuf,
    /// The API base URL, e.g. `https://us.api.concursolutions.com` (no trailing slash
    /// needed). A token's `geolocation` replaces it when the OAuth provider reports one.
    pub base_url: String,
    /// Profiles fetched at once during a sync. Default 8.
    pub concurrency: usize,
    /// `ItemsPerPage` of the summary feed (1..=200). Default 200.
    pub page_size: u32,
    /// How far before the checkpoint each incremental crawl starts reading again, to
    /// survive an exclusive date bound, clock skew and replication lag. Default 10 min.
    pub overlap: Duration,
    /// How far before the server's clock (`Date`) at a profile fetch the document is
    /// trusted to reflect every change (see `sync::pull::covered_until`): feed times have
    /// whole seconds, and the server's database and front-end clocks may differ a little.
    /// A profile fetched within this margin of its latest change is fetched once more by
    /// the next sync. Default 5 s.
    pub change_margin: Duration,
    /// Crawl passes tried before a sync gives up on getting a consistent view (the
    /// checkpoint then stays where it was, so nothing is lost). Default 4.
    pub max_crawl_passes: u32,
    /// Profiles stored per database transaction at most. Larger batches write fewer,
    /// larger search-index segments and rewrite each page of the randomly keyed indexes
    /// (UUID, sync id) once for more profiles; each batch in memory costs about 7 KB a
    /// profile, and up to one and a half are held. Default 2,000.
    pub store_batch: usize,
    /// Timeouts and retries of every HTTP request.
    pub http: HttpPolicy,
    /// Who the app is to SAP Concur, which decides how loyalty updates are checked.
    /// Default [`CallerRole::Tmc`].
    pub role: CallerRole,
    /// How the loyalty outbox sends and retries.
    pub outbox: OutboxPolicy,
}

/// The caller's role towards the Loyalty Program API.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CallerRole {
    /// A travel management company: may update any program of a traveler, and must name
    /// each update's vendor code and vendor type.
    #[default]
    Tmc,
    /// A travel supplier: may update only its own program. The server ignores the vendor
    /// code and type of its updates, so the cache fills in these (an update's own are
    /// ignored) to know which membership the update sets.
    Supplier {
        /// The supplier's two-character vendor code (e.g. `LH`).
        vendor_code: String,
        /// The kind of its program.
        vendor_type: LoyaltyVendorType,
    },
}

/// How the loyalty outbox sends and retries.
///
/// Each flush tries each due update once (no retries inside the flush); a transient
/// failure schedules the next attempt `base_delay × 2^(attempts−1)` later, capped at
/// `max_delay`, with jitter (between half and all of it), and never less than a
/// `Retry-After` the server sent. There is no attempt limit: an update stays queued
/// until it is sent, refused, or discarded by the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxPolicy {
    /// Flush automatically at this interval while the cache is open (also soon after
    /// each queued update). `None` (the default): only when the app calls a flush.
    pub auto_flush: Option<Duration>,
    /// Base of the backoff after a transient failure. Default 5 s.
    pub base_delay: Duration,
    /// Cap of one backoff. Default 15 min.
    pub max_delay: Duration,
    /// Travelers whose updates are sent at once. Default 4.
    pub concurrency: usize,
}

impl Default for OutboxPolicy {
    fn default() -> Self {
        OutboxPolicy {
            auto_flush: None,
            base_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(15 * 60),
            concurrency: 4,
        }
    }
}

/// Timeouts and the retry policy of the HTTP client.
#[derive(Debug, Clone)]
pub struct HttpPolicy {
    /// Time to establish a connection. Default 10 s.
    pub connect_timeout: Duration,
    /// Time for a whole request, body included (the API may take up to 60 s). Default 75 s.
    pub request_timeout: Duration,
    /// Attempts per request, the first included. Default 5.
    pub max_attempts: u32,
    /// Base of the exponential backoff (full jitter). Default 200 ms.
    pub base_delay: Duration,
    /// Cap of one backoff delay (a longer `Retry-After` is honoured up to
    /// `max_total`). Default 20 s.
    pub max_delay: Duration,
    /// Cap of the time spent retrying one request. Default 60 s.
    pub max_total: Duration,
    /// Cap of the time spent retrying when the server cannot be reached at all, so an
    /// offline device learns it quickly. Default 3 s.
    pub offline_total: Duration,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        HttpPolicy {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(75),
            max_attempts: 5,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
            max_total: Duration::from_secs(60),
            offline_total: Duration::from_secs(3),
        }
    }
}

impl CacheConfig {
    /// The defaults for a database file and a server.
    pub fn new(db_path: impl Into<PathBuf>, base_url: impl Into<String>) -> Self {
        CacheConfig {
            db_path: db_path.into(),
            base_url: base_url.into(),
            concurrency: 8,
            page_size: 200,
            overlap: Duration::from_secs(600),
            change_margin: Duration::from_secs(5),
            max_crawl_passes: 4,
            store_batch: 2000,
            http: HttpPolicy::default(),
            role: CallerRole::default(),
            outbox: OutboxPolicy::default(),
        }
    }
}
