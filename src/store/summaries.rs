//! The `summaries` table: the change feed as last seen, and what it says about staleness.
//!
//! A summary is *stale* when the cache must (re)fetch its profile: there is no stored
//! profile for the login, or the summary's `last_modified` is newer than what the stored
//! profile reflects (its `server_modified`, or when unknown its `fetched_at`). The flag is
//! stored in `summaries.stale` and recomputed by every write that can change it
//! ([`refresh_stale`]), so listing and counting stale logins stays an index scan.

use super::{Store, from_ms, from_ms_opt, status_from_sql, status_to_sql, to_ms};
use crate::Result;
use crate::model::{ProfileStatus, ProfileSummary, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};

/// What [`Store::upsert_summaries`] did with one page of summaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SummaryUpsert {
    /// Logins the store had not seen before.
    pub inserted: usize,
    /// Known logins whose sync id, status or last-modified time changed.
    pub changed: usize,
    /// Known logins the page repeated without change (or with an older last-modified
    /// time, which is ignored: a summary never moves back in time).
    pub unchanged: usize,
    /// Summaries without a login ID, which cannot be stored.
    pub skipped: usize,
    /// How many of this page's logins are now stale (their profile must be fetched).
    pub stale: usize,
}

/// A summary as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSummary {
    /// The login ID (the key).
    pub login: String,
    /// `XmlProfileSyncID`, when the server sent one.
    pub sync_id: Option<String>,
    /// The status the feed reported (or set by [`Store::mark_inactive`]).
    pub status: Option<ProfileStatus>,
    /// `ProfileLastModifiedUTC`, when the server sent one.
    pub last_modified: Option<Timestamp>,
    /// When the summary was last seen in the feed.
    pub seen_at: Timestamp,
    /// Whether the profile must be (re)fetched.
    pub stale: bool,
}

/// Which summaries [`Store::list_summaries`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SummaryFilter {
    /// Only this status.
    pub status: Option<ProfileStatus>,
    /// Only summaries modified at or after this time (summaries without a last-modified
    /// time are then left out).
    pub modified_since: Option<Timestamp>,
    /// At most this many (`None`: all).
    pub limit: Option<u32>,
    /// Skip this many first.
    pub offset: u32,
}

/// How many rows the store holds, for status screens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Stored profiles.
    pub profiles: u64,
    /// Stored summaries.
    pub summaries: u64,
    /// Stored profiles whose status is active.
    pub active: u64,
    /// Stored profiles whose status is inactive.
    pub inactive: u64,
    /// Summaries whose profile must be (re)fetched.
    pub stale: u64,
}

impl Store {
    /// Stores one page of the summary feed in one transaction, as seen at `seen_at`.
    ///
    /// A summary replaces the stored one for its login, except that `last_modified` never
    /// moves back (an older repeat, e.g. from an overlapping re-read, only updates
    /// `seen_at`). Summaries without a login ID are skipped and counted.
    pub fn upsert_summaries(
        &self,
        summaries: &[ProfileSummary],
        seen_at: Timestamp,
    ) -> Result<SummaryUpsert> {
        self.write(|tx| upsert(tx, summaries, seen_at))
    }

    /// Summaries matching `filter`, ordered by last-modified time (unknown first), then login.
    pub fn list_summaries(&self, filter: &SummaryFilter) -> Result<Vec<StoredSummary>> {
        self.read(|conn| list(conn, filter))
    }

    /// The stored summary of one login (compared without regard to ASCII case).
    pub fn summary(&self, login: &str) -> Result<Option<StoredSummary>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT login, sync_id, status, last_modified, seen_at, stale FROM summaries
                 WHERE login = ?1",
            )?;
            let mut rows = stmt.query([login])?;
            rows.next()?.map(summary_row).transpose()
        })
    }

    /// Up to `limit` logins whose profile must be (re)fetched: no stored profile, or a
    /// summary newer than the stored profile. Oldest change first.
    pub fn stale_logins(&self, limit: u32) -> Result<Vec<String>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(STALE_SQL)?;
            let rows = stmt.query_map([limit], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Row counts (one consistent snapshot).
    pub fn counts(&self) -> Result<Counts> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT (SELECT count(*) FROM profiles),
                        (SELECT count(*) FROM summaries),
                        (SELECT count(*) FROM profiles WHERE status = 'Active'),
                        (SELECT count(*) FROM profiles WHERE status = 'Inactive'),
                        (SELECT count(*) FROM summaries WHERE stale = 1)",
            )?;
            Ok(stmt.query_row([], |r| {
                // count(*) is never negative.
                let n = |i| r.get::<_, i64>(i).map(|n| n.max(0) as u64);
                Ok(Counts {
                    profiles: n(0)?,
                    summaries: n(1)?,
                    active: n(2)?,
                    inactive: n(3)?,
                    stale: n(4)?,
                })
            })?)
        })
    }
}

const STALE_SQL: &str =
    "SELECT login FROM summaries WHERE stale = 1 ORDER BY last_modified, login LIMIT ?1";

/// The stored fields of one summary that the feed can change.
type SummaryState = (Option<String>, Option<String>, Option<i64>);

/// [`Store::upsert_summaries`] inside a transaction.
pub(crate) fn upsert(
    conn: &Connection,
    summaries: &[ProfileSummary],
    seen_at: Timestamp,
) -> Result<SummaryUpsert> {
    let seen_at = to_ms(&seen_at);
    let mut report = SummaryUpsert::default();
    let mut select = conn
        .prepare_cached("SELECT sync_id, status, last_modified FROM summaries WHERE login = ?1")?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO summaries (login, sync_id, status, last_modified, seen_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut update = conn.prepare_cached(
        "UPDATE summaries SET login = ?1, sync_id = ?2, status = ?3, last_modified = ?4,
         seen_at = ?5 WHERE login = ?1",
    )?;
    let mut touch = conn.prepare_cached("UPDATE summaries SET seen_at = ?2 WHERE login = ?1")?;
    for summary in summaries {
        let Some(login) = summary.login_id.as_deref().filter(|l| !l.trim().is_empty()) else {
            report.skipped += 1;
            continue;
        };
        let new: SummaryState = (
            summary.xml_profile_sync_id.clone(),
            status_to_sql(summary.status.as_ref()).map(str::to_owned),
            summary.last_modified.as_ref().map(to_ms),
        );
        let old: Option<SummaryState> = select
            .query_row([login], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        match old {
            None => {
                insert.execute(params![login, new.0, new.1, new.2, seen_at])?;
                report.inserted += 1;
            }
            Some(old) if old == new || is_older(new.2, old.2) => {
                touch.execute(params![login, seen_at])?;
                report.unchanged += 1;
            }
            Some(_) => {
                update.execute(params![login, new.0, new.1, new.2, seen_at])?;
                report.changed += 1;
            }
        }
        if refresh_stale(conn, login)? {
            report.stale += 1;
        }
    }
    Ok(report)
}

/// Whether `new` is strictly older than `old` (an unknown time is never older).
fn is_older(new: Option<i64>, old: Option<i64>) -> bool {
    matches!((new, old), (Some(new), Some(old)) if new < old)
}

/// Recomputes `summaries.stale` for one login; returns the new value (`false` when the
/// login has no summary).
pub(crate) fn refresh_stale(conn: &Connection, login: &str) -> Result<bool> {
    let mut stmt = conn.prepare_cached(
        "UPDATE summaries SET stale = NOT EXISTS (
             SELECT 1 FROM profiles p
             WHERE p.login = summaries.login
               AND (summaries.last_modified IS NULL
                    OR coalesce(p.server_modified, p.fetched_at) >= summaries.last_modified))
         WHERE login = ?1
         RETURNING stale",
    )?;
    let stale: Option<bool> = stmt.query_row([login], |r| r.get(0)).optional()?;
    Ok(stale.unwrap_or(false))
}

/// The statement for a filter: one text per filter shape, so each gets its index and its
/// cache slot. Parameters: ?1 status, ?2 modified since, ?3 limit, ?4 offset.
fn list_sql(filter: &SummaryFilter) -> String {
    let mut sql =
        String::from("SELECT login, sync_id, status, last_modified, seen_at, stale FROM summaries");
    let mut clauses = Vec::new();
    if filter.status.is_some() {
        clauses.push("status = ?1");
    }
    if filter.modified_since.is_some() {
        clauses.push("last_modified >= ?2");
    }
    if !clauses.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&clauses.join(" AND "));
    }
    sql.push_str(" ORDER BY last_modified, login LIMIT ?3 OFFSET ?4");
    sql
}

/// [`Store::list_summaries`] on a connection.
pub(crate) fn list(conn: &Connection, filter: &SummaryFilter) -> Result<Vec<StoredSummary>> {
    let mut stmt = conn.prepare_cached(&list_sql(filter))?;
    let limit = filter.limit.map_or(-1, i64::from);
    let status = status_to_sql(filter.status.as_ref());
    let since = filter.modified_since.as_ref().map(to_ms);
    let mut rows = stmt.query(params![status, since, limit, filter.offset])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(summary_row(r)?);
    }
    Ok(out)
}

/// A row of `SELECT login, sync_id, status, last_modified, seen_at, stale FROM summaries`.
fn summary_row(r: &rusqlite::Row<'_>) -> Result<StoredSummary> {
    Ok(StoredSummary {
        login: r.get(0)?,
        sync_id: r.get(1)?,
        status: status_from_sql(r.get(2)?),
        last_modified: from_ms_opt(r.get(3)?)?,
        seen_at: from_ms(r.get(4)?)?,
        stale: r.get(5)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        chrono::DateTime::from_timestamp_millis(ms).unwrap()
    }

    fn summary(login: &str, modified: i64) -> ProfileSummary {
        ProfileSummary {
            status: Some(ProfileStatus::Active),
            login_id: Some(login.into()),
            xml_profile_sync_id: Some(format!("sync-{login}")),
            last_modified: Some(at(modified)),
        }
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("cache.db")).unwrap();
        (dir, store)
    }

    #[test]
    fn counts_new_changed_unchanged_and_skipped() {
        let (_dir, store) = store();
        let page = [
            summary("a", 10),
            summary("b", 20),
            ProfileSummary::default(),
        ];
        let r = store.upsert_summaries(&page, at(100)).unwrap();
        assert_eq!(
            (r.inserted, r.changed, r.unchanged, r.skipped, r.stale),
            (2, 0, 0, 1, 2)
        );

        let page = [summary("a", 10), summary("b", 30)];
        let r = store.upsert_summaries(&page, at(200)).unwrap();
        assert_eq!(
            (r.inserted, r.changed, r.unchanged, r.skipped),
            (0, 1, 1, 0)
        );
    }

    #[test]
    fn last_modified_never_moves_back() {
        let (_dir, store) = store();
        store
            .upsert_summaries(&[summary("a", 50)], at(100))
            .unwrap();
        let r = store
            .upsert_summaries(&[summary("a", 40)], at(200))
            .unwrap();
        assert_eq!(r.unchanged, 1);
        let all = store.list_summaries(&SummaryFilter::default()).unwrap();
        assert_eq!(all[0].last_modified, Some(at(50)));
        assert_eq!(all[0].seen_at, at(200));
    }

    #[test]
    fn logins_compare_without_regard_to_ascii_case() {
        let (_dir, store) = store();
        store
            .upsert_summaries(&[summary("Ana@Example.org", 1)], at(1))
            .unwrap();
        let r = store
            .upsert_summaries(&[summary("ana@example.org", 2)], at(2))
            .unwrap();
        assert_eq!(r.changed, 1);
        assert_eq!(store.counts().unwrap().summaries, 1);
    }

    #[test]
    fn list_uses_the_indexes() {
        let (_dir, store) = store();
        let filters = [
            SummaryFilter::default(),
            SummaryFilter {
                status: Some(ProfileStatus::Active),
                ..SummaryFilter::default()
            },
            SummaryFilter {
                status: Some(ProfileStatus::Active),
                modified_since: Some(at(0)),
                ..SummaryFilter::default()
            },
        ];
        let mut statements: Vec<(String, usize)> =
            filters.iter().map(|f| (list_sql(f), 4)).collect();
        statements.push((STALE_SQL.to_owned(), 1));
        for (sql, n) in statements {
            let plan: Vec<String> = store
                .read(|c| {
                    let mut s = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                    let args: Vec<i64> = vec![0; n];
                    let rows =
                        s.query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))?;
                    Ok(rows.collect::<Result<_, _>>()?)
                })
                .unwrap();
            let plan = plan.join("; ");
            assert!(plan.contains("INDEX"), "{sql}: {plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{sql}: {plan}");
        }
    }
}
