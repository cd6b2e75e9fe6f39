//! Change notifications end to end: the cache subscribes at the sandbox, the sandbox posts
//! to a tiny receiver standing in for the app's backend, which hands query and body to
//! `handle_postback`; v4 events (built here as SAP Concur documents them: the sandbox
//! speaks only v1) go to `handle_event`.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use profile_cache::client::{StaticToken, TokenProvider};
use profile_cache::model::{LoyaltyMembership, LoyaltyVendorType, NotificationEventType};
use profile_cache::sandbox::generate::login_for;
use profile_cache::sandbox::{NotifyType, Sandbox, SandboxConfig};
use profile_cache::store::{ItineraryEvent, UpdateState};
use profile_cache::sync::{
    NotificationKind, NotificationListener, NotificationOutcome, SubscriptionScope, SyncOptions,
};
use profile_cache::{CacheConfig, Error, ProfileCache};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

type Posted = (String, Vec<u8>);

/// The app's backend: receives postbacks and forwards query and body.
struct Backend {
    url: String,
    rx: mpsc::UnboundedReceiver<Posted>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(
    State(tx): State<mpsc::UnboundedSender<Posted>>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> &'static str {
    let _ = tx.send((q.unwrap_or_default(), body.to_vec()));
    "ok"
}

impl Backend {
    async fn start() -> Backend {
        let (tx, rx) = mpsc::unbounded_channel();
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(tx);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Backend { url, rx, task }
    }

    async fn next(&mut self) -> Posted {
        tokio::time::timeout(Duration::from_secs(5), self.rx.recv())
            .await
            .expect("a postback arrives")
            .expect("receiver open")
    }
}

fn oauth(sb: &Sandbox) -> Arc<dyn TokenProvider> {
    Arc::new(sb.oauth_provider().expect("provider"))
}

fn config(dir: &tempfile::TempDir, sb: &Sandbox) -> CacheConfig {
    let mut c = CacheConfig::new(dir.path().join("cache.db"), sb.base_url());
    c.http.base_delay = Duration::from_millis(10);
    c.http.request_timeout = Duration::from_secs(2);
    c.http.offline_total = Duration::from_millis(200);
    c
}

async fn setup(backend: &Backend) -> (Sandbox, tempfile::TempDir, ProfileCache) {
    let sb = Sandbox::start(SandboxConfig::new(20, 11).with_postback_url(&backend.url))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = ProfileCache::open(config(&dir, &sb), oauth(&sb)).unwrap();
    cache.sync(SyncOptions::default(), None).await.unwrap();
    (sb, dir, cache)
}

#[derive(Default)]
struct Trips(Mutex<Vec<ItineraryEvent>>);

impl NotificationListener for Trips {
    fn on_itinerary(&self, e: ItineraryEvent) {
        self.0.lock().unwrap().push(e);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_use_the_right_url_for_each_scope_and_kind() {
    let backend = Backend::start().await;
    let (sb, dir, cache) = setup(&backend).await;
    let admin = sb.admin();
    for kind in [
        NotificationKind::Profile,
        NotificationKind::Itinerary,
        NotificationKind::Fop,
    ] {
        cache
            .subscribe(SubscriptionScope::Company, kind)
            .await
            .unwrap();
    }
    assert_eq!(admin.subscriptions().company.len(), 3);
    cache
        .unsubscribe(SubscriptionScope::Company, NotificationKind::Fop)
        .await
        .unwrap();
    assert!(!admin.subscriptions().company.contains(&NotifyType::Fop));
    cache
        .unsubscribe(SubscriptionScope::Company, NotificationKind::Fop)
        .await
        .expect("unsubscribing twice is fine");

    // A user subscription needs that user's token.
    let login = login_for(4);
    let user_token = admin.issue_token(Some(&login)).unwrap();
    drop(cache);
    let user =
        ProfileCache::open(config(&dir, &sb), Arc::new(StaticToken::new(user_token))).unwrap();
    user.subscribe(
        SubscriptionScope::User { login: None },
        NotificationKind::Itinerary,
    )
    .await
    .unwrap();
    assert!(admin.subscriptions().users[&login].contains(&NotifyType::Itinerary));
    user.unsubscribe(
        SubscriptionScope::User { login: None },
        NotificationKind::Itinerary,
    )
    .await
    .unwrap();
    assert!(!admin.subscriptions().users[&login].contains(&NotifyType::Itinerary));
    let err = user
        .subscribe(SubscriptionScope::Company, NotificationKind::Profile)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Unauthorized { status: 403, .. }),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postbacks_refresh_profiles_record_trips_and_mark_stale() {
    let mut backend = Backend::start().await;
    let (mut sb, _dir, cache) = setup(&backend).await;
    let trips = Arc::new(Trips::default());
    cache.set_notification_listener(Some(trips.clone()));
    for kind in [
        NotificationKind::Profile,
        NotificationKind::Itinerary,
        NotificationKind::Fop,
    ] {
        cache
            .subscribe(SubscriptionScope::Company, kind)
            .await
            .unwrap();
    }
    let admin = sb.admin();
    let (a, b, c) = (login_for(1), login_for(2), login_for(3));

    // Profile: the traveler is fetched again.
    admin.mutate(&[&a]).unwrap();
    let (q, body) = backend.next().await;
    assert!(q.contains("type=profile"), "{q}");
    let outcome = cache.handle_postback(&q, &body).await.unwrap();
    assert_eq!(outcome, NotificationOutcome::Refreshed { login: a.clone() });
    assert_eq!(
        cache.profile(&a).unwrap().unwrap().xml,
        admin.profile(&a).unwrap().xml
    );
    // A repeat is harmless.
    assert_eq!(cache.handle_postback(&q, &body).await.unwrap(), outcome);

    // Itinerary: recorded once, passed to the listener once.
    admin
        .add_itinerary_event(&b, NotificationEventType::Cancel, Some("Kq3xT9"))
        .unwrap();
    let (q, body) = backend.next().await;
    let outcome = cache.handle_postback(&q, &body).await.unwrap();
    let NotificationOutcome::Itinerary { event, new: true } = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(event.trip_id, "Kq3xT9");
    assert_eq!(event.event_type, "CANCEL");
    assert_eq!(event.login.as_deref(), Some(b.as_str()));
    assert!(event.event_time.is_some());
    let again = cache.handle_postback(&q, &body).await.unwrap();
    assert!(matches!(
        again,
        NotificationOutcome::Itinerary { new: false, .. }
    ));
    assert_eq!(trips.0.lock().unwrap().len(), 1);
    assert_eq!(cache.itinerary_events(10).unwrap(), vec![event]);

    // Form of payment: stale, fetched by the next sync.
    admin.add_fop_event(&c).unwrap();
    let (q, body) = backend.next().await;
    assert!(q.contains("type=FOP"), "{q}");
    assert_eq!(
        cache.handle_postback(&q, &body).await.unwrap(),
        NotificationOutcome::MarkedStale { login: c.clone() }
    );
    assert!(cache.store().summary(&c).unwrap().unwrap().stale);
    let report = cache.sync(SyncOptions::default(), None).await.unwrap();
    assert!(report.profiles_fetched >= 1);
    assert!(!cache.store().summary(&c).unwrap().unwrap().stale);

    // Offline: a profile notification marks the traveler stale instead.
    admin.mutate(&[&b]).unwrap();
    let (q, body) = backend.next().await;
    sb.stop().await.unwrap();
    assert_eq!(
        cache.handle_postback(&q, &body).await.unwrap(),
        NotificationOutcome::MarkedStale { login: b.clone() }
    );
    assert!(cache.store().summary(&b).unwrap().unwrap().stale);
    sb.restart().await.unwrap();
    cache.sync(SyncOptions::default(), None).await.unwrap();
    assert_eq!(
        cache.profile(&b).unwrap().unwrap().xml,
        admin.profile(&b).unwrap().xml
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_postbacks_are_refused_and_change_nothing() {
    let backend = Backend::start().await;
    let (_sb, _dir, cache) = setup(&backend).await;
    let before = cache.status().unwrap().counts;
    let login = login_for(1);
    for (query, body, field) in [
        (
            "type=expense&userid_type=login&userid_value=x",
            &b""[..],
            "type",
        ),
        ("oauth_token_key=k", b"", "type"),
        ("type=profile&oauth_token_key=k", b"", "userid_value"),
        (
            "type=fop&userid_type=xmlsyncid&userid_value=x",
            b"",
            "userid_type",
        ),
        ("type=itinerary&oauth_token_key=k", b"<html>", "body"),
        (
            "type=itinerary",
            b"<Notification><EventType>CREATE</EventType></Notification>",
            "body",
        ),
    ] {
        match cache.handle_postback(query, body).await {
            Err(Error::InvalidInput { field: f, .. }) => assert_eq!(f, field, "{query}"),
            other => panic!("{query}: {other:?}"),
        }
    }
    assert!(cache.itinerary_events(10).unwrap().is_empty());
    assert_eq!(cache.status().unwrap().counts, before);
    assert!(!cache.store().summary(&login).unwrap().unwrap().stale);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loyalty_update_is_confirmed_by_the_profile_postback_it_causes() {
    let mut backend = Backend::start().await;
    let (_sb, _dir, cache) = setup(&backend).await;
    cache
        .subscribe(SubscriptionScope::Company, NotificationKind::Profile)
        .await
        .unwrap();
    let login = login_for(5);
    let id = cache
        .queue_loyalty_update(
            &login,
            LoyaltyMembership {
                vendor_code: Some("AF".into()),
                vendor_type: Some(LoyaltyVendorType::Air),
                account_no: Some("AF-55".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(cache.flush_updates().await.unwrap().sent, 1);
    let (q, body) = backend.next().await;
    assert!(q.contains("type=profile"));
    cache.handle_postback(&q, &body).await.unwrap();
    assert_eq!(
        cache.update(id).unwrap().unwrap().state,
        UpdateState::Confirmed
    );
}

fn v4(event_type: &str, login: &str) -> String {
    serde_json::json!({
        "id": "5c1e7f2a-0d3b-4d0e-9b1a-6f0c2e9d4a11",
        "correlationId": "c0ffee",
        "eventType": event_type,
        "topic": "public.concur.user.travel.profile",
        "timeStamp": "2026-11-30T17:04:11.123Z",
        "data": {
            "loginId": login,
            "userId": "0f6e7c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b",
            "companyId": "9a8b7c6d-5e4f-3a2b-1c0d-e9f8a7b6c5d4",
            "attributes": ["General.FirstName"]
        }
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v4_events_refresh_and_delete_profiles() {
    let backend = Backend::start().await;
    let (mut sb, _dir, cache) = setup(&backend).await;
    let admin = sb.admin();
    let (a, b) = (login_for(6), login_for(7));

    admin.mutate(&[&a]).unwrap();
    let outcome = cache
        .handle_event(&v4("TravelProfileUpdated", &a))
        .await
        .unwrap();
    assert_eq!(outcome, NotificationOutcome::Refreshed { login: a.clone() });
    assert_eq!(
        cache.profile(&a).unwrap().unwrap().xml,
        admin.profile(&a).unwrap().xml
    );
    assert!(matches!(
        cache
            .handle_event(&v4("TravelProfileCreated", &a))
            .await
            .unwrap(),
        NotificationOutcome::Refreshed { .. }
    ));

    // Deleted: the only way the cache learns of it.
    admin.delete(&[&b]).unwrap();
    let deleted = v4("TravelProfileDeleted", &b);
    assert_eq!(
        cache.handle_event(&deleted).await.unwrap(),
        NotificationOutcome::Removed {
            login: b.clone(),
            existed: true
        }
    );
    assert!(cache.profile(&b).unwrap().is_none());
    assert!(cache.store().summary(&b).unwrap().is_none());
    assert_eq!(
        cache.handle_event(&deleted).await.unwrap(),
        NotificationOutcome::Removed {
            login: b.clone(),
            existed: false
        },
        "at-least-once delivery: a repeat is harmless"
    );

    // Offline: marked stale, fetched by the next sync.
    admin.mutate(&[&a]).unwrap();
    sb.stop().await.unwrap();
    assert_eq!(
        cache
            .handle_event(&v4("TravelProfileUpdated", &a))
            .await
            .unwrap(),
        NotificationOutcome::MarkedStale { login: a.clone() }
    );
    sb.restart().await.unwrap();
    cache.sync(SyncOptions::default(), None).await.unwrap();
    assert_eq!(
        cache.profile(&a).unwrap().unwrap().xml,
        admin.profile(&a).unwrap().xml
    );

    let before = cache.status().unwrap().counts;
    for (json, field) in [
        ("not json".to_owned(), "event"),
        (
            v4("TravelProfileUpdated", &a).replace("travel.profile", "expense.report"),
            "topic",
        ),
        (v4("TravelProfileArchived", &a), "eventType"),
        (
            r#"{"topic":"public.concur.user.travel.profile","eventType":"TravelProfileDeleted"}"#
                .to_owned(),
            "loginId",
        ),
    ] {
        match cache.handle_event(&json).await {
            Err(Error::InvalidInput { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert_eq!(cache.status().unwrap().counts, before, "nothing changed");
}
