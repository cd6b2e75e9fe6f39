//! The real `profile-cache` binary: the demo finishes and leaves a database the library
//! reads; usage errors exit with 2.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_profile-cache");

#[test]
fn demo_runs_against_the_embedded_sandbox_and_leaves_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let out = Command::new(BIN)
        .arg("--db")
        .arg(&db)
        .args(["demo", "--profiles", "300"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("sync: 300 profiles"), "{stdout}");
    assert!(
        stdout.contains("incremental sync after 25 changes: 25 profiles"),
        "{stdout}"
    );
    let store = profile_cache::store::Store::open(&db).unwrap();
    let counts = store.counts().unwrap();
    assert_eq!(counts.profiles, 300);
    assert_eq!(counts.stale, 0);
    let login = profile_cache::sandbox::generate::login_for(1);
    assert!(store.get_by_login(&login).unwrap().is_some());
}

#[test]
fn usage_errors_exit_with_2_and_say_why() {
    for args in [
        &["frobnicate"][..],
        &[][..],
        &["demo", "--profiles", "many"][..],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with("error: ") && stderr.contains("usage:"),
            "{stderr}"
        );
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
    let out = Command::new(BIN)
        .arg("--db")
        .arg(&db)
        .args(["demo", "--profiles", "10"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&db).unwrap(), before, "left untouched");
}
