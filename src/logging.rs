//! The library's logs: written with the [`log`] facade, so a Rust app sees them through
//! whatever logger it installs (`env_logger`, …), and handed to a Kotlin or Swift app
//! through [`install`] (the FFI's `set_log_sink`).
//!
//! **What a log line may hold.** Counts, durations, HTTP statuses, correlation ids, error
//! kinds, update ids, and a traveler named by [`tag`] (a short one-way hash of the login),
//! never a login, a name, a document, a URL with its query, a token, or an error text the
//! server wrote. The tests at the bottom and in the bindings check a real sync's lines for
//! the logins and tokens they used.
//!
//! Only records from this crate are forwarded to an installed sink: the HTTP stack's own
//! logs (which print URLs, and so logins) never reach the app.

use std::sync::{Arc, OnceLock, RwLock};

/// How much to log, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, uniffi::Enum)]
pub enum LogLevel {
    /// Something failed and the caller will see an error.
    Error,
    /// Something failed and was handled (a retry, a profile that could not be read).
    Warn,
    /// The main steps: a sync or flush started and ended, migrations, notifications.
    Info,
    /// Every page, batch and request outcome.
    Debug,
    /// Everything.
    Trace,
}

impl From<log::Level> for LogLevel {
    fn from(l: log::Level) -> Self {
        match l {
            log::Level::Error => LogLevel::Error,
            log::Level::Warn => LogLevel::Warn,
            log::Level::Info => LogLevel::Info,
            log::Level::Debug => LogLevel::Debug,
            log::Level::Trace => LogLevel::Trace,
        }
    }
}

impl From<LogLevel> for log::LevelFilter {
    fn from(l: LogLevel) -> Self {
        match l {
            LogLevel::Error => log::LevelFilter::Error,
            LogLevel::Warn => log::LevelFilter::Warn,
            LogLevel::Info => log::LevelFilter::Info,
            LogLevel::Debug => log::LevelFilter::Debug,
            LogLevel::Trace => log::LevelFilter::Trace,
        }
    }
}

/// One log line, as handed to an app's sink.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LogRecord {
    /// Its severity.
    pub level: LogLevel,
    /// The module that wrote it (`profile_cache::sync::pull`).
    pub target: String,
    /// The line itself (no profile values, no tokens).
    pub message: String,
    /// When it was written, milliseconds since the epoch.
    pub timestamp_ms: i64,
}

/// Where forwarded records go (the FFI's `LogSink` adapter implements it).
pub trait Sink: Send + Sync {
    /// Takes one record. Called on the thread that logged: keep it quick.
    fn log(&self, record: LogRecord);
}

struct Forwarder {
    sink: RwLock<Option<(Arc<dyn Sink>, log::LevelFilter)>>,
}

impl log::Log for Forwarder {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        ours(metadata.target())
            && self
                .sink
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .as_ref()
                .is_some_and(|(_, level)| metadata.level() <= *level)
    }

    fn log(&self, record: &log::Record<'_>) {
        if !ours(record.target()) {
            return;
        }
        let sink = match &*self.sink.read().unwrap_or_else(|p| p.into_inner()) {
            Some((sink, level)) if record.level() <= *level => sink.clone(),
            _ => return,
        };
        sink.log(LogRecord {
            level: record.level().into(),
            target: record.target().to_owned(),
            message: record.args().to_string(),
            timestamp_ms: chrono::Utc::now().timestamp_millis(),
        });
    }

    fn flush(&self) {}
}

fn ours(target: &str) -> bool {
    target == "profile_cache" || target.starts_with("profile_cache::")
}

static FORWARDER: Forwarder = Forwarder {
    sink: RwLock::new(None),
};
static INSTALLED: OnceLock<bool> = OnceLock::new();

/// Sends this crate's records at `level` or more severe to `sink` (or stops, with `None`).
///
/// Installs the forwarder as the process's `log` logger the first time; returns `false`
/// when another logger was installed before (a Rust app's own): the sink then gets
/// nothing, and that app's logger keeps receiving the records. Calling it again replaces
/// the sink and level.
pub fn install(sink: Option<Arc<dyn Sink>>, level: LogLevel) -> bool {
    let installed = *INSTALLED.get_or_init(|| log::set_logger(&FORWARDER).is_ok());
    let enabled = sink.is_some();
    *FORWARDER.sink.write().unwrap_or_else(|p| p.into_inner()) =
        sink.map(|s| (s, log::LevelFilter::from(level)));
    if installed {
        log::set_max_level(if enabled {
            level.into()
        } else {
            log::LevelFilter::Off
        });
    }
    installed
}

/// A traveler's name in logs: `#` and eight hex digits of a one-way hash (FNV-1a, 64 bit)
/// of the login, lower-cased. The same login gives the same tag in every run, so lines
/// about one traveler can be followed, and support can compute the tag of a login they
/// are asked about; the login cannot be read back from it.
pub fn tag(login: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in login.bytes().map(|b| b.to_ascii_lowercase()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("#{:08x}", (h >> 32) as u32 ^ h as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Collect(Mutex<Vec<LogRecord>>);
    impl Sink for Collect {
        fn log(&self, record: LogRecord) {
            self.0.lock().unwrap().push(record);
        }
    }

    #[test]
    fn tags_are_stable_short_and_ignore_case() {
        let a = tag("ana.souza@example.org");
        assert_eq!(a, tag("Ana.Souza@Example.org"));
        assert_ne!(a, tag("ana.souza@example.com"));
        assert_eq!(a.len(), 9);
        assert!(a.starts_with('#') && a[1..].chars().all(|c| c.is_ascii_hexdigit()));
        assert!(!a.contains("ana"));
    }

    // The one test that installs the process-wide logger (tests in this binary share it).
    #[test]
    fn the_sink_gets_this_crates_records_at_its_level_only() {
        let sink = Arc::new(Collect::default());
        assert!(install(Some(sink.clone()), LogLevel::Info));
        log::info!(target: "profile_cache::sync", "kept {}", 1);
        log::debug!(target: "profile_cache::sync", "below the level");
        log::info!(target: "reqwest::connect", "another crate's");
        log::info!(target: "profile_cache_other", "a crate with a similar name");
        {
            let got = sink.0.lock().unwrap();
            assert_eq!(got.len(), 1, "{got:?}");
            assert_eq!(got[0].message, "kept 1");
            assert_eq!(got[0].level, LogLevel::Info);
            assert_eq!(got[0].target, "profile_cache::sync");
            assert!(got[0].timestamp_ms > 1_700_000_000_000);
        }
        // A new level applies at once; removing the sink stops forwarding.
        assert!(install(Some(sink.clone()), LogLevel::Debug));
        log::debug!(target: "profile_cache::sync", "now kept");
        assert!(install(None, LogLevel::Trace));
        log::error!(target: "profile_cache::sync", "nobody listens");
        let got = sink.0.lock().unwrap();
        assert_eq!(
            got.iter().map(|r| r.message.as_str()).collect::<Vec<_>>(),
            ["kept 1", "now kept"]
        );
    }
}
