//! The local SQLite store: one database file holding the summary feed, the full profiles
//! (each with the XML document exactly as the server sent it), the sync engine's key/value
//! state and a full-text index for search.
//!
//! Shape (after Mozilla application-services' `support/sql`):
//!
//! * one writer connection behind a mutex and a small pool of reader connections, all in
//!   WAL mode, so a read never waits for a long write;
//! * [`Store::read`] runs a closure on a reader inside one read snapshot, [`Store::write`]
//!   runs a closure inside one `BEGIN IMMEDIATE` transaction on the writer;
//! * the schema version lives in `PRAGMA user_version`; `migrations/NNNN_*.sql` are compiled
//!   in and applied in order (see [`SCHEMA_VERSION`]); a file written by a newer build is
//!   refused and left untouched, a file that is not ours is refused and left untouched.
//!
//! The typed operations (upserts, lookups, lists, search, meta) are methods on [`Store`],
//! one file per table family: `summaries.rs`, `profiles.rs`, `search.rs` (with its ranking
//! function in `rank.rs`), `meta.rs`, the loyalty outbox in `outbox.rs` (shown on profiles
//! by `overlay.rs`), notifications in `notifications.rs`.

mod checkpoint;
mod confirm;
mod document;
mod meta;
mod migrate;
mod notifications;
mod outbox;
mod overlay;
mod profiles;
mod rank;
mod search;
mod summaries;
mod sync_state;

pub use document::encode as encode_document;
pub use migrate::SCHEMA_VERSION;
#[doc(hidden)]
pub use migrate::{MIGRATIONS, Migration, migrate_to};
pub use notifications::ItineraryEvent;
pub use outbox::{OutboxCounts, OutboxEvent, QueuedUpdate, Resolution, UpdateFilter, UpdateState};
pub use overlay::{CachedProfile, PendingMembership, apply_overlay};
pub use profiles::{Document, NewProfile, StoredProfile};
pub use search::SearchHit;
pub use summaries::{Counts, StoredSummary, SummaryFilter, SummaryUpsert};
pub use sync_state::{DueProfile, PageRecord};

use crate::Result;
use crate::error::StoreError;
use crate::model::{ProfileStatus, Timestamp};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::Duration;

/// How a [`Store`] opens its connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// How long a connection waits for another connection's lock before failing with
    /// [`StoreError::Busy`]. Default: 5 s.
    pub busy_timeout: Duration,
    /// How many reader connections to keep (at least 1). Default: 2.
    pub readers: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            busy_timeout: Duration::from_secs(5),
            readers: 2,
        }
    }
}

/// The profile cache's database: one writer connection and a pool of readers on one file.
///
/// `Store` is `Send + Sync`: share it behind an `Arc`. Writes are serialized on the writer;
/// reads run concurrently on the readers and see the last committed state.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    /// Held for its `Drop`; declared first so it stops before the connections close.
    _checkpointer: checkpoint::Checkpointer,
    writer: Mutex<Connection>,
    readers: Box<[Mutex<Connection>]>,
    next_reader: AtomicUsize,
    outbox_signal: outbox::Signal,
}

/// The first 16 bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// How many prepared statements each connection keeps.
const STATEMENT_CACHE: usize = 64;

impl Store {
    /// Opens (or creates) the database at `path` with the default [`StoreOptions`], and
    /// migrates it to [`SCHEMA_VERSION`].
    ///
    /// A missing or empty file becomes a new database. A file that is not a profile-cache
    /// database gives [`StoreError::NotADatabase`], one written by a newer build
    /// [`StoreError::TooNew`]; both leave the file exactly as it was.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        Store::open_with(path, &StoreOptions::default())
    }

    /// Opens (or creates) the database at `path` with the given options; see [`Store::open`].
    pub fn open_with(path: impl AsRef<Path>, options: &StoreOptions) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        // Nothing that can refuse the file may write to it: first the header is read as
        // plain bytes, then SQLite checks the schema before the switch to WAL (opening and
        // reading writes nothing; the -wal/-shm files SQLite may create for a database
        // already in WAL mode are removed when the connection closes).
        sniff(&path)?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| StoreError::Open(format!("cannot create the folder: {}", e.kind())))?;
        }

        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut writer = Connection::open_with_flags(&path, flags).map_err(StoreError::from)?;
        configure(&writer, options)?;
        migrate::check_compatible(&writer)?;
        let mode: String = writer.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(
                StoreError::Sqlite(format!("cannot switch to WAL (journal mode {mode})")).into(),
            );
        }
        writer.pragma_update(None, "synchronous", "NORMAL")?;
        // Bulk page writes touch the FTS segments and the login index: give the writer a
        // larger page cache (16 MiB) than SQLite's 2 MiB default.
        writer.pragma_update(None, "cache_size", -16384)?;
        migrate::migrate(&mut writer)?;
        // Checkpoints run on a thread of their own, every ~16 MiB of WAL rather than
        // SQLite's 4 MiB (a sync writes hundreds of MB; each checkpoint is a copy plus an
        // fsync), so the writer does not stop to copy pages (see checkpoint.rs).
        let checkpointer = checkpoint::Checkpointer::start(&path, options, &mut writer)?;
        rank::register(&writer)?;

        let readers = (0..options.readers.max(1))
            .map(|_| {
                let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let conn = Connection::open_with_flags(&path, flags).map_err(StoreError::from)?;
                configure(&conn, options)?;
                rank::register(&conn)?;
                // Readers never write: make SQLite enforce it.
                conn.pragma_update(None, "query_only", true)?;
                Ok(Mutex::new(conn))
            })
            .collect::<Result<Vec<_>>>()?
            .into_boxed_slice();

        Ok(Store {
            path,
            _checkpointer: checkpointer,
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
            outbox_signal: outbox::Signal::default(),
        })
    }

    /// The database file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on a reader connection, inside one read transaction (one consistent
    /// snapshot). Never waits for the writer: WAL readers see the last committed state.
    ///
    /// The connection is `query_only`: statements that write fail.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.reader();
        // A deferred transaction, rolled back on drop: only a snapshot, nothing to commit.
        let tx = conn.unchecked_transaction()?;
        f(&tx)
    }

    /// Runs `f` inside one `BEGIN IMMEDIATE` transaction on the writer connection and
    /// commits it when `f` returns `Ok`; an `Err` (or a panic) rolls everything back.
    ///
    /// Writes are serialized: a second `write` waits for the first. Another process
    /// holding the write lock for longer than the busy timeout gives [`StoreError::Busy`].
    pub fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let out = {
            let mut conn = lock(&self.writer);
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            out
        };
        // With the writer free again: tell the outbox listener about committed changes.
        self.outbox_signal.after_commit(self);
        Ok(out)
    }

    /// [`Store::write`], with the commit synced to disk (`synchronous = FULL` for this
    /// transaction): it survives not only a crash of the process (as every commit does
    /// in WAL mode) but also a power loss or an OS crash right after it returns. For what
    /// cannot be fetched again: the loyalty outbox's queued updates.
    pub fn write_durable<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let out = {
            let mut conn = lock(&self.writer);
            conn.pragma_update(None, "synchronous", "FULL")?;
            let result: Result<T> = (|| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let out = f(&tx)?;
                tx.commit()?;
                Ok(out)
            })();
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            result?
        };
        self.outbox_signal.after_commit(self);
        Ok(out)
    }

    /// A free reader if there is one, else waits for one (round robin).
    fn reader(&self) -> MutexGuard<'_, Connection> {
        let n = self.readers.len();
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            match self.readers[(start + i) % n].try_lock() {
                Ok(guard) => return guard,
                Err(TryLockError::Poisoned(p)) => return p.into_inner(),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        lock(&self.readers[start % n])
    }
}

/// Locks a connection. A panic inside a closure has already rolled its transaction back
/// (rusqlite's `Transaction` does on drop), so a poisoned connection is still usable.
fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The per-connection settings shared by the writer and the readers (the ranking
/// function is registered once the schema is known to be ours).
fn configure(conn: &Connection, options: &StoreOptions) -> Result<()> {
    conn.busy_timeout(options.busy_timeout)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}

/// Refuses, from the file's first 100 bytes and without SQLite, a file that is not an
/// SQLite database, or one whose header says it belongs to another application or to a
/// newer build. A missing or empty file is accepted (it becomes a new database).
fn sniff(path: &Path) -> Result<()> {
    use std::io::Read;
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(StoreError::Open(format!("cannot read the file: {}", e.kind())).into());
        }
    };
    if meta.is_dir() {
        return Err(StoreError::Open("the path is a folder".into()).into());
    }
    if meta.len() == 0 {
        return Ok(());
    }
    // The smallest database is one 512-byte page.
    if meta.len() < 512 {
        return Err(StoreError::NotADatabase.into());
    }
    let mut header = [0u8; 100];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .map_err(|e| StoreError::Open(format!("cannot read the file: {}", e.kind())))?;
    if &header[..16] != SQLITE_HEADER {
        return Err(StoreError::NotADatabase.into());
    }
    let field = |at: usize| i64::from(i32::from_be_bytes(header[at..at + 4].try_into().unwrap()));
    let (version, app_id) = (field(60), field(68));
    migrate::check_header(version, app_id)
}

/// Milliseconds since the Unix epoch, the way every timestamp is stored.
pub(crate) fn to_ms(t: &Timestamp) -> i64 {
    t.timestamp_millis()
}

/// The inverse of [`to_ms`]; a value out of chrono's range means a damaged row.
pub(crate) fn from_ms(ms: i64) -> Result<Timestamp> {
    chrono::DateTime::from_timestamp_millis(ms).ok_or_else(|| StoreError::Corrupt.into())
}

/// [`from_ms`] for a nullable column.
pub(crate) fn from_ms_opt(ms: Option<i64>) -> Result<Option<Timestamp>> {
    ms.map(from_ms).transpose()
}

/// A status as stored: its documented wire spelling (or the unrecognized value as sent).
pub(crate) fn status_to_sql(status: Option<&ProfileStatus>) -> Option<&str> {
    status.map(ProfileStatus::as_wire)
}

/// The inverse of [`status_to_sql`].
pub(crate) fn status_from_sql(status: Option<String>) -> Option<ProfileStatus> {
    status.map(|s| ProfileStatus::from_wire(&s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn store_is_send_and_sync() {
        assert_send_sync::<Store>();
    }

    #[test]
    fn opens_a_new_file_in_wal_mode_with_the_latest_schema() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("sub/cache.db")).unwrap();
        let (mode, version, fk): (String, i64, bool) = store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT (SELECT journal_mode FROM pragma_journal_mode),
                            (SELECT user_version FROM pragma_user_version),
                            (SELECT foreign_keys FROM pragma_foreign_keys)",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )?)
            })
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(version, SCHEMA_VERSION);
        assert!(fk);
    }

    #[test]
    fn readers_refuse_writes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("cache.db")).unwrap();
        let err = store
            .read(|c| Ok(c.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')", [])?))
            .unwrap_err();
        assert!(
            matches!(err, crate::Error::Store(StoreError::Sqlite(_))),
            "{err:?}"
        );
    }

    #[test]
    fn a_failed_write_rolls_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("cache.db")).unwrap();
        let err = store.write(|tx| {
            tx.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')", [])?;
            Err::<(), _>(StoreError::Busy.into())
        });
        assert!(err.is_err());
        let n: i64 = store
            .read(|c| {
                Ok(
                    c.query_row("SELECT count(*) FROM meta WHERE key = 'k'", [], |r| {
                        r.get(0)
                    })?,
                )
            })
            .unwrap();
        assert_eq!(n, 0);
    }

    #[test]
    fn timestamps_round_trip_as_milliseconds() {
        let t = chrono::DateTime::from_timestamp_millis(1_796_000_000_123).unwrap();
        assert_eq!(to_ms(&t), 1_796_000_000_123);
        assert_eq!(from_ms(to_ms(&t)).unwrap(), t);
        assert!(from_ms(i64::MAX).is_err());
    }
}
