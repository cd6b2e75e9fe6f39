//! The sync engine against the sandbox over loopback: first and incremental syncs,
//! shifting pages, every fault, token expiry, cancel and resume, a killed process,
//! deactivation and removal, offline.

use profile_cache::client::{OAuthGrant, OAuthProvider, StaticToken, TokenProvider};
use profile_cache::sandbox::{Sandbox, SandboxConfig};
use profile_cache::sync::{SyncListener, SyncOptions, SyncProgress};
use profile_cache::{CacheConfig, Error, ProfileCache};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

async fn sandbox(profiles: u64) -> Sandbox {
    Sandbox::start(SandboxConfig::new(profiles, 42))
        .await
        .expect("sandbox starts")
}

fn oauth(sb: &Sandbox) -> Arc<dyn TokenProvider> {
    Arc::new(sb.oauth_provider().expect("provider"))
}

fn config(dir: &tempfile::TempDir, sb: &Sandbox) -> CacheConfig {
    let mut c = CacheConfig::new(dir.path().join("cache.db"), sb.base_url());
    c.http.base_delay = Duration::from_millis(20);
    c.http.max_delay = Duration::from_millis(300);
    c.http.request_timeout = Duration::from_secs(5);
    // Random faults at rates up to 15%: eight attempts make a profile failing every one
    // of them (0.15^8 per profile) vanishingly unlikely, so these tests do not flake.
    c.http.max_attempts = 8;
    // The sandbox stamps changes with its own whole-second clock, less than 2 s behind
    // its `Date` header: a 3 s margin keeps every same-second change visible.
    c.change_margin = MARGIN;
    c
}

const MARGIN: Duration = Duration::from_secs(3);

/// Lets every recent change age past the margin, then syncs: the store must then match
/// the server exactly (see `assert_matches_server`).
async fn settle(cache: &ProfileCache) {
    tokio::time::sleep(MARGIN + Duration::from_millis(200)).await;
    cache
        .sync(SyncOptions::default(), None)
        .await
        .expect("settling sync");
}

/// Right after a sync that raced with changes: every profile is either exactly the
/// server's or flagged stale — never outdated without the cache knowing it.
fn assert_known(cache: &ProfileCache, sb: &Sandbox) {
    let admin = sb.admin();
    for s in admin.summaries() {
        let login = s.login_id.as_deref().unwrap();
        let want = admin.profile(login).expect("server has it");
        let summary = cache.store().summary(login).unwrap();
        let stale = summary.as_ref().is_none_or(|s| s.stale);
        let stored = cache.profile(login).unwrap();
        let same = stored.as_ref().is_some_and(|p| p.xml == want.xml);
        assert!(
            same || stale,
            "{login} is outdated but not marked stale: server modified {}, summary {:?}, \
             stored covers {:?} (fetched {:?})",
            want.last_modified,
            summary.map(|s| (s.last_modified, s.seen_at)),
            stored.as_ref().map(|p| p.server_modified),
            stored.as_ref().map(|p| p.fetched_at),
        );
    }
}

/// A loopback URL nothing listens on (connections are refused).
fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

fn open(dir: &tempfile::TempDir, sb: &Sandbox) -> ProfileCache {
    ProfileCache::open(config(dir, sb), oauth(sb)).expect("cache opens")
}

/// Every profile on the server is in the cache, exactly as served, and nothing else.
fn assert_matches_server(cache: &ProfileCache, sb: &Sandbox) {
    let admin = sb.admin();
    let server = admin.summaries();
    let counts = cache.store().counts().unwrap();
    assert_eq!(counts.profiles as usize, server.len(), "profile count");
    assert_eq!(counts.stale, 0, "nothing left stale");
    for s in &server {
        let login = s.login_id.as_deref().unwrap();
        let want = admin.profile(login).expect("server has it");
        let got = cache
            .profile(login)
            .unwrap()
            .unwrap_or_else(|| panic!("missing {login}"));
        assert_eq!(got.xml, want.xml, "document of {login}");
        assert_eq!(
            got.profile.status,
            Some(want.status.clone()),
            "status of {login}"
        );
    }
}

#[derive(Default)]
struct Progress(Mutex<Vec<SyncProgress>>);

impl SyncListener for Progress {
    fn on_progress(&self, p: SyncProgress) {
        self.0.lock().unwrap().push(p);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_sync_copies_everything_then_incremental_costs_what_changed() {
    let sb = sandbox(2_000).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = open(&dir, &sb);
    let progress = Arc::new(Progress::default());
    let report = cache
        .sync(SyncOptions::default(), Some(progress.clone()))
        .await
        .expect("first sync");
    assert_eq!(report.profiles_fetched, 2_000);
    assert_eq!(report.pages, 10);
    assert!(report.checkpoint_advanced);
    assert_matches_server(&cache, &sb);
    let events = progress.0.lock().unwrap().clone();
    assert!(events.len() >= 2, "progress was reported");
    let last = events.last().unwrap();
    assert_eq!(last.profiles_done, 2_000);
    assert_eq!(last.phase, profile_cache::sync::SyncPhase::Done);

    // K changes cost about one page and K profiles.
    let admin = sb.admin();
    admin.reset_request_counts();
    let changed = admin.mutate_random(50);
    // Past the margin, one fetch per change is enough (see `covered_until`).
    tokio::time::sleep(MARGIN + Duration::from_millis(200)).await;
    let report = cache
        .sync(SyncOptions::default(), None)
        .await
        .expect("incremental");
    let counts = admin.request_counts();
    let summary_requests = counts.requests.get("summary").copied().unwrap_or(0);
    let profile_requests = counts.requests.get("profile").copied().unwrap_or(0);
    assert!(
        summary_requests <= 2,
        "summary requests: {summary_requests}"
    );
    assert_eq!(
        profile_requests as usize,
        changed.len(),
        "one GET per changed profile"
    );
    assert_eq!(report.profiles_fetched as usize, changed.len());
    assert_matches_server(&cache, &sb);

    // Nothing changed: one page, no profile.
    admin.reset_request_counts();
    let report = cache.sync(SyncOptions::default(), None).await.unwrap();
    assert_eq!(report.profiles_fetched, 0);
    assert_eq!(
        admin
            .request_counts()
            .requests
            .get("profile")
            .copied()
            .unwrap_or(0),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_changing_during_the_crawl_are_not_missed() {
    let sb = sandbox(1_500).await;
    let admin = sb.admin();
    admin.add_fault_spec("summary:mutate=7").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = open(&dir, &sb);
    let report = cache
        .sync(SyncOptions::default(), None)
        .await
        .expect("sync");
    assert!(
        report.passes >= 2,
        "shifted pages force another pass: {report:?}"
    );
    assert!(!report.checkpoint_advanced || report.passes >= 2);
    // Only a consistent pass vouches for every profile (see `sync::pull`, point 5).
    if report.checkpoint_advanced {
        assert_known(&cache, &sb);
    }
    // Quiet server: the next sync is consistent, and nothing is missing or stale.
    admin.clear_faults();
    let report = cache
        .sync(SyncOptions::default(), None)
        .await
        .expect("sync");
    assert!(report.checkpoint_advanced, "{report:?}");
    assert_known(&cache, &sb);
    settle(&cache).await;
    assert_matches_server(&cache, &sb);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_faults_are_retried_until_the_store_matches_the_server() {
    for spec in [
        "profile:500@rate=0.15",
        "profile:503@every=4",
        "summary:502@every=2",
        "summary:429,retry-after=1@next=1",
        "profile:429@rate=0.1",
        "profile:drop@rate=0.1",
        "profile:truncate@rate=0.1",
        "summary:truncate@next=1",
        "any:latency=0-15",
    ] {
        let sb = sandbox(400).await;
        sb.admin().add_fault_spec(spec).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cache = open(&dir, &sb);
        let report = cache
            .sync(SyncOptions::default(), None)
            .await
            .unwrap_or_else(|e| panic!("{spec}: {e}"));
        assert_eq!(report.failed, 0, "{spec}");
        sb.admin().clear_faults();
        assert_matches_server(&cache, &sb);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_faults_with_changes_mid_crawl_and_expiring_tokens_lose_nothing() {
    let sb = sandbox(1_200).await;
    let admin = sb.admin();
    for spec in [
        "profile:500@rate=0.08",
        "profile:drop@rate=0.04",
        "profile:truncate@rate=0.04",
        "profile:429@rate=0.04",
        "summary:503@every=3",
        "summary:mutate=4",
        "any:expire-tokens=150",
        "any:latency=0-3",
    ] {
        admin.add_fault_spec(spec).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(&dir, &sb);
    c.page_size = 100;
    let cache = ProfileCache::open(c, oauth(&sb)).unwrap();
    let report = cache
        .sync(SyncOptions::default(), None)
        .await
        .expect("every fault is transient");
    assert_eq!(report.failed, 0);
    assert!(
        report.requests > 1_200 + 12,
        "retries happened: {}",
        report.requests
    );
    // Only a consistent pass vouches for every profile (see `sync::pull`, point 5).
    if report.checkpoint_advanced {
        assert_known(&cache, &sb);
    }
    admin.clear_faults();
    let report = cache.sync(SyncOptions::default(), None).await.unwrap();
    assert!(report.checkpoint_advanced, "{report:?}");
    assert_known(&cache, &sb);
    settle(&cache).await;
    assert_matches_server(&cache, &sb);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_response_times_out_and_is_retried() {
    let sb = Sandbox::start(SandboxConfig::new(200, 42)).await.unwrap();
    sb.admin()
        .add_fault_spec("profile:stall=10s@nth=3")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(&dir, &sb);
    config.http.request_timeout = Duration::from_millis(800);
    let cache = ProfileCache::open(config, oauth(&sb)).unwrap();
    let report = cache
        .sync(SyncOptions::default(), None)
        .await
        .expect("sync");
    assert_eq!(report.profiles_fetched, 200);
    assert_matches_server(&cache, &sb);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_profiles_are_recorded_and_do_not_stop_the_sync() {
    let sb = sandbox(300).await;
    let bad = [
        profile_cache::sandbox::generate::login_for(5),
        profile_cache::sandbox::generate::login_for(77),
    ];
    for login in &bad {
        sb.admin()
            .add_fault_spec(&format!("profile:malformed,login={login}"))
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let cache = open(&dir, &sb);
    let report = cache
        .sync(SyncOptions::default(), None)
        .await
        .expect("sync goes on");
    assert_eq!(report.failed, 2);
    assert_eq!(report.profiles_fetched, 298);
    let failures = cache.store().fetch_failures().unwrap();
    assert_eq!(failures.len(), 2);
    assert!(
        failures
            .iter()
            .all(|(_, kind, attempts)| kind == "malformed" && *attempts == 1)
    );
    let status = cache.status().unwrap();
    assert_eq!(status.failed, 2);
    assert_eq!(status.counts.stale, 2, "failed profiles stay stale");
    // A later sync within the backoff does not hammer them; the report says so.
    let report = cache.sync(SyncOptions::default(), None).await.unwrap();
    assert_eq!(report.failed, 0);
    assert_eq!(report.deferred, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiring_tokens_are_refreshed_and_a_dead_token_is_unauthorized() {
    let sb = sandbox(500).await;
    sb.admin().add_fault_spec("any:expire-tokens=40").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = open(&dir, &sb);
    cache
        .sync(SyncOptions::default(), None)
        .await
        .expect("refreshes as needed");
    sb.admin().clear_faults();
    assert_matches_server(&cache, &sb);

    let dir = tempfile::tempdir().unwrap();
    let cache =
        ProfileCache::open(config(&dir, &sb), Arc::new(StaticToken::new("not-a-token"))).unwrap();
    match cache.sync(SyncOptions::default(), None).await {
        Err(Error::Unauthorized { status, .. }) => assert!(status == 401 || status == 403),
        other => panic!("expected unauthorized, got {other:?}"),
    }
    assert!(cache.status().unwrap().last_error.is_some());
}

/// A dead server is `Offline` within seconds, with a fixed token and with the OAuth
/// provider (whose token server is dead too: offline, not unauthorized).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_server_is_offline_quickly_also_for_the_token_server() {
    let dead = dead_url();
    let oauth: Arc<dyn TokenProvider> =
        Arc::new(OAuthProvider::new(&dead, "id", "secret", OAuthGrant::ClientCredentials).unwrap());
    for tokens in [
        Arc::new(StaticToken::new("t")) as Arc<dyn TokenProvider>,
        oauth,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut config = CacheConfig::new(dir.path().join("c.db"), &dead);
        config.http.base_delay = Duration::from_millis(10);
        let cache = ProfileCache::open(config, tokens).unwrap();
        let t = Instant::now();
        let err = cache.sync(SyncOptions::default(), None).await.unwrap_err();
        assert!(matches!(err, Error::Offline { .. }), "{err:?}");
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "took {:?}",
            t.elapsed()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_follow_the_tokens_geolocation() {
    let sb = sandbox(300).await;
    let dead = dead_url();
    let dir = tempfile::tempdir().unwrap();
    // The configured base URL is wrong; the token response's geolocation is right.
    let mut config = config(&dir, &sb);
    config.base_url = dead;
    let cache = ProfileCache::open(config, oauth(&sb)).unwrap();
    let report = cache.sync(SyncOptions::default(), None).await.unwrap();
    assert_eq!(report.profiles_fetched, 300);
    assert_eq!(
        cache.client().base_url(),
        sb.base_url().trim_end_matches('/')
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filtered_sync_keeps_its_own_checkpoint_and_cannot_reconcile() {
    let sb = sandbox(400).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = open(&dir, &sb);
    let some = |c: &str| SyncOptions {
        travel_configs: Some(vec![c.to_owned()]),
        ..Default::default()
    };
    let configs = profile_cache::sandbox::generate::travel_configs();
    assert!(configs.len() >= 2, "the sandbox has several travel configs");
    let first = configs[0];
    let report = cache.sync(some(first), None).await.unwrap();
    assert!(report.checkpoint_advanced);
    let stored = cache.status().unwrap().counts.profiles;
    assert!(
        stored > 0 && stored < 400,
        "only the filtered travelers: {stored}"
    );

    let refused = cache
        .sync(
            SyncOptions {
                reconcile: true,
                ..some(first)
            },
            None,
        )
        .await;
    assert!(
        matches!(&refused, Err(Error::InvalidInput { field, .. }) if field == "travel_configs"),
        "{refused:?}"
    );
    assert_eq!(
        cache.status().unwrap().counts.profiles,
        stored,
        "nothing removed"
    );
    // An unfiltered sync then brings in everyone else.
    cache.sync(SyncOptions::default(), None).await.unwrap();
    assert_eq!(cache.status().unwrap().counts.profiles, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_quickly_and_the_next_sync_resumes_without_refetching() {
    let sb = sandbox(3_000).await;
    sb.admin().add_fault_spec("profile:latency=5").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = open(&dir, &sb);
    let runner = {
        let cache = cache.clone();
        tokio::spawn(async move { cache.sync(SyncOptions::default(), None).await })
    };
    // Wait for real progress, then cancel.
    while cache.store().counts().unwrap().profiles < 300 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let t = Instant::now();
    cache.cancel();
    let result = runner.await.unwrap();
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "cancel took {:?}",
        t.elapsed()
    );
    let stored = cache.store().counts().unwrap().profiles;
    assert!((300..3_000).contains(&stored));
    let status = cache.status().unwrap();
    assert!(status.last_error.is_none(), "interrupted is not failed");
    assert!(status.last_attempt_at > status.last_success_at);

    sb.admin().clear_faults();
    sb.admin().reset_request_counts();
    let report = cache
        .sync(SyncOptions::default(), None)
        .await
        .expect("resumes");
    let fetched = sb
        .admin()
        .request_counts()
        .requests
        .get("profile")
        .copied()
        .unwrap_or(0);
    assert_eq!(fetched, 3_000 - stored, "only what was missing is fetched");
    assert_eq!(report.profiles_fetched, 3_000 - stored);
    assert_matches_server(&cache, &sb);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivation_is_flagged_and_reconciliation_removes_deleted_travelers() {
    let sb = sandbox(600).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = open(&dir, &sb);
    cache.sync(SyncOptions::default(), None).await.unwrap();
    let admin = sb.admin();
    let (a, b) = (
        profile_cache::sandbox::generate::login_for(10),
        profile_cache::sandbox::generate::login_for(20),
    );
    admin.deactivate(&[&a]).unwrap();
    admin.delete(&[&b]).unwrap();
    tokio::time::sleep(MARGIN + Duration::from_millis(200)).await;
    let report = cache.sync(SyncOptions::default(), None).await.unwrap();
    assert!(report.inactive >= 1);
    let p = cache.profile(&a).unwrap().unwrap();
    assert_eq!(
        p.status,
        Some(profile_cache::model::ProfileStatus::Inactive)
    );
    assert!(
        cache.profile(&b).unwrap().is_some(),
        "the feed never reports deletions"
    );
    let report = cache
        .sync(
            SyncOptions {
                reconcile: true,
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(report.removed, 1);
    assert!(cache.profile(&b).unwrap().is_none());
    assert_matches_server(&cache, &sb);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_never_blocked_by_a_running_sync() {
    let sb = sandbox(3_000).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = open(&dir, &sb);
    let reads = Arc::new(AtomicU64::new(0));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|i| {
            let (cache, reads, done) = (cache.clone(), reads.clone(), done.clone());
            std::thread::spawn(move || {
                let mut worst = Duration::ZERO;
                while !done.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let login = profile_cache::sandbox::generate::login_for(i * 7);
                    let _ = cache.profile(&login).unwrap();
                    let _ = cache.search("mar", 20).unwrap();
                    worst = worst.max(t.elapsed());
                    reads.fetch_add(1, Ordering::Relaxed);
                }
                worst
            })
        })
        .collect();
    cache.sync(SyncOptions::default(), None).await.unwrap();
    done.store(true, Ordering::Relaxed);
    let worst = readers
        .into_iter()
        .map(|r| r.join().unwrap())
        .max()
        .unwrap();
    assert!(
        reads.load(Ordering::Relaxed) > 50,
        "reads ran during the sync"
    );
    // Generous: a blocked reader would wait for the whole sync (seconds).
    assert!(worst < Duration::from_millis(1_500), "worst read {worst:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_profile_fetches_one_traveler_now() {
    let sb = sandbox(50).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = open(&dir, &sb);
    cache.sync(SyncOptions::default(), None).await.unwrap();
    let login = profile_cache::sandbox::generate::login_for(3);
    sb.admin().mutate(&[&login]).unwrap();
    let p = cache.refresh_profile(&login).await.unwrap();
    assert_eq!(p.xml, sb.admin().profile(&login).unwrap().xml);
    let err = cache
        .refresh_profile("nobody@example.org")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Server { status: 400, .. }), "{err:?}");
    assert!(
        !err.to_string().contains("nobody"),
        "no login in the error: {err}"
    );
}

/// A sync killed (SIGKILL) at random points resumes and ends equal to the server.
#[test]
fn a_killed_sync_resumes_and_matches_the_server() {
    if let Ok(url) = std::env::var("PC_CHILD_SYNC_URL") {
        return child_sync(&url);
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sb = rt.block_on(async {
        let sb = sandbox(2_500).await;
        sb.admin().add_fault_spec("any:latency=1-4").unwrap();
        sb
    });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    let exe = std::env::current_exe().unwrap();
    for delay_ms in [300u64, 700, 150, 1100] {
        let mut child = std::process::Command::new(&exe)
            .args([
                "--exact",
                "a_killed_sync_resumes_and_matches_the_server",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("PC_CHILD_SYNC_URL", sb.base_url())
            .env("PC_CHILD_DB", &db)
            .env("PC_CHILD_ID", &sb.credentials().client_id)
            .env("PC_CHILD_SECRET", &sb.credentials().client_secret)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
    }
    rt.block_on(async {
        sb.admin().clear_faults();
        sb.admin().mutate_random(25);
        let mut c = CacheConfig::new(&db, sb.base_url());
        c.http.base_delay = Duration::from_millis(20);
        c.change_margin = MARGIN;
        let cache = ProfileCache::open(c, oauth(&sb)).expect("the killed database opens");
        cache
            .sync(SyncOptions::default(), None)
            .await
            .expect("resumes");
        assert_known(&cache, &sb);
        settle(&cache).await;
        assert_matches_server(&cache, &sb);
    });
}

fn child_sync(url: &str) {
    let db = std::env::var("PC_CHILD_DB").unwrap();
    let id = std::env::var("PC_CHILD_ID").unwrap();
    let secret = std::env::var("PC_CHILD_SECRET").unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let tokens =
            Arc::new(OAuthProvider::new(url, id, secret, OAuthGrant::ClientCredentials).unwrap());
        let cache = ProfileCache::open(CacheConfig::new(db, url), tokens).unwrap();
        let _ = cache.sync(SyncOptions::default(), None).await;
    });
}

/// Two changes within one second have the same feed time: the second must not be
/// mistaken for the version already fetched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_change_in_the_same_second_is_not_missed() {
    let sb = sandbox(100).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = open(&dir, &sb);
    cache.sync(SyncOptions::default(), None).await.unwrap();
    let login = profile_cache::sandbox::generate::login_for(9);
    let admin = sb.admin();
    admin.mutate(&[&login]).unwrap();
    cache.sync(SyncOptions::default(), None).await.unwrap();
    admin.mutate(&[&login]).unwrap(); // most likely in the same second
    let after_second = admin.profile(&login).unwrap();
    assert_known(&cache, &sb);
    let stored = cache.profile(&login).unwrap().unwrap();
    if stored.xml != after_second.xml {
        assert!(cache.store().summary(&login).unwrap().unwrap().stale);
    }
    settle(&cache).await;
    assert_eq!(
        cache.profile(&login).unwrap().unwrap().xml,
        after_second.xml
    );
    assert_matches_server(&cache, &sb);
}

/// The built-in OAuth provider runs its requests on a runtime of its own: when the
/// caller's runtime shuts down (Ctrl-C, a cache closed mid-sync) while a token is being
/// fetched, the fetch still completes instead of failing (or panicking) inside the
/// vanished runtime's I/O.
#[test]
fn a_token_request_outlives_the_runtime_that_asked_for_it() {
    let server = tokio::runtime::Runtime::new().unwrap();
    let sb = server.block_on(sandbox(10));
    sb.admin()
        .add_fault_spec("token:stall=1500ms@next=1")
        .unwrap();
    let provider = oauth(&sb);

    let caller = tokio::runtime::Runtime::new().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    caller.spawn_blocking(move || {
        let token = provider.access_token(None, false);
        let _ = tx.send(token.map(|t| !t.is_empty()).map_err(|e| e.to_string()));
    });
    // The request is on its way (stalled by the server); the caller's runtime goes.
    std::thread::sleep(Duration::from_millis(300));
    caller.shutdown_background();
    let got = rx.recv_timeout(Duration::from_secs(20));
    assert_eq!(got, Ok(Ok(true)));
    drop(sb);
}
