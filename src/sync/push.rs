//! The push side: checking a loyalty update before it is queued, sending queued updates
//! (`flush`), and telling the app about every state change (the [`OutboxListener`]).
//!
//! A flush takes every traveler with a due update and sends that traveler's updates
//! oldest first, one request each (`LoyaltyMembershipUpdate` with one `Membership`,
//! `POST …/loyalty?userid_type=login&userid_value=…`, the token provider told it acts for
//! that traveler). Travelers are independent: up to `OutboxPolicy::concurrency` at once,
//! and one traveler's failure only stops that traveler's later updates (so they never
//! overtake an older one). Each due update is tried once per flush; the outbox keeps its
//! own persisted backoff (see [`OutboxPolicy`]).
//!
//! What each answer does (see [`crate::store::UpdateState`]):
//! * `OK` → `sent`; `ERROR` → `failed` with the server's description;
//! * offline, timeout, 429, 500/502/503/504, an unreadable answer → `pending` again, one
//!   more attempt counted, next attempt after the backoff (at least `Retry-After`);
//! * another HTTP error (400 unknown user, 404 …) → `failed` with the status;
//! * a token refused also after a refresh, or a failing token provider → `pending`
//!   again, nothing counted, and the flush stops with that error.
//!
//! One flush runs at a time per [`ProfileCache`](crate::ProfileCache); the crash rule
//! ("a row found `sending` is sent again") assumes one process flushes a database at a
//! time, as one app does.

use super::blocking;
use crate::cancel::CancelToken;
use crate::client::{ConcurClient, Jitter, LOYALTY_PATH};
use crate::config::{CallerRole, OutboxPolicy};
use crate::model::{LoyaltyMembership, LoyaltyStatus, LoyaltyUpdate, LoyaltyVendorType, Total};
use crate::store::{OutboxEvent, QueuedUpdate, Store, UpdateState};
use crate::{Error, Result};
use chrono::Utc;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// What one flush did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, uniffi::Record)]
pub struct FlushReport {
    /// Requests sent (answered or not).
    pub attempted: u32,
    /// Updates the server accepted (now `sent`).
    pub sent: u32,
    /// Updates the server refused (now `failed`).
    pub failed: u32,
    /// Updates still pending after the flush (transient failures, not due yet, or
    /// behind a traveler's failing update).
    pub pending: u32,
    /// Updates in conflict, waiting for the app.
    pub conflicts: u32,
}

/// Receives every state change of the outbox, in sequence order, after it was committed.
/// Called on the thread that made the change: keep it quick (hand off to the UI thread).
/// An app that missed events (e.g. it registered late) catches up with
/// `ProfileCache::outbox_events_since` or `ProfileCache::outbox_status`.
pub trait OutboxListener: Send + Sync {
    /// One state change.
    fn on_event(&self, event: OutboxEvent);
}

/// Delivers committed outbox events to the listener, each once, in order.
#[derive(Default)]
pub(crate) struct Dispatcher {
    listener: RwLock<Option<Arc<dyn OutboxListener>>>,
    cursor: Mutex<u64>,
    again: AtomicBool,
}

impl Dispatcher {
    /// Sets the listener; it is told about changes after the current last one.
    pub(crate) fn set_listener(&self, store: &Store, listener: Option<Arc<dyn OutboxListener>>) {
        let mut cursor = self.cursor.lock().unwrap_or_else(|p| p.into_inner());
        *cursor = store.outbox_counts().map(|c| c.last_seq).unwrap_or(0);
        *self.listener.write().unwrap_or_else(|p| p.into_inner()) = listener;
    }

    /// Delivers what was committed since the last delivery. Re-entrant: a listener that
    /// queues an update gets that event after this call's events, never in the middle.
    pub(crate) fn dispatch(&self, store: &Store) {
        self.again.store(true, Ordering::Release);
        loop {
            let Ok(mut cursor) = self.cursor.try_lock() else {
                // Another thread (or this one, re-entered) is delivering: it will loop.
                return;
            };
            if !self.again.swap(false, Ordering::AcqRel) {
                return;
            }
            let listener = self
                .listener
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            let Some(listener) = listener else {
                continue;
            };
            while let Ok(events) = store.outbox_events_since(*cursor, 256) {
                if events.is_empty() {
                    break;
                }
                for e in events {
                    *cursor = e.seq;
                    listener.on_event(e);
                }
            }
            drop(cursor);
            if !self.again.load(Ordering::Acquire) {
                return;
            }
        }
    }
}

fn invalid(field: &str, reason: &str) -> Error {
    Error::InvalidInput {
        field: field.into(),
        reason: reason.into(),
    }
}

/// A text field: trimmed, empty as `None`, at most `max` characters.
fn text(value: Option<String>, field: &str, max: Option<usize>) -> Result<Option<String>> {
    let Some(v) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if let Some(max) = max {
        if v.chars().count() > max {
            return Err(invalid(field, &format!("must be at most {max} characters")));
        }
    }
    if v.chars().any(char::is_control) {
        return Err(invalid(field, "must not contain control characters"));
    }
    Ok(Some(v))
}

/// A total: a whole number, zero or more (a text total must be one).
fn total(value: Option<Total>, field: &str) -> Result<Option<Total>> {
    let n = match value {
        None => return Ok(None),
        Some(Total::Number(n)) => n,
        Some(Total::Text(t)) if t.trim().is_empty() => return Ok(None),
        Some(Total::Text(t)) => t
            .trim()
            .parse::<i64>()
            .map_err(|_| invalid(field, "must be a whole number"))?,
    };
    if n < 0 {
        return Err(invalid(field, "must not be negative"));
    }
    Ok(Some(Total::Number(n)))
}

/// Checks a membership for the caller's role and returns it normalized (trimmed, vendor
/// code in capitals, totals as numbers; a supplier's own vendor code and type filled in).
/// The error names the field and never quotes the value.
pub fn validate(m: LoyaltyMembership, role: &CallerRole) -> Result<LoyaltyMembership> {
    let (vendor_code, vendor_type) = match role {
        CallerRole::Tmc => {
            let vendor_type = m
                .vendor_type
                .ok_or_else(|| invalid("vendor_type", "is required"))?;
            if matches!(vendor_type, LoyaltyVendorType::Unrecognized(_)) {
                return Err(invalid(
                    "vendor_type",
                    "must be A (air), C (car) or H (hotel)",
                ));
            }
            let code = text(m.vendor_code, "vendor_code", None)?
                .ok_or_else(|| invalid("vendor_code", "is required"))?;
            (code, vendor_type)
        }
        // The server ignores a supplier's vendor code and type: its own program is meant.
        CallerRole::Supplier {
            vendor_code,
            vendor_type,
        } => (vendor_code.trim().to_owned(), vendor_type.clone()),
    };
    if vendor_code.chars().count() != 2 || !vendor_code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(invalid(
            "vendor_code",
            "must be exactly 2 letters or digits",
        ));
    }
    let account_no = text(m.account_no, "account_no", Some(60))?
        .ok_or_else(|| invalid("account_no", "is required"))?;
    Ok(LoyaltyMembership {
        unique_id: text(m.unique_id, "unique_id", Some(255))?,
        vendor_code: Some(vendor_code.to_ascii_uppercase()),
        vendor_type: Some(vendor_type),
        account_no: Some(account_no),
        status: text(m.status, "status", Some(100))?,
        status_benefits: text(m.status_benefits, "status_benefits", Some(1000))?,
        point_total: total(m.point_total, "point_total")?,
        segment_total: total(m.segment_total, "segment_total")?,
        next_status: text(m.next_status, "next_status", Some(100))?,
        points_until_next_status: total(m.points_until_next_status, "points_until_next_status")?,
        segments_until_next_status: total(
            m.segments_until_next_status,
            "segments_until_next_status",
        )?,
    })
}

/// The delay before attempt `attempts + 1` after `attempts` transient failures:
/// `base × 2^(attempts−1)` capped at `max`, jittered into its upper half, at least
/// `retry_after`.
pub(crate) fn backoff(
    policy: &OutboxPolicy,
    attempts: u32,
    retry_after: Option<Duration>,
    random: u64,
) -> Duration {
    let exp = policy
        .base_delay
        .saturating_mul(1u32 << attempts.saturating_sub(1).min(20))
        .min(policy.max_delay);
    let half = exp / 2;
    let jitter = Duration::from_nanos(random % (half.as_nanos() as u64 + 1));
    (half + jitter).max(retry_after.unwrap_or_default())
}

/// One flush's shared context.
pub(crate) struct Push {
    pub(crate) store: Arc<Store>,
    pub(crate) client: Arc<ConcurClient>,
    pub(crate) policy: OutboxPolicy,
    pub(crate) cancel: CancelToken,
    /// Updates whose request is under way (they cannot be discarded).
    pub(crate) in_flight: Arc<Mutex<HashSet<i64>>>,
    pub(crate) jitter: Arc<Jitter>,
}

#[derive(Default)]
struct Tally {
    attempted: AtomicU64,
    sent: AtomicU64,
    failed: AtomicU64,
    fatal: Mutex<Option<Error>>,
}

/// How one request ended, for the store.
enum Outcome {
    Sent(chrono::DateTime<Utc>),
    Refused(String),
    Retry(String, Option<Duration>),
    Stop(Error),
}

impl Push {
    /// Sends every due update once (see the module docs).
    pub(crate) async fn flush(self: Arc<Self>) -> Result<FlushReport> {
        let store = self.store.clone();
        let all = blocking(move || store.sendable_updates()).await?;
        let now = Utc::now();
        let mut travelers: Vec<Vec<QueuedUpdate>> = Vec::new();
        for u in all {
            match travelers.last_mut() {
                Some(t) if t[0].login == u.login => t.push(u),
                _ => travelers.push(vec![u]),
            }
        }
        // A traveler is due when its oldest update is: a later one never overtakes it.
        travelers.retain(|t| is_due(&t[0], now));
        let tally = Arc::new(Tally::default());
        let limit = Arc::new(tokio::sync::Semaphore::new(self.policy.concurrency.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        for updates in travelers {
            // The permit is taken before the task exists: travelers start in order (by
            // login), and at most `concurrency` tasks are alive at once.
            let Ok(permit) = limit.clone().acquire_owned().await else {
                break;
            };
            let (me, tally) = (self.clone(), tally.clone());
            tasks.spawn(async move {
                let _permit = permit;
                me.traveler(updates, now, &tally).await;
            });
        }
        while tasks.join_next().await.is_some() {}
        let store = self.store.clone();
        let counts = blocking(move || store.outbox_counts()).await?;
        if let Some(e) = tally.fatal.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return Err(e);
        }
        if self.cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed) as u32;
        let report = FlushReport {
            attempted: n(&tally.attempted),
            sent: n(&tally.sent),
            failed: n(&tally.failed),
            pending: (counts.pending + counts.sending) as u32,
            conflicts: counts.conflict as u32,
        };
        if report.attempted > 0 {
            log::info!(
                "outbox flush: {} attempted, {} sent, {} refused, {} still pending, {} in conflict",
                report.attempted,
                report.sent,
                report.failed,
                report.pending,
                report.conflicts
            );
        }
        Ok(report)
    }

    /// One traveler's due updates, oldest first, until one fails transiently.
    async fn traveler(
        &self,
        updates: Vec<QueuedUpdate>,
        now: chrono::DateTime<Utc>,
        tally: &Tally,
    ) {
        for u in updates {
            if self.cancel.is_cancelled() || !is_due(&u, now) {
                return;
            }
            match self.send(&u, tally).await {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    self.stop(tally, e);
                    return;
                }
            }
        }
    }

    fn stop(&self, tally: &Tally, e: Error) {
        let mut fatal = tally.fatal.lock().unwrap_or_else(|p| p.into_inner());
        fatal.get_or_insert(e);
        self.cancel.cancel();
    }

    /// Sends one update and records the outcome. `Ok(false)`: the traveler's later
    /// updates wait (transient failure); `Err`: the whole flush stops.
    async fn send(&self, u: &QueuedUpdate, tally: &Tally) -> Result<bool> {
        let (store, id) = (self.store.clone(), u.id);
        if !blocking(move || store.mark_sending(id, Utc::now())).await? {
            return Ok(true);
        }
        self.in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id);
        tally.attempted.fetch_add(1, Ordering::Relaxed);
        let outcome = self.request(u).await;
        let store = self.store.clone();
        let now = Utc::now();
        let result = match outcome {
            Outcome::Sent(server_time) => {
                log::debug!("update {id} for {}: sent", crate::logging::tag(&u.login));
                tally.sent.fetch_add(1, Ordering::Relaxed);
                blocking(move || store.mark_sent(id, now, server_time).map(|_| true)).await
            }
            Outcome::Refused(description) => {
                // The server's description may quote the values: it stays in the outbox.
                log::warn!(
                    "update {id} for {}: refused by the server (failed)",
                    crate::logging::tag(&u.login)
                );
                tally.failed.fetch_add(1, Ordering::Relaxed);
                blocking(move || store.mark_failed(id, &description, now).map(|_| true)).await
            }
            Outcome::Retry(kind, retry_after) => {
                let delay = backoff(
                    &self.policy,
                    u.attempts + 1,
                    retry_after,
                    self.jitter.next(),
                );
                let next = now + chrono::Duration::from_std(delay).unwrap_or_default();
                log::debug!(
                    "update {id} for {}: {kind}; next attempt in {} ms",
                    crate::logging::tag(&u.login),
                    delay.as_millis()
                );
                blocking(move || store.mark_retry(id, Some(&kind), next, now).map(|_| false)).await
            }
            Outcome::Stop(e) => {
                let _ = blocking(move || store.mark_retry(id, None, now, now)).await;
                Err(e)
            }
        };
        self.in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        result
    }

    async fn request(&self, u: &QueuedUpdate) -> Outcome {
        let body = crate::xml::write_loyalty_update(&LoyaltyUpdate {
            memberships: vec![u.membership.clone()],
        });
        let login = u.login.as_str();
        let reply = self
            .client
            .execute_once(Some(login), &self.cancel, |http, base| {
                http.post(format!("{base}{LOYALTY_PATH}"))
                    .query(&[("userid_type", "login"), ("userid_value", login)])
                    .header(reqwest::header::CONTENT_TYPE, "application/xml")
                    .body(body.clone())
            })
            .await;
        match reply {
            Ok(reply) => match crate::xml::parse_loyalty_response(&reply.body) {
                Ok(r) if r.status == LoyaltyStatus::Ok => {
                    Outcome::Sent(reply.date.unwrap_or_else(Utc::now))
                }
                Ok(r) => Outcome::Refused(
                    r.error_description
                        .unwrap_or_else(|| "the server refused the update".into()),
                ),
                // Unreadable: it may or may not have been applied; a repeat is harmless.
                Err(_) => Outcome::Retry("unreadable response".into(), None),
            },
            Err((e @ (Error::Unauthorized { .. } | Error::TokenProvider(_)), _)) => {
                Outcome::Stop(e)
            }
            Err((Error::Cancelled, _)) => Outcome::Stop(Error::Cancelled),
            Err((e, after)) if e.is_transient() => Outcome::Retry(failure_kind(&e), after),
            Err((
                Error::Server {
                    status, message, ..
                },
                _,
            )) => Outcome::Refused(match message {
                Some(m) => format!("HTTP {status}: {m}"),
                None => format!("HTTP {status}"),
            }),
            Err((e, _)) => Outcome::Refused(e.to_string()),
        }
    }
}

/// A transient failure in general terms, kept as the update's `last_error`.
fn failure_kind(e: &Error) -> String {
    match e {
        Error::Offline { reason } => format!("offline: {reason}"),
        Error::RateLimited { .. } => "rate limited (HTTP 429)".into(),
        Error::Server { status, .. } => format!("server error (HTTP {status})"),
        other => other.to_string(),
    }
}

fn is_due(u: &QueuedUpdate, now: chrono::DateTime<Utc>) -> bool {
    u.state == UpdateState::Sending || u.next_attempt_at.is_none_or(|t| t <= now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmc(m: LoyaltyMembership) -> Result<LoyaltyMembership> {
        validate(m, &CallerRole::Tmc)
    }

    fn good() -> LoyaltyMembership {
        LoyaltyMembership {
            vendor_code: Some(" lh ".into()),
            vendor_type: Some(LoyaltyVendorType::Air),
            account_no: Some("992211334455".into()),
            point_total: Some(Total::Text("007".into())),
            ..Default::default()
        }
    }

    fn field(r: Result<LoyaltyMembership>) -> String {
        match r {
            Err(Error::InvalidInput { field, reason }) => {
                assert!(!reason.contains("SECRET"), "{reason}");
                field
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn validation_names_the_field_and_normalizes() {
        let m = tmc(good()).unwrap();
        assert_eq!(m.vendor_code.as_deref(), Some("LH"));
        assert_eq!(m.point_total, Some(Total::Number(7)));
        type Change = Box<dyn Fn(&mut LoyaltyMembership)>;
        let cases: Vec<(&str, Change)> = vec![
            ("vendor_type", Box::new(|m| m.vendor_type = None)),
            (
                "vendor_type",
                Box::new(|m| m.vendor_type = Some(LoyaltyVendorType::Unrecognized("R".into()))),
            ),
            ("vendor_code", Box::new(|m| m.vendor_code = None)),
            (
                "vendor_code",
                Box::new(|m| m.vendor_code = Some("LHX".into())),
            ),
            ("account_no", Box::new(|m| m.account_no = Some("  ".into()))),
            (
                "account_no",
                Box::new(|m| m.account_no = Some("SECRET".repeat(11))),
            ),
            ("status", Box::new(|m| m.status = Some("SECRET".repeat(17)))),
            (
                "point_total",
                Box::new(|m| m.point_total = Some(Total::Text("SECRET".into()))),
            ),
            (
                "segments_until_next_status",
                Box::new(|m| m.segments_until_next_status = Some(Total::Number(-1))),
            ),
        ];
        for (want, change) in cases {
            let mut m = good();
            change(&mut m);
            assert_eq!(field(tmc(m)), want);
        }
    }

    #[test]
    fn a_supplier_gets_its_own_program() {
        let role = CallerRole::Supplier {
            vendor_code: "ua".into(),
            vendor_type: LoyaltyVendorType::Air,
        };
        let mut m = good();
        m.vendor_code = None;
        m.vendor_type = Some(LoyaltyVendorType::Hotel);
        let m = validate(m, &role).unwrap();
        assert_eq!(m.vendor_code.as_deref(), Some("UA"));
        assert_eq!(m.vendor_type, Some(LoyaltyVendorType::Air));
    }

    #[test]
    fn backoff_grows_is_capped_jittered_and_honours_retry_after() {
        let p = OutboxPolicy {
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(60),
            ..OutboxPolicy::default()
        };
        let j = Jitter::new();
        for attempts in 1..30 {
            let cap = Duration::from_secs(2 << (attempts - 1).min(10)).min(p.max_delay);
            for _ in 0..20 {
                let d = backoff(&p, attempts, None, j.next());
                assert!(d >= cap / 2 && d <= cap, "{attempts}: {d:?}");
            }
        }
        let spread: HashSet<_> = (0..20).map(|_| backoff(&p, 4, None, j.next())).collect();
        assert!(spread.len() > 10);
        let d = backoff(&p, 1, Some(Duration::from_secs(30)), j.next());
        assert_eq!(d, Duration::from_secs(30));
    }
}
