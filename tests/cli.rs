//! The real `profile-cache` binary against a sandbox started in this test process: every
//! command's happy path, the `--json` shapes, the exit code of each error class, and the
//! demo leaving a database that `status` and `show` read.

use profile_cache::sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_profile-cache");
const TOKEN: &str = "cli-test-token";

/// A sandbox serving on its own runtime's threads while the test runs the binary.
struct Server {
    sb: Sandbox,
    _rt: tokio::runtime::Runtime,
}

impl Server {
    fn start(profiles: u64) -> Server {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let sb = rt
            .block_on(Sandbox::start(
                SandboxConfig::new(profiles, 42).with_static_token(TOKEN),
            ))
            .unwrap();
        Server { sb, _rt: rt }
    }

    fn url(&self) -> &str {
        self.sb.base_url()
    }
}

fn cli(db: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("PROFILE_CACHE_TOKEN")
        .env_remove("PROFILE_CACHE_BASE_URL")
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {stdout}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&ok(out)).expect("stdout is JSON")
}

/// Asserts the exit code and that stderr is one short `error:` line without a debug dump.
fn fails(out: &Output, code: i32) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("{ "),
        "{stderr}"
    );
    stderr
}

fn synced(server: &Server) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    let report = json(&cli(
        &db,
        &[
            "--json",
            "sync",
            "--base-url",
            server.url(),
            "--token",
            TOKEN,
        ],
    ));
    assert_eq!(report["failed"], 0);
    (dir, db)
}

fn login(n: u64) -> String {
    profile_cache::sandbox::generate::login_for(n)
}

#[test]
fn demo_runs_against_the_embedded_sandbox_and_leaves_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let out = cli(&db, &["demo", "--profiles", "300"]);
    let stdout = ok(&out);
    assert!(stdout.contains("sync: 300 profiles"), "{stdout}");
    assert!(
        stdout.contains("incremental sync after 25 changes: 25 profiles"),
        "{stdout}"
    );
    assert!(stdout.contains("[pending update #1]"), "{stdout}");
    assert!(stdout.contains("update #1 is confirmed"), "{stdout}");
    assert!(stdout.contains("profile-cache --db"), "{stdout}");
    let store = profile_cache::store::Store::open(&db).unwrap();
    let counts = store.counts().unwrap();
    assert_eq!(counts.profiles, 300);
    assert_eq!(counts.stale, 0);
    let login = login(1);
    assert!(store.get_by_login(&login).unwrap().is_some());
    drop(store);

    let status = json(&cli(&db, &["status", "--json"]));
    assert_eq!(status["profiles"], 300);
    assert_eq!(status["updates"]["confirmed"], 1);
    assert_eq!(status["last_sync"]["result"], "ok");
    let shown = ok(&cli(&db, &["show", &login]));
    assert!(
        shown.contains(&login) && shown.contains("DEMO-4711"),
        "{shown}"
    );
}

#[test]
fn usage_errors_exit_with_2_and_say_why() {
    for args in [
        &["frobnicate"][..],
        &[][..],
        &["demo", "--profiles", "many"][..],
        &["export", "--format", "xls"][..],
        &["loyalty", "resolve", "1"][..],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with("error: ") && stderr.to_lowercase().contains("usage:"),
            "{stderr}"
        );
    }
    // Sync without credentials is a usage error too.
    let dir = tempfile::tempdir().unwrap();
    let out = cli(
        &dir.path().join("x.db"),
        &["sync", "--base-url", "http://127.0.0.1:9"],
    );
    fails(&out, 2);
}

#[test]
fn a_database_from_a_newer_version_is_a_storage_error_exit_5() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("new.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "PRAGMA application_id = 1349665633; PRAGMA user_version = 999; CREATE TABLE t(x);",
        )
        .unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    let out = cli(&db, &["demo", "--profiles", "10"]);
    fails(&out, 5);
    fails(&cli(&db, &["status"]), 5);
    fails(&cli(&db, &["show", "someone"]), 5);
    assert_eq!(std::fs::read(&db).unwrap(), before, "left untouched");
    // A missing database is a storage error for the reading commands (and not created).
    let missing = dir.path().join("missing.db");
    fails(&cli(&missing, &["status"]), 5);
    assert!(!missing.exists());
}

#[test]
fn sync_then_every_query_command_and_its_json_shape() {
    let server = Server::start(60);
    let (dir, db) = synced(&server);

    let status = json(&cli(&db, &["--json", "status"]));
    for key in [
        "profiles",
        "active",
        "inactive",
        "stale",
        "failed",
        "updates",
        "checkpoint",
        "last_sync",
    ] {
        assert!(status.get(key).is_some(), "status lacks {key}: {status}");
    }
    assert_eq!(status["profiles"], 60);
    assert!(status["updates"].is_object());
    assert_eq!(status["updates"]["pending"], 0);
    assert!(status["checkpoint"].is_string());
    assert_eq!(status["last_sync"]["result"], "ok");
    let human = ok(&cli(&db, &["status"]));
    assert!(human.contains("profiles:   60"), "{human}");

    let l = login(1);
    let profile = json(&cli(&db, &["show", &l, "--json"]));
    assert_eq!(profile["login_id"], l.as_str());
    assert!(profile["general"].is_object(), "{profile}");
    assert!(profile["general"]["last_name"].is_string(), "{profile}");
    let xml = ok(&cli(&db, &["show", &l, "--xml"]));
    assert!(
        xml.trim_start().starts_with('<') && xml.contains(&l),
        "{xml}"
    );
    let human = ok(&cli(&db, &["show", &l]));
    assert!(human.contains("login:") && human.contains(&l), "{human}");
    fails(&cli(&db, &["show", "nobody@nowhere.example"]), 6);

    let last = profile["general"]["last_name"].as_str().unwrap().to_owned();
    let hits = json(&cli(&db, &["search", &last, "--limit", "3", "--json"]));
    let hits = hits.as_array().expect("search prints an array");
    assert!(!hits.is_empty() && hits.len() <= 3);
    for key in ["login", "display_name", "status", "score"] {
        assert!(hits[0].get(key).is_some(), "{key}");
    }
    assert!(ok(&cli(&db, &["search", &last])).contains('@'));

    let all = json(&cli(&db, &["list", "--json"]));
    assert_eq!(all.as_array().unwrap().len(), 60);
    for key in ["login", "sync_id", "status", "last_modified", "stale"] {
        assert!(all[0].get(key).is_some(), "{key}");
    }
    let active = json(&cli(&db, &["list", "--status", "active", "--json"]));
    let inactive = json(&cli(&db, &["list", "--status", "inactive", "--json"]));
    assert_eq!(
        active.as_array().unwrap().len() + inactive.as_array().unwrap().len(),
        60
    );
    assert!(
        active
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "Active")
    );
    let future = json(&cli(
        &db,
        &["list", "--modified-since", "2999-01-01T00:00:00Z", "--json"],
    ));
    assert_eq!(future.as_array().unwrap().len(), 0);
    fails(&cli(&db, &["list", "--modified-since", "yesterday"]), 6);
    assert_eq!(ok(&cli(&db, &["list"])).lines().count(), 60);

    let jsonl = dir.path().join("out.jsonl");
    ok(&cli(
        &db,
        &[
            "export",
            "--format",
            "jsonl",
            "--out",
            jsonl.to_str().unwrap(),
        ],
    ));
    let text = std::fs::read_to_string(&jsonl).unwrap();
    assert_eq!(text.lines().count(), 60);
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert!(v["login_id"].is_string());
    }
    let csv = ok(&cli(&db, &["export", "--format", "csv"]));
    assert!(
        csv.starts_with("login,status,first_name,last_name"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 61);

    // An incremental sync, human output.
    let out = ok(&cli(
        &db,
        &["sync", "--base-url", server.url(), "--token", TOKEN],
    ));
    assert!(out.starts_with("synced: "), "{out}");
}

#[test]
fn sync_with_oauth_client_credentials_and_options() {
    let server = Server::start(30);
    let c = server.sb.credentials();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("oauth.db");
    let report = json(&cli(
        &db,
        &[
            "--json",
            "sync",
            "--base-url",
            server.url(),
            "--client-id",
            &c.client_id,
            "--client-secret",
            &c.client_secret,
            "--full",
            "--concurrency",
            "2",
            "--reconcile",
        ],
    ));
    assert_eq!(report["profiles_fetched"], 30);
    assert_eq!(report["failed"], 0);
    // Credentials from the environment.
    let out = Command::new(BIN)
        .args([
            "--db",
            db.to_str().unwrap(),
            "-q",
            "sync",
            "--base-url",
            server.url(),
        ])
        .env("PROFILE_CACHE_TOKEN", TOKEN)
        .output()
        .unwrap();
    ok(&out);
}

#[test]
fn error_classes_have_their_exit_codes() {
    let server = Server::start(10);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("e.db");
    // 3: the token is refused.
    let e = fails(
        &cli(&db, &["sync", "--base-url", server.url(), "--token", "bad"]),
        3,
    );
    assert!(!e.contains("bad"), "no token in messages: {e}");
    // 4: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("http://127.0.0.1:{port}");
    fails(
        &cli(&db, &["sync", "--base-url", &dead, "--token", TOKEN]),
        4,
    );
    // 6: a bad loyalty update (the database exists now).
    let e = fails(
        &cli(
            &db,
            &[
                "loyalty",
                "queue",
                &login(1),
                "--program",
                "Frequent Flyer",
                "--vendor-code",
                "TOOLONG",
                "--vendor-type",
                "air",
                "--account-no",
                "123",
            ],
        ),
        6,
    );
    assert!(e.contains("vendor_code") && !e.contains("TOOLONG"), "{e}");
    fails(&cli(&db, &["loyalty", "discard", "999"]), 6);
}

#[test]
fn loyalty_queue_list_flush_retry_discard_resolve() {
    let server = Server::start(20);
    let (_dir, db) = synced(&server);
    let l = login(2);
    let queued = json(&cli(
        &db,
        &[
            "--json",
            "loyalty",
            "queue",
            &l,
            "--program",
            "Frequent Flyer",
            "--vendor-code",
            "lh",
            "--vendor-type",
            "air",
            "--account-no",
            "CLI-1",
            "--status",
            "Gold",
        ],
    ));
    let id = queued["id"].as_i64().unwrap();
    assert_eq!(queued["state"], "pending");
    assert_eq!(queued["vendor_code"], "LH");

    let shown = ok(&cli(&db, &["show", &l]));
    assert!(
        shown.contains(&format!("[pending update #{id}]")),
        "{shown}"
    );

    let list = json(&cli(&db, &["loyalty", "list", "--json"]));
    let list = list.as_array().expect("an array");
    assert_eq!(list.len(), 1);
    for key in [
        "id",
        "login",
        "program",
        "vendor_code",
        "vendor_type",
        "state",
        "attempts",
    ] {
        assert!(list[0].get(key).is_some(), "{key}");
    }
    let status = json(&cli(&db, &["status", "--json"]));
    assert_eq!(status["updates"]["pending"], 1);

    let flushed = json(&cli(
        &db,
        &[
            "--json",
            "loyalty",
            "flush",
            "--base-url",
            server.url(),
            "--token",
            TOKEN,
        ],
    ));
    assert_eq!(flushed["sent"], 1);
    let list = json(&cli(&db, &["loyalty", "list", "--json"]));
    assert_eq!(list[0]["state"], "sent");

    // Retry wants a failed update; resolve a conflict: both refuse this one.
    fails(&cli(&db, &["loyalty", "retry", &id.to_string()]), 6);
    fails(
        &cli(&db, &["loyalty", "resolve", &id.to_string(), "--keep-mine"]),
        6,
    );
    let out = ok(&cli(&db, &["loyalty", "discard", &id.to_string()]));
    assert!(out.contains("discarded"), "{out}");
    assert_eq!(
        json(&cli(&db, &["loyalty", "list", "--json"])),
        Value::Array(vec![])
    );
}

#[test]
fn notifications_subscribe_postback_event() {
    let server = Server::start(10);
    let (dir, db) = synced(&server);
    let remote = ["--base-url", server.url(), "--token", TOKEN];
    for cmd in ["subscribe", "unsubscribe"] {
        let mut args = vec![cmd, "--scope", "company", "--type", "profile"];
        args.extend(remote);
        ok(&cli(&db, &args));
    }
    let l = login(3);
    let query = format!("type=profile&userid_type=login&userid_value={l}");
    let mut args = vec!["--json", "postback", "--query", &query];
    args.extend(remote);
    let o = json(&cli(&db, &args));
    assert_eq!(o["outcome"], "refreshed");
    fails(&cli(&db, &["postback", "--query", "type=nonsense"]), 6);

    let event = dir.path().join("event.json");
    std::fs::write(
        &event,
        serde_json::json!({
            "topic": "public.concur.user.travel.profile",
            "eventType": "TravelProfileDeleted",
            "data": { "loginId": l },
        })
        .to_string(),
    )
    .unwrap();
    let o = json(&cli(
        &db,
        &["--json", "event", "--file", event.to_str().unwrap()],
    ));
    assert_eq!(o["outcome"], "removed");
    assert_eq!(o["existed"], true);
    fails(&cli(&db, &["show", &l]), 6);
}

#[test]
fn completions_and_the_sandbox_command() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(BIN)
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(ok(&out).contains("profile-cache"));
    }

    let mut child = Command::new(BIN)
        .args([
            "sandbox",
            "--profiles",
            "5",
            "--seed",
            "7",
            "--latency-ms",
            "1",
        ])
        .args(["--fault", "profile:503@rate=0.01"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Keep reading its stdout open while it serves (it prints more lines).
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    let url = first.split(" at ").nth(1).unwrap_or("").trim().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");
    let dir = tempfile::tempdir().unwrap();
    let out = cli(
        &dir.path().join("s.db"),
        &[
            "--json",
            "sync",
            "--base-url",
            &url,
            "--token",
            "sandbox-static-token",
        ],
    );
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdout);
    assert_eq!(json(&out)["profiles_fetched"], 5);
}
