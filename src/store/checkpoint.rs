//! WAL checkpoints on a thread of their own.
//!
//! In WAL mode every commit appends pages to the `-wal` file, and a checkpoint copies them
//! into the database file (and syncs it). SQLite's automatic checkpoint runs inside the
//! commit that crosses its threshold, on the writer connection: during a sync that is a
//! quarter of the single writer's time, and every other write waits for it. Here the
//! writer's WAL hook only wakes a checkpointer thread with its own connection, which copies
//! the pages while the writer goes on (a PASSIVE checkpoint never blocks the writer or the
//! readers). Should the checkpointer fall behind, or a long read keep it from finishing,
//! the writer checkpoints itself once the WAL reaches [`WRITER_BYTES`], so the WAL stays
//! bounded as it did with the automatic checkpoint.

use super::{StoreOptions, configure};
use crate::Result;
use crate::error::StoreError;
use rusqlite::hooks::Wal;
use rusqlite::wal::CheckpointMode;
use rusqlite::{Connection, OpenFlags};
use std::ffi::c_int;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

/// WAL size from which a commit wakes the checkpointer.
pub(crate) const SIGNAL_BYTES: i64 = 16 << 20;
/// WAL size from which the writer checkpoints itself, as SQLite's automatic checkpoint
/// would.
pub(crate) const WRITER_BYTES: i64 = 4 * SIGNAL_BYTES;

#[derive(Default)]
struct State {
    requested: bool,
    stop: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    /// Checkpoints the thread has run.
    runs: std::sync::atomic::AtomicU64,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn request(&self) {
        let mut state = self.lock();
        if !state.requested {
            state.requested = true;
            self.wake.notify_one();
        }
    }
}

/// The checkpointer thread; stopped (and joined) when dropped.
pub(crate) struct Checkpointer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Checkpointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpointer").finish_non_exhaustive()
    }
}

impl Checkpointer {
    /// Starts the thread on a connection of its own to `path` and installs the WAL hook
    /// on `writer` (which replaces SQLite's automatic checkpoint there).
    pub(crate) fn start(
        path: &Path,
        options: &StoreOptions,
        writer: &mut Connection,
    ) -> Result<Checkpointer> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(StoreError::from)?;
        configure(&conn, options)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let shared = Arc::new(Shared::default());
        let thread = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("profile-cache-checkpoint".into())
                .spawn(move || run(&conn, &shared))
                .map_err(|e| StoreError::Open(format!("cannot start a thread: {}", e.kind())))?
        };
        // Made now, so that a failure below stops the thread again (on drop).
        let checkpointer = Checkpointer {
            shared: shared.clone(),
            thread: Some(thread),
        };
        // When the WAL starts over after a checkpoint, its file shrinks back to this size
        // (without a limit it keeps its largest size forever).
        writer.pragma_update(None, "journal_size_limit", SIGNAL_BYTES)?;
        // The hook counts pages.
        let page: i64 = writer.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        let frames = |bytes: i64| c_int::try_from(bytes / page.max(512)).unwrap_or(c_int::MAX);
        let (signal_frames, writer_frames) = (frames(SIGNAL_BYTES), frames(WRITER_BYTES));
        let hook_shared = shared;
        // Once the WAL is past the signal size it stays there until a write finds it fully
        // copied and starts it over; a wake-up on every commit meanwhile would run a
        // checkpoint (and its fsync) beside each small durable commit (the outbox bench's
        // median rose from 0.34 to 0.5 ms). So wake the thread again only after the WAL
        // has grown by another signal size.
        let mut signalled_at: c_int = 0;
        writer.wal_hook(Some(move |wal: &mut Wal, frames: c_int| {
            if frames < signalled_at {
                // The WAL started over.
                signalled_at = 0;
            }
            if frames >= writer_frames {
                // As SQLite's automatic checkpoint does: a failure here (busy) is not the
                // commit's, which has happened; the next commit tries again.
                if let Err(e) = wal.checkpoint_v2(CheckpointMode::PASSIVE) {
                    log::debug!("checkpoint on the writer failed: {e}");
                }
            } else if frames >= signalled_at.saturating_add(signal_frames) {
                signalled_at = frames;
                hook_shared.request();
            }
            Ok(())
        }))?;
        Ok(checkpointer)
    }
}

fn run(conn: &Connection, shared: &Shared) {
    loop {
        {
            let mut state = shared.lock();
            while !state.requested && !state.stop {
                state = shared.wake.wait(state).unwrap_or_else(|p| p.into_inner());
            }
            if state.stop {
                return;
            }
            state.requested = false;
        }
        match conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE) {
            Ok((log, done)) => log::trace!("checkpointed {done} of {log} WAL pages"),
            Err(e) => log::debug!("checkpoint failed: {e}"),
        }
        shared
            .runs
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        {
            let mut state = self.shared.lock();
            state.stop = true;
            self.shared.wake.notify_one();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use std::time::{Duration, Instant};

    fn len(path: &Path, suffix: &str) -> u64 {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        std::fs::metadata(name).map_or(0, |m| m.len())
    }

    #[test]
    fn the_thread_checkpoints_while_the_writer_goes_on_and_the_wal_stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.db");
        let store = Store::open(&path).unwrap();
        // 48 commits of 1 MiB each: three times the signal size, 3/4 of the writer's.
        let value: String = (0..(1 << 20))
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        for i in 0..48 {
            store.set_meta(&format!("k{i}"), &value).unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while store
            ._checkpointer
            .shared
            .runs
            .load(std::sync::atomic::Ordering::Relaxed)
            == 0
            || len(&path, "") < 16 << 20
        {
            assert!(Instant::now() < deadline, "no checkpoint ran");
            std::thread::sleep(Duration::from_millis(20));
        }
        // Keep writing: the WAL starts over once checkpointed, and never grows much past
        // the writer's own limit.
        let mut largest = 0;
        for i in 0..160 {
            store.set_meta(&format!("k{}", i % 48), &value).unwrap();
            largest = largest.max(len(&path, "-wal"));
        }
        assert!(
            largest <= (WRITER_BYTES + (4 << 20)) as u64,
            "WAL reached {largest} bytes"
        );
        assert_eq!(
            store.get_meta("k47").unwrap().as_deref(),
            Some(value.as_str())
        );
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.get_meta("k0").unwrap().map(|v| v.len()),
            Some(1 << 20)
        );
    }
}
