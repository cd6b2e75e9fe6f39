//! Integration tests of the SQLite store on real files in temporary folders: migrations,
//! refusal of foreign, damaged and newer files, upserts and lookups, staleness, lists,
//! counts, search, and concurrency (WAL readers, busy timeouts).

use profile_cache::Error;
use profile_cache::error::StoreError;
use profile_cache::model::{
    EmailAddress, General, Profile, ProfileStatus, ProfileSummary, Timestamp,
};
use profile_cache::store::{
    Document, MIGRATIONS, NewProfile, SCHEMA_VERSION, Store, StoreOptions, SummaryFilter,
    migrate_to,
};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use tempfile::TempDir;

// ---------------------------------------------------------------------------------------
// Fixtures

fn at(ms: i64) -> Timestamp {
    chrono::DateTime::from_timestamp_millis(ms).unwrap()
}

fn new_store() -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("cache.db")).unwrap();
    (dir, store)
}

/// A traveler as the tests describe one.
#[derive(Clone, Default)]
struct Traveler {
    login: String,
    first: Option<String>,
    middle: Option<String>,
    last: Option<String>,
    preferred: Option<String>,
    employee_id: Option<String>,
    uuid: Option<String>,
    emails: Vec<String>,
    status: Option<ProfileStatus>,
}

fn traveler(login: &str, first: &str, last: &str) -> Traveler {
    Traveler {
        login: login.into(),
        first: Some(first.into()),
        last: Some(last.into()),
        emails: vec![login.into()],
        status: Some(ProfileStatus::Active),
        ..Traveler::default()
    }
}

impl Traveler {
    fn profile(&self) -> Profile {
        Profile {
            status: self.status.clone(),
            login_id: Some(self.login.clone()),
            general: Some(General {
                first_name: self.first.clone(),
                middle_name: self.middle.clone(),
                last_name: self.last.clone(),
                preferred_name: self.preferred.clone(),
                company_employee_id: self.employee_id.clone(),
                uuid: self.uuid.clone(),
                ..General::default()
            }),
            email_addresses: self
                .emails
                .iter()
                .map(|a| EmailAddress {
                    address: Some(a.clone()),
                    ..EmailAddress::default()
                })
                .collect(),
            ..Profile::default()
        }
    }

    /// The document as the server would send it, with an element this version does not
    /// know (which must survive storage byte for byte).
    fn xml(&self) -> String {
        fn esc(s: &str) -> String {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('"', "&quot;")
        }
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        let status = self.status.as_ref().map_or("Active", |s| s.as_wire());
        x.push_str(&format!(
            "<ProfileResponse Status=\"{}\" LoginId=\"{}\" Unique=\"\">\n  <General>\n",
            esc(status),
            esc(&self.login)
        ));
        for (tag, value) in [
            ("FirstName", &self.first),
            ("MiddleName", &self.middle),
            ("LastName", &self.last),
            ("PreferredName", &self.preferred),
            ("CompanyEmployeeID", &self.employee_id),
            ("UUID", &self.uuid),
        ] {
            if let Some(v) = value {
                x.push_str(&format!("    <{tag}>{}</{tag}>\n", esc(v)));
            }
        }
        x.push_str("  </General>\n  <EmailAddresses>\n");
        for e in &self.emails {
            x.push_str(&format!(
                "    <EmailAddress Type=\"Business\" Contact=\"true\">{}</EmailAddress>\n",
                esc(e)
            ));
        }
        x.push_str(
            "  </EmailAddresses>\n  <FutureSection Kind=\"new\"><Item>1</Item></FutureSection>\n",
        );
        x.push_str("</ProfileResponse>\n");
        x
    }
}

/// Stores travelers with the given server-modified time.
fn put(store: &Store, travelers: &[Traveler], server_modified: Option<i64>, fetched_at: i64) {
    let docs: Vec<(Profile, String)> = travelers.iter().map(|t| (t.profile(), t.xml())).collect();
    let batch: Vec<NewProfile<'_>> = travelers
        .iter()
        .zip(&docs)
        .map(|(t, (profile, xml))| NewProfile {
            login: &t.login,
            sync_id: None,
            status: t.status.as_ref(),
            server_modified: server_modified.map(at),
            fetched_at: at(fetched_at),
            document: Document::Xml(xml),
            profile,
        })
        .collect();
    assert_eq!(store.upsert_profiles(&batch).unwrap(), travelers.len());
}

fn summary(login: &str, modified: Option<i64>, status: ProfileStatus) -> ProfileSummary {
    ProfileSummary {
        status: Some(status),
        login_id: Some(login.into()),
        xml_profile_sync_id: Some(format!("SYNC-{login}")),
        last_modified: modified.map(at),
    }
}

fn logins(hits: &[profile_cache::store::SearchHit]) -> Vec<&str> {
    hits.iter().map(|h| h.login.as_str()).collect()
}

/// The schema as `(type, name, sql)`, sorted: what two databases must agree on.
fn schema(path: &Path) -> Vec<(String, String, Option<String>)> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY type, name, sql")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn pragma(path: &Path, name: &str) -> i64 {
    let conn = Connection::open(path).unwrap();
    conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
        .unwrap()
}

/// Every file in `dir` with its length and a digest of its bytes, to show that nothing
/// was written.
fn snapshot(dir: &Path) -> Vec<(PathBuf, usize, u64)> {
    use std::hash::{Hash, Hasher};
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let bytes = std::fs::read(&p).unwrap();
            let mut h = std::collections::hash_map::DefaultHasher::new();
            bytes.hash(&mut h);
            (p, bytes.len(), h.finish())
        })
        .collect();
    files.sort();
    files
}

fn store_error(result: Result<Store, Error>) -> StoreError {
    match result {
        Err(Error::Store(e)) => e,
        Err(e) => panic!("not a store error: {e:?}"),
        Ok(_) => panic!("opened"),
    }
}

// ---------------------------------------------------------------------------------------
// Migrations and opening

#[test]
fn a_new_database_has_the_latest_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    drop(Store::open(&path).unwrap());
    assert_eq!(pragma(&path, "user_version"), SCHEMA_VERSION);
    let names: Vec<String> = schema(&path).into_iter().map(|(_, n, _)| n).collect();
    for table in ["summaries", "profiles", "meta", "profile_search"] {
        assert!(
            names.iter().any(|n| n == table),
            "{table} missing from {names:?}"
        );
    }
}

#[test]
fn the_migrations_folder_and_the_compiled_list_agree() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    files.sort();
    let listed: Vec<&str> = MIGRATIONS.iter().map(|m| m.name).collect();
    assert_eq!(
        files, listed,
        "every migrations/*.sql must be in store::MIGRATIONS, in order"
    );
    for m in MIGRATIONS {
        let text = std::fs::read_to_string(folder.join(m.name)).unwrap();
        assert_eq!(text, m.sql, "{} differs from the compiled text", m.name);
    }
    assert_eq!(SCHEMA_VERSION, MIGRATIONS.len() as i64);
}

#[test]
fn upgrading_from_every_older_version_gives_the_fresh_schema() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh.db");
    drop(Store::open(&fresh).unwrap());
    let expected = schema(&fresh);
    for version in 0..SCHEMA_VERSION {
        let path = dir.path().join(format!("v{version}.db"));
        {
            let mut conn = Connection::open(&path).unwrap();
            migrate_to(&mut conn, version).unwrap();
            assert_eq!(
                conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
                    .unwrap(),
                version
            );
        }
        let store = Store::open(&path).unwrap();
        // The upgraded file works, not just looks right.
        store.set_meta("k", "v").unwrap();
        drop(store);
        assert_eq!(schema(&path), expected, "upgraded from version {version}");
        assert_eq!(pragma(&path, "user_version"), SCHEMA_VERSION);
        assert_eq!(
            pragma(&path, "application_id"),
            pragma(&fresh, "application_id")
        );
    }
}

#[test]
fn a_database_from_a_newer_build_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    {
        let store = Store::open(&path).unwrap();
        store.set_meta("checkpoint", "x").unwrap();
    }
    {
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
    }
    let before = snapshot(dir.path());
    match store_error(Store::open(&path)) {
        StoreError::TooNew { found, supported } => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(snapshot(dir.path()), before, "the files changed");
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, Vec<u8>); 3] = [
        ("text.db", b"hello, this is not a database\n".to_vec()),
        (
            "noise.db",
            (0..8192u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
        ),
        ("short.db", b"SQLite format 3\0".to_vec()),
    ];
    for (name, bytes) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let before = snapshot(dir.path());
        let err = store_error(Store::open(&path));
        assert!(matches!(err, StoreError::NotADatabase), "{name}: {err:?}");
        assert_eq!(snapshot(dir.path()), before, "{name}: the files changed");
    }
}

#[test]
fn another_applications_sqlite_file_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('x');")
            .unwrap();
    }
    let before = snapshot(dir.path());
    assert!(matches!(
        store_error(Store::open(&path)),
        StoreError::NotADatabase
    ));
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn an_empty_file_becomes_a_new_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    std::fs::write(&path, b"").unwrap();
    let store = Store::open(&path).unwrap();
    store.set_meta("k", "v").unwrap();
    drop(store);
    assert_eq!(pragma(&path, "user_version"), SCHEMA_VERSION);
}

#[test]
fn a_reopened_database_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    {
        let store = Store::open(&path).unwrap();
        put(
            &store,
            &[traveler("ana@example.org", "Ana", "Souza")],
            Some(1),
            2,
        );
        store.set_meta("checkpoint", "c1").unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.get_meta("checkpoint").unwrap().as_deref(), Some("c1"));
    assert_eq!(store.counts().unwrap().profiles, 1);
    assert_eq!(
        logins(&store.search("souza", 10).unwrap()),
        ["ana@example.org"]
    );
}

#[test]
fn a_damaged_database_reports_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    {
        let store = Store::open(&path).unwrap();
        let many: Vec<Traveler> = (0..200)
            .map(|i| traveler(&format!("user{i}@example.org"), "Ana", &format!("Name{i}")))
            .collect();
        put(&store, &many, Some(1), 1);
    }
    // Overwrite everything after the first page (the schema stays readable).
    let mut bytes = std::fs::read(&path).unwrap();
    let page = pragma(&path, "page_size") as usize;
    assert!(bytes.len() > 4 * page);
    for (i, b) in bytes[page..].iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    std::fs::write(&path, &bytes).unwrap();
    let err = match Store::open(&path) {
        Err(e) => e,
        Ok(store) => store
            .counts()
            .and_then(|_| store.search("ana", 10))
            .unwrap_err(),
    };
    assert!(
        matches!(
            err,
            Error::Store(StoreError::Corrupt | StoreError::NotADatabase)
        ),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Profiles: upsert and lookups

#[test]
fn profiles_are_found_by_login_sync_id_and_uuid() {
    let (_dir, store) = new_store();
    let mut ana = traveler("Ana.Souza@example.org", "Ana", "Souza");
    ana.uuid = Some("0f6a2b3c-aaaa-4bbb-8ccc-000000000001".into());
    let mut bo = traveler("bo@example.org", "Bo", "Lind");
    bo.uuid = Some("0f6a2b3c-aaaa-4bbb-8ccc-000000000002".into());
    store
        .upsert_summaries(
            &[summary(
                "Ana.Souza@example.org",
                Some(1_000),
                ProfileStatus::Active,
            )],
            at(5),
        )
        .unwrap();
    put(&store, &[ana.clone(), bo.clone()], Some(1_000), 2_000);

    let by_login = store
        .get_by_login("ana.souza@EXAMPLE.org")
        .unwrap()
        .unwrap();
    assert_eq!(by_login.login, "Ana.Souza@example.org");
    // The sync id came from the stored summary.
    assert_eq!(
        by_login.sync_id.as_deref(),
        Some("SYNC-Ana.Souza@example.org")
    );
    assert_eq!(by_login.uuid, ana.uuid);
    assert_eq!(by_login.status, Some(ProfileStatus::Active));
    assert_eq!(by_login.server_modified, Some(at(1_000)));
    assert_eq!(by_login.fetched_at, at(2_000));
    assert_eq!(by_login.xml, ana.xml());
    assert_eq!(
        by_login
            .profile
            .general
            .as_ref()
            .unwrap()
            .last_name
            .as_deref(),
        Some("Souza")
    );

    let by_sync = store
        .get_by_sync_id("SYNC-Ana.Souza@example.org")
        .unwrap()
        .unwrap();
    assert_eq!(by_sync.login, "Ana.Souza@example.org");
    let by_uuid = store
        .get_by_uuid("0F6A2B3C-AAAA-4BBB-8CCC-000000000002")
        .unwrap()
        .unwrap();
    assert_eq!(by_uuid.login, "bo@example.org");

    assert!(store.get_by_login("nobody@example.org").unwrap().is_none());
    assert!(store.get_by_sync_id("nope").unwrap().is_none());
    assert!(store.get_by_uuid("nope").unwrap().is_none());
}

#[test]
fn the_document_is_kept_exactly_as_received() {
    let (_dir, store) = new_store();
    let t = traveler("ana@example.org", "Ana", "Souza");
    put(&store, std::slice::from_ref(&t), None, 1);
    let xml = store.get_xml("ana@example.org").unwrap().unwrap();
    assert_eq!(xml, t.xml());
    assert!(xml.contains("<FutureSection Kind=\"new\"><Item>1</Item></FutureSection>"));
    assert_eq!(store.get_xml("nobody").unwrap(), None);
}

#[test]
fn upserting_again_replaces_the_profile_and_its_search_row() {
    let (_dir, store) = new_store();
    let mut t = traveler("ana@example.org", "Ana", "Souza");
    put(&store, std::slice::from_ref(&t), Some(1), 1);
    t.last = Some("Pereira".into());
    t.emails = vec!["ana.pereira@example.org".into()];
    put(&store, std::slice::from_ref(&t), Some(2), 2);

    assert_eq!(store.counts().unwrap().profiles, 1);
    assert_eq!(store.get_xml("ana@example.org").unwrap().unwrap(), t.xml());
    assert!(store.search("souza", 10).unwrap().is_empty());
    assert_eq!(
        logins(&store.search("pereira", 10).unwrap()),
        ["ana@example.org"]
    );
}

#[test]
fn a_batch_is_one_transaction() {
    let (_dir, store) = new_store();
    let good = traveler("ana@example.org", "Ana", "Souza");
    let (p, x) = (good.profile(), good.xml());
    let batch = [
        NewProfile {
            login: &good.login,
            sync_id: None,
            status: None,
            server_modified: None,
            fetched_at: at(1),
            document: Document::Xml(&x),
            profile: &p,
        },
        NewProfile {
            login: "",
            sync_id: None,
            status: None,
            server_modified: None,
            fetched_at: at(1),
            document: Document::Xml(&x),
            profile: &p,
        },
    ];
    assert!(matches!(
        store.upsert_profiles(&batch),
        Err(Error::InvalidInput { .. })
    ));
    assert_eq!(store.counts().unwrap().profiles, 0);
}

// ---------------------------------------------------------------------------------------
// Summaries, staleness, lists, counts

#[test]
fn staleness_follows_summaries_and_profiles() {
    let (_dir, store) = new_store();
    use ProfileStatus::Active;
    let page = [
        summary("a@x.org", Some(1_000), Active),
        summary("b@x.org", Some(2_000), Active),
        summary("c@x.org", None, Active),
        ProfileSummary::default(),
    ];
    let r = store.upsert_summaries(&page, at(10_000)).unwrap();
    assert_eq!((r.inserted, r.skipped, r.stale), (3, 1, 3));
    assert_eq!(
        store.stale_logins(10).unwrap(),
        ["c@x.org", "a@x.org", "b@x.org"]
    );
    assert_eq!(store.stale_logins(1).unwrap(), ["c@x.org"]);

    // a: fetched with the summary's time; b: unknown time, fetched after the change;
    // c: the summary has no time, any profile is current.
    put(
        &store,
        &[traveler("a@x.org", "A", "A")],
        Some(1_000),
        20_000,
    );
    put(&store, &[traveler("b@x.org", "B", "B")], None, 3_000);
    put(&store, &[traveler("c@x.org", "C", "C")], None, 1);
    assert!(store.stale_logins(10).unwrap().is_empty());
    assert_eq!(store.counts().unwrap().stale, 0);

    // A newer summary makes a stale again; an identical repeat changes nothing.
    let r = store
        .upsert_summaries(
            &[
                summary("a@x.org", Some(1_500), Active),
                summary("b@x.org", Some(2_000), Active),
            ],
            at(30_000),
        )
        .unwrap();
    assert_eq!((r.changed, r.unchanged, r.stale), (1, 1, 1));
    assert_eq!(store.stale_logins(10).unwrap(), ["a@x.org"]);

    // b's profile was fetched (at 3 000) before a change at 4 000.
    store
        .upsert_summaries(&[summary("b@x.org", Some(4_000), Active)], at(40_000))
        .unwrap();
    assert_eq!(store.stale_logins(10).unwrap(), ["a@x.org", "b@x.org"]);

    // Fetching again clears it.
    put(
        &store,
        &[traveler("a@x.org", "A", "A")],
        Some(1_500),
        50_000,
    );
    assert_eq!(store.stale_logins(10).unwrap(), ["b@x.org"]);
    assert_eq!(store.counts().unwrap().stale, 1);
}

#[test]
fn summaries_are_listed_in_order_and_filtered() {
    let (_dir, store) = new_store();
    use ProfileStatus::{Active, Inactive};
    store
        .upsert_summaries(
            &[
                summary("d@x.org", Some(3_000), Active),
                summary("c@x.org", Some(2_000), Inactive),
                summary("b@x.org", Some(2_000), Active),
                summary("a@x.org", None, Active),
                summary(
                    "e@x.org",
                    Some(1_000),
                    ProfileStatus::Unrecognized("Suspended".into()),
                ),
            ],
            at(9),
        )
        .unwrap();
    let list = |f: SummaryFilter| -> Vec<String> {
        store
            .list_summaries(&f)
            .unwrap()
            .into_iter()
            .map(|s| s.login)
            .collect()
    };
    assert_eq!(
        list(SummaryFilter::default()),
        ["a@x.org", "e@x.org", "b@x.org", "c@x.org", "d@x.org"]
    );
    let active = SummaryFilter {
        status: Some(Active),
        ..SummaryFilter::default()
    };
    assert_eq!(list(active.clone()), ["a@x.org", "b@x.org", "d@x.org"]);
    let since = SummaryFilter {
        modified_since: Some(at(2_000)),
        ..SummaryFilter::default()
    };
    assert_eq!(list(since.clone()), ["b@x.org", "c@x.org", "d@x.org"]);
    let both = SummaryFilter {
        status: Some(Active),
        ..since.clone()
    };
    assert_eq!(list(both), ["b@x.org", "d@x.org"]);
    let page = SummaryFilter {
        limit: Some(2),
        offset: 1,
        ..SummaryFilter::default()
    };
    assert_eq!(list(page), ["e@x.org", "b@x.org"]);
    let odd = SummaryFilter {
        status: Some(ProfileStatus::Unrecognized("Suspended".into())),
        ..SummaryFilter::default()
    };
    assert_eq!(list(odd), ["e@x.org"]);

    let all = store.list_summaries(&SummaryFilter::default()).unwrap();
    let e = all.iter().find(|s| s.login == "e@x.org").unwrap();
    assert_eq!(e.sync_id.as_deref(), Some("SYNC-e@x.org"));
    assert_eq!(e.last_modified, Some(at(1_000)));
    assert_eq!(e.seen_at, at(9));
    assert!(e.stale);
}

#[test]
fn counts_mark_inactive_and_remove() {
    let (_dir, store) = new_store();
    use ProfileStatus::Active;
    store
        .upsert_summaries(
            &[
                summary("a@x.org", Some(1), Active),
                summary("b@x.org", Some(1), Active),
                summary("c@x.org", Some(1), Active),
            ],
            at(1),
        )
        .unwrap();
    put(
        &store,
        &[
            traveler("a@x.org", "Ana", "Souza"),
            traveler("b@x.org", "Bo", "Lind"),
        ],
        Some(1),
        2,
    );
    let c = store.counts().unwrap();
    assert_eq!(
        (c.profiles, c.summaries, c.active, c.inactive, c.stale),
        (2, 3, 2, 0, 1)
    );

    assert!(store.mark_inactive("A@x.org").unwrap());
    assert!(!store.mark_inactive("nobody@x.org").unwrap());
    let c = store.counts().unwrap();
    assert_eq!((c.active, c.inactive), (1, 1));
    let hit = &store.search("souza", 5).unwrap()[0];
    assert_eq!(hit.status, Some(ProfileStatus::Inactive));
    let s = store
        .list_summaries(&SummaryFilter {
            status: Some(ProfileStatus::Inactive),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].login, "a@x.org");
    // The stored status wins over the (older) document's.
    let a = store.get_by_login("a@x.org").unwrap().unwrap();
    assert_eq!(a.status, Some(ProfileStatus::Inactive));
    assert_eq!(a.profile.status, Some(ProfileStatus::Inactive));

    assert!(store.remove_profile("a@x.org").unwrap());
    assert!(!store.remove_profile("a@x.org").unwrap());
    assert!(store.search("souza", 5).unwrap().is_empty());
    assert_eq!(store.get_xml("a@x.org").unwrap(), None);
    let c = store.counts().unwrap();
    assert_eq!(
        (c.profiles, c.summaries, c.active, c.inactive, c.stale),
        (1, 2, 1, 0, 1)
    );
    // A summary without a profile can be removed too.
    assert!(store.remove_profile("c@x.org").unwrap());
    assert_eq!(store.counts().unwrap().stale, 0);
}

// ---------------------------------------------------------------------------------------
// Search

fn search_fixture() -> (TempDir, Store) {
    let (dir, store) = new_store();
    let mut list = vec![
        traveler("ana.souza@example.org", "Ana", "Souza"),
        traveler("ana.lima@example.org", "Ana", "Lima"),
        traveler("anabela.reis@example.org", "Anabela", "Reis"),
        traveler("k.muller@example.de", "Klaus", "Müller"),
        traveler("jose.garcia@example.es", "José", "García"),
        traveler("t.yamada@example.jp", "太郎", "山田"),
        traveler("ivan.petrov@example.ru", "Иван", "Петров"),
        traveler("g.pap@example.gr", "Γιώργος", "Παπαδόπουλος"),
        traveler("s.obrien@example.ie", "Siobhán", "O'Brien"),
        traveler("andrea.near@example.org", "Andrea", "Nearing"),
    ];
    // Someone whose e-mail, not name, contains "ana".
    let mut zed = traveler("zq@example.org", "Zed", "Quist");
    zed.emails = vec!["zq@example.org".into(), "ana.banana@home.example".into()];
    list.push(zed);
    let mut emp = traveler("e.x@example.org", "Eve", "Xu");
    emp.employee_id = Some("E12345".into());
    emp.preferred = Some("Evie".into());
    emp.middle = Some("Marguerite".into());
    list.push(emp);
    let mut full = traveler("h.sato@example.jp", "花子", "佐藤");
    full.preferred = Some("山田花子".into());
    list.push(full);
    put(&store, &list, Some(1), 1);
    (dir, store)
}

#[test]
fn search_folds_case_and_accents() {
    let (_dir, store) = search_fixture();
    for q in ["Muller", "muller", "MÜLLER", "müll", "mul"] {
        assert_eq!(
            logins(&store.search(q, 10).unwrap()),
            ["k.muller@example.de"],
            "{q}"
        );
    }
    for q in ["jose", "JOSÉ", "garcia", "garcía"] {
        assert_eq!(
            logins(&store.search(q, 10).unwrap()),
            ["jose.garcia@example.es"],
            "{q}"
        );
    }
    // Decomposed input (a letter followed by a combining accent).
    assert_eq!(
        logins(&store.search("Mu\u{308}ller", 10).unwrap()),
        ["k.muller@example.de"]
    );
    assert_eq!(
        logins(&store.search("siobhan", 10).unwrap()),
        ["s.obrien@example.ie"]
    );
}

#[test]
fn search_matches_prefixes_and_ands_words() {
    let (_dir, store) = search_fixture();
    let hits = store.search("ana", 10).unwrap();
    let found = logins(&hits);
    for login in [
        "ana.souza@example.org",
        "ana.lima@example.org",
        "anabela.reis@example.org",
        "zq@example.org",
    ] {
        assert!(found.contains(&login), "{login} not in {found:?}");
    }
    assert_eq!(
        logins(&store.search("ana sou", 10).unwrap()),
        ["ana.souza@example.org"]
    );
    assert_eq!(
        logins(&store.search("sou ana", 10).unwrap()),
        ["ana.souza@example.org"]
    );
    assert_eq!(
        logins(&store.search("  Ana   Lim ", 10).unwrap()),
        ["ana.lima@example.org"]
    );
    assert!(store.search("ana xyz", 10).unwrap().is_empty());
    // Middle and preferred names, employee IDs.
    assert_eq!(
        logins(&store.search("margu", 10).unwrap()),
        ["e.x@example.org"]
    );
    assert_eq!(
        logins(&store.search("evi", 10).unwrap()),
        ["e.x@example.org"]
    );
    assert_eq!(
        logins(&store.search("E123", 10).unwrap()),
        ["e.x@example.org"]
    );
    assert_eq!(
        logins(&store.search("e12345", 10).unwrap()),
        ["e.x@example.org"]
    );
    // Names with punctuation, both ways.
    for q in ["obrien", "o'brien", "O'Bri", "brien"] {
        assert_eq!(
            logins(&store.search(q, 10).unwrap()),
            ["s.obrien@example.ie"],
            "{q}"
        );
    }
}

#[test]
fn search_handles_non_latin_scripts() {
    let (_dir, store) = search_fixture();
    assert_eq!(
        logins(&store.search("山田", 10).unwrap())[0],
        "t.yamada@example.jp"
    );
    // A CJK run is one token: a prefix of it matches, the middle of it does not.
    let yamada = store.search("山田", 10).unwrap();
    assert!(logins(&yamada).contains(&"h.sato@example.jp"), "{yamada:?}");
    assert_eq!(
        logins(&store.search("太郎 山田", 10).unwrap()),
        ["t.yamada@example.jp"]
    );
    assert_eq!(
        logins(&store.search("佐藤", 10).unwrap()),
        ["h.sato@example.jp"]
    );
    for q in ["иван", "ИВА", "Петр", "петров"] {
        assert_eq!(
            logins(&store.search(q, 10).unwrap()),
            ["ivan.petrov@example.ru"],
            "{q}"
        );
    }
    for q in [
        "Γιώργος",
        "γιωργ",
        "ΓΙΩΡΓΟΣ",
        "ΠΑΠΑΔ",
        "παπαδοπουλος",
        "Παπαδόπουλος",
    ] {
        assert_eq!(
            logins(&store.search(q, 10).unwrap()),
            ["g.pap@example.gr"],
            "{q}"
        );
    }
}

#[test]
fn search_finds_logins_and_emails_by_their_parts() {
    let (_dir, store) = search_fixture();
    for q in [
        "ana.sou",
        "ana.souza",
        "ana.souza@",
        "ana.souza@example.org",
        "ana.souza@exa",
        "souza@example",
    ] {
        assert_eq!(
            logins(&store.search(q, 10).unwrap()),
            ["ana.souza@example.org"],
            "{q}"
        );
    }
    assert_eq!(
        logins(&store.search("banana", 10).unwrap()),
        ["zq@example.org"]
    );
    assert_eq!(
        logins(&store.search("ana@home", 10).unwrap()),
        ["zq@example.org"]
    );
    assert_eq!(logins(&store.search("zq", 10).unwrap()), ["zq@example.org"]);
    // A domain is only searched by a word with '@': "example" is nobody's name.
    assert!(store.search("example", 10).unwrap().is_empty());
    let jp = store.search("@example.jp", 10).unwrap();
    assert_eq!(jp.len(), 2, "{jp:?}");
}

#[test]
fn search_ranks_names_above_emails_and_whole_words_above_prefixes() {
    let (_dir, store) = search_fixture();
    let hits = store.search("ana", 10).unwrap();
    let found = logins(&hits);
    let pos = |l: &str| found.iter().position(|x| *x == l).unwrap();
    assert!(
        pos("ana.souza@example.org") < pos("anabela.reis@example.org"),
        "{hits:?}"
    );
    assert!(
        pos("ana.lima@example.org") < pos("anabela.reis@example.org"),
        "{hits:?}"
    );
    assert!(
        pos("anabela.reis@example.org") < pos("zq@example.org"),
        "{hits:?}"
    );
    assert!(
        hits.windows(2).all(|w| w[0].score >= w[1].score),
        "{hits:?}"
    );
    assert_eq!(
        hits[0]
            .display_name
            .as_deref()
            .map(|n| n.starts_with("Ana ")),
        Some(true)
    );
    assert_eq!(hits[0].status, Some(ProfileStatus::Active));
}

#[test]
fn search_ranks_the_word_being_typed_and_the_strongest_column_first() {
    let (_dir, store) = new_store();
    let mut middle = traveler("c.ana@x.org", "Clara", "Reis");
    middle.middle = Some("Ana".into());
    let mut preferred = traveler("p@x.org", "Pia", "Lund");
    preferred.preferred = Some("Ana".into());
    put(
        &store,
        &[
            traveler("mariana.souza@x.org", "Mariana", "Souza"),
            traveler("marisa.santos@x.org", "Marisa", "Santos"),
            traveler("maria.silva@x.org", "Maria", "Silva"),
            traveler("lima@x.org", "Rui", "Lima"),
            traveler("lisa@x.org", "Lisa", "Berg"),
            traveler("wei.li@x.org", "Wei", "Li"),
            middle,
            preferred,
            traveler("ana.reis@x.org", "Ana", "Reis"),
        ],
        Some(1),
        1,
    );
    let first = |q: &str| store.search(q, 10).unwrap()[0].login.clone();
    // "maria" is complete, "s" is being typed: Maria Silva before Mariana and Marisa.
    assert_eq!(first("maria s"), "maria.silva@x.org");
    assert_eq!(logins(&store.search("mari s", 10).unwrap()).len(), 3);
    // A whole-word match first: "Li" before "Lima" and "Lisa".
    assert_eq!(first("li"), "wei.li@x.org");
    // First name, then preferred, then middle name ("Mariana" does not start with "ana").
    assert_eq!(
        logins(&store.search("ana", 10).unwrap()),
        ["ana.reis@x.org", "p@x.org", "c.ana@x.org"]
    );
    // A login-like query ranks by where the words matched, in one tier.
    assert_eq!(first("maria.sil"), "maria.silva@x.org");
}

#[test]
fn search_input_is_never_syntax() {
    let (_dir, store) = search_fixture();
    let long = "ana ".repeat(5_000);
    let nasty = [
        "",
        " ",
        "\t\n",
        "\"",
        "\"\"",
        "*",
        "-",
        "+",
        "(",
        ")",
        "()",
        "^",
        ":",
        "{",
        "}",
        "'",
        "NEAR",
        "NEAR(",
        "NEAR(ana sou)",
        "NEAR/2",
        "AND",
        "OR",
        "NOT",
        "ana AND",
        "AND ana",
        "ana OR zed",
        "ana NOT souza",
        "-ana",
        "ana*",
        "*ana",
        "\"ana",
        "ana\"",
        "\"ana sou\"",
        "first_name:ana",
        "{first_name}: ana",
        "- first_name : ana",
        "ana + sou",
        "^ana",
        "ana\0sou",
        "\u{200b}",
        "💥",
        "ana 💥",
        "%",
        "_",
        "\\",
        "';--",
        "a' OR '1'='1",
        &long,
    ];
    for q in nasty {
        let result = store.search(q, 10);
        assert!(result.is_ok(), "{q:?}: {result:?}");
    }
    for q in ["", "   ", "\"", "*", "-", "()", "💥", "\u{200b}"] {
        assert!(store.search(q, 10).unwrap().is_empty(), "{q:?}");
    }
    // Operators are searched as words: "NEAR" is a prefix of "Nearing", "AND" of "Andrea".
    assert_eq!(
        logins(&store.search("NEAR", 10).unwrap()),
        ["andrea.near@example.org"]
    );
    assert_eq!(
        logins(&store.search("AND", 10).unwrap()),
        ["andrea.near@example.org"]
    );
    assert!(store.search("ana OR zed", 10).unwrap().is_empty());
    assert!(store.search("first_name:ana", 10).unwrap().is_empty());
    assert_eq!(
        logins(&store.search("\"ana sou\"", 10).unwrap()),
        ["ana.souza@example.org"]
    );
    assert_eq!(logins(&store.search("ana*", 10).unwrap()).len(), 4);
    // A very long query uses its first words only.
    assert_eq!(store.search(&long, 10).unwrap().len(), 4);
}

#[test]
fn the_search_index_can_be_rebuilt_from_the_documents() {
    let (_dir, store) = search_fixture();
    let before = store.search("ana", 20).unwrap();
    store
        .write(|tx| {
            tx.execute(
                "INSERT INTO profile_search (profile_search) VALUES ('delete-all')",
                [],
            )?;
            Ok(())
        })
        .unwrap();
    assert!(store.search("ana", 20).unwrap().is_empty());
    let (indexed, skipped) = store.rebuild_search_index().unwrap();
    assert_eq!(
        (indexed, skipped),
        (store.counts().unwrap().profiles as usize, 0)
    );
    assert_eq!(store.search("ana", 20).unwrap(), before);
    assert_eq!(
        logins(&store.search("müller", 5).unwrap()),
        ["k.muller@example.de"]
    );
}

#[test]
fn search_respects_the_limit() {
    let (_dir, store) = search_fixture();
    assert_eq!(store.search("ana", 2).unwrap().len(), 2);
    assert!(store.search("ana", 0).unwrap().is_empty());
    assert_eq!(
        store.search("ana", 2).unwrap(),
        store.search("ana", 10).unwrap()[..2]
    );
}

// ---------------------------------------------------------------------------------------
// Concurrency

#[test]
fn reads_do_not_wait_for_a_long_write() {
    let (_dir, store) = new_store();
    let store = Arc::new(store);
    store.set_meta("k", "old").unwrap();
    let started = Arc::new(Barrier::new(2));
    let writer = {
        let (store, started) = (store.clone(), started.clone());
        std::thread::spawn(move || {
            store
                .write(|tx| {
                    tx.execute("UPDATE meta SET value = 'new' WHERE key = 'k'", [])?;
                    started.wait();
                    std::thread::sleep(Duration::from_millis(1_500));
                    Ok(())
                })
                .unwrap();
        })
    };
    started.wait();
    let t = Instant::now();
    for _ in 0..20 {
        assert_eq!(store.get_meta("k").unwrap().as_deref(), Some("old"));
        store.counts().unwrap();
        store.search("x", 5).unwrap();
    }
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "reads took {:?}",
        t.elapsed()
    );
    writer.join().unwrap();
    assert_eq!(store.get_meta("k").unwrap().as_deref(), Some("new"));
}

#[test]
fn many_threads_read_while_one_writes() {
    let (_dir, store) = new_store();
    let store = Arc::new(store);
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let store = store.clone();
            std::thread::spawn(move || {
                for j in 0..50 {
                    if i == 0 {
                        let t = traveler(&format!("u{j}@x.org"), "Ana", &format!("N{j}"));
                        put(&store, &[t], Some(1), 1);
                    } else {
                        store.search("ana", 10).unwrap();
                        store.counts().unwrap();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(store.counts().unwrap().profiles, 50);
}

#[test]
fn a_write_lock_held_elsewhere_gives_busy_after_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    let options = StoreOptions {
        busy_timeout: Duration::from_millis(200),
        ..StoreOptions::default()
    };
    let store = Store::open_with(&path, &options).unwrap();
    store.set_meta("k", "v").unwrap();

    let other = Connection::open(&path).unwrap();
    other
        .execute_batch("BEGIN EXCLUSIVE; UPDATE meta SET value = 'other';")
        .unwrap();
    let t = Instant::now();
    let err = store.set_meta("k", "mine").unwrap_err();
    assert!(matches!(err, Error::Store(StoreError::Busy)), "{err:?}");
    assert!(
        t.elapsed() >= Duration::from_millis(150),
        "{:?}",
        t.elapsed()
    );
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(!err.to_string().contains("mine"));
    // Reads go on (WAL).
    assert_eq!(store.get_meta("k").unwrap().as_deref(), Some("v"));
    other.execute_batch("COMMIT").unwrap();
    store.set_meta("k", "mine").unwrap();
    assert_eq!(store.get_meta("k").unwrap().as_deref(), Some("mine"));
}

#[test]
fn an_exclusively_locked_file_gives_busy_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    drop(Store::open(&path).unwrap());
    let other = Connection::open(&path).unwrap();
    other
        .execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;")
        .unwrap();
    let options = StoreOptions {
        busy_timeout: Duration::from_millis(100),
        ..StoreOptions::default()
    };
    let err = store_error(Store::open_with(&path, &options));
    assert!(matches!(err, StoreError::Busy), "{err:?}");
    drop(other);
    Store::open_with(&path, &options).unwrap();
}

// ---------------------------------------------------------------------------------------
// Speed (run by hand: cargo test --release --test store -- --ignored --nocapture)

/// A small deterministic generator (xorshift64*), so every run builds the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// An index into a list of `n`, skewed towards the front like real name frequencies.
    fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((n as f64).powf(u) - 1.0) as usize % n
    }
}

const FIRST: &[&str] = &[
    "Maria",
    "José",
    "Ana",
    "John",
    "Mohammed",
    "Wei",
    "Anna",
    "David",
    "Michael",
    "Sarah",
    "Mark",
    "Martin",
    "Marta",
    "Mario",
    "Marie",
    "Laura",
    "Luis",
    "Carlos",
    "Juan",
    "Peter",
    "Paul",
    "Sophie",
    "Emma",
    "Lucas",
    "Noah",
    "Olivia",
    "Hannah",
    "Thomas",
    "Stefan",
    "Jörg",
    "Björn",
    "Zoë",
    "Chloé",
    "Hélène",
    "François",
    "Søren",
    "Łukasz",
    "Ömer",
    "Ayşe",
    "Иван",
    "Ольга",
    "Γιώργος",
    "Ελένη",
    "太郎",
    "花子",
    "Yuki",
    "Hiroshi",
    "Mei",
    "Jin",
    "Priya",
    "Rahul",
    "Aisha",
    "Fatima",
    "Omar",
    "Ali",
    "Elena",
    "Sofia",
    "Isabella",
    "Mateo",
    "Diego",
    "Gabriel",
    "Rafael",
    "Beatriz",
    "Inês",
    "João",
    "Pedro",
    "Tiago",
    "Rita",
    "Marco",
    "Giulia",
    "Luca",
    "Francesca",
    "Andrea",
    "Nina",
    "Eva",
    "Klaus",
    "Jürgen",
    "Ingrid",
    "Astrid",
    "Lars",
    "Sven",
    "Karin",
    "Anders",
    "Mikko",
    "Aino",
    "Siobhán",
    "Seán",
    "Niamh",
    "Liam",
    "Aoife",
    "Chen",
    "Li",
    "Zhang",
    "Kenji",
    "Sakura",
    "Min-jun",
    "Seo-yeon",
    "Nguyen",
    "Linh",
    "Anh",
];

const LAST: &[&str] = &[
    "Silva",
    "Santos",
    "Souza",
    "Oliveira",
    "Pereira",
    "Lima",
    "Costa",
    "Ferreira",
    "Rodrigues",
    "Almeida",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "García",
    "Martínez",
    "López",
    "González",
    "Hernández",
    "Pérez",
    "Sánchez",
    "Ramírez",
    "Torres",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Lefèvre",
    "Moreau",
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Romano",
    "Colombo",
    "Ricci",
    "Marino",
    "Greco",
    "Nowak",
    "Kowalski",
    "Wiśniewski",
    "Wójcik",
    "Kowalczyk",
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Παπαδόπουλος",
    "Παπαδάκης",
    "Γεωργίου",
    "山田",
    "佐藤",
    "鈴木",
    "高橋",
    "田中",
    "Yamamoto",
    "Nakamura",
    "Kobayashi",
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Chen",
    "Yang",
    "Huang",
    "Kim",
    "Lee",
    "Park",
    "Choi",
    "Nguyen",
    "Tran",
    "Le",
    "Pham",
    "Singh",
    "Kumar",
    "Sharma",
    "Patel",
    "Khan",
    "Ahmed",
    "Ali",
    "Hassan",
    "Hussein",
    "O'Brien",
    "O'Connor",
    "Murphy",
    "Kelly",
    "Walsh",
    "Byrne",
    "Ryan",
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsen",
    "Hansen",
    "Nielsen",
    "Jensen",
    "Virtanen",
    "Korhonen",
    "Mäkinen",
    "Nieminen",
    "Yılmaz",
    "Kaya",
    "Demir",
    "Şahin",
    "Çelik",
    "de Jong",
    "Jansen",
    "de Vries",
    "van den Berg",
    "van Dijk",
    "Bakker",
    "Visser",
    "Smit",
];

fn ascii_local(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn synthetic(i: usize, rng: &mut Rng) -> Traveler {
    let first = FIRST[rng.zipf(FIRST.len())];
    let last = LAST[rng.zipf(LAST.len())];
    let (f, l) = (ascii_local(first), ascii_local(last));
    let company = rng.next() % 40;
    let login = format!(
        "{}.{}{}@company{company}.example",
        if f.is_empty() { "u" } else { &f },
        l,
        i
    );
    let mut t = traveler(&login, first, last);
    t.employee_id = Some(format!("E{:06}", i));
    t.uuid = Some(format!(
        "{:08x}-0000-4000-8000-{:012x}",
        rng.next() as u32,
        i
    ));
    if rng.next() % 4 == 0 {
        t.middle = Some(FIRST[rng.zipf(FIRST.len())].into());
    }
    if rng.next() % 10 == 0 {
        t.preferred = Some(FIRST[rng.zipf(FIRST.len())].into());
    }
    if rng.next() % 3 == 0 {
        t.emails.push(format!(
            "{f}{}@home{}.example",
            rng.next() % 1000,
            rng.next() % 20
        ));
    }
    if rng.next() % 20 == 0 {
        t.status = Some(ProfileStatus::Inactive);
    }
    t
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[test]
#[ignore = "builds 100,000 profiles; run by hand with --release"]
fn search_speed_at_100k_profiles() {
    let n: usize = std::env::var("PROFILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("cache.db")).unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let padding = format!("<!-- {} -->\n", "x".repeat(3_000));
    let t = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1_000) {
        let travelers: Vec<Traveler> = chunk.iter().map(|&i| synthetic(i, &mut rng)).collect();
        let docs: Vec<(Profile, String)> = travelers
            .iter()
            .map(|t| (t.profile(), format!("{}{padding}", t.xml())))
            .collect();
        let batch: Vec<NewProfile<'_>> = travelers
            .iter()
            .zip(&docs)
            .map(|(t, (profile, xml))| NewProfile {
                login: &t.login,
                sync_id: None,
                status: t.status.as_ref(),
                server_modified: Some(at(1)),
                fetched_at: at(2),
                document: Document::Xml(xml),
                profile,
            })
            .collect();
        store.upsert_profiles(&batch).unwrap();
    }
    let load = t.elapsed();
    let size = std::fs::metadata(dir.path().join("cache.db"))
        .unwrap()
        .len()
        + std::fs::metadata(dir.path().join("cache.db-wal")).map_or(0, |m| m.len());
    println!(
        "loaded {n} profiles in {load:?} ({:.0}/s), file {} MiB",
        n as f64 / load.as_secs_f64(),
        size >> 20
    );

    let groups: &[(&str, &[&str])] = &[
        ("1 letter", &["m", "s", "a", "k"]),
        ("2 letters", &["ma", "an", "jo", "sc", "li", "mü", "山田"]),
        (
            "3 letters",
            &["mar", "ana", "jos", "sil", "mul", "sch", "ива", "γιω"],
        ),
        (
            "4-5 letters",
            &[
                "mari", "souza", "mull", "garc", "schmi", "o'br", "kowal", "папа",
            ],
        ),
        (
            "two words",
            &["ana sou", "maria s", "jo mi", "m s", "mar sil", "li wang"],
        ),
        (
            "ids/emails",
            &[
                "e0012",
                "e04567",
                "maria.silva",
                "ana.souza1",
                "@company3",
                "mari@home",
            ],
        ),
        ("no match", &["zzzz", "qqq xx"]),
    ];
    let verbose = std::env::var("VERBOSE").is_ok();
    println!(
        "{:<12} {:>8} {:>8} {:>8} {:>8}  hits",
        "query", "p50", "p99", "max", "mean"
    );
    let mut all = Vec::new();
    for (name, queries) in groups {
        let mut times = Vec::new();
        let mut hits = 0;
        for q in *queries {
            let mut mine = Vec::new();
            for _ in 0..50 {
                let t = Instant::now();
                hits = store.search(q, 20).unwrap().len().max(hits);
                mine.push(t.elapsed());
            }
            mine.sort();
            if verbose {
                println!(
                    "  {q:<14} p50 {:>8.2?} max {:>8.2?}",
                    percentile(&mine, 0.5),
                    mine[mine.len() - 1]
                );
            }
            times.extend(mine);
        }
        times.sort();
        let mean = times.iter().sum::<Duration>() / times.len() as u32;
        println!(
            "{name:<12} {:>8.2?} {:>8.2?} {:>8.2?} {:>8.2?}  ≤{hits}",
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            times[times.len() - 1],
            mean
        );
        if *name != "1 letter" {
            all.extend(times);
        }
    }
    all.sort();
    println!(
        "2+ letters overall: p50 {:.2?}, p99 {:.2?}",
        percentile(&all, 0.5),
        percentile(&all, 0.99)
    );
    for q in ["ma", "mar", "a", "maria s"] {
        let t = Instant::now();
        let count = store
            .read(|c| {
                let q = format!("{{first_name middle_name last_name preferred_name employee_id login emails}} : \"{q}\" *");
                Ok(c.query_row("SELECT count(*) FROM profile_search WHERE profile_search MATCH ?1", [q], |r| r.get::<_, i64>(0))?)
            })
            .unwrap_or(-1);
        println!("{q:?} matches {count} rows (count in {:.2?})", t.elapsed());
    }
    let fts: i64 = store
        .read(|c| {
            Ok(c.query_row(
                "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'profile_search%'",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    println!("search index: {} MiB", fts >> 20);
    let t = Instant::now();
    let c = store.counts().unwrap();
    println!("counts {:?} in {:.2?}", c, t.elapsed());
    let t = Instant::now();
    store
        .get_by_login("maria.silva17@company1.example")
        .unwrap();
    println!("get_by_login in {:.2?}", t.elapsed());
}
