//! Schema migrations: the numbered files in `migrations/`, compiled in, applied in order.
//!
//! Each migration runs in its own `BEGIN IMMEDIATE` transaction that also sets
//! `PRAGMA user_version` to the migration's number, so a crash leaves the file at the last
//! complete version, and two processes opening the same new file do not both migrate it.
//! A file whose version is newer than [`SCHEMA_VERSION`] is refused, never changed.
//!
//! To add a migration: add `migrations/NNNN_name.sql` and a line to [`MIGRATIONS`]. A test
//! checks that the folder and the list agree, and the upgrade test then covers the new file.

use crate::error::StoreError;
use crate::{Error, Result};
use rusqlite::{Connection, TransactionBehavior};

/// One schema migration.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// The version the database has once this migration ran (1 for `0001_…`).
    pub version: i64,
    /// The file name in `migrations/`.
    pub name: &'static str,
    /// The SQL script.
    pub sql: &'static str,
}

/// Every migration, in order; entry `i` has version `i + 1`.
#[doc(hidden)]
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_initial.sql",
        sql: include_str!("../../migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "0002_sync.sql",
        sql: include_str!("../../migrations/0002_sync.sql"),
    },
    Migration {
        version: 3,
        name: "0003_outbox.sql",
        sql: include_str!("../../migrations/0003_outbox.sql"),
    },
    Migration {
        version: 4,
        name: "0004_document_format.sql",
        sql: include_str!("../../migrations/0004_document_format.sql"),
    },
    Migration {
        version: 5,
        name: "0005_crawl_pass.sql",
        sql: include_str!("../../migrations/0005_crawl_pass.sql"),
    },
];

/// The schema version this build creates and understands (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// `PRAGMA application_id` of a profile-cache database ("PrCa"), set by the first migration.
pub(crate) const APPLICATION_ID: i64 = 0x5072_4361;

/// Reads the schema version.
pub(crate) fn user_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Checks, without writing, that `conn`'s database is one this build may open and migrate:
/// a profile-cache database no newer than [`SCHEMA_VERSION`], or an empty one.
///
/// Reading the schema also makes SQLite check the file: a damaged one gives
/// [`StoreError::NotADatabase`] or [`StoreError::Corrupt`].
pub(crate) fn check_compatible(conn: &Connection) -> Result<()> {
    let version = user_version(conn)?;
    let app_id: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let objects: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
    check_header(version, app_id)?;
    if version == 0 && app_id == 0 && objects > 0 {
        // Some other application's SQLite file: adding our tables to it would be rude.
        return Err(StoreError::NotADatabase.into());
    }
    Ok(())
}

/// The part of [`check_compatible`] that the file header alone decides: `version` is
/// `user_version`, `app_id` is `application_id`.
pub(crate) fn check_header(version: i64, app_id: i64) -> Result<()> {
    if app_id != APPLICATION_ID && (app_id != 0 || version != 0) {
        return Err(StoreError::NotADatabase.into());
    }
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found: version,
            supported: SCHEMA_VERSION,
        }
        .into());
    }
    if version < 0 {
        return Err(StoreError::NotADatabase.into());
    }
    Ok(())
}

/// Brings the database to [`SCHEMA_VERSION`], after checking it is compatible.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    check_compatible(conn)?;
    migrate_to(conn, SCHEMA_VERSION)
}

/// Applies the migrations up to and including `version` that the database does not have
/// yet, each in its own `BEGIN IMMEDIATE` transaction. Never goes back: a database already
/// at or past `version` is left as it is (but one past [`SCHEMA_VERSION`] is an error).
///
/// Exposed for tests that build a database "as an older version made it".
#[doc(hidden)]
pub fn migrate_to(conn: &mut Connection, version: i64) -> Result<()> {
    if !(0..=SCHEMA_VERSION).contains(&version) {
        return Err(Error::InvalidInput {
            field: "version".into(),
            reason: format!("must be between 0 and {SCHEMA_VERSION}"),
        });
    }
    apply(conn, MIGRATIONS, version)
}

/// The runner of [`migrate_to`] over any list of migrations (tests run lists with
/// migrations this build does not have yet).
pub(crate) fn apply(conn: &mut Connection, migrations: &[Migration], version: i64) -> Result<()> {
    let supported = migrations.len() as i64;
    for migration in migrations.iter().take_while(|m| m.version <= version) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Read inside the write lock: another process may have migrated meanwhile.
        let current = user_version(&tx)?;
        if current > supported {
            return Err(StoreError::TooNew {
                found: current,
                supported,
            }
            .into());
        }
        if current >= migration.version {
            continue;
        }
        tx.execute_batch(migration.sql)?;
        tx.pragma_update(None, "user_version", migration.version)?;
        tx.commit()?;
        log::info!("database migrated to schema version {}", migration.version);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_numbered_from_one_without_gaps() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
            assert!(
                m.name.starts_with(&format!("{:04}_", m.version)),
                "{}",
                m.name
            );
            assert!(m.name.ends_with(".sql"), "{}", m.name);
        }
    }

    #[test]
    fn a_fresh_database_reaches_the_latest_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        check_compatible(&conn).unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        let app_id: i64 = conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .unwrap();
        assert_eq!(app_id, APPLICATION_ID);
        // Running it again changes nothing.
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn a_newer_database_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert!(matches!(
            err,
            Error::Store(StoreError::TooNew { found, supported })
                if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION
        ));
    }

    #[test]
    fn another_applications_database_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE notes (body TEXT)")
            .unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert!(matches!(err, Error::Store(StoreError::NotADatabase)));
    }

    #[test]
    fn migrate_to_refuses_unknown_versions() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert!(migrate_to(&mut conn, SCHEMA_VERSION + 1).is_err());
        assert!(migrate_to(&mut conn, -1).is_err());
        migrate_to(&mut conn, 0).unwrap();
        assert_eq!(user_version(&conn).unwrap(), 0);
    }
}
