//! `pc_rank`, the FTS5 ranking function of [`Store::search`](super::Store::search).
//!
//! Why not FTS5's built-in `bm25`: its IDF part reads the whole doclist of every phrase
//! once per query, whatever the `LIMIT`, so a two-letter prefix that matches 40,000 rows
//! costs milliseconds before the first row is ranked; and its term-frequency saturation
//! keeps column weights from deciding anything. The search only ranks a bounded set of
//! candidates that already share a tier, so what it needs is a cheap per-row score from
//! where each query word matched: `pc_rank` reads only the current row's phrase instances
//! and column sizes.
//!
//! `pc_rank(profile_search, kinds)`: `kinds` has one letter per phrase of the MATCH
//! expression, in order: `e` for a whole-word phrase, `p` for a prefix phrase. The score
//! (higher is better) is, over phrases, the best `column weight × (2 for e, 1 for p)` among
//! the phrase's matches, plus a hundredth of all matches' weights (more fields agreeing is
//! better), minus a thousandth per token in the name columns (shorter names first).
//!
//! This is the store's only `unsafe` code: SQLite's C API for FTS5 auxiliary functions,
//! which rusqlite does not wrap.

use crate::Result;
use crate::error::StoreError;
use rusqlite::{Connection, ffi};
use std::ffi::{CStr, c_int, c_void};
use std::ptr;

/// The function's SQL name.
pub(crate) const NAME: &str = "pc_rank";

/// Weight of a match in each column of `profile_search`, in column order: first, middle,
/// last, preferred names, employee ID, login, e-mail local parts, e-mail domains.
pub(crate) const COLUMN_WEIGHTS: [f64; 8] = [10.0, 4.0, 10.0, 8.0, 6.0, 3.0, 2.0, 1.0];

/// How many leading columns are names (for the length tie-break).
const NAME_COLUMNS: c_int = 4;

/// The most phrases a query has (8 words × 2 phrases, a domain word adding 2 more).
const MAX_PHRASES: usize = 32;

/// Registers `pc_rank` on `conn` (each connection needs its own registration).
pub(crate) fn register(conn: &Connection) -> Result<()> {
    // SAFETY: `handle` is the live connection; the statement is prepared, stepped and
    // finalized here; `api` outlives the statement and SQLite writes a valid `fts5_api`
    // pointer (or nothing) into it, per the documented "fts5_api_ptr" protocol.
    unsafe {
        let db = conn.handle();
        let mut api: *mut ffi::fts5_api = ptr::null_mut();
        let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
        let rc = ffi::sqlite3_prepare_v2(
            db,
            c"SELECT fts5(?1)".as_ptr(),
            -1,
            &mut stmt,
            ptr::null_mut(),
        );
        if rc != ffi::SQLITE_OK {
            // Preparing reads the schema: this is where a locked file reports busy.
            let e = rusqlite::Error::SqliteFailure(ffi::Error::new(rc), None);
            return Err(StoreError::from(e).into());
        }
        let rc = ffi::sqlite3_bind_pointer(
            stmt,
            1,
            (&mut api as *mut *mut ffi::fts5_api).cast::<c_void>(),
            c"fts5_api_ptr".as_ptr(),
            None,
        );
        if rc == ffi::SQLITE_OK {
            ffi::sqlite3_step(stmt);
        }
        ffi::sqlite3_finalize(stmt);
        if api.is_null() || (*api).iVersion < 2 {
            return Err(StoreError::Sqlite("FTS5 API version 2 is not available".into()).into());
        }
        let Some(create) = (*api).xCreateFunction else {
            return Err(StoreError::Sqlite("FTS5 cannot register functions".into()).into());
        };
        let name = c"pc_rank";
        debug_assert_eq!(name.to_str().ok(), Some(NAME));
        let rc = create(api, name.as_ptr(), ptr::null_mut(), Some(pc_rank), None);
        if rc != ffi::SQLITE_OK {
            return Err(StoreError::Sqlite("cannot register the ranking function".into()).into());
        }
    }
    Ok(())
}

/// What `pc_rank` reads from FTS5 for one row.
trait RowMatches {
    /// The (phrase, column) of every match in the row.
    fn instances(&self) -> Option<Vec<(usize, usize)>>;
    /// How many tokens the row has in column `col`.
    fn column_size(&self, col: c_int) -> Option<c_int>;
    /// How many columns the table has.
    fn column_count(&self) -> c_int;
}

/// The score of one row (see the module documentation).
fn score(row: &impl RowMatches, kinds: &[u8]) -> Option<f64> {
    let mut best = [0.0f64; MAX_PHRASES];
    let mut all = 0.0;
    for (phrase, col) in row.instances()? {
        let weight = COLUMN_WEIGHTS.get(col).copied().unwrap_or(1.0);
        let exact = if kinds.get(phrase) == Some(&b'e') {
            2.0
        } else {
            1.0
        };
        if let Some(b) = best.get_mut(phrase) {
            *b = b.max(weight * exact);
        }
        all += weight;
    }
    let mut name_tokens = 0;
    for col in 0..NAME_COLUMNS.min(row.column_count()) {
        name_tokens += row.column_size(col)?;
    }
    Some(best.iter().sum::<f64>() + all / 100.0 - f64::from(name_tokens) / 1000.0)
}

/// The current row, through SQLite's extension API.
struct Fts5Row {
    api: *const ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
}

impl RowMatches for Fts5Row {
    fn instances(&self) -> Option<Vec<(usize, usize)>> {
        // SAFETY: `api` and `fts` are the pointers SQLite passed to this call of the
        // function, valid for its duration; out-parameters are local integers.
        unsafe {
            let api = &*self.api;
            let mut n: c_int = 0;
            if api.xInstCount?(self.fts, &mut n) != ffi::SQLITE_OK {
                return None;
            }
            let inst = api.xInst?;
            let mut out = Vec::with_capacity(usize::try_from(n).ok()?);
            for i in 0..n {
                let (mut phrase, mut col, mut off): (c_int, c_int, c_int) = (0, 0, 0);
                if inst(self.fts, i, &mut phrase, &mut col, &mut off) != ffi::SQLITE_OK {
                    return None;
                }
                out.push((usize::try_from(phrase).ok()?, usize::try_from(col).ok()?));
            }
            Some(out)
        }
    }

    fn column_size(&self, col: c_int) -> Option<c_int> {
        // SAFETY: as in `instances`.
        unsafe {
            let mut n: c_int = 0;
            ((*self.api).xColumnSize?(self.fts, col, &mut n) == ffi::SQLITE_OK).then_some(n)
        }
    }

    fn column_count(&self) -> c_int {
        // SAFETY: as in `instances`.
        unsafe { (*self.api).xColumnCount.map_or(0, |f| f(self.fts)) }
    }
}

/// The C entry point SQLite calls once per row.
unsafe extern "C" fn pc_rank(
    api: *const ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    ctx: *mut ffi::sqlite3_context,
    n_val: c_int,
    values: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: SQLite passes `n_val` valid values; the text pointer stays valid until the
    // value is changed, which nothing here does.
    let kinds: &[u8] = unsafe {
        if n_val >= 1 && !values.is_null() {
            let text = ffi::sqlite3_value_text(*values);
            if text.is_null() {
                &[]
            } else {
                CStr::from_ptr(text.cast()).to_bytes()
            }
        } else {
            &[]
        }
    };
    let row = Fts5Row { api, fts };
    // Nothing in `score` panics, but a panic must never unwind into C.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| score(&row, kinds)));
    // SAFETY: `ctx` is the context of this call.
    unsafe {
        match result {
            Ok(Some(s)) => ffi::sqlite3_result_double(ctx, s),
            _ => ffi::sqlite3_result_error(ctx, c"pc_rank failed".as_ptr(), -1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake {
        instances: Vec<(usize, usize)>,
        sizes: [c_int; 8],
    }

    impl RowMatches for Fake {
        fn instances(&self) -> Option<Vec<(usize, usize)>> {
            Some(self.instances.clone())
        }
        fn column_size(&self, col: c_int) -> Option<c_int> {
            self.sizes.get(col as usize).copied()
        }
        fn column_count(&self) -> c_int {
            8
        }
    }

    fn fake(instances: &[(usize, usize)], name_tokens: c_int) -> Fake {
        Fake {
            instances: instances.to_vec(),
            sizes: [name_tokens, 0, 0, 0, 1, 2, 2, 2],
        }
    }

    #[test]
    fn whole_words_beat_prefixes_and_names_beat_emails() {
        // Query "ana": phrase 0 = "ana"* (p), phrase 1 = "ana" (e).
        let kinds = b"pe";
        let exact_first = score(&fake(&[(0, 0), (1, 0)], 2), kinds).unwrap();
        let prefix_first = score(&fake(&[(0, 0)], 2), kinds).unwrap();
        let exact_email = score(&fake(&[(0, 6), (1, 6)], 2), kinds).unwrap();
        let exact_middle = score(&fake(&[(0, 1), (1, 1)], 2), kinds).unwrap();
        assert!(exact_first > prefix_first);
        assert!(prefix_first > exact_email);
        assert!(exact_first > exact_middle);
        // More fields agreeing breaks ties; shorter names come first.
        let also_login = score(&fake(&[(0, 0), (1, 0), (0, 5)], 2), kinds).unwrap();
        assert!(also_login > exact_first);
        let longer = score(&fake(&[(0, 0), (1, 0)], 5), kinds).unwrap();
        assert!(exact_first > longer);
    }

    #[test]
    fn stays_far_below_the_tier_bonus() {
        let instances: Vec<_> = (0..MAX_PHRASES)
            .flat_map(|p| (0..8).map(move |c| (p, c)))
            .collect();
        let s = score(&fake(&instances, 0), &[b'e'; MAX_PHRASES]).unwrap();
        assert!(s < super::super::search::TIER_BONUS / 2.0, "{s}");
    }

    #[test]
    fn is_registered_and_callable() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        conn.execute_batch(
            "CREATE VIRTUAL TABLE t USING fts5(a, b);
             INSERT INTO t VALUES ('ana souza', 'x'), ('anabela', 'ana');",
        )
        .unwrap();
        let rows: Vec<(i64, f64)> = conn
            .prepare("SELECT rowid, pc_rank(t, 'pe') AS s FROM t WHERE t MATCH '\"ana\" * OR \"ana\"' ORDER BY s DESC")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 2]);
        assert!(rows[0].1 > rows[1].1);
    }
}
