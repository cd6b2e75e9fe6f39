//! The `meta` table: small key/value state of the sync engine (checkpoints, the last
//! summary time seen, …). Values are text; callers choose their own encoding.

use super::Store;
use crate::Result;
use rusqlite::{Connection, OptionalExtension, params};

impl Store {
    /// The value stored under `key`, if any.
    pub fn get_meta(&self, key: &str) -> Result<Option<String>> {
        self.read(|conn| get(conn, key))
    }

    /// Stores `value` under `key`, replacing any previous value.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.write(|tx| set(tx, key, value))
    }

    /// Removes `key`. Returns whether it was there.
    pub fn delete_meta(&self, key: &str) -> Result<bool> {
        self.write(|tx| {
            let mut stmt = tx.prepare_cached("DELETE FROM meta WHERE key = ?1")?;
            Ok(stmt.execute([key])? > 0)
        })
    }
}

/// Reads `key` on a connection (for use inside a larger read or write).
pub(crate) fn get(conn: &Connection, key: &str) -> Result<Option<String>> {
    let mut stmt = conn.prepare_cached("SELECT value FROM meta WHERE key = ?1")?;
    Ok(stmt.query_row([key], |r| r.get(0)).optional()?)
}

/// Writes `key` on a connection (for use inside a larger write, e.g. with the page it
/// checkpoints).
pub(crate) fn set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?;
    stmt.execute(params![key, value])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_replace_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("cache.db")).unwrap();
        assert_eq!(store.get_meta("checkpoint").unwrap(), None);
        store.set_meta("checkpoint", "2026-01-01T00:00:00").unwrap();
        store.set_meta("checkpoint", "2026-02-01T00:00:00").unwrap();
        assert_eq!(
            store.get_meta("checkpoint").unwrap().as_deref(),
            Some("2026-02-01T00:00:00")
        );
        assert!(store.delete_meta("checkpoint").unwrap());
        assert!(!store.delete_meta("checkpoint").unwrap());
        assert_eq!(store.get_meta("checkpoint").unwrap(), None);
    }
}
