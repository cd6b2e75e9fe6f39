//! The loyalty outbox: updates queued on the device until SAP Concur confirms them, their
//! state machine, the numbered log of every state change, and the hook that confirms
//! updates (or holds them as conflicts) when profiles are stored.
//!
//! # States
//!
//! ```text
//!  queue ──► pending ──► sending ──► sent ──► confirmed
//!              ▲  ▲         │  │       │
//!              │  └─────────┘  │       └──► conflict ──► pending (keep mine)
//!              │   transient   ▼                     └─► removed (take theirs)
//!              └── retry ── failed
//! ```
//!
//! * `pending`: waiting to be sent (`next_attempt_at` says when; transient failures push
//!   it back with a persisted attempt count). A pending update whose program the server
//!   already shows with the update's values is confirmed without being sent; one whose
//!   server value changed after it was queued (differs from its `base`) and differs from
//!   it becomes a conflict.
//! * `sending`: written (and committed) before the request goes out. A row found in this
//!   state by a flush that did not put it there was cut off by a crash or a kill: it is
//!   sent again. That is safe because an update sets state (it is not a delta): applying
//!   it twice leaves the server as applying it once.
//! * `sent`: the server answered `OK`; waiting for a fetched profile that shows the
//!   values (`confirmed`). A fetched profile that differs and that the server modified
//!   after it accepted the update (its clock, whole seconds) means someone changed the
//!   program since: `conflict`.
//! * `failed`: the server refused (`ERROR`, or a permanent HTTP error); its description is
//!   kept. The app may retry or discard it.
//!
//! # One pending slot per program
//!
//! Queueing an update for a (traveler, program) removes that slot's `pending`, `failed`
//! and `conflict` rows (each logged as replaced by the new one): the newest intent wins.
//! Rows already `sending` or `sent` cannot be called back — the request may have reached
//! the server — so the new update queues behind them; it is sent after them (one traveler's
//! updates go out oldest first) and, since each update sets state, the server ends with
//! the newest value. The new update's `base` is then what the server will show once those
//! went through, so their effect is not mistaken for a conflict.

use super::{Store, document, from_ms, from_ms_opt, to_ms};
use crate::model::loyalty;
use crate::model::{LoyaltyMembership, Membership, Profile, Timestamp};
use crate::{Error, Result};
use rusqlite::{Connection, OptionalExtension, params};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

/// Where a queued update is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, uniffi::Enum)]
pub enum UpdateState {
    /// Waiting to be sent.
    Pending,
    /// Being sent (or cut off while being sent; it is sent again).
    Sending,
    /// Accepted by the server; waiting for a fetched profile to show it.
    Sent,
    /// A fetched profile shows it.
    Confirmed,
    /// Refused by the server; see `last_error`.
    Failed,
    /// The server's value changed after the update was queued; the app decides.
    Conflict,
}

impl UpdateState {
    /// Every state, in life order.
    pub const ALL: [UpdateState; 6] = [
        UpdateState::Pending,
        UpdateState::Sending,
        UpdateState::Sent,
        UpdateState::Confirmed,
        UpdateState::Failed,
        UpdateState::Conflict,
    ];

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateState::Pending => "pending",
            UpdateState::Sending => "sending",
            UpdateState::Sent => "sent",
            UpdateState::Confirmed => "confirmed",
            UpdateState::Failed => "failed",
            UpdateState::Conflict => "conflict",
        }
    }

    pub(super) fn parse(s: &str) -> Result<UpdateState> {
        UpdateState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| super::StoreError::Corrupt.into())
    }

    /// Whether the local values are shown on the profile (not yet confirmed, not refused,
    /// not in conflict).
    pub fn is_shown(self) -> bool {
        matches!(
            self,
            UpdateState::Pending | UpdateState::Sending | UpdateState::Sent
        )
    }
}

/// A queued loyalty update as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize, uniffi::Record)]
pub struct QueuedUpdate {
    /// Its id (never reused).
    pub id: i64,
    /// The traveler's login.
    pub login: String,
    /// The program it sets, `A:LH` (vendor type and code).
    pub program: String,
    /// The membership values it sets (as validated when queued).
    pub membership: LoyaltyMembership,
    /// Its state.
    pub state: UpdateState,
    /// Send attempts made (each flush tries a due update once).
    pub attempts: u32,
    /// When a pending update is next tried (`None` in other states).
    pub next_attempt_at: Option<Timestamp>,
    /// When it was queued.
    pub queued_at: Timestamp,
    /// When its state last changed.
    pub updated_at: Timestamp,
    /// When the server accepted it.
    pub sent_at: Option<Timestamp>,
    /// The server's description of a refusal, or what the last transient failure was.
    pub last_error: Option<String>,
    /// The server's membership when it was queued (`None`: there was none, or the
    /// profile was not cached yet).
    pub base: Option<Membership>,
    /// In conflict: the server's current membership (`None`: it was removed).
    pub theirs: Option<Membership>,
    /// The sequence number of its last state change.
    pub seq: u64,
}

/// One state change of a queued update, numbered: `seq` only grows (also across
/// restarts), so an app can tell whether it missed one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, uniffi::Record)]
pub struct OutboxEvent {
    /// The sequence number.
    pub seq: u64,
    /// The update.
    pub update_id: i64,
    /// Its traveler.
    pub login: String,
    /// The state before (`None`: just queued).
    pub from: Option<UpdateState>,
    /// The state after (`None`: removed — discarded, replaced, or dropped for the
    /// server's value).
    pub to: Option<UpdateState>,
    /// When removed because a newer update of the same program replaced it: that one.
    pub replaced_by: Option<i64>,
    /// When it happened.
    pub at: Timestamp,
}

/// Queued updates by state, for a status screen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, uniffi::Record)]
pub struct OutboxCounts {
    /// Waiting to be sent.
    pub pending: u64,
    /// Being sent.
    pub sending: u64,
    /// Accepted, not confirmed yet.
    pub sent: u64,
    /// Confirmed (the latest per program is kept).
    pub confirmed: u64,
    /// Refused by the server.
    pub failed: u64,
    /// Waiting for the app to resolve a conflict.
    pub conflict: u64,
    /// The sequence number of the latest state change (0: none yet).
    pub last_seq: u64,
    /// The earliest time a pending update is due.
    pub next_attempt_at: Option<Timestamp>,
}

/// Which updates [`Store::list_updates`] returns (oldest first).
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct UpdateFilter {
    /// Only this traveler's.
    pub login: Option<String>,
    /// Only those in this state.
    pub state: Option<UpdateState>,
}

/// How the app resolves a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Resolution {
    /// Send the local values anyway (the update becomes pending again).
    KeepMine,
    /// Keep the server's values (the update is dropped).
    TakeTheirs,
}

type Hook = Arc<dyn Fn(&Store) + Send + Sync>;

/// Tells the outbox listener that state changes were committed.
#[derive(Default)]
pub(crate) struct Signal {
    dirty: AtomicBool,
    hook: RwLock<Option<Hook>>,
}

impl std::fmt::Debug for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signal")
            .field("dirty", &self.dirty.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Signal {
    /// Notes (inside a transaction) that events were written.
    pub(super) fn mark(&self) {
        self.dirty.store(true, Ordering::Release);
    }

    /// Called after every commit, with no connection held: runs the hook when events
    /// were written (a rolled-back transaction only causes a harmless extra look).
    pub(crate) fn after_commit(&self, store: &Store) {
        if self.dirty.swap(false, Ordering::AcqRel) {
            let hook = self.hook.read().unwrap_or_else(|p| p.into_inner()).clone();
            if let Some(hook) = hook {
                hook(store);
            }
        }
    }
}

/// The columns of a [`QueuedUpdate`], in [`read_row`]'s order.
const COLUMNS: &str = "id, login, program, membership, state, attempts, next_attempt_at, queued_at,
     updated_at, sent_at, last_error, base, theirs, seq";

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRow> {
    Ok(RawRow {
        id: r.get(0)?,
        login: r.get(1)?,
        program: r.get(2)?,
        membership: r.get(3)?,
        state: r.get(4)?,
        attempts: r.get(5)?,
        next_attempt_at: r.get(6)?,
        queued_at: r.get(7)?,
        updated_at: r.get(8)?,
        sent_at: r.get(9)?,
        last_error: r.get(10)?,
        base: r.get(11)?,
        theirs: r.get(12)?,
        seq: r.get(13)?,
    })
}

struct RawRow {
    id: i64,
    login: String,
    program: String,
    membership: String,
    state: String,
    attempts: i64,
    next_attempt_at: i64,
    queued_at: i64,
    updated_at: i64,
    sent_at: Option<i64>,
    last_error: Option<String>,
    base: Option<String>,
    theirs: Option<String>,
    seq: i64,
}

pub(super) fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|_| super::StoreError::Corrupt.into())
}

pub(super) fn to_json<T: serde::Serialize>(v: &T) -> String {
    // Model types always serialize.
    serde_json::to_string(v).unwrap_or_default()
}

pub(super) fn json_opt<T: serde::de::DeserializeOwned>(s: Option<String>) -> Result<Option<T>> {
    s.as_deref().map(from_json).transpose()
}

impl RawRow {
    fn decode(self) -> Result<QueuedUpdate> {
        let state = UpdateState::parse(&self.state)?;
        Ok(QueuedUpdate {
            id: self.id,
            login: self.login,
            program: self.program,
            membership: from_json(&self.membership)?,
            state,
            attempts: self.attempts.max(0) as u32,
            next_attempt_at: (state == UpdateState::Pending)
                .then(|| from_ms(self.next_attempt_at))
                .transpose()?,
            queued_at: from_ms(self.queued_at)?,
            updated_at: from_ms(self.updated_at)?,
            sent_at: from_ms_opt(self.sent_at)?,
            last_error: self.last_error,
            base: json_opt(self.base)?,
            theirs: json_opt(self.theirs)?,
            seq: self.seq.max(0) as u64,
        })
    }
}

/// Keep at least this many events when pruning the log.
const KEEP_EVENTS: i64 = 10_000;

/// Logs a state change of row `id` and stamps the row (if it still exists) with its
/// sequence number. Returns the sequence number.
fn log(
    conn: &Connection,
    id: i64,
    login: &str,
    from: Option<UpdateState>,
    to: Option<UpdateState>,
    replaced_by: Option<i64>,
    now: i64,
) -> Result<i64> {
    let mut ins = conn.prepare_cached(
        "INSERT INTO outbox_events (update_id, login, from_state, to_state, replaced_by, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING seq",
    )?;
    let seq: i64 = ins.query_row(
        params![
            id,
            login,
            from.map(UpdateState::as_str),
            to.map(UpdateState::as_str),
            replaced_by,
            now
        ],
        |r| r.get(0),
    )?;
    let mut stamp = conn.prepare_cached("UPDATE outbox SET seq = ?2 WHERE id = ?1")?;
    stamp.execute(params![id, seq])?;
    if seq % 512 == 0 {
        conn.prepare_cached("DELETE FROM outbox_events WHERE seq <= ?1")?
            .execute([seq - KEEP_EVENTS])?;
    }
    Ok(seq)
}

/// Moves row `id` from state `from` to `to` (with extra assignments), logging it.
/// Returns whether the row was in state `from`.
pub(super) fn transition(
    conn: &Connection,
    id: i64,
    from: UpdateState,
    to: UpdateState,
    set: &str,
    args: &[&dyn rusqlite::ToSql],
    now: i64,
) -> Result<bool> {
    let sql = format!(
        "UPDATE outbox SET state = '{}', updated_at = ?1{}{set} WHERE id = ?2 AND state = '{}'
         RETURNING login",
        to.as_str(),
        if set.is_empty() { "" } else { ", " },
        from.as_str()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut all: Vec<&dyn rusqlite::ToSql> = vec![&now, &id];
    all.extend_from_slice(args);
    let login: Option<String> = stmt.query_row(all.as_slice(), |r| r.get(0)).optional()?;
    match login {
        Some(login) => {
            log(conn, id, &login, Some(from), Some(to), None, now)?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Deletes row `id` (in whatever state), logging it. Returns whether it existed.
pub(super) fn remove(
    conn: &Connection,
    id: i64,
    replaced_by: Option<i64>,
    now: i64,
) -> Result<bool> {
    let mut stmt =
        conn.prepare_cached("DELETE FROM outbox WHERE id = ?1 RETURNING login, state")?;
    let gone: Option<(String, String)> = stmt
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match gone {
        Some((login, state)) => {
            let state = UpdateState::parse(&state)?;
            log(conn, id, &login, Some(state), None, replaced_by, now)?;
            Ok(true)
        }
        None => Ok(false),
    }
}

fn get(conn: &Connection, id: i64) -> Result<Option<QueuedUpdate>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"))?;
    stmt.query_row([id], read_row)
        .optional()?
        .map(RawRow::decode)
        .transpose()
}

fn not_found_or<T>(v: Option<T>) -> Result<T> {
    v.ok_or(Error::NotFound)
}

fn invalid(field: &str, reason: &str) -> Error {
    Error::InvalidInput {
        field: field.into(),
        reason: reason.into(),
    }
}

/// The stored profile of `login` (its stored spelling and parsed document), if any.
fn stored_profile(conn: &Connection, login: &str) -> Result<Option<(String, Profile)>> {
    let mut stmt = conn.prepare_cached("SELECT login, xml FROM profiles WHERE login = ?1")?;
    let row: Option<(String, Vec<u8>)> = stmt
        .query_row([login], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match row {
        Some((login, blob)) => {
            let xml = document::decode(&blob)?;
            Ok(Some((login, crate::xml::parse_profile(xml.as_bytes())?)))
        }
        None => Ok(None),
    }
}

/// What the outbox does to the rows a transaction touches: the transactions of
/// [`Store::queue_update`] and the sending, control and confirmation steps.
impl Store {
    /// Registers the function called (with no connection held) after a commit that
    /// changed the outbox. Replaces any previous one.
    pub(crate) fn set_outbox_hook(&self, hook: Option<Hook>) {
        *self
            .outbox_signal
            .hook
            .write()
            .unwrap_or_else(|p| p.into_inner()) = hook;
    }

    /// Queues `membership` (validated, with its vendor code and type filled in) for
    /// `login`, in one transaction with everything it affects: the older unsent rows of
    /// the same program it replaces and the log, synced to disk before it returns
    /// ([`Store::write_durable`]). Returns the new update's id.
    ///
    /// A login the cache does not know (no profile, no summary) is
    /// [`Error::InvalidInput`] and nothing is stored.
    pub fn queue_update(
        &self,
        login: &str,
        membership: &LoyaltyMembership,
        now: Timestamp,
    ) -> Result<i64> {
        let program = loyalty::program_key(membership)
            .ok_or_else(|| invalid("vendor_type", "is required with a vendor code"))?;
        let now = to_ms(&now);
        self.write_durable(|tx| {
            let (login, server) = match stored_profile(tx, login)? {
                Some((login, p)) => (login, Some(p)),
                None => {
                    let known: Option<String> = tx
                        .prepare_cached("SELECT login FROM summaries WHERE login = ?1")?
                        .query_row([login], |r| r.get(0))
                        .optional()?;
                    (
                        known.ok_or_else(|| invalid("login", "is not in the cache"))?,
                        None,
                    )
                }
            };
            let current = server
                .as_ref()
                .and_then(|p| loyalty::find_membership(p, membership).cloned());
            // The slot's rows that are not confirmed, oldest first.
            let slot: Vec<(i64, UpdateState, String, Option<String>, bool)> = {
                let mut q = tx.prepare_cached(
                    "SELECT id, state, membership, base, base_known FROM outbox
                     WHERE login = ?1 AND program = ?2 AND state != 'confirmed' ORDER BY id",
                )?;
                q.query_map(params![login, program], |r| {
                    Ok((
                        r.get(0)?,
                        r.get::<_, String>(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                    ))
                })?
                .map(|r| {
                    let (id, s, m, b, k) = r?;
                    Ok((id, UpdateState::parse(&s)?, m, b, k))
                })
                .collect::<Result<_>>()?
            };
            let pending = slot.iter().find(|r| r.1 == UpdateState::Pending);
            let in_flight = slot
                .iter()
                .rev()
                .find(|r| matches!(r.1, UpdateState::Sending | UpdateState::Sent));
            let (base, base_known) = match (pending, in_flight) {
                (Some(p), _) => (p.3.clone(), p.4),
                (None, Some(f)) => {
                    let theirs: LoyaltyMembership = from_json(&f.2)?;
                    let expected = loyalty::updated(current.as_ref(), &theirs);
                    (Some(to_json(&expected)), true)
                }
                (None, None) => (current.as_ref().map(to_json), server.is_some()),
            };
            let replaced: Vec<i64> = slot
                .iter()
                .filter(|r| {
                    matches!(
                        r.1,
                        UpdateState::Pending | UpdateState::Failed | UpdateState::Conflict
                    )
                })
                .map(|r| r.0)
                .collect();
            // Free the pending slot first (its index allows one row).
            let mut removed = Vec::new();
            for id in &replaced {
                let mut del =
                    tx.prepare_cached("DELETE FROM outbox WHERE id = ?1 RETURNING state")?;
                let state: String = del.query_row([id], |r| r.get(0))?;
                removed.push((*id, UpdateState::parse(&state)?));
            }
            let mut ins = tx.prepare_cached(
                "INSERT INTO outbox (login, program, membership, base, base_known, state,
                     attempts, next_attempt_at, queued_at, updated_at, seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'pending', 0, ?6, ?6, ?6, 0) RETURNING id",
            )?;
            let id: i64 = ins.query_row(
                params![login, program, to_json(membership), base, base_known, now],
                |r| r.get(0),
            )?;
            for (old, state) in removed {
                log(tx, old, &login, Some(state), None, Some(id), now)?;
            }
            log(tx, id, &login, None, Some(UpdateState::Pending), None, now)?;
            self.outbox_signal.mark();
            Ok(id)
        })
    }

    /// Updates to consider for sending, by traveler, oldest first: every `pending` and
    /// `sending` row (the caller decides what is due).
    pub fn sendable_updates(&self) -> Result<Vec<QueuedUpdate>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM outbox WHERE state IN ('pending', 'sending')
                 ORDER BY login, id"
            ))?;
            let rows = stmt.query_map([], read_row)?;
            rows.map(|r| r?.decode()).collect()
        })
    }

    /// `pending` → `sending`, committed before the request goes out. A row already
    /// `sending` (cut off by a crash) stays so. Returns whether the update is to be sent
    /// (false: it was discarded, replaced or resolved meanwhile).
    pub fn mark_sending(&self, id: i64, now: Timestamp) -> Result<bool> {
        let now = to_ms(&now);
        self.write(|tx| {
            if transition(
                tx,
                id,
                UpdateState::Pending,
                UpdateState::Sending,
                "",
                &[],
                now,
            )? {
                self.outbox_signal.mark();
                return Ok(true);
            }
            let state: Option<String> = tx
                .prepare_cached("SELECT state FROM outbox WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?;
            Ok(state.as_deref() == Some("sending"))
        })
    }

    /// `sending` → `sent`: the server said `OK` (at `server_time` by its clock). The
    /// traveler's profile is marked stale in the same transaction, so the next sync
    /// fetches it and confirms the update.
    pub fn mark_sent(&self, id: i64, now: Timestamp, server_time: Timestamp) -> Result<bool> {
        let (now, server) = (to_ms(&now), to_ms(&server_time));
        self.write(|tx| {
            let done = transition(
                tx,
                id,
                UpdateState::Sending,
                UpdateState::Sent,
                "attempts = attempts + 1, sent_at = ?1, server_sent_at = ?3, last_error = NULL",
                &[&server],
                now,
            )?;
            if done {
                // The profile changed on the server: the next sync fetches it (and so
                // confirms the update) even if the feed's whole-second time did not move.
                tx.prepare_cached(
                    "INSERT INTO summaries (login, seen_at, stale)
                     SELECT login, ?2, 1 FROM outbox WHERE id = ?1
                     ON CONFLICT (login) DO UPDATE SET stale = 1",
                )?
                .execute(params![id, now])?;
                self.outbox_signal.mark();
            }
            Ok(done)
        })
    }

    /// `sending` → `failed`: the server refused; `description` is kept.
    pub fn mark_failed(&self, id: i64, description: &str, now: Timestamp) -> Result<bool> {
        let now = to_ms(&now);
        self.write(|tx| {
            let done = transition(
                tx,
                id,
                UpdateState::Sending,
                UpdateState::Failed,
                "attempts = attempts + 1, last_error = ?3",
                &[&description],
                now,
            )?;
            if done {
                self.outbox_signal.mark();
            }
            Ok(done)
        })
    }

    /// `sending` → `pending` again, next tried at `next_attempt_at`. `failure` (a kind
    /// of transient failure) counts an attempt; `None` (the flush stopped before an
    /// answer: unauthorized, cancelled) does not. Should a newer update of the program
    /// have been queued meanwhile, this one is replaced by it instead.
    pub fn mark_retry(
        &self,
        id: i64,
        failure: Option<&str>,
        next_attempt_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        let (now, next) = (to_ms(&now), to_ms(&next_attempt_at));
        self.write(|tx| {
            let newer: Option<i64> = tx
                .prepare_cached(
                    "SELECT n.id FROM outbox o JOIN outbox n
                       ON n.login = o.login AND n.program = o.program AND n.state = 'pending'
                     WHERE o.id = ?1 AND o.state = 'sending'",
                )?
                .query_row([id], |r| r.get(0))
                .optional()?;
            let done = match newer {
                Some(newer) => remove(tx, id, Some(newer), now)?,
                None => transition(
                    tx,
                    id,
                    UpdateState::Sending,
                    UpdateState::Pending,
                    "attempts = attempts + ?3, next_attempt_at = ?4,
                     last_error = coalesce(?5, last_error)",
                    &[&i64::from(failure.is_some()), &next, &failure],
                    now,
                )?,
            };
            if done {
                self.outbox_signal.mark();
            }
            Ok(done)
        })
    }

    /// Makes every pending update due now (e.g. the network came back).
    pub fn clear_backoff(&self, now: Timestamp) -> Result<u64> {
        let now = to_ms(&now);
        self.write(|tx| {
            Ok(tx
                .prepare_cached(
                    "UPDATE outbox SET next_attempt_at = ?1
                     WHERE state = 'pending' AND next_attempt_at > ?1",
                )?
                .execute([now])? as u64)
        })
    }

    /// One update.
    pub fn get_update(&self, id: i64) -> Result<Option<QueuedUpdate>> {
        self.read(|conn| get(conn, id))
    }

    /// Updates matching `filter`, oldest first.
    pub fn list_updates(&self, filter: &UpdateFilter) -> Result<Vec<QueuedUpdate>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM outbox
                 WHERE (?1 IS NULL OR login = ?1) AND (?2 IS NULL OR state = ?2) ORDER BY id"
            ))?;
            let rows = stmt.query_map(
                params![filter.login, filter.state.map(UpdateState::as_str)],
                read_row,
            )?;
            rows.map(|r| r?.decode()).collect()
        })
    }

    /// A failed update back to `pending`, due now.
    pub fn retry_update(&self, id: i64, now: Timestamp) -> Result<QueuedUpdate> {
        let now = to_ms(&now);
        self.write_durable(|tx| {
            let u = not_found_or(get(tx, id)?)?;
            if u.state != UpdateState::Failed {
                return Err(invalid("id", "only a failed update can be retried"));
            }
            if has_pending(tx, &u)? {
                return Err(invalid("id", "a newer update of this program is queued"));
            }
            transition(
                tx,
                id,
                UpdateState::Failed,
                UpdateState::Pending,
                "next_attempt_at = ?1",
                &[],
                now,
            )?;
            self.outbox_signal.mark();
            not_found_or(get(tx, id)?)
        })
    }

    /// Removes an update in any state; `in_flight(id)` says whether a request for it is
    /// under way right now (such an update cannot be discarded: it may already have
    /// reached the server). Returns whether it existed.
    pub fn discard_update(&self, id: i64, in_flight: impl Fn(i64) -> bool) -> Result<bool> {
        let now = to_ms(&chrono::Utc::now());
        self.write(|tx| {
            if in_flight(id) {
                return Err(invalid(
                    "id",
                    "is being sent; discard it when the flush has ended",
                ));
            }
            let done = remove(tx, id, None, now)?;
            if done {
                self.outbox_signal.mark();
            }
            Ok(done)
        })
    }

    /// Resolves a conflict: keep mine (pending again, its base now the server's value, so
    /// it is not held again for the same change) or take theirs (dropped). Returns the
    /// update, or `None` when dropped.
    pub fn resolve_conflict(
        &self,
        id: i64,
        resolution: Resolution,
        now: Timestamp,
    ) -> Result<Option<QueuedUpdate>> {
        let now = to_ms(&now);
        self.write_durable(|tx| {
            let u = not_found_or(get(tx, id)?)?;
            if u.state != UpdateState::Conflict {
                return Err(invalid("id", "is not in conflict"));
            }
            let out = match resolution {
                Resolution::TakeTheirs => {
                    remove(tx, id, None, now)?;
                    None
                }
                Resolution::KeepMine => {
                    if has_pending(tx, &u)? {
                        return Err(invalid("id", "a newer update of this program is queued"));
                    }
                    let base = u.theirs.as_ref().map(to_json);
                    transition(
                        tx,
                        id,
                        UpdateState::Conflict,
                        UpdateState::Pending,
                        "base = ?3, base_known = 1, theirs = NULL, next_attempt_at = ?1,
                         attempts = 0, last_error = NULL",
                        &[&base],
                        now,
                    )?;
                    get(tx, id)?
                }
            };
            self.outbox_signal.mark();
            Ok(out)
        })
    }

    /// Counts by state, the latest sequence number and the next due time.
    pub fn outbox_counts(&self) -> Result<OutboxCounts> {
        self.read(|conn| {
            let mut c = OutboxCounts::default();
            let mut stmt = conn.prepare_cached(
                "SELECT state, count(*), min(next_attempt_at) FROM outbox GROUP BY state",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let n = r.get::<_, i64>(1)?.max(0) as u64;
                match UpdateState::parse(&r.get::<_, String>(0)?)? {
                    UpdateState::Pending => {
                        c.pending = n;
                        c.next_attempt_at = from_ms_opt(r.get(2)?)?;
                    }
                    UpdateState::Sending => c.sending = n,
                    UpdateState::Sent => c.sent = n,
                    UpdateState::Confirmed => c.confirmed = n,
                    UpdateState::Failed => c.failed = n,
                    UpdateState::Conflict => c.conflict = n,
                }
            }
            c.last_seq = conn
                .prepare_cached("SELECT seq FROM sqlite_sequence WHERE name = 'outbox_events'")?
                .query_row([], |r| r.get::<_, i64>(0))
                .optional()?
                .unwrap_or(0)
                .max(0) as u64;
            Ok(c)
        })
    }

    /// Up to `limit` state changes after `seq`, in order (the log keeps the latest
    /// 10,000 or more; an app further behind re-reads [`Store::list_updates`]).
    pub fn outbox_events_since(&self, seq: u64, limit: u32) -> Result<Vec<OutboxEvent>> {
        self.read(|conn| events_since(conn, seq, limit))
    }
}

/// [`Store::outbox_events_since`] on a connection.
pub(crate) fn events_since(conn: &Connection, seq: u64, limit: u32) -> Result<Vec<OutboxEvent>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, update_id, login, from_state, to_state, replaced_by, at
         FROM outbox_events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let state = |s: Option<String>| s.as_deref().map(UpdateState::parse).transpose();
    let mut rows = stmt.query(params![seq as i64, limit])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(OutboxEvent {
            seq: r.get::<_, i64>(0)?.max(0) as u64,
            update_id: r.get(1)?,
            login: r.get(2)?,
            from: state(r.get(3)?)?,
            to: state(r.get(4)?)?,
            replaced_by: r.get(5)?,
            at: from_ms(r.get(6)?)?,
        });
    }
    Ok(out)
}

/// Whether another update of `u`'s program is pending.
fn has_pending(conn: &Connection, u: &QueuedUpdate) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE login = ?1 AND program = ?2
                 AND state = 'pending' AND id != ?3)",
        )?
        .query_row(params![u.login, u.program, u.id], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Air, LoyaltyVendorType, Total};
    use crate::store::{Document, NewProfile};

    fn update(account: &str) -> LoyaltyMembership {
        LoyaltyMembership {
            vendor_code: Some("LH".into()),
            vendor_type: Some(LoyaltyVendorType::Air),
            account_no: Some(account.into()),
            point_total: Some(Total::Number(10)),
            ..Default::default()
        }
    }

    fn profile_with(account: Option<&str>) -> Profile {
        Profile {
            login_id: Some("ana@example.org".into()),
            air: Some(Air {
                memberships: account
                    .map(|a| Membership {
                        vendor_code: Some("LH".into()),
                        account_no: Some(a.into()),
                        point_total: Some(Total::Number(10)),
                        ..Default::default()
                    })
                    .into_iter()
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn store_profile(store: &Store, p: &Profile, modified: i64) {
        let xml = crate::xml::write_profile(p);
        store
            .upsert_profiles(&[NewProfile {
                login: "ana@example.org",
                sync_id: None,
                status: None,
                server_modified: chrono::DateTime::from_timestamp_millis(modified),
                fetched_at: chrono::Utc::now(),
                document: Document::Xml(&xml),
                profile: p,
            }])
            .unwrap();
    }

    fn setup() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("cache.db")).unwrap();
        store_profile(&store, &profile_with(Some("old")), 1_000);
        (dir, store)
    }

    fn state(store: &Store, id: i64) -> Option<UpdateState> {
        store.get_update(id).unwrap().map(|u| u.state)
    }

    #[test]
    fn an_unknown_login_stores_nothing() {
        let (_dir, store) = setup();
        let err = store
            .queue_update("nobody@example.org", &update("1"), chrono::Utc::now())
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { ref field, .. } if field == "login"));
        assert_eq!(store.outbox_counts().unwrap(), OutboxCounts::default());
    }

    #[test]
    fn a_newer_update_replaces_the_unsent_one_but_queues_behind_one_in_flight() {
        let (_dir, store) = setup();
        let now = chrono::Utc::now();
        let a = store
            .queue_update("ANA@example.org", &update("1"), now)
            .unwrap();
        let b = store
            .queue_update("ana@example.org", &update("2"), now)
            .unwrap();
        assert_eq!(state(&store, a), None);
        let events = store.outbox_events_since(0, 100).unwrap();
        assert!(
            events
                .iter()
                .any(|e| e.update_id == a && e.replaced_by == Some(b))
        );
        assert!(store.mark_sending(b, now).unwrap());
        let c = store
            .queue_update("ana@example.org", &update("3"), now)
            .unwrap();
        assert_eq!(state(&store, b), Some(UpdateState::Sending));
        // c's base is what the server shows once b went through.
        let base = store.get_update(c).unwrap().unwrap().base.unwrap();
        assert_eq!(base.account_no.as_deref(), Some("2"));
        // b failing transiently now is replaced by c rather than competing with it.
        assert!(store.mark_retry(b, Some("offline"), now, now).unwrap());
        assert_eq!(state(&store, b), None);
        assert_eq!(store.outbox_counts().unwrap().pending, 1);
    }

    #[test]
    fn fetched_profiles_confirm_or_hold_conflicts() {
        let (_dir, store) = setup();
        let now = chrono::Utc::now();
        let a = store
            .queue_update("ana@example.org", &update("mine"), now)
            .unwrap();
        // A fetch that still shows the base changes nothing.
        store_profile(&store, &profile_with(Some("old")), 2_000);
        assert_eq!(state(&store, a), Some(UpdateState::Pending));
        // Someone else changed it: conflict, with their value.
        store_profile(&store, &profile_with(Some("theirs")), 3_000);
        let u = store.get_update(a).unwrap().unwrap();
        assert_eq!(u.state, UpdateState::Conflict);
        assert_eq!(u.theirs.unwrap().account_no.as_deref(), Some("theirs"));
        let u = store
            .resolve_conflict(a, Resolution::KeepMine, now)
            .unwrap()
            .unwrap();
        assert_eq!(u.state, UpdateState::Pending);
        // Its base is now theirs: the same fetch again is no conflict.
        store_profile(&store, &profile_with(Some("theirs")), 3_000);
        assert_eq!(state(&store, a), Some(UpdateState::Pending));
        // Sent, then fetched with our value: confirmed.
        assert!(store.mark_sending(a, now).unwrap());
        let server_time = chrono::DateTime::from_timestamp_millis(4_000).unwrap();
        assert!(store.mark_sent(a, now, server_time).unwrap());
        store_profile(&store, &profile_with(Some("old")), 3_500);
        assert_eq!(state(&store, a), Some(UpdateState::Sent), "older document");
        store_profile(&store, &profile_with(Some("mine")), 4_000);
        assert_eq!(state(&store, a), Some(UpdateState::Confirmed));
        let counts = store.outbox_counts().unwrap();
        assert_eq!((counts.confirmed, counts.pending), (1, 0));
        let events = store.outbox_events_since(0, 100).unwrap();
        let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(counts.last_seq, *seqs.last().unwrap());
    }

    #[test]
    fn a_sent_update_changed_later_by_the_server_is_a_conflict() {
        let (_dir, store) = setup();
        let now = chrono::Utc::now();
        let a = store
            .queue_update("ana@example.org", &update("mine"), now)
            .unwrap();
        store.mark_sending(a, now).unwrap();
        let server_time = chrono::DateTime::from_timestamp_millis(5_000).unwrap();
        store.mark_sent(a, now, server_time).unwrap();
        store_profile(&store, &profile_with(Some("later")), 6_000);
        assert_eq!(state(&store, a), Some(UpdateState::Conflict));
        assert!(
            store
                .resolve_conflict(a, Resolution::TakeTheirs, now)
                .unwrap()
                .is_none()
        );
        assert_eq!(state(&store, a), None);
    }

    #[test]
    fn failed_updates_can_be_retried_and_discarded() {
        let (_dir, store) = setup();
        let now = chrono::Utc::now();
        let a = store
            .queue_update("ana@example.org", &update("1"), now)
            .unwrap();
        let err = store.retry_update(a, now).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }));
        store.mark_sending(a, now).unwrap();
        store.mark_failed(a, "refused", now).unwrap();
        let u = store.get_update(a).unwrap().unwrap();
        assert_eq!((u.state, u.attempts), (UpdateState::Failed, 1));
        assert_eq!(u.last_error.as_deref(), Some("refused"));
        assert_eq!(
            store.retry_update(a, now).unwrap().state,
            UpdateState::Pending
        );
        store.mark_sending(a, now).unwrap();
        assert!(store.discard_update(a, |id| id == a).is_err(), "in flight");
        assert!(store.discard_update(a, |_| false).unwrap());
        assert!(!store.discard_update(a, |_| false).unwrap());
        assert!(matches!(store.retry_update(a, now), Err(Error::NotFound)));
    }

    #[test]
    fn later_migrations_keep_queued_updates() {
        use crate::store::migrate::{MIGRATIONS, Migration, apply};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.db");
        let id = {
            let store = Store::open(&path).unwrap();
            store_profile(&store, &profile_with(Some("old")), 1_000);
            store
                .queue_update("ana@example.org", &update("1"), chrono::Utc::now())
                .unwrap()
        };
        let before = Store::open(&path).unwrap().get_update(id).unwrap().unwrap();
        // A future migration that adds a column and an index.
        let mut future: Vec<Migration> = MIGRATIONS.to_vec();
        future.push(Migration {
            version: MIGRATIONS.len() as i64 + 1,
            name: "9999_future.sql",
            sql: "ALTER TABLE outbox ADD COLUMN note TEXT;
                  CREATE INDEX outbox_future ON outbox (queued_at);",
        });
        let mut conn = Connection::open(&path).unwrap();
        apply(&mut conn, &future, future.len() as i64).unwrap();
        let (n, membership): (i64, String) = conn
            .query_row("SELECT count(*), min(membership) FROM outbox", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(
            from_json::<LoyaltyMembership>(&membership).unwrap(),
            before.membership
        );
        // And no released migration after the outbox's may touch its rows.
        for m in MIGRATIONS.iter().filter(|m| m.version > 3) {
            let sql = m.sql.to_ascii_lowercase();
            for bad in ["drop table outbox", "delete from outbox", "update outbox"] {
                assert!(!sql.contains(bad), "{} must not {bad}", m.name);
            }
        }
    }
}
