//! The traits the app implements in Kotlin or Swift (uniffi foreign traits), and the
//! adapters that plug them into the library's own traits. Every method returns a
//! `Result`, so an exception thrown in app code arrives as [`AppError`] instead of a
//! crash; the adapters then carry on (a listener's failure never stops a sync).

use super::AppError;
use crate::client::TokenError;
use crate::logging::{LogLevel, LogRecord};
use crate::store::{ItineraryEvent, OutboxEvent};
use crate::sync::SyncProgress;
use std::sync::Arc;

/// Gives the library access tokens (they live in the app's secure storage). Called on a
/// background thread, never the caller's: it may do network I/O to refresh.
#[uniffi::export(foreign)]
pub trait TokenProvider: Send + Sync {
    /// A token to send as `Authorization: Bearer …`. `acting_for` names the traveler a
    /// request acts for (loyalty updates), `null` for company-level requests.
    /// `force_refresh` is set after the server refused the previous token: return a fresh
    /// one (a second refusal ends the operation with `CacheError.Unauthorized`).
    fn access_token(
        &self,
        acting_for: Option<String>,
        force_refresh: bool,
    ) -> Result<String, AppError>;
}

/// Receives progress while a sync runs: at most every 100 ms, plus at phase changes and
/// at the end. Keep it quick (hand off to the UI thread).
#[uniffi::export(foreign)]
pub trait SyncListener: Send + Sync {
    /// A progress snapshot.
    fn on_progress(&self, progress: SyncProgress) -> Result<(), AppError>;
}

/// Receives every state change of the loyalty outbox, in order, after it was committed.
/// Called on the thread that made the change: keep it quick, and do not call the cache's
/// `set_outbox_listener` from inside it.
#[uniffi::export(foreign)]
pub trait OutboxListener: Send + Sync {
    /// One state change.
    fn on_event(&self, event: OutboxEvent) -> Result<(), AppError>;
}

/// Receives itinerary events recorded from notifications. Keep it quick.
#[uniffi::export(foreign)]
pub trait NotificationListener: Send + Sync {
    /// A new itinerary event.
    fn on_itinerary(&self, event: ItineraryEvent) -> Result<(), AppError>;
}

/// Receives the library's log lines, to pass on to the app's own logging (Logcat,
/// `os_log`, SLF4J…). Lines never hold profile values or tokens; a traveler appears as a
/// short hash of the login (`#1a2b3c4d`). Called on the thread that logged: keep it quick.
#[uniffi::export(foreign)]
pub trait LogSink: Send + Sync {
    /// One line.
    fn log(&self, record: LogRecord) -> Result<(), AppError>;
}

/// Sends the library's log lines at `level` or more severe to `sink`; `null` stops them.
/// One sink per process (a later call replaces it). Returns `false` when the process
/// already had another Rust logger, which then keeps the lines.
#[uniffi::export]
pub fn set_log_sink(sink: Option<Arc<dyn LogSink>>, level: LogLevel) -> bool {
    let sink = sink.map(|s| Arc::new(Logs(s)) as Arc<dyn crate::logging::Sink>);
    crate::logging::install(sink, level)
}

struct Logs(Arc<dyn LogSink>);

impl crate::logging::Sink for Logs {
    fn log(&self, record: LogRecord) {
        // A sink that fails cannot be told about it through the log; drop the line.
        let _ = self.0.log(record);
    }
}

pub(crate) struct Tokens(pub(crate) Arc<dyn TokenProvider>);

impl crate::client::TokenProvider for Tokens {
    fn access_token(
        &self,
        acting_for: Option<&str>,
        force_refresh: bool,
    ) -> Result<String, TokenError> {
        self.0
            .access_token(acting_for.map(str::to_owned), force_refresh)
            .map_err(|e| match e {
                AppError::Failed { detail } => TokenError::new(detail),
                AppError::Offline { detail } => TokenError::unreachable(detail),
            })
    }
}

pub(crate) struct Progress(pub(crate) Arc<dyn SyncListener>);

impl crate::sync::SyncListener for Progress {
    fn on_progress(&self, progress: SyncProgress) {
        // The app's listener failing must not stop the sync.
        let _ = self.0.on_progress(progress);
    }
}

pub(crate) struct Outbox(pub(crate) Arc<dyn OutboxListener>);

impl crate::sync::OutboxListener for Outbox {
    fn on_event(&self, event: OutboxEvent) {
        let _ = self.0.on_event(event);
    }
}

pub(crate) struct Notifications(pub(crate) Arc<dyn NotificationListener>);

impl crate::sync::NotificationListener for Notifications {
    fn on_itinerary(&self, event: ItineraryEvent) {
        let _ = self.0.on_itinerary(event);
    }
}
