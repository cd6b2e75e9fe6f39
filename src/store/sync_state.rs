//! What the sync engine keeps across crashes: the crawl in progress (its cursor and the
//! logins it has seen), the checkpoint, and per-profile fetch failures with their backoff.
//! Every write here shares a transaction with the data it describes.

use super::{Store, from_ms_opt, summaries, to_ms};
use crate::Result;
use crate::model::{ProfileStatus, ProfileSummary, Timestamp};
use rusqlite::{OptionalExtension, params};

/// What storing one crawled page did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRecord {
    /// Summaries stored or refreshed.
    pub upsert: summaries::SummaryUpsert,
    /// Logins on the page not seen before in this crawl pass.
    pub newly_seen: usize,
    /// Logins on the page whose profile must now be fetched.
    pub stale: Vec<String>,
}

/// A profile due for fetching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueProfile {
    /// The login.
    pub login: String,
    /// The summary's last-modified time (what the fetched document will reflect).
    pub last_modified: Option<Timestamp>,
}

/// The number of the crawl pass in progress (meta `sync.crawl_pass`, 0 before the first):
/// the summaries it has seen carry it in `crawl_pass`.
fn crawl_pass(conn: &rusqlite::Connection) -> Result<i64> {
    Ok(conn
        .query_row(
            "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'sync.crawl_pass'",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0))
}

/// Starts the next crawl pass: what earlier passes saw no longer counts.
fn next_crawl_pass(conn: &rusqlite::Connection) -> Result<()> {
    let next = crawl_pass(conn)? + 1;
    super::meta::set(conn, "sync.crawl_pass", &next.to_string())
}

/// The longest a failed profile waits before its next attempt.
const MAX_FAILURE_BACKOFF_MS: i64 = 24 * 3600 * 1000;

impl Store {
    /// Stores one crawled page (or several, concatenated) in one transaction: its
    /// summaries, the logins seen in this pass, the crawl cursor (`cursor`, stored in meta
    /// `sync.crawl`), and the inactive flag of travelers the feed reports inactive.
    pub fn record_page(
        &self,
        page: &[ProfileSummary],
        seen_at: Timestamp,
        cursor: &str,
    ) -> Result<PageRecord> {
        self.write(|tx| {
            let upsert = summaries::upsert(tx, page, seen_at)?;
            let pass = crawl_pass(tx)?;
            // The row was just written: marking it rewrites no other page.
            let mut seen = tx.prepare_cached(
                "UPDATE summaries SET crawl_pass = ?2 WHERE login = ?1 AND crawl_pass IS NOT ?2",
            )?;
            let mut stale_q = tx.prepare_cached("SELECT stale FROM summaries WHERE login = ?1")?;
            let mut inactive = tx.prepare_cached(
                "UPDATE profiles SET status = 'Inactive' WHERE login = ?1 AND status IS NOT 'Inactive'",
            )?;
            let mut record = PageRecord { upsert, ..Default::default() };
            let mut stale_seen = std::collections::HashSet::new();
            for s in page {
                let Some(login) = s.login_id.as_deref().filter(|l| !l.trim().is_empty()) else {
                    continue;
                };
                record.newly_seen += seen.execute(params![login, pass])?;
                let stale: Option<bool> = stale_q.query_row([login], |r| r.get(0)).optional()?;
                if stale == Some(true) && stale_seen.insert(login.to_ascii_lowercase()) {
                    record.stale.push(login.to_owned());
                }
                if s.status == Some(ProfileStatus::Inactive) {
                    inactive.execute([login])?;
                }
            }
            super::meta::set(tx, "sync.crawl", cursor)?;
            Ok(record)
        })
    }

    /// How many distinct logins the crawl in progress has seen.
    pub fn crawl_seen_count(&self) -> Result<u64> {
        self.read(|c| {
            let pass = crawl_pass(c)?;
            Ok(c.query_row(
                "SELECT count(*) FROM summaries WHERE crawl_pass = ?1",
                [pass],
                |r| r.get::<_, i64>(0),
            )? as u64)
        })
    }

    /// Forgets the crawl in progress (its cursor and seen logins), e.g. to start a pass over.
    pub fn reset_crawl(&self) -> Result<()> {
        self.write(|tx| {
            next_crawl_pass(tx)?;
            tx.execute("DELETE FROM meta WHERE key = 'sync.crawl'", [])?;
            Ok(())
        })
    }

    /// Ends a consistent crawl pass: stores the new checkpoint under `key` and forgets the
    /// crawl, in one transaction. With `remove_unseen` (a reconciliation from the beginning
    /// of time) it also removes every profile and summary the pass did not list, and
    /// returns how many.
    pub fn finish_crawl(&self, key: &str, checkpoint: &str, remove_unseen: bool) -> Result<u64> {
        self.write(|tx| {
            let mut removed = 0;
            if remove_unseen {
                let pass = crawl_pass(tx)?;
                let gone: Vec<(i64, String)> = {
                    let mut q = tx.prepare(
                        "SELECT p.id, p.login FROM profiles p
                         WHERE NOT EXISTS (SELECT 1 FROM summaries s
                                           WHERE s.login = p.login AND s.crawl_pass = ?1)",
                    )?;
                    q.query_map([pass], |r| Ok((r.get(0)?, r.get(1)?)))?
                        .collect::<Result<_, _>>()?
                };
                for (id, _) in &gone {
                    super::search::delete_doc(tx, *id)?;
                    tx.execute("DELETE FROM profiles WHERE id = ?1", [id])?;
                }
                removed = gone.len() as u64;
                tx.execute("DELETE FROM summaries WHERE crawl_pass IS NOT ?1", [pass])?;
            }
            super::meta::set(tx, key, checkpoint)?;
            next_crawl_pass(tx)?;
            tx.execute("DELETE FROM meta WHERE key = 'sync.crawl'", [])?;
            Ok(removed)
        })
    }

    /// Up to `limit` profiles to fetch now: stale, and not waiting out a failure backoff.
    /// Oldest change first.
    pub fn due_profiles(&self, now: Timestamp, limit: u32) -> Result<Vec<DueProfile>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT s.login, s.last_modified FROM summaries s
                 WHERE s.stale = 1 AND NOT EXISTS (
                     SELECT 1 FROM fetch_failures f
                     WHERE f.login = s.login AND f.next_attempt_at > ?1)
                 ORDER BY s.last_modified, s.login LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![to_ms(&now), limit], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?))
            })?;
            rows.map(|r| {
                let (login, lm) = r?;
                Ok(DueProfile {
                    login,
                    last_modified: from_ms_opt(lm)?,
                })
            })
            .collect()
        })
    }

    /// How many stale profiles wait out a failure's backoff at `now` (not fetched now).
    pub fn deferred_count(&self, now: Timestamp) -> Result<u64> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT count(*) FROM summaries s JOIN fetch_failures f ON f.login = s.login
                 WHERE s.stale = 1 AND f.next_attempt_at > ?1",
            )?;
            Ok(stmt
                .query_row([to_ms(&now)], |r| r.get::<_, i64>(0))?
                .max(0) as u64)
        })
    }

    /// Records that fetching `login` failed with error kind `kind`; the next attempt waits
    /// one minute, doubling with each failure up to a day. Returns the attempt count.
    pub fn record_fetch_failure(&self, login: &str, kind: &str, now: Timestamp) -> Result<u32> {
        self.write(|tx| {
            let attempts: i64 = tx
                .query_row("SELECT attempts FROM fetch_failures WHERE login = ?1", [login], |r| r.get(0))
                .optional()?
                .unwrap_or(0)
                + 1;
            let wait = (60_000i64 << (attempts - 1).min(20)).min(MAX_FAILURE_BACKOFF_MS);
            let now = to_ms(&now);
            tx.execute(
                "INSERT INTO fetch_failures (login, attempts, last_error, last_attempt_at, next_attempt_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (login) DO UPDATE SET attempts = excluded.attempts,
                     last_error = excluded.last_error, last_attempt_at = excluded.last_attempt_at,
                     next_attempt_at = excluded.next_attempt_at",
                params![login, attempts, kind, now, now + wait],
            )?;
            Ok(attempts as u32)
        })
    }

    /// Profiles whose last fetch failed (still stale), with their error kind and attempts.
    pub fn fetch_failures(&self) -> Result<Vec<(String, String, u32)>> {
        self.read(|conn| {
            let mut q = conn.prepare_cached(
                "SELECT login, last_error, attempts FROM fetch_failures ORDER BY login",
            )?;
            let rows = q.query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u32))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Marks every summary stale (a forced full sync re-fetches every profile).
    pub fn mark_all_stale(&self) -> Result<u64> {
        self.write(|tx| {
            Ok(tx.execute("UPDATE summaries SET stale = 1 WHERE stale = 0", [])? as u64)
        })
    }
}
