//! The loyalty outbox against the sandbox over loopback: queueing offline, surviving a
//! restart, sending, confirming; every error path and its resulting state; coalescing;
//! conflicts; travelers not blocking each other; validation; the listener; the automatic
//! flush; a process killed (SIGKILL) while queueing and flushing.

use profile_cache::client::{OAuthGrant, OAuthProvider, StaticToken, TokenProvider};
use profile_cache::model::{LoyaltyMembership, LoyaltyVendorType, Membership, Total};
use profile_cache::sandbox::generate::login_for;
use profile_cache::sandbox::{Sandbox, SandboxConfig};
use profile_cache::store::{OutboxEvent, Resolution, UpdateFilter, UpdateState};
use profile_cache::sync::{OutboxListener, SyncOptions};
use profile_cache::{CacheConfig, Error, ProfileCache};
use std::sync::{Arc, Mutex};
use std::time::Duration;

async fn sandbox(profiles: u64) -> Sandbox {
    Sandbox::start(SandboxConfig::new(profiles, 7))
        .await
        .expect("sandbox starts")
}

fn oauth(sb: &Sandbox) -> Arc<dyn TokenProvider> {
    Arc::new(sb.oauth_provider().expect("provider"))
}

fn config(db: &std::path::Path, sb: &Sandbox) -> CacheConfig {
    let mut c = CacheConfig::new(db, sb.base_url());
    c.http.base_delay = Duration::from_millis(10);
    c.http.max_delay = Duration::from_millis(100);
    c.http.request_timeout = Duration::from_secs(1);
    c.http.offline_total = Duration::from_millis(200);
    c.outbox.base_delay = Duration::from_millis(200);
    c.outbox.max_delay = Duration::from_secs(2);
    c
}

async fn synced(dir: &tempfile::TempDir, sb: &Sandbox) -> ProfileCache {
    let cache = ProfileCache::open(config(&dir.path().join("cache.db"), sb), oauth(sb)).unwrap();
    cache
        .sync(SyncOptions::default(), None)
        .await
        .expect("sync");
    cache
}

fn air(code: &str, account: &str) -> LoyaltyMembership {
    LoyaltyMembership {
        unique_id: Some("Frequent Flyer".into()),
        vendor_code: Some(code.into()),
        vendor_type: Some(LoyaltyVendorType::Air),
        account_no: Some(account.into()),
        status: Some("Senator".into()),
        point_total: Some(Total::Number(120_500)),
        segment_total: Some(Total::Number(61)),
        ..Default::default()
    }
}

fn on_server(sb: &Sandbox, login: &str, code: &str) -> Option<Membership> {
    let p = sb.admin().profile(login)?.profile;
    p.air?
        .memberships
        .into_iter()
        .find(|m| m.vendor_code.as_deref() == Some(code))
}

fn state(cache: &ProfileCache, id: i64) -> Option<UpdateState> {
    cache.update(id).unwrap().map(|u| u.state)
}

/// Waits until the wall clock is in the next whole second (plus a margin).
async fn next_second() {
    let ms = chrono::Utc::now().timestamp_subsec_millis();
    tokio::time::sleep(Duration::from_millis(u64::from(1_050 - ms.min(1_000)))).await;
}

#[derive(Default)]
struct Events(Mutex<Vec<OutboxEvent>>);

impl OutboxListener for Events {
    fn on_event(&self, e: OutboxEvent) {
        self.0.lock().unwrap().push(e);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_queued_offline_survives_a_restart_then_is_sent_and_confirmed() {
    let mut sb = sandbox(20).await;
    let dir = tempfile::tempdir().unwrap();
    let login = login_for(3);
    let cache = synced(&dir, &sb).await;
    sb.stop().await.unwrap();

    let id = cache
        .queue_loyalty_update(&login, air("LH", "992211334455"))
        .unwrap();
    let shown = |cache: &ProfileCache| {
        let p = cache.profile(&login).unwrap().unwrap();
        let m = p
            .profile
            .air
            .as_ref()
            .unwrap()
            .memberships
            .iter()
            .find(|m| m.vendor_code.as_deref() == Some("LH"))
            .cloned()
            .unwrap();
        (m, p.pending.clone())
    };
    let (m, pending) = shown(&cache);
    assert_eq!(m.account_no.as_deref(), Some("992211334455"));
    assert_eq!(pending.len(), 1);
    assert!(pending[0].applied && pending[0].update_id == id);
    assert_eq!(pending[0].state, UpdateState::Pending);

    // Unreachable: still pending, the attempt counted and the next one scheduled.
    let report = cache.flush_updates().await.unwrap();
    assert_eq!((report.attempted, report.sent, report.pending), (1, 0, 1));
    let u = cache.update(id).unwrap().unwrap();
    assert_eq!((u.state, u.attempts), (UpdateState::Pending, 1));
    assert!(u.last_error.unwrap().starts_with("offline"));
    assert!(u.next_attempt_at.unwrap() > chrono::Utc::now());
    drop(cache);

    // A restarted app still has it, and still shows it.
    let cache = ProfileCache::open(config(&dir.path().join("cache.db"), &sb), oauth(&sb)).unwrap();
    assert_eq!(state(&cache, id), Some(UpdateState::Pending));
    assert_eq!(shown(&cache).0.account_no.as_deref(), Some("992211334455"));
    assert_eq!(cache.status().unwrap().outbox.pending, 1);

    sb.restart().await.unwrap();
    let report = cache.kick().await.unwrap();
    assert_eq!((report.sent, report.pending), (1, 0));
    assert_eq!(state(&cache, id), Some(UpdateState::Sent));
    let server = on_server(&sb, &login, "LH").expect("on the server");
    assert_eq!(server.account_no.as_deref(), Some("992211334455"));
    assert_eq!(server.point_total, Some(Total::Number(120_500)));
    // Still shown while not confirmed, also after a sync replaced the server copy.
    assert!(shown(&cache).1[0].applied);

    cache.sync(SyncOptions::default(), None).await.unwrap();
    assert_eq!(state(&cache, id), Some(UpdateState::Confirmed));
    let (m, pending) = shown(&cache);
    assert!(pending.is_empty());
    assert_eq!(m.account_no.as_deref(), Some("992211334455"));
    let s = cache.outbox_status().unwrap();
    assert_eq!((s.pending, s.sent, s.confirmed), (0, 0, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_fails_with_the_servers_description_and_can_be_retried_or_discarded() {
    let sb = sandbox(10).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = synced(&dir, &sb).await;
    let login = login_for(1);
    // Two letters, so valid here; the server knows no such airline.
    let id = cache.queue_loyalty_update(&login, air("ZZ", "1")).unwrap();
    let report = cache.flush_updates().await.unwrap();
    assert_eq!((report.sent, report.failed, report.pending), (0, 1, 0));
    let u = cache.update(id).unwrap().unwrap();
    assert_eq!(u.state, UpdateState::Failed);
    assert!(u.last_error.unwrap().contains("unknown vendor code"));
    // Not shown on the profile, but listed so the app can say so.
    let p = cache.profile(&login).unwrap().unwrap();
    assert_eq!(p.pending.len(), 1);
    assert!(!p.pending[0].applied);
    assert!(!p.has_pending());
    // Nothing retries it by itself.
    assert_eq!(cache.kick().await.unwrap().attempted, 0);
    assert_eq!(cache.retry_update(id).unwrap().state, UpdateState::Pending);
    assert_eq!(cache.flush_updates().await.unwrap().failed, 1);
    assert!(cache.discard_update(id).unwrap());
    assert!(cache.update(id).unwrap().is_none());
    assert!(cache.profile(&login).unwrap().unwrap().pending.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_http_error_fails_the_update() {
    let sb = sandbox(10).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = synced(&dir, &sb).await;
    let login = login_for(2);
    let id = cache.queue_loyalty_update(&login, air("LH", "1")).unwrap();
    // Deleted on the server meanwhile: 400 Invalid User.
    sb.admin().delete(&[&login]).unwrap();
    let report = cache.flush_updates().await.unwrap();
    assert_eq!(report.failed, 1);
    let u = cache.update(id).unwrap().unwrap();
    assert_eq!(u.state, UpdateState::Failed);
    let e = u.last_error.unwrap();
    assert!(e.starts_with("HTTP 400"), "{e}");
    assert!(!e.contains(&login), "no login in the description: {e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_keeps_the_update_pending_until_its_retry_after() {
    let sb = sandbox(10).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = synced(&dir, &sb).await;
    let login = login_for(4);
    sb.admin()
        .add_fault_spec("loyalty:429,retry-after=2@next=1")
        .unwrap();
    let id = cache
        .queue_loyalty_update(&login, air("UA", "U-1"))
        .unwrap();
    let before = chrono::Utc::now();
    let report = cache.flush_updates().await.unwrap();
    assert_eq!((report.attempted, report.pending), (1, 1));
    let u = cache.update(id).unwrap().unwrap();
    assert_eq!((u.state, u.attempts), (UpdateState::Pending, 1));
    assert!(u.last_error.unwrap().contains("429"));
    let wait = u.next_attempt_at.unwrap() - before;
    assert!(wait >= chrono::Duration::milliseconds(1_900), "{wait}");
    // Not due yet: a flush leaves it alone.
    assert_eq!(cache.flush_updates().await.unwrap().attempted, 0);
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert_eq!(cache.flush_updates().await.unwrap().sent, 1);
    assert_eq!(
        on_server(&sb, &login, "UA").unwrap().account_no.as_deref(),
        Some("U-1")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_timeouts_back_off_with_a_growing_delay_then_succeed() {
    let sb = sandbox(10).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = synced(&dir, &sb).await;
    let login = login_for(5);
    let id = cache
        .queue_loyalty_update(&login, air("AA", "A-1"))
        .unwrap();
    sb.admin().add_fault_spec("loyalty:503@next=2").unwrap();
    let mut waits = Vec::new();
    for attempt in 1..=2 {
        let now = chrono::Utc::now();
        let report = cache.kick().await.unwrap();
        assert_eq!(report.pending, 1, "attempt {attempt}");
        let u = cache.update(id).unwrap().unwrap();
        assert_eq!((u.state, u.attempts), (UpdateState::Pending, attempt));
        assert!(u.last_error.as_deref().unwrap().contains("503"));
        waits.push(u.next_attempt_at.unwrap() - now);
    }
    // Base 200 ms, jitter in the upper half: 100..200 ms, then 200..400 ms.
    assert!(waits[0] >= chrono::Duration::milliseconds(90), "{waits:?}");
    assert!(waits[1] >= chrono::Duration::milliseconds(190), "{waits:?}");

    // A stalled response times out (request timeout 1 s): pending again.
    sb.admin()
        .add_fault_spec("loyalty:stall=3s@next=1")
        .unwrap();
    let report = cache.kick().await.unwrap();
    assert_eq!(report.pending, 1);
    let u = cache.update(id).unwrap().unwrap();
    assert_eq!((u.state, u.attempts), (UpdateState::Pending, 3));
    assert!(u.last_error.unwrap().contains("timed out"));

    assert_eq!(cache.kick().await.unwrap().sent, 1);
    assert_eq!(
        on_server(&sb, &login, "AA").unwrap().account_no.as_deref(),
        Some("A-1")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_stops_the_flush_and_keeps_updates_pending() {
    let sb = sandbox(10).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    drop(synced(&dir, &sb).await);
    let cache =
        ProfileCache::open(config(&db, &sb), Arc::new(StaticToken::new("not-a-token"))).unwrap();
    let a = cache
        .queue_loyalty_update(&login_for(1), air("LH", "1"))
        .unwrap();
    let b = cache
        .queue_loyalty_update(&login_for(2), air("LH", "2"))
        .unwrap();
    let err = cache.flush_updates().await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    for id in [a, b] {
        let u = cache.update(id).unwrap().unwrap();
        assert_eq!((u.state, u.attempts), (UpdateState::Pending, 0));
    }
    drop(cache);
    let cache = ProfileCache::open(config(&db, &sb), oauth(&sb)).unwrap();
    assert_eq!(cache.flush_updates().await.unwrap().sent, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_update_of_the_same_program_replaces_the_unsent_one() {
    let sb = sandbox(10).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = synced(&dir, &sb).await;
    let events = Arc::new(Events::default());
    cache.set_outbox_listener(Some(events.clone()));
    let login = login_for(6);
    let first = cache.queue_loyalty_update(&login, air("DL", "1")).unwrap();
    let second = cache.queue_loyalty_update(&login, air("dl", "2")).unwrap();
    let third = cache.queue_loyalty_update(&login, air("DL", "3")).unwrap();
    let other = cache.queue_loyalty_update(&login, air("BA", "B")).unwrap();
    let pending = cache
        .updates(&UpdateFilter {
            login: Some(login.clone()),
            state: Some(UpdateState::Pending),
        })
        .unwrap();
    assert_eq!(
        pending.iter().map(|u| u.id).collect::<Vec<_>>(),
        [third, other]
    );
    let seen = events.0.lock().unwrap().clone();
    assert!(
        seen.iter()
            .any(|e| e.update_id == first && e.to.is_none() && e.replaced_by == Some(second))
    );
    assert!(
        seen.iter()
            .any(|e| e.update_id == second && e.replaced_by == Some(third))
    );
    sb.admin().reset_request_counts();
    assert_eq!(cache.flush_updates().await.unwrap().sent, 2);
    let loyalty = sb
        .admin()
        .request_counts()
        .get(profile_cache::sandbox::Endpoint::Loyalty);
    assert_eq!(loyalty, 2, "one request per program");
    assert_eq!(
        on_server(&sb, &login, "DL").unwrap().account_no.as_deref(),
        Some("3")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_by_someone_else_is_held_as_a_conflict_until_the_app_resolves_it() {
    let sb = sandbox(10).await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = synced(&dir_a, &sb).await;
    let b = synced(&dir_b, &sb).await;
    let login = login_for(7);

    // A queues while it cannot send; B (another agent) changes the same program.
    let mine = a.queue_loyalty_update(&login, air("KL", "mine")).unwrap();
    b.queue_loyalty_update(&login, air("KL", "theirs")).unwrap();
    // The feed's times are whole seconds: a change in the second A last saw would not
    // show as one to A's sync (a limit of the summary feed, not of the outbox).
    next_second().await;
    b.flush_updates().await.unwrap();
    a.sync(SyncOptions::default(), None).await.unwrap();
    let u = a.update(mine).unwrap().unwrap();
    assert_eq!(u.state, UpdateState::Conflict);
    assert_eq!(u.theirs.unwrap().account_no.as_deref(), Some("theirs"));
    assert_ne!(
        u.base.and_then(|b| b.account_no).as_deref(),
        Some("theirs"),
        "the base is the value before"
    );
    // The profile shows the server's value meanwhile; the conflict is listed.
    let p = a.profile(&login).unwrap().unwrap();
    assert!(!p.pending[0].applied);
    assert_eq!(p.pending[0].state, UpdateState::Conflict);
    // Flushing never sends a conflict.
    assert_eq!(a.flush_updates().await.unwrap().conflicts, 1);
    assert_eq!(
        on_server(&sb, &login, "KL").unwrap().account_no.as_deref(),
        Some("theirs")
    );

    // Keep mine: sent, then confirmed.
    let u = a
        .resolve_conflict(mine, Resolution::KeepMine)
        .unwrap()
        .unwrap();
    assert_eq!(u.state, UpdateState::Pending);
    assert_eq!(a.flush_updates().await.unwrap().sent, 1);
    a.sync(SyncOptions::default(), None).await.unwrap();
    assert_eq!(state(&a, mine), Some(UpdateState::Confirmed));
    assert_eq!(
        on_server(&sb, &login, "KL").unwrap().account_no.as_deref(),
        Some("mine")
    );

    // Take theirs: dropped, and the server keeps their value.
    let again = a.queue_loyalty_update(&login, air("KL", "mine-2")).unwrap();
    b.sync(SyncOptions::default(), None).await.unwrap();
    b.queue_loyalty_update(&login, air("KL", "theirs-2"))
        .unwrap();
    next_second().await;
    b.flush_updates().await.unwrap();
    a.sync(SyncOptions::default(), None).await.unwrap();
    assert_eq!(state(&a, again), Some(UpdateState::Conflict));
    assert!(
        a.resolve_conflict(again, Resolution::TakeTheirs)
            .unwrap()
            .is_none()
    );
    assert!(a.update(again).unwrap().is_none());
    let err = a.resolve_conflict(mine, Resolution::KeepMine).unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "not in conflict");
    assert_eq!(
        on_server(&sb, &login, "KL").unwrap().account_no.as_deref(),
        Some("theirs-2")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_travelers_failures_never_block_another() {
    let sb = sandbox(12).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = synced(&dir, &sb).await;
    let (x, y, w) = (login_for(1), login_for(2), login_for(3));
    let x_bad = cache.queue_loyalty_update(&x, air("ZZ", "1")).unwrap();
    let x_good = cache.queue_loyalty_update(&x, air("LH", "X")).unwrap();
    let w_gone = cache.queue_loyalty_update(&w, air("LH", "W")).unwrap();
    let y_good = cache.queue_loyalty_update(&y, air("LH", "Y")).unwrap();
    sb.admin().delete(&[&w]).unwrap();
    let report = cache.flush_updates().await.unwrap();
    assert_eq!((report.sent, report.failed, report.pending), (2, 2, 0));
    assert_eq!(state(&cache, x_bad), Some(UpdateState::Failed));
    assert_eq!(state(&cache, w_gone), Some(UpdateState::Failed));
    assert_eq!(state(&cache, x_good), Some(UpdateState::Sent));
    assert_eq!(state(&cache, y_good), Some(UpdateState::Sent));
    assert_eq!(
        on_server(&sb, &y, "LH").unwrap().account_no.as_deref(),
        Some("Y")
    );
    assert_eq!(
        on_server(&sb, &x, "LH").unwrap().account_no.as_deref(),
        Some("X")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_failure_holds_that_travelers_later_updates_only() {
    let sb = sandbox(12).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    drop(synced(&dir, &sb).await);
    // One traveler at a time; travelers start in login order, so the first request (the
    // fault's) is traveler 1's.
    let mut c = config(&db, &sb);
    c.outbox.concurrency = 1;
    let cache = ProfileCache::open(c, oauth(&sb)).unwrap();
    let (x, y) = (login_for(1), login_for(2));
    let x1 = cache.queue_loyalty_update(&x, air("LH", "X1")).unwrap();
    let x2 = cache.queue_loyalty_update(&x, air("AA", "X2")).unwrap();
    let y1 = cache.queue_loyalty_update(&y, air("LH", "Y1")).unwrap();
    sb.admin().add_fault_spec("loyalty:503@nth=1").unwrap();
    let report = cache.flush_updates().await.unwrap();
    assert_eq!((report.attempted, report.sent, report.pending), (2, 1, 2));
    let u = cache.update(x1).unwrap().unwrap();
    assert_eq!((u.state, u.attempts), (UpdateState::Pending, 1));
    assert!(u.next_attempt_at.is_some() && u.last_error.is_some());
    let later = cache.update(x2).unwrap().unwrap();
    assert_eq!(
        (later.state, later.attempts),
        (UpdateState::Pending, 0),
        "never sent before the older update of its traveler"
    );
    assert_eq!(
        state(&cache, y1),
        Some(UpdateState::Sent),
        "the other traveler flows"
    );
    assert!(on_server(&sb, &x, "AA").is_none_or(|m| m.account_no.as_deref() != Some("X2")));

    let report = cache.kick().await.unwrap();
    assert_eq!(report.sent, 2);
    assert_eq!(state(&cache, x1), Some(UpdateState::Sent));
    assert_eq!(state(&cache, x2), Some(UpdateState::Sent));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_updates_name_the_field_and_store_nothing() {
    let sb = sandbox(5).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = synced(&dir, &sb).await;
    let owned = login_for(1);
    let login = owned.as_str();
    let secret = "SECRET-VALUE";
    let cases: Vec<(&str, &str, LoyaltyMembership)> = vec![
        ("login", "nobody@example.org", air("LH", "1")),
        ("login", " ", air("LH", "1")),
        ("vendor_code", login, air("LHX", "1")),
        (
            "vendor_code",
            login,
            LoyaltyMembership {
                vendor_code: None,
                ..air("LH", "1")
            },
        ),
        (
            "vendor_type",
            login,
            LoyaltyMembership {
                vendor_type: None,
                ..air("LH", "1")
            },
        ),
        (
            "vendor_type",
            login,
            LoyaltyMembership {
                vendor_type: Some(LoyaltyVendorType::Unrecognized("R".into())),
                ..air("LH", "1")
            },
        ),
        ("account_no", login, air("LH", &secret.repeat(6))),
        (
            "account_no",
            login,
            LoyaltyMembership {
                account_no: None,
                ..air("LH", "1")
            },
        ),
        (
            "status",
            login,
            LoyaltyMembership {
                status: Some(secret.repeat(9)),
                ..air("LH", "1")
            },
        ),
        (
            "point_total",
            login,
            LoyaltyMembership {
                point_total: Some(Total::Text(secret.into())),
                ..air("LH", "1")
            },
        ),
    ];
    for (field, who, m) in cases {
        match cache.queue_loyalty_update(who, m) {
            Err(Error::InvalidInput { field: f, reason }) => {
                assert_eq!(f, field);
                assert!(!reason.contains(secret), "{reason}");
            }
            other => panic!("{field}: {other:?}"),
        }
    }
    let s = cache.outbox_status().unwrap();
    assert_eq!(s, Default::default(), "nothing stored, no event");
    assert!(cache.updates(&UpdateFilter::default()).unwrap().is_empty());
    // The longest allowed values pass.
    let ok = LoyaltyMembership {
        status: Some("s".repeat(100)),
        ..air("LH", &"9".repeat(60))
    };
    cache.queue_loyalty_update(login, ok).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supplier_updates_its_own_program() {
    let sb = Sandbox::start(
        SandboxConfig::new(5, 7)
            .with_supplier("lh-app", "lh-secret", "A", "LH")
            .unwrap(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    drop(synced(&dir, &sb).await);
    let mut c = config(&dir.path().join("cache.db"), &sb);
    c.role = profile_cache::CallerRole::Supplier {
        vendor_code: "LH".into(),
        vendor_type: LoyaltyVendorType::Air,
    };
    let supplier = OAuthProvider::new(
        sb.base_url(),
        "lh-app",
        "lh-secret",
        OAuthGrant::ClientCredentials,
    )
    .unwrap();
    let cache = ProfileCache::open(c, Arc::new(supplier)).unwrap();
    let login = login_for(2);
    // Vendor code and type are the supplier's, whatever the update says.
    let m = LoyaltyMembership {
        vendor_code: None,
        vendor_type: None,
        ..air("XX", "S-1")
    };
    let id = cache.queue_loyalty_update(&login, m).unwrap();
    assert_eq!(cache.update(id).unwrap().unwrap().program, "A:LH");
    assert_eq!(cache.flush_updates().await.unwrap().sent, 1);
    assert_eq!(
        on_server(&sb, &login, "LH").unwrap().account_no.as_deref(),
        Some("S-1")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_hears_every_state_change_in_order_and_status_catches_up() {
    let sb = sandbox(10).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = synced(&dir, &sb).await;
    let events = Arc::new(Events::default());
    cache.set_outbox_listener(Some(events.clone()));
    let login = login_for(8);
    let id = cache.queue_loyalty_update(&login, air("TK", "T")).unwrap();
    cache.flush_updates().await.unwrap();
    cache.sync(SyncOptions::default(), None).await.unwrap();
    let seen = events.0.lock().unwrap().clone();
    let path: Vec<_> = seen
        .iter()
        .filter(|e| e.update_id == id)
        .map(|e| (e.from, e.to))
        .collect();
    use UpdateState::*;
    assert_eq!(
        path,
        [
            (None, Some(Pending)),
            (Some(Pending), Some(Sending)),
            (Some(Sending), Some(Sent)),
            (Some(Sent), Some(Confirmed)),
        ]
    );
    assert!(seen.windows(2).all(|w| w[0].seq < w[1].seq));
    let status = cache.status().unwrap().outbox;
    assert_eq!(status.last_seq, seen.last().unwrap().seq);
    assert_eq!(status.confirmed, 1);
    // A late app reads back what it missed.
    assert_eq!(cache.outbox_events_since(0, 100).unwrap(), seen);
    assert_eq!(cache.update(id).unwrap().unwrap().seq, status.last_seq);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_automatic_flush_sends_soon_after_queueing_and_stops_on_close() {
    let sb = sandbox(10).await;
    let dir = tempfile::tempdir().unwrap();
    drop(synced(&dir, &sb).await);
    let mut c = config(&dir.path().join("cache.db"), &sb);
    c.outbox.auto_flush = Some(Duration::from_millis(300));
    let cache = ProfileCache::open(c, oauth(&sb)).unwrap();
    let login = login_for(9);
    let id = cache
        .queue_loyalty_update(&login, air("SQ", "auto"))
        .unwrap();
    for _ in 0..100 {
        if state(&cache, id) == Some(UpdateState::Sent) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state(&cache, id), Some(UpdateState::Sent));
    assert_eq!(
        on_server(&sb, &login, "SQ").unwrap().account_no.as_deref(),
        Some("auto")
    );
    let reader = cache.clone();
    cache.close();
    let later = reader
        .queue_loyalty_update(&login, air("NH", "closed"))
        .unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        state(&reader, later),
        Some(UpdateState::Pending),
        "no flush after close"
    );
    assert!(matches!(
        reader.flush_updates().await,
        Err(Error::Cancelled)
    ));
}

// ---------------------------------------------------------------------------------------
// kill -9

const SLOTS: [(u64, &str); 8] = [
    (1, "LH"),
    (1, "UA"),
    (2, "LH"),
    (2, "AF"),
    (3, "LH"),
    (4, "KL"),
    (5, "BA"),
    (6, "LH"),
];

/// A process queueing and flushing killed (SIGKILL) at random points: every update it
/// acknowledged (printed) ends on the server, and nothing is left queued.
#[test]
fn a_killed_process_loses_no_acknowledged_update() {
    if let Ok(url) = std::env::var("PC_CHILD_OUTBOX_URL") {
        return child(&url);
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sb = rt.block_on(async {
        let sb = sandbox(10).await;
        sb.admin().add_fault_spec("loyalty:latency=2-15").unwrap();
        sb
    });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    rt.block_on(async { drop(synced(&dir, &sb).await) });
    let exe = std::env::current_exe().unwrap();
    // (round, n) of every acknowledged update, by slot; the last n each round queued.
    let mut acked: Vec<Vec<(u32, u32)>> = vec![Vec::new(); SLOTS.len()];
    let mut last_n = Vec::new();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for round in 0..6u32 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = 250 + seed % 900;
        let mut child = std::process::Command::new(&exe)
            .args([
                "--exact",
                "a_killed_process_loses_no_acknowledged_update",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("PC_CHILD_OUTBOX_URL", sb.base_url())
            .env("PC_CHILD_DB", &db)
            .env("PC_CHILD_ROUND", round.to_string())
            .env("PC_CHILD_ID", &sb.credentials().client_id)
            .env("PC_CHILD_SECRET", &sb.credentials().client_secret)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let mut max_n = None;
        for line in text.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if let ["ACK", slot, n, _id] = f[..] {
                let (slot, n): (usize, u32) = (slot.parse().unwrap(), n.parse().unwrap());
                acked[slot].push((round, n));
                max_n = Some(n);
            }
        }
        last_n.push(max_n);
    }
    assert!(
        acked.iter().map(Vec::len).sum::<usize>() > 20,
        "the children acknowledged updates"
    );
    rt.block_on(async {
        sb.admin().clear_faults();
        let cache = ProfileCache::open(config(&db, &sb), oauth(&sb)).expect("the killed db opens");
        let report = cache.kick().await.unwrap();
        assert_eq!(report.pending, 0, "{report:?}");
        let s = cache.outbox_status().unwrap();
        assert_eq!(
            (s.pending, s.sending, s.failed, s.conflict),
            (0, 0, 0, 0),
            "{s:?}"
        );
        for (i, (idx, code)) in SLOTS.iter().enumerate() {
            let Some(&(round, n)) = acked[i].last() else {
                continue;
            };
            let login = login_for(*idx);
            let got = on_server(&sb, &login, code)
                .and_then(|m| m.account_no)
                .unwrap_or_else(|| panic!("slot {i}: nothing on the server"));
            let (r, m) = parse_account(&got);
            // The last acknowledged value, or one queued after it whose acknowledgement
            // the kill cut off (the very last of a round).
            let ok = (r, m) == (round, n)
                || ((r, m) > (round, n) && m == last_n[r as usize].map_or(0, |l| l + 1));
            assert!(ok, "slot {i}: server {got}, last acknowledged {round}-{n}");
        }
        cache.sync(SyncOptions::default(), None).await.unwrap();
        let s = cache.outbox_status().unwrap();
        assert_eq!((s.sent, s.pending), (0, 0), "everything confirmed: {s:?}");
    });
}

fn parse_account(a: &str) -> (u32, u32) {
    let (r, n) = a.trim_start_matches('R').split_once('-').unwrap();
    (r.parse().unwrap(), n.parse().unwrap())
}

fn child(url: &str) {
    use std::io::Write;
    let db = std::env::var("PC_CHILD_DB").unwrap();
    let round: u32 = std::env::var("PC_CHILD_ROUND").unwrap().parse().unwrap();
    let id = std::env::var("PC_CHILD_ID").unwrap();
    let secret = std::env::var("PC_CHILD_SECRET").unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let tokens =
            Arc::new(OAuthProvider::new(url, id, secret, OAuthGrant::ClientCredentials).unwrap());
        let mut c = CacheConfig::new(db, url);
        c.outbox.base_delay = Duration::from_millis(10);
        let cache = ProfileCache::open(c, tokens).unwrap();
        let mut out = std::io::stdout().lock();
        let mut x = 0x9e37_79b9u64 + u64::from(round);
        for n in 0.. {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let slot = ((x >> 33) % SLOTS.len() as u64) as usize;
            let (idx, code) = SLOTS[slot];
            let account = format!("R{round}-{n}");
            let id = cache
                .queue_loyalty_update(&login_for(idx), air(code, &account))
                .unwrap();
            writeln!(out, "ACK {slot} {n} {id}").unwrap();
            out.flush().unwrap();
            if n % 3 == 2 {
                let _ = cache.flush_updates().await;
            }
        }
    });
}
