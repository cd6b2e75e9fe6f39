//! Full-text search over what an agent types to find a traveler: first, middle, last and
//! preferred names, employee ID, login and e-mail addresses.
//!
//! The index is the FTS5 table `profile_search` (contentless; rowid = `profiles.id`),
//! tokenized by `unicode61 remove_diacritics 2` (case and accents folded: "muller" finds
//! "Müller"; Greek tonos and final sigma are folded here, see [`fold`]) with prefix
//! indexes for 1 to 6 characters. An e-mail address is indexed as its local part (split
//! into words by the tokenizer: "ana.souza" gives "ana", "souza") and its domain, which
//! goes to a column of its own that only a query word containing `@` searches, so that
//! "ex" does not match every address at example.com.
//!
//! The user's text never reaches FTS5 as syntax: each whitespace-separated word becomes a
//! quoted FTS5 string (quotes doubled), matched as a prefix; words are AND-ed.
//!
//! Ranking is by tiers (see [`Query`]): whole name words, then the word being typed as a
//! prefix, then name prefixes, then matches anywhere (IDs, logins, e-mail addresses).
//! Within a tier, [`rank`]'s `pc_rank` scores column weights, whole words above
//! prefixes, shorter names first. A short prefix can match tens of thousands of rows:
//! a tier ranks only its first [`CANDIDATES`] matches, which bounds a query to a few
//! milliseconds at 100,000 profiles (within a tier the matches are alike).

use super::{Store, rank, status_from_sql};
use crate::Result;
use crate::model::{Profile, ProfileStatus};
use rusqlite::{Connection, params};
use std::sync::LazyLock;

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    /// The traveler's login ID (the key for [`Store::get_by_login`]).
    pub login: String,
    /// The name to show ([`Profile::display_name`]), when the profile has one.
    pub display_name: Option<String>,
    /// The stored status.
    pub status: Option<ProfileStatus>,
    /// How well the profile matches: higher is better; hits come ordered by it. Only
    /// comparable between hits of the same query.
    pub score: f64,
}

/// At most this many query words are used; the rest are ignored.
pub(crate) const MAX_WORDS: usize = 8;
/// A query word is cut to this many characters.
pub(crate) const MAX_WORD_CHARS: usize = 64;
/// At most this many hits are returned, whatever the caller asks.
pub(crate) const MAX_HITS: u32 = 500;

/// The columns a word without `@` searches (all but `domains`).
const TEXT_COLUMNS: &str =
    "{first_name middle_name last_name preferred_name employee_id login emails}";
/// The name columns, whose matches rank first.
const NAME_COLUMNS: &str = "{first_name middle_name last_name preferred_name}";

impl Store {
    /// Profiles matching `query`, best first, at most `limit` (and at most 500).
    ///
    /// Each whitespace-separated word must match the start of a word in a name, the
    /// employee ID, the login or an e-mail address (a word containing `@` also matches
    /// the address's domain with the part after `@`). Case and accents do not matter.
    ///
    /// Ranking, in tiers: profiles where every word is a whole word of a name first; then
    /// (for several words) those where only the last word, the one being typed, is a
    /// prefix; then those where every word starts a name; then the others (IDs, logins,
    /// e-mail addresses). Within a tier: first and last names above preferred above
    /// middle names, whole words above prefixes, shorter names first. When a tier has
    /// more than a thousand matches (a short prefix at 100,000 profiles), only its first
    /// thousand are ranked, which keeps every query to milliseconds.
    ///
    /// Any text is accepted: FTS5 operators and quotes are searched as plain text, and a
    /// query without letters or digits returns no hits.
    pub fn search(&self, query: &str, limit: u32) -> Result<Vec<SearchHit>> {
        let Some(query) = Query::parse(query) else {
            return Ok(Vec::new());
        };
        let limit = limit.min(MAX_HITS);
        self.read(|conn| {
            // Each tier's matches include those of the tiers before it (an FTS5 NOT would
            // cost a scan of its whole left side). When a tier is reached, every match of
            // the tiers before it is already among the hits (each returned fewer than
            // `limit`, hence all of its matches), so skipping known rows is enough.
            let mut hits: Vec<(i64, SearchHit)> = Vec::new();
            let tiers = query.tiers.len();
            for (i, tier) in query.tiers.iter().enumerate() {
                let rest = limit as usize - hits.len();
                if rest == 0 {
                    break;
                }
                let bonus = TIER_BONUS * (tiers - 1 - i) as f64;
                let found = run(conn, tier, (rest + hits.len()) as u32, bonus)?;
                let new: Vec<_> = found
                    .into_iter()
                    .filter(|(id, _)| !hits.iter().any(|(known, _)| known == id))
                    .take(rest)
                    .collect();
                hits.extend(new);
            }
            Ok(hits.into_iter().map(|(_, hit)| hit).collect())
        })
    }
}

impl Store {
    /// Rebuilds the whole search index from the stored documents (each parsed again), in
    /// one transaction: for after a change to what is indexed or how. A document that no
    /// longer parses is left out of the index (and counted). Returns (indexed, skipped).
    pub fn rebuild_search_index(&self) -> Result<(usize, usize)> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO profile_search (profile_search) VALUES ('delete-all')",
                [],
            )?;
            let mut stmt = tx.prepare("SELECT id, login, xml FROM profiles ORDER BY id")?;
            let mut rows = stmt.query([])?;
            let (mut indexed, mut skipped) = (0, 0);
            while let Some(row) = rows.next()? {
                let (id, login, blob): (i64, String, Vec<u8>) =
                    (row.get(0)?, row.get(1)?, row.get(2)?);
                let xml = super::document::decode(&blob)?;
                match crate::xml::parse_profile(xml.as_bytes()) {
                    Ok(profile) => {
                        insert_doc(tx, id, &login, &profile)?;
                        indexed += 1;
                    }
                    Err(_) => skipped += 1,
                }
            }
            Ok((indexed, skipped))
        })
    }
}

/// Added to the score once per tier below, so better tiers come first. (A `pc_rank`
/// score stays far below it.)
pub(crate) const TIER_BONUS: f64 = 10_000.0;

/// How many matches of one tier are ranked at most (see [`Store::search`]). At least
/// twice [`MAX_HITS`], which the tier logic in [`Store::search`] relies on.
pub(crate) const CANDIDATES: u32 = 1_000;
const _: () = assert!(CANDIDATES >= 2 * MAX_HITS);

/// One tier's query: ?1 the FTS5 expression, ?2 how many hits, ?3 the phrase kinds for
/// `pc_rank`. The first [`CANDIDATES`] matches are ranked; only the best ?2 are then
/// joined with `profiles` (a profile row is about a page: joining every candidate would
/// read a thousand pages).
static SEARCH_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT p.id, p.login, p.display_name, p.status, m.score
         FROM (SELECT id, score
               FROM (SELECT rowid AS id, {rank}(profile_search, ?3) AS score
                     FROM profile_search WHERE profile_search MATCH ?1
                     LIMIT {CANDIDATES})
               ORDER BY score DESC, id LIMIT ?2) AS m
         JOIN profiles AS p ON p.id = m.id
         ORDER BY m.score DESC, p.login",
        rank = rank::NAME,
    )
});

/// Runs one tier: its best `limit` hits, with their rowids.
fn run(conn: &Connection, tier: &Tier, limit: u32, bonus: f64) -> Result<Vec<(i64, SearchHit)>> {
    let mut stmt = conn.prepare_cached(&SEARCH_SQL)?;
    let rows = stmt.query_map(params![tier.expr, limit, tier.kinds], |r| {
        let hit = SearchHit {
            login: r.get(1)?,
            display_name: r.get(2)?,
            status: status_from_sql(r.get(3)?),
            score: bonus + r.get::<_, f64>(4)?,
        };
        Ok((r.get(0)?, hit))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One ranking tier: an FTS5 expression and, for `pc_rank`, one letter per phrase in it
/// (`e` whole word, `p` prefix).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Tier {
    pub expr: String,
    pub kinds: String,
}

impl Tier {
    /// Adds an AND-ed term.
    fn and(&mut self, expr: String, kinds: &str) {
        if !self.expr.is_empty() {
            self.expr.push_str(" AND ");
        }
        self.expr.push_str(&expr);
        self.kinds.push_str(kinds);
    }
}

/// What the user typed, as one FTS5 query per ranking tier, best first:
///
/// 1. every word is a whole word of a name;
/// 2. (two words or more) every word but the last is a whole word of a name, the last
///    starts one (the user is typing it);
/// 3. every word starts a word of a name;
/// 4. every word starts a word anywhere (names, IDs, login, e-mail addresses); a word
///    with `@` also matches domains.
///
/// A query with a word that looks like a login or an address (it has `@`, or `.` or `_`
/// between letters, as in "ana.sou") has only tier 4: names are not what the user typed,
/// and the name tiers would only cost time (tier 4 searches the names too).
///
/// The expressions contain the user's text only inside quoted strings, so they are
/// always valid FTS5 syntax.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Query {
    /// The tiers, best first.
    pub tiers: Vec<Tier>,
}

impl Query {
    /// `None` when nothing in `input` can match (no letters or digits).
    pub(crate) fn parse(input: &str) -> Option<Query> {
        let mut words = Vec::new();
        let mut domains = Vec::new();
        let mut identifier = false;
        for word in input.split_whitespace().take(MAX_WORDS) {
            let word: String = word
                .chars()
                .filter(|c| !c.is_control())
                .take(MAX_WORD_CHARS)
                .map(fold)
                .collect();
            let (local, domain) = match word.split_once('@') {
                Some((local, domain)) => (local, Some(domain.replace('@', " "))),
                None => (word.as_str(), None),
            };
            words.extend(quote(local));
            domains.extend(domain.as_deref().and_then(quote));
            identifier |= domain.is_some() || is_identifier(local);
        }
        if words.is_empty() && domains.is_empty() {
            return None;
        }
        let mut anywhere = Tier::default();
        for q in &words {
            anywhere.and(format!("{TEXT_COLUMNS} : ({q} * OR {q})"), "pe");
        }
        for q in &domains {
            anywhere.and(format!("domains : ({q} * OR {q})"), "pe");
        }
        if identifier {
            return Some(Query {
                tiers: vec![anywhere],
            });
        }
        let (mut exact, mut typing, mut prefix) =
            (Tier::default(), Tier::default(), Tier::default());
        for (i, q) in words.iter().enumerate() {
            exact.and(format!("{NAME_COLUMNS} : {q}"), "e");
            prefix.and(format!("{NAME_COLUMNS} : ({q} * OR {q})"), "pe");
            if i + 1 < words.len() {
                typing.and(format!("{NAME_COLUMNS} : {q}"), "e");
            } else {
                typing.and(format!("{NAME_COLUMNS} : ({q} * OR {q})"), "pe");
            }
        }
        let mut tiers = vec![exact];
        if words.len() > 1 {
            tiers.push(typing);
        }
        tiers.extend([prefix, anywhere]);
        Some(Query { tiers })
    }
}

/// Whether a query word looks like a login or an e-mail address rather than a name: a
/// `.` or `_` between letters or digits ("ana.souza", "a_souza").
fn is_identifier(word: &str) -> bool {
    let chars: Vec<char> = word.chars().collect();
    chars
        .windows(3)
        .any(|w| matches!(w[1], '.' | '_') && w[0].is_alphanumeric() && w[2].is_alphanumeric())
}

/// `text` as an FTS5 string (in double quotes, quotes doubled), or `None` when it has
/// nothing the tokenizer keeps.
fn quote(text: &str) -> Option<String> {
    if !text.chars().any(char::is_alphanumeric) {
        return None;
    }
    Some(format!("\"{}\"", text.replace('"', "\"\"")))
}

/// What the tokenizer's folding misses, applied to both the indexed text and the query:
/// Greek letters with tonos or dialytika as precomposed characters (unicode61 removes
/// only Latin diacritics from those), and the final sigma, so that "ΓΙΩΡΓΟΣ",
/// "γιωργος" and "Γιώργος" are the same word.
fn fold(c: char) -> char {
    match c {
        'ά' | 'Ά' => 'α',
        'έ' | 'Έ' => 'ε',
        'ή' | 'Ή' => 'η',
        'ί' | 'Ί' | 'ϊ' | 'Ϊ' | 'ΐ' => 'ι',
        'ό' | 'Ό' => 'ο',
        'ύ' | 'Ύ' | 'ϋ' | 'Ϋ' | 'ΰ' => 'υ',
        'ώ' | 'Ώ' => 'ω',
        'ς' => 'σ',
        c => c,
    }
}

/// [`fold`] over a string.
fn fold_str(s: &str) -> String {
    s.chars().map(fold).collect()
}

/// The text indexed for one profile, one field per FTS column.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct SearchDoc {
    pub first_name: String,
    pub middle_name: String,
    pub last_name: String,
    pub preferred_name: String,
    pub employee_id: String,
    pub login: String,
    pub emails: String,
    pub domains: String,
}

impl SearchDoc {
    /// Derives the indexed text from a profile. Only what search needs: no documents,
    /// no dates, nothing sensitive.
    pub(crate) fn new(login: &str, profile: &Profile) -> SearchDoc {
        let general = profile.general.as_ref();
        let name = |f: fn(&crate::model::General) -> &Option<String>| {
            general
                .and_then(|g| f(g).as_deref())
                .map(|n| name_text(&fold_str(n)))
                .unwrap_or_default()
        };
        let mut doc = SearchDoc {
            first_name: name(|g| &g.first_name),
            middle_name: name(|g| &g.middle_name),
            last_name: name(|g| &g.last_name),
            preferred_name: name(|g| &g.preferred_name),
            employee_id: general
                .and_then(|g| g.company_employee_id.clone())
                .unwrap_or_default(),
            ..SearchDoc::default()
        };
        let mut domains = Vec::new();
        match login.rsplit_once('@') {
            Some((local, domain)) => {
                doc.login = local.to_owned();
                domains.push(domain);
            }
            None => doc.login = login.to_owned(),
        }
        let mut locals = Vec::new();
        for address in profile
            .email_addresses
            .iter()
            .filter_map(|e| e.address.as_deref())
        {
            let (local, domain) = address.rsplit_once('@').unwrap_or((address, ""));
            locals.push(local);
            domains.push(domain);
        }
        domains.retain(|d| !d.is_empty());
        domains.sort_unstable();
        domains.dedup();
        doc.emails = fold_str(&locals.join(" "));
        doc.domains = fold_str(&domains.join(" "));
        doc.login = fold_str(&doc.login);
        doc
    }
}

/// A name as indexed: itself, plus, when punctuation joins its parts ("O'Brien",
/// "Jean-Luc"), the parts run together ("OBrien", "JeanLuc"), so both spellings find it.
fn name_text(name: &str) -> String {
    let joined: String = name
        .chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace())
        .collect();
    if joined.split_whitespace().eq(name.split_whitespace()) {
        name.to_owned()
    } else {
        format!("{name} {joined}")
    }
}

/// (Re)indexes one profile under rowid `id`.
pub(crate) fn index_doc(conn: &Connection, id: i64, login: &str, profile: &Profile) -> Result<()> {
    delete_doc(conn, id)?;
    insert_doc(conn, id, login, profile)
}

/// Indexes one profile under rowid `id`, which must not be in the index.
pub(crate) fn insert_doc(conn: &Connection, id: i64, login: &str, profile: &Profile) -> Result<()> {
    let doc = SearchDoc::new(login, profile);
    let mut stmt = conn.prepare_cached(
        "INSERT INTO profile_search (rowid, first_name, middle_name, last_name,
             preferred_name, employee_id, login, emails, domains)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    stmt.execute(params![
        id,
        doc.first_name,
        doc.middle_name,
        doc.last_name,
        doc.preferred_name,
        doc.employee_id,
        doc.login,
        doc.emails,
        doc.domains,
    ])?;
    Ok(())
}

/// Removes one profile's row from the index (nothing when there is none).
pub(crate) fn delete_doc(conn: &Connection, id: i64) -> Result<()> {
    let mut stmt = conn.prepare_cached("DELETE FROM profile_search WHERE rowid = ?1")?;
    stmt.execute([id])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EmailAddress, General};

    fn all(input: &str) -> Option<String> {
        Query::parse(input).map(|q| q.tiers.last().unwrap().expr.clone())
    }

    #[test]
    fn queries_quote_everything_the_user_typed() {
        assert_eq!(all(""), None);
        assert_eq!(all("  \t "), None);
        assert_eq!(all("- * ( ) \""), None);
        let q = Query::parse("ana").unwrap();
        let tier = |expr: String, kinds: &str| Tier {
            expr,
            kinds: kinds.into(),
        };
        assert_eq!(
            q.tiers,
            [
                tier(format!("{NAME_COLUMNS} : \"ana\""), "e"),
                tier(format!("{NAME_COLUMNS} : (\"ana\" * OR \"ana\")"), "pe"),
                tier(format!("{TEXT_COLUMNS} : (\"ana\" * OR \"ana\")"), "pe"),
            ]
        );
        let q = Query::parse("a\"b").unwrap();
        assert!(q.tiers[0].expr.contains("\"a\"\"b\""), "{q:?}");
        let q = Query::parse("ana.sou@exa").unwrap();
        assert_eq!(q.tiers.len(), 1);
        assert!(q.tiers[0].expr.contains("domains : (\"exa\" *"), "{q:?}");
        assert_eq!(q.tiers[0].expr.matches(" AND ").count(), 1);
        assert_eq!(q.tiers[0].kinds, "pepe");
    }

    #[test]
    fn several_words_have_a_tier_for_the_word_being_typed() {
        let q = Query::parse("ana sou").unwrap();
        let kinds: Vec<&str> = q.tiers.iter().map(|t| t.kinds.as_str()).collect();
        assert_eq!(kinds, ["ee", "epe", "pepe", "pepe"]);
        assert_eq!(
            q.tiers[1].expr,
            format!("{NAME_COLUMNS} : \"ana\" AND {NAME_COLUMNS} : (\"sou\" * OR \"sou\")")
        );
    }

    #[test]
    fn logins_and_addresses_search_everything_in_one_tier() {
        for q in ["ana.sou", "a_souza", "ana@x", "@example", "ana ana.souza"] {
            assert_eq!(Query::parse(q).unwrap().tiers.len(), 1, "{q}");
        }
        for q in ["o'brien", "jean-luc", "st.", "ana"] {
            assert!(Query::parse(q).unwrap().tiers.len() > 1, "{q}");
        }
    }

    #[test]
    fn long_queries_are_capped() {
        let q = Query::parse(&"word ".repeat(100)).unwrap();
        assert_eq!(q.tiers[0].expr.matches(" AND ").count(), MAX_WORDS - 1);
        let q = Query::parse(&"x".repeat(1000)).unwrap();
        assert!(
            q.tiers[0].expr.len() < MAX_WORD_CHARS + NAME_COLUMNS.len() + 16,
            "{q:?}"
        );
    }

    #[test]
    fn greek_tonos_and_final_sigma_are_folded() {
        assert_eq!(fold_str("Γιώργος Παπαδόπουλος"), "Γιωργοσ Παπαδοπουλοσ");
        assert_eq!(fold_str("Ana Müller 山田"), "Ana Müller 山田");
    }

    #[test]
    fn names_with_punctuation_are_indexed_both_ways() {
        assert_eq!(name_text("Ana"), "Ana");
        assert_eq!(name_text("Ana Maria"), "Ana Maria");
        assert_eq!(name_text("O'Brien"), "O'Brien OBrien");
        assert_eq!(name_text("Jean-Luc"), "Jean-Luc JeanLuc");
    }

    #[test]
    fn the_document_keeps_only_search_fields() {
        let profile = Profile {
            general: Some(General {
                first_name: Some("Ana".into()),
                last_name: Some("Souza".into()),
                company_employee_id: Some("E-042".into()),
                medical_alerts: Some("secret".into()),
                ..General::default()
            }),
            email_addresses: vec![
                EmailAddress {
                    address: Some("ana.souza@example.org".into()),
                    ..EmailAddress::default()
                },
                EmailAddress {
                    address: Some("ana@home.example".into()),
                    ..EmailAddress::default()
                },
            ],
            ..Profile::default()
        };
        let doc = SearchDoc::new("asouza@example.org", &profile);
        assert_eq!(doc.login, "asouza");
        assert_eq!(doc.emails, "ana.souza ana");
        assert_eq!(doc.domains, "example.org home.example");
        assert_eq!(doc.employee_id, "E-042");
        assert!(!format!("{doc:?}").contains("secret"));
    }
}
