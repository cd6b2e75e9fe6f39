//! The real `profile-cache` binary against a sandbox started in this test process: every
//! command's happy path, the `--json` shapes, the exit code of each error class, and the
//! demo leaving a database that `status` and `show` read.

use profile_cache::sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;
#[cfg(unix)]
use {profile_cache::sandbox::Endpoint, std::time::Instant};

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
    // So is a --base-url that is no http(s) URL (not "offline").
    for url in ["nonsense", "ftp://example.com", "http://"] {
        let out = cli(
            &dir.path().join("x.db"),
            &["sync", "--base-url", url, "--token", TOKEN],
        );
        assert_eq!(out.status.code(), Some(2), "{url}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--base-url"));
    }
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
    let discarded = json(&cli(
        &db,
        &["--json", "loyalty", "discard", &id.to_string()],
    ));
    assert_update_object(&discarded);
    assert_eq!(discarded["id"], id);
    assert_eq!(discarded["state"], "discarded");
    assert_eq!(discarded["account_no"], "CLI-1");
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
    for (cmd, result) in [("subscribe", "subscribed"), ("unsubscribe", "unsubscribed")] {
        let mut args = vec!["--json", cmd, "--scope", "company", "--type", "profile"];
        args.extend(remote);
        let o = json(&cli(&db, &args));
        assert_eq!(
            o,
            serde_json::json!({"result": result, "scope": "company", "type": "profile"})
        );
        ok(&cli(&db, &args[1..]));
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

/// The fields of a loyalty update object (`loyalty list` items; `loyalty queue`, `retry`,
/// `resolve` and `discard` output).
fn assert_update_object(v: &Value) {
    for key in [
        "id",
        "login",
        "program",
        "vendor_code",
        "vendor_type",
        "account_no",
        "status",
        "state",
        "attempts",
        "queued_at",
        "updated_at",
        "sent_at",
        "next_attempt_at",
        "last_error",
    ] {
        assert!(v.get(key).is_some(), "update object lacks {key}: {v}");
    }
}

fn remote<'a>(server: &'a Server, args: &[&'a str]) -> Vec<&'a str> {
    let mut v = args.to_vec();
    v.extend(["--base-url", server.url(), "--token", TOKEN]);
    v
}

fn queue<'a>(login: &'a str, code: &'a str, account: &'a str) -> Vec<&'a str> {
    vec![
        "--json",
        "loyalty",
        "queue",
        login,
        "--program",
        "Frequent Flyer",
        "--vendor-code",
        code,
        "--vendor-type",
        "air",
        "--account-no",
        account,
    ]
}

/// Waits until the wall clock is in the next whole second (the feed's times are whole
/// seconds: a change in the second a sync last saw would not show as one).
fn next_second() {
    let ms = chrono::Utc::now().timestamp_subsec_millis();
    std::thread::sleep(Duration::from_millis(u64::from(1_050 - ms.min(1_000))));
}

#[test]
fn partial_success_is_1_and_each_failure_has_its_class() {
    let server = Server::start(20);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    // 1: one traveler's document is unreadable; the others are stored.
    let bad = login(5);
    server
        .sb
        .admin()
        .add_fault_spec(&format!("profile:malformed,login={bad}"))
        .unwrap();
    let out = cli(&db, &remote(&server, &["--json", "sync"]));
    let e = fails(&out, 1);
    assert!(e.contains("1 profiles could not be fetched"), "{e}");
    assert!(!e.contains(&bad), "no login in messages: {e}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("the report still");
    assert_eq!(report["failed"], 1);
    assert_eq!(report["profiles_fetched"], 19);
    let status = json(&cli(&db, &["--json", "status"]));
    assert_eq!(status["failed"], 1);
    assert_eq!(status["profiles"], 19);

    // 4: an unreadable summary page ends the sync (the server sent something unreadable).
    server.sb.admin().clear_faults();
    server
        .sb
        .admin()
        .add_fault_spec("summary:malformed")
        .unwrap();
    let e = fails(&cli(&db, &remote(&server, &["sync", "--full"])), 4);
    assert!(e.contains("malformed"), "{e}");
    let status = json(&cli(&db, &["--json", "status"]));
    assert_eq!(status["last_sync"]["result"], "failed");
    assert!(status["last_sync"]["error"].is_string(), "{status}");
    server.sb.admin().clear_faults();
    ok(&cli(&db, &remote(&server, &["-q", "sync"])));
    let status = json(&cli(&db, &["--json", "status"]));
    assert_eq!(status["last_sync"]["result"], "ok");
    assert_eq!(status["last_sync"]["error"], Value::Null);

    // 6: a notification naming a traveler the server does not know (HTTP 400 Invalid User).
    server.sb.admin().delete(&[&login(6)]).unwrap();
    let query = format!("type=profile&userid_type=login&userid_value={}", login(6));
    let e = fails(
        &cli(&db, &remote(&server, &["postback", "--query", &query])),
        6,
    );
    assert!(e.contains("HTTP 400") && !e.contains(&login(6)), "{e}");
    let event = dir.path().join("updated.json");
    std::fs::write(
        &event,
        serde_json::json!({
            "topic": "public.concur.user.travel.profile",
            "eventType": "TravelProfileUpdated",
            "data": { "loginId": "nobody@nowhere.example" },
        })
        .to_string(),
    )
    .unwrap();
    fails(
        &cli(
            &db,
            &remote(&server, &["event", "--file", event.to_str().unwrap()]),
        ),
        6,
    );

    // 5: a document read back from the database that cannot be parsed.
    let l = login(1);
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let blob = profile_cache::store::encode_document("<ProfileResponse><General>");
        let n = conn
            .execute(
                "UPDATE profiles SET xml = ?1 WHERE login = ?2",
                rusqlite::params![blob, l],
            )
            .unwrap();
        assert_eq!(n, 1);
    }
    let e = fails(&cli(&db, &["show", &l]), 5);
    assert!(e.contains("sync --full"), "{e}");
}

#[test]
fn loyalty_retry_a_refused_update_and_resolve_conflicts_both_ways() {
    let server = Server::start(20);
    let (_a_dir, a) = synced(&server);
    let (_b_dir, b) = synced(&server);

    // A refused update: flush exits 1; retry queues it again; the next flush sends it.
    server
        .sb
        .admin()
        .add_fault_spec("loyalty:400@next=1")
        .unwrap();
    let l2 = login(2);
    let id = json(&cli(&a, &queue(&l2, "LH", "R-1")))["id"]
        .as_i64()
        .unwrap();
    let out = cli(&a, &remote(&server, &["--json", "loyalty", "flush"]));
    fails(&out, 1);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (report["sent"].as_u64(), report["failed"].as_u64()),
        (Some(0), Some(1))
    );
    let list = json(&cli(&a, &["--json", "loyalty", "list"]));
    assert_eq!(list[0]["state"], "failed");
    assert!(list[0]["last_error"].as_str().unwrap().contains("400"));
    let retried = json(&cli(&a, &["--json", "loyalty", "retry", &id.to_string()]));
    assert_update_object(&retried);
    assert_eq!(
        (retried["id"].as_i64(), &retried["state"]),
        (Some(id), &Value::from("pending"))
    );
    let report = json(&cli(&a, &remote(&server, &["--json", "loyalty", "flush"])));
    assert_eq!(report["sent"], 1);

    // Conflicts: A queues for two travelers; another agent (B) changes both programs.
    let (l7, l8) = (login(7), login(8));
    let mine7 = json(&cli(&a, &queue(&l7, "KL", "mine-7")))["id"]
        .as_i64()
        .unwrap();
    let mine8 = json(&cli(&a, &queue(&l8, "KL", "mine-8")))["id"]
        .as_i64()
        .unwrap();
    json(&cli(&b, &queue(&l7, "KL", "theirs-7")));
    json(&cli(&b, &queue(&l8, "KL", "theirs-8")));
    next_second();
    assert_eq!(
        json(&cli(&b, &remote(&server, &["--json", "loyalty", "flush"])))["sent"],
        2
    );
    ok(&cli(&a, &remote(&server, &["-q", "sync"])));
    let list = json(&cli(&a, &["--json", "loyalty", "list"]));
    let state = |id: i64| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == id)
            .map(|u| u["state"].clone())
    };
    assert_eq!(state(mine7), Some("conflict".into()), "{list}");
    assert_eq!(state(mine8), Some("conflict".into()), "{list}");
    let status = json(&cli(&a, &["--json", "status"]));
    assert_eq!(status["updates"]["conflict"], 2);
    // A flush sends no conflict and says so with 1.
    let out = cli(&a, &remote(&server, &["--json", "loyalty", "flush"]));
    fails(&out, 1);

    // Keep mine: queued again, sent by the next flush.
    let kept = json(&cli(
        &a,
        &[
            "--json",
            "loyalty",
            "resolve",
            &mine7.to_string(),
            "--keep-mine",
        ],
    ));
    assert_update_object(&kept);
    assert_eq!(kept["id"], mine7);
    assert_eq!(kept["state"], "pending");
    assert_eq!(kept["account_no"], "mine-7");
    // Take theirs: the update leaves the outbox; the object says so.
    let dropped = json(&cli(
        &a,
        &[
            "--json",
            "loyalty",
            "resolve",
            &mine8.to_string(),
            "--take-theirs",
        ],
    ));
    assert_update_object(&dropped);
    assert_eq!(dropped["id"], mine8);
    assert_eq!(dropped["state"], "dropped");
    assert_eq!(dropped["login"], l8.as_str());
    let report = json(&cli(&a, &remote(&server, &["--json", "loyalty", "flush"])));
    assert_eq!(
        (report["sent"].as_u64(), report["conflicts"].as_u64()),
        (Some(1), Some(0))
    );
    let ids: Vec<i64> = json(&cli(&a, &["--json", "loyalty", "list"]))
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    assert!(ids.contains(&mine7) && !ids.contains(&mine8), "{ids:?}");
    let account = |l: &str| {
        server
            .sb
            .admin()
            .profile(l)
            .unwrap()
            .profile
            .air
            .unwrap()
            .memberships
            .into_iter()
            .find(|m| m.vendor_code.as_deref() == Some("KL"))
            .and_then(|m| m.account_no)
    };
    assert_eq!(account(&l7).as_deref(), Some("mine-7"));
    assert_eq!(account(&l8).as_deref(), Some("theirs-8"));
}

#[test]
fn an_itinerary_postback_body_and_a_sync_filtered_by_travel_config() {
    let server = Server::start(60);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    // Only the travelers of one travel configuration.
    let configs = profile_cache::sandbox::generate::travel_configs();
    let report = json(&cli(
        &db,
        &remote(&server, &["--json", "sync", "--travel-configs", configs[0]]),
    ));
    let fetched = report["profiles_fetched"].as_u64().unwrap();
    assert!(fetched > 0 && fetched < 60, "{report}");
    assert_eq!(json(&cli(&db, &["--json", "status"]))["profiles"], fetched);
    // Two of them (comma-separated) bring in more; a filtered sync cannot reconcile.
    let both = format!("{},{}", configs[0], configs[1]);
    let report = json(&cli(
        &db,
        &remote(&server, &["--json", "sync", "--travel-configs", &both]),
    ));
    assert!(report["profiles_fetched"].as_u64().unwrap() > 0, "{report}");
    let e = fails(
        &cli(
            &db,
            &remote(
                &server,
                &["sync", "--travel-configs", configs[0], "--reconcile"],
            ),
        ),
        6,
    );
    assert!(e.contains("travel_configs"), "{e}");

    // An itinerary notification: its body is the trip's Notification document.
    let l = login(4);
    let n = server
        .sb
        .admin()
        .add_itinerary_event(
            &l,
            profile_cache::model::NotificationEventType::Cancel,
            Some("Kq3xT9"),
        )
        .unwrap();
    let body = dir.path().join("notification.xml");
    std::fs::write(&body, profile_cache::xml::write_notification(&n)).unwrap();
    let query = format!("type=itinerary&userid_type=login&userid_value={l}");
    let args = [
        "--json",
        "postback",
        "--query",
        &query,
        "--body",
        body.to_str().unwrap(),
    ];
    let o = json(&cli(&db, &args));
    assert_eq!(o["outcome"], "itinerary");
    assert_eq!(o["new"], true);
    assert_eq!(o["trip_id"], "Kq3xT9");
    assert_eq!(o["event_type"], "CANCEL");
    assert_eq!(o["login"], l.as_str());
    assert_eq!(json(&cli(&db, &args))["new"], false, "a repeat is harmless");
    let human = ok(&cli(&db, &args[1..]));
    assert!(human.contains("itinerary event recorded"), "{human}");
    // A body that is no Notification is invalid input.
    std::fs::write(&body, "<html>").unwrap();
    fails(&cli(&db, &args[1..]), 6);
}

/// A running `profile-cache` whose stdout lines arrive on a channel.
#[cfg(unix)]
struct Running {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    seen: String,
}

#[cfg(unix)]
impl Running {
    fn start(db: &Path, args: &[&str]) -> Running {
        let mut child = Command::new(BIN)
            .arg("--db")
            .arg(db)
            .args(args)
            .env_remove("PROFILE_CACHE_TOKEN")
            .env_remove("PROFILE_CACHE_BASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Running {
            child,
            lines,
            seen: String::new(),
        }
    }

    /// Waits for a stdout line containing `text`.
    fn wait_for(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push_str(&line);
                    self.seen.push('\n');
                    if line.contains(text) {
                        return;
                    }
                }
                Err(_) => panic!("no line with {text:?}; stdout so far:\n{}", self.seen),
            }
        }
    }

    /// Sends SIGINT (what Ctrl-C sends), waits for the exit; returns how long it took,
    /// all of stdout and stderr. Asserts exit code 130 and one `error:` line.
    fn interrupt(mut self) -> (Duration, String, String) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let sent = Instant::now();
        let code = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s.code();
            }
            if sent.elapsed() > Duration::from_secs(20) {
                let _ = self.child.kill();
                panic!("still running 20 s after SIGINT; stdout:\n{}", self.seen);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let took = sent.elapsed();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push_str(&line);
            self.seen.push('\n');
        }
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut self.child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert_eq!(code, Some(130), "stdout:\n{}\nstderr:\n{stderr}", self.seen);
        assert!(
            stderr.starts_with("error: interrupted by Ctrl-C"),
            "{stderr}"
        );
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        (took, self.seen, stderr)
    }
}

/// Waits until the sandbox has answered `n` requests of `endpoint`.
#[cfg(unix)]
fn wait_requests(server: &Server, endpoint: Endpoint, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.sb.admin().request_counts().get(endpoint) < n {
        assert!(
            Instant::now() < deadline,
            "fewer than {n} {endpoint:?} requests"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until the database holds some profiles (a sync is under way).
#[cfg(unix)]
fn wait_profiles(db: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n =
            rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .and_then(|c| {
                    c.query_row("SELECT count(*) FROM profiles", [], |r| r.get::<_, i64>(0))
                })
                .unwrap_or(0);
        if n > 0 {
            return;
        }
        assert!(Instant::now() < deadline, "no profile stored");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_the_demo_at_any_point_with_130() {
    let dir = tempfile::tempdir().unwrap();
    let promptly = Duration::from_secs(3);
    // (name, demo options, the stdout line after which to press Ctrl-C, whether to wait
    // for profiles in the database too, what must then never be printed)
    let points: [(&str, &[&str], &str, bool, &str); 3] = [
        // During the first sync (slow responses keep it going).
        (
            "first-sync",
            &["--profiles", "300", "--latency-ms", "40"],
            "sandbox: 300 travelers",
            true,
            "sync: 300 profiles",
        ),
        // During the pause before the incremental sync.
        (
            "pause",
            &["--profiles", "60"],
            "search \"mar\"",
            false,
            "incremental sync",
        ),
        // In the outbox part, flushing or syncing until the update is confirmed.
        (
            "outbox",
            &["--profiles", "40", "--latency-ms", "300"],
            "loyalty: the sandbox is now unreachable",
            false,
            "  after ",
        ),
    ];
    let runs: Vec<_> = points
        .iter()
        .map(|&(name, args, at, rows, never)| {
            let db = dir.path().join(format!("{name}.db"));
            let mut run = Running::start(&db, &[&["demo"][..], args].concat());
            std::thread::spawn(move || {
                run.wait_for(at);
                if rows {
                    wait_profiles(&db);
                } else {
                    std::thread::sleep(Duration::from_millis(100));
                }
                let (took, stdout, _) = run.interrupt();
                assert!(took < promptly, "{name}: exit {took:?} after SIGINT");
                assert!(!stdout.contains(never), "{name}: went on:\n{stdout}");
                db
            })
        })
        .collect();
    let dbs: Vec<PathBuf> = runs.into_iter().map(|r| r.join().unwrap()).collect();
    // The interrupted first sync is recorded as such, not as a failure.
    let status = json(&cli(&dbs[0], &["--json", "status"]));
    assert_eq!(status["last_sync"]["result"], "interrupted", "{status}");
    assert_eq!(status["last_sync"]["error"], Value::Null, "{status}");
    assert!(status["profiles"].as_u64() < Some(300), "{status}");
    assert!(ok(&cli(&dbs[0], &["status"])).contains("interrupted"));
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_sync_flush_and_sandbox_with_130_and_the_sync_resumes() {
    let server = Server::start(300);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let promptly = Duration::from_secs(3);

    // Sync: stopped while fetching; `status` says interrupted; the next sync finishes.
    server
        .sb
        .admin()
        .add_fault_spec("profile:latency=40")
        .unwrap();
    let run = Running::start(&db, &remote(&server, &["sync"]));
    wait_requests(&server, Endpoint::ProfileGet, 16);
    let (took, stdout, _) = run.interrupt();
    assert!(took < promptly, "sync: exit {took:?} after SIGINT");
    assert!(!stdout.contains("synced:"), "{stdout}");
    let status = json(&cli(&db, &["--json", "status"]));
    assert_eq!(status["last_sync"]["result"], "interrupted", "{status}");
    assert!(status["profiles"].as_u64() < Some(300), "{status}");
    server.sb.admin().clear_faults();
    ok(&cli(&db, &remote(&server, &["-q", "sync"])));
    let status = json(&cli(&db, &["--json", "status"]));
    assert_eq!(status["last_sync"]["result"], "ok");
    assert_eq!(status["profiles"], 300);

    // Flush: stopped while the server takes its time; the update stays queued.
    let id = json(&cli(&db, &queue(&login(1), "LH", "C-1")))["id"]
        .as_i64()
        .unwrap();
    server.sb.admin().reset_request_counts();
    server
        .sb
        .admin()
        .add_fault_spec("loyalty:latency=20000")
        .unwrap();
    let run = Running::start(&db, &remote(&server, &["loyalty", "flush"]));
    wait_requests(&server, Endpoint::Loyalty, 1);
    let (took, _, _) = run.interrupt();
    assert!(took < promptly, "flush: exit {took:?} after SIGINT");
    let list = json(&cli(&db, &["--json", "loyalty", "list"]));
    assert_eq!(list[0]["id"], id);
    assert_eq!(list[0]["state"], "pending", "{list}");
    server.sb.admin().clear_faults();
    let report = json(&cli(&db, &remote(&server, &["--json", "loyalty", "flush"])));
    assert_eq!(report["sent"], 1);

    // The sandbox command serves until Ctrl-C.
    let mut run = Running::start(&db, &["sandbox", "--profiles", "5"]);
    run.wait_for("serving until Ctrl-C");
    let (took, _, stderr) = run.interrupt();
    assert!(took < promptly, "sandbox: exit {took:?} after SIGINT");
    assert!(stderr.contains("sandbox stopped"), "{stderr}");
}
