//! The command-line grammar (clap derive).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// An offline cache of SAP Concur travel profiles.
#[derive(Debug, Parser)]
#[command(name = "profile-cache", version, subcommand_required = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options of every command.
#[derive(Debug, Args)]
pub struct Global {
    /// The database file.
    #[arg(
        long,
        global = true,
        env = "PROFILE_CACHE_DB",
        default_value = "./profile-cache.db"
    )]
    pub db: PathBuf,
    /// Machine-readable output on stdout (no progress bars).
    #[arg(long, global = true)]
    pub json: bool,
    /// Only the essential output, no progress bars.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More detail (timings, report fields).
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the built-in sandbox, sync it, show a profile, search, and round-trip a
    /// loyalty update through an outage.
    Demo {
        /// Travelers in the sandbox.
        #[arg(long, default_value_t = 5_000)]
        profiles: u64,
        /// Latency added to every sandbox response, in milliseconds (a slower network).
        #[arg(long)]
        latency_ms: Option<u64>,
    },
    /// Serve the fake SAP Concur API until Ctrl-C.
    Sandbox(SandboxArgs),
    /// Bring the database up to date with SAP Concur.
    Sync(SyncArgs),
    /// Show one cached profile.
    Show {
        /// The traveler's login ID.
        login: String,
        /// The original XML document as received.
        #[arg(long, conflicts_with = "json")]
        xml: bool,
    },
    /// Search cached profiles (names, e-mail, login, employee ID).
    Search {
        query: String,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// List cached profile summaries.
    List {
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
        /// Only those modified at or after this time (RFC 3339, e.g. 2026-01-31T00:00:00Z).
        #[arg(long)]
        modified_since: Option<String>,
    },
    /// Write every cached profile to stdout or a file.
    Export {
        #[arg(long, value_enum)]
        format: ExportFormat,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Profile counts, checkpoint, last sync and the loyalty outbox.
    Status,
    /// Loyalty program updates (the outbox).
    #[command(subcommand)]
    Loyalty(LoyaltyCommand),
    /// Subscribe to change notifications.
    Subscribe(SubscriptionArgs),
    /// End a notification subscription.
    Unsubscribe(SubscriptionArgs),
    /// Handle a v1 postback as SAP Concur posted it.
    Postback {
        /// Its query string, e.g. 'type=profile&userid_type=login&userid_value=…'.
        #[arg(long)]
        query: String,
        /// A file with its body (itinerary notifications).
        #[arg(long)]
        body: Option<PathBuf>,
        #[command(flatten)]
        remote: OptionalRemote,
    },
    /// Handle a v4 travel profile event (JSON).
    Event {
        #[arg(long)]
        file: PathBuf,
        #[command(flatten)]
        remote: OptionalRemote,
    },
    /// Print a shell completion script.
    Completions { shell: clap_complete::Shell },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StatusArg {
    Active,
    Inactive,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Jsonl,
    Csv,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// The port (0: a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    #[arg(long, default_value_t = 1_000)]
    pub profiles: u64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Latency added to every API response, in milliseconds.
    #[arg(long)]
    pub latency_ms: Option<u64>,
    /// A fault, e.g. `profile:503@rate=0.05` (repeatable).
    #[arg(long)]
    pub fault: Vec<String>,
}

/// Where the server is and how to authenticate.
#[derive(Debug, Clone, Args)]
pub struct Auth {
    /// A bearer token.
    #[arg(long, env = "PROFILE_CACHE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// OAuth client id.
    #[arg(long, env = "PROFILE_CACHE_CLIENT_ID", hide_env_values = true)]
    pub client_id: Option<String>,
    /// OAuth client secret.
    #[arg(long, env = "PROFILE_CACHE_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,
    /// OAuth refresh token (without it: client credentials).
    #[arg(long, env = "PROFILE_CACHE_REFRESH_TOKEN", hide_env_values = true)]
    pub refresh_token: Option<String>,
}

/// `--base-url`: an http(s) URL with a host (a usage error otherwise, not "offline").
fn base_url(s: &str) -> Result<String, String> {
    match reqwest::Url::parse(s.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => {
            Ok(s.trim().trim_end_matches('/').to_owned())
        }
        _ => Err(
            "expected an http:// or https:// URL such as https://us.api.concursolutions.com".into(),
        ),
    }
}

#[derive(Debug, Clone, Args)]
pub struct Remote {
    /// The API base URL, e.g. https://us.api.concursolutions.com.
    #[arg(long, env = "PROFILE_CACHE_BASE_URL", value_parser = base_url)]
    pub base_url: String,
    #[command(flatten)]
    pub auth: Auth,
}

#[derive(Debug, Clone, Args)]
pub struct OptionalRemote {
    /// The API base URL (without it, a profile to refresh is marked stale for the next sync).
    #[arg(long, env = "PROFILE_CACHE_BASE_URL", value_parser = base_url)]
    pub base_url: Option<String>,
    #[command(flatten)]
    pub auth: Auth,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub remote: Remote,
    /// Read the whole feed again, not only changes since the checkpoint.
    #[arg(long)]
    pub full: bool,
    /// Profiles fetched at once.
    #[arg(long)]
    pub concurrency: Option<u32>,
    /// Only these travel configuration ids (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub travel_configs: Option<Vec<String>>,
    /// Remove cached profiles the server no longer has (implies a full crawl).
    #[arg(long)]
    pub reconcile: bool,
}

#[derive(Debug, Subcommand)]
pub enum LoyaltyCommand {
    /// Queue a loyalty membership update (sent by `loyalty flush`).
    Queue(QueueArgs),
    /// List queued updates.
    List,
    /// Send the queued updates.
    Flush {
        #[command(flatten)]
        remote: Remote,
    },
    /// Send a failed update again.
    Retry { id: i64 },
    /// Remove an update.
    Discard { id: i64 },
    /// Resolve a conflict.
    #[command(group(clap::ArgGroup::new("resolution").required(true).args(["keep_mine", "take_theirs"])))]
    Resolve {
        id: i64,
        /// Send the local values anyway.
        #[arg(long)]
        keep_mine: bool,
        /// Keep the server's values (drops the update).
        #[arg(long)]
        take_theirs: bool,
    },
}

#[derive(Debug, Args)]
pub struct QueueArgs {
    pub login: String,
    /// The program's name, e.g. "Frequent Flyer".
    #[arg(long)]
    pub program: String,
    #[arg(long)]
    pub vendor_code: String,
    #[arg(long, value_enum)]
    pub vendor_type: VendorTypeArg,
    #[arg(long)]
    pub account_no: String,
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long)]
    pub status_benefits: Option<String>,
    #[arg(long)]
    pub point_total: Option<String>,
    #[arg(long)]
    pub segment_total: Option<String>,
    #[arg(long)]
    pub next_status: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum VendorTypeArg {
    Air,
    Car,
    Hotel,
}

#[derive(Debug, Args)]
pub struct SubscriptionArgs {
    #[arg(long, value_enum)]
    pub scope: ScopeArg,
    #[arg(long = "type", value_enum)]
    pub kind: KindArg,
    /// With `--scope user`: the traveler the request acts for.
    #[arg(long)]
    pub login: Option<String>,
    #[command(flatten)]
    pub remote: Remote,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScopeArg {
    Company,
    User,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    Profile,
    Itinerary,
    Fop,
}
