//! The `profiles` table: each full profile's XML document exactly as the server sent it,
//! beside the columns used to find it (login, sync id, UUID), its status and times.
//!
//! The document is the truth: a [`StoredProfile`] is parsed from it on every read, so a
//! newer parser sees old rows the way it would see them fresh from the server, and unknown
//! elements survive. The other columns are derived when the profile is written.

use super::{
    Store, document, from_ms, from_ms_opt, search, status_from_sql, status_to_sql, summaries, to_ms,
};
use crate::model::{Profile, ProfileStatus, Timestamp};
use crate::{Error, Result};
use rusqlite::{Connection, OptionalExtension, params};
use std::borrow::Cow;

/// A profile to store, as fetched from the server.
#[derive(Debug, Clone, Copy)]
pub struct NewProfile<'a> {
    /// The login ID (the key). Compared without regard to ASCII case.
    pub login: &'a str,
    /// `XmlProfileSyncID` from the summary feed. `None` keeps the one already stored, or
    /// takes the stored summary's.
    pub sync_id: Option<&'a str>,
    /// The status (from the summary feed). `None` takes the document's `@Status`.
    pub status: Option<&'a ProfileStatus>,
    /// The summary's `ProfileLastModifiedUTC` this document reflects. `None` when
    /// unknown: staleness is then judged by `fetched_at`.
    pub server_modified: Option<Timestamp>,
    /// When the document was fetched.
    pub fetched_at: Timestamp,
    /// The document exactly as received, or already encoded.
    pub document: Document<'a>,
    /// The document parsed, used to fill the lookup and search columns.
    pub profile: &'a Profile,
}

/// A profile's XML document, as handed to [`Store::upsert_profiles`].
#[derive(Debug, Clone, Copy)]
pub enum Document<'a> {
    /// The document exactly as received; the store encodes it while writing.
    Xml(&'a str),
    /// The document exactly as received, already encoded with
    /// [`encode_document`](super::encode_document): so that work happens where the
    /// document arrived rather than on the single writer thread, and the caller need not
    /// keep the text. Must be what `encode_document` returned.
    Encoded(&'a [u8]),
}

/// A profile as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredProfile {
    /// The login ID.
    pub login: String,
    /// `XmlProfileSyncID`, when known.
    pub sync_id: Option<String>,
    /// `General/UUID`, when the document had one.
    pub uuid: Option<String>,
    /// The stored status (the feed's, or set by [`Store::mark_inactive`]).
    pub status: Option<ProfileStatus>,
    /// The last-modified time the document reflects, when known.
    pub server_modified: Option<Timestamp>,
    /// When the document was fetched.
    pub fetched_at: Timestamp,
    /// The document exactly as received.
    pub xml: String,
    /// The document parsed. Its `status` is the stored status when there is one (the
    /// store may know of a deactivation the document predates).
    pub profile: Profile,
}

/// A stored row before its document is parsed (parsing happens off the connection).
struct Row {
    login: String,
    sync_id: Option<String>,
    uuid: Option<String>,
    status: Option<String>,
    server_modified: Option<i64>,
    fetched_at: i64,
    xml: Vec<u8>,
}

const SELECT_ROW: &str =
    "SELECT login, sync_id, uuid, status, server_modified, fetched_at, xml FROM profiles";

impl Store {
    /// Stores a batch of fetched profiles in one transaction: inserts new logins, replaces
    /// known ones, refreshes their search rows and their summaries' stale flags.
    /// Returns how many were stored.
    pub fn upsert_profiles(&self, profiles: &[NewProfile<'_>]) -> Result<usize> {
        for p in profiles {
            if p.login.trim().is_empty() {
                return Err(Error::InvalidInput {
                    field: "login".into(),
                    reason: "must not be empty".into(),
                });
            }
        }
        self.write(|tx| {
            // Rows first, search index last: every statement that needs a statement
            // journal (the upsert does) makes FTS5 flush its pending terms to a new
            // segment. Interleaving would write one segment per profile and merge them
            // endlessly; this way the whole batch is one segment.
            let mut rows = Vec::with_capacity(profiles.len());
            for p in profiles {
                rows.push(upsert_row(tx, p)?);
            }
            let mut cleared = tx.prepare_cached("DELETE FROM fetch_failures WHERE login = ?1")?;
            for p in profiles {
                summaries::refresh_stale(tx, p.login)?;
                cleared.execute([p.login])?;
            }
            super::confirm::on_profiles_stored(self, tx, profiles)?;
            for (p, (id, existed)) in profiles.iter().zip(rows) {
                if existed {
                    search::index_doc(tx, id, p.login, p.profile)?;
                } else {
                    search::insert_doc(tx, id, p.login, p.profile)?;
                }
            }
            Ok(profiles.len())
        })
    }

    /// The profile stored for `login` (compared without regard to ASCII case).
    pub fn get_by_login(&self, login: &str) -> Result<Option<StoredProfile>> {
        self.get_where("login = ?1", login)
    }

    /// The profile stored with this `XmlProfileSyncID` (the most recently fetched, should
    /// the server have given two profiles the same one).
    pub fn get_by_sync_id(&self, sync_id: &str) -> Result<Option<StoredProfile>> {
        self.get_where("sync_id = ?1", sync_id)
    }

    /// The profile stored with this `General/UUID` (compared without regard to ASCII
    /// case; the most recently fetched should two share one).
    pub fn get_by_uuid(&self, uuid: &str) -> Result<Option<StoredProfile>> {
        self.get_where("uuid = ?1", uuid)
    }

    /// Only the document stored for `login`, exactly as received (no parsing).
    pub fn get_xml(&self, login: &str) -> Result<Option<String>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT xml FROM profiles WHERE login = ?1")?;
            Ok(stmt
                .query_row([login], |r| r.get::<_, Vec<u8>>(0))
                .optional()?)
        })?
        .map(|blob| document::decode(&blob))
        .transpose()
    }

    /// Marks `login` inactive (its profile and its summary). Returns whether the store
    /// knew the login.
    pub fn mark_inactive(&self, login: &str) -> Result<bool> {
        self.write(|tx| {
            let inactive = ProfileStatus::Inactive.as_wire();
            let mut p = tx.prepare_cached("UPDATE profiles SET status = ?2 WHERE login = ?1")?;
            let mut s = tx.prepare_cached("UPDATE summaries SET status = ?2 WHERE login = ?1")?;
            let n = p.execute(params![login, inactive])? + s.execute(params![login, inactive])?;
            Ok(n > 0)
        })
    }

    /// Forgets `login`: its profile, its search row and its summary. Returns whether the
    /// store knew the login. (A later summary feed brings it back as stale.)
    pub fn remove_profile(&self, login: &str) -> Result<bool> {
        self.write(|tx| {
            let mut find = tx.prepare_cached("SELECT id FROM profiles WHERE login = ?1")?;
            let id: Option<i64> = find.query_row([login], |r| r.get(0)).optional()?;
            let mut n = 0;
            if let Some(id) = id {
                search::delete_doc(tx, id)?;
                let mut del = tx.prepare_cached("DELETE FROM profiles WHERE id = ?1")?;
                n += del.execute([id])?;
            }
            let mut del = tx.prepare_cached("DELETE FROM summaries WHERE login = ?1")?;
            n += del.execute([login])?;
            Ok(n > 0)
        })
    }

    fn get_where(&self, condition: &str, key: &str) -> Result<Option<StoredProfile>> {
        let row = self.read(|conn| {
            let sql =
                format!("{SELECT_ROW} WHERE {condition} ORDER BY fetched_at DESC, id DESC LIMIT 1");
            let mut stmt = conn.prepare_cached(&sql)?;
            let row = stmt
                .query_row([key], |r| {
                    Ok(Row {
                        login: r.get(0)?,
                        sync_id: r.get(1)?,
                        uuid: r.get(2)?,
                        status: r.get(3)?,
                        server_modified: r.get(4)?,
                        fetched_at: r.get(5)?,
                        xml: r.get(6)?,
                    })
                })
                .optional()?;
            Ok(row)
        })?;
        row.map(decode).transpose()
    }
}

/// Parses a stored row's document (outside any connection lock).
fn decode(row: Row) -> Result<StoredProfile> {
    let xml = document::decode(&row.xml)?;
    let mut profile = crate::xml::parse_profile(xml.as_bytes())?;
    let status = status_from_sql(row.status);
    if status.is_some() {
        profile.status = status.clone();
    }
    Ok(StoredProfile {
        login: row.login,
        sync_id: row.sync_id,
        uuid: row.uuid,
        status,
        server_modified: from_ms_opt(row.server_modified)?,
        fetched_at: from_ms(row.fetched_at)?,
        xml,
        profile,
    })
}

/// Inserts or replaces one profile's row; returns its id and whether it existed.
fn upsert_row(conn: &Connection, p: &NewProfile<'_>) -> Result<(i64, bool)> {
    let status = p.status.or(p.profile.status.as_ref());
    // Only a replaced profile has a search row to delete: deleting a rowid that is not in
    // a contentless FTS5 index still writes a tombstone, which slows every later merge.
    let mut find = conn.prepare_cached("SELECT id FROM profiles WHERE login = ?1")?;
    let existed = find
        .query_row([p.login], |r| r.get::<_, i64>(0))
        .optional()?
        .is_some();
    let mut stmt = conn.prepare_cached(
        "INSERT INTO profiles
             (login, sync_id, uuid, status, display_name, server_modified, fetched_at, xml)
         VALUES (?1, coalesce(?2, (SELECT sync_id FROM summaries WHERE login = ?1)),
                 ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (login) DO UPDATE SET
             login = excluded.login,
             sync_id = coalesce(?2, profiles.sync_id, excluded.sync_id),
             uuid = excluded.uuid,
             status = excluded.status,
             display_name = excluded.display_name,
             server_modified = excluded.server_modified,
             fetched_at = excluded.fetched_at,
             xml = excluded.xml
         RETURNING id",
    )?;
    let id: i64 = stmt.query_row(
        params![
            p.login,
            p.sync_id,
            p.profile.uuid(),
            status_to_sql(status),
            p.profile.display_name(),
            p.server_modified.as_ref().map(to_ms),
            to_ms(&p.fetched_at),
            match p.document {
                Document::Xml(xml) => Cow::Owned(document::encode(xml)),
                Document::Encoded(blob) => Cow::Borrowed(blob),
            },
        ],
        |r| r.get(0),
    )?;
    Ok((id, existed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_use_the_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("cache.db")).unwrap();
        for (condition, index) in [
            ("login = ?1", "sqlite_autoindex_profiles_1"),
            ("sync_id = ?1", "profiles_by_sync_id"),
            ("uuid = ?1", "profiles_by_uuid"),
        ] {
            let sql = format!(
                "EXPLAIN QUERY PLAN {SELECT_ROW} WHERE {condition} ORDER BY fetched_at DESC, id DESC LIMIT 1"
            );
            let plan: Vec<String> = store
                .read(|c| {
                    let mut s = c.prepare(&sql)?;
                    let rows = s.query_map(["x"], |r| r.get::<_, String>(3))?;
                    Ok(rows.collect::<Result<_, _>>()?)
                })
                .unwrap();
            assert!(plan.join("; ").contains(index), "{condition}: {plan:?}");
        }
    }

    #[test]
    fn an_empty_login_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("cache.db")).unwrap();
        let profile = Profile::default();
        let p = NewProfile {
            login: " ",
            sync_id: None,
            status: None,
            server_modified: None,
            fetched_at: chrono::Utc::now(),
            document: Document::Xml("<ProfileResponse/>"),
            profile: &profile,
        };
        let err = store.upsert_profiles(&[p]).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }));
    }

    #[test]
    fn a_document_encoded_by_the_caller_reads_back_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("cache.db")).unwrap();
        let xml = "<ProfileResponse LoginId=\"zoë@example.org\"><General><FirstName>Zoë</FirstName></General></ProfileResponse>";
        let profile = crate::xml::parse_profile(xml.as_bytes()).unwrap();
        let encoded = super::super::encode_document(xml);
        let p = NewProfile {
            login: "zoë@example.org",
            sync_id: None,
            status: None,
            server_modified: None,
            fetched_at: chrono::Utc::now(),
            document: Document::Encoded(&encoded),
            profile: &profile,
        };
        store.upsert_profiles(&[p]).unwrap();
        assert_eq!(
            store.get_xml("zoë@example.org").unwrap().as_deref(),
            Some(xml)
        );
        let stored = store.get_by_login("zoë@example.org").unwrap().unwrap();
        assert_eq!(stored.profile, profile);
    }
}
