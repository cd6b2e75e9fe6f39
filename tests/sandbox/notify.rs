//! Subscriptions and postbacks, delivered to a tiny receiver.

use crate::common::*;
use profile_cache::model::{
    LoyaltyMembership, LoyaltyUpdate, LoyaltyVendorType, NotificationEventType,
};
use profile_cache::sandbox::generate::login_for;
use profile_cache::sandbox::{NotifyType, SandboxConfig, Scope};
use reqwest::StatusCode;
use std::time::Duration;

const COMPANY: &str = "/api/company/v1.0";
const USER: &str = "/api/travelprofile/v1.0";

async fn post_empty(env: &Env, token: &str, path: &str) -> reqwest::Response {
    env.http
        .post(env.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn subscribe_and_unsubscribe_answer_200_and_check_their_input() {
    let env = Env::new(5).await;
    for t in ["profile", "itinerary", "fop", "FOP"] {
        let r = post_empty(&env, &env.token, &format!("{COMPANY}/subscribe?type={t}")).await;
        assert_eq!(r.status(), StatusCode::OK, "{t}");
        assert!(r.headers().contains_key("concur-correlationid"));
    }
    let subs = env.sandbox.admin().subscriptions();
    assert_eq!(subs.company.len(), 3);
    let r = post_empty(
        &env,
        &env.token,
        &format!("{COMPANY}/unsubscribe?type=itinerary"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        !env.sandbox
            .admin()
            .subscriptions()
            .company
            .contains(&NotifyType::Itinerary)
    );
    let r = post_empty(
        &env,
        &env.token,
        &format!("{COMPANY}/unsubscribe?type=itinerary"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK, "unsubscribing twice is fine");

    for bad in ["?type=expense", "", "?type="] {
        let r = post_empty(&env, &env.token, &format!("{COMPANY}/subscribe{bad}")).await;
        error_message(r, StatusCode::BAD_REQUEST).await;
    }
    let (at, _) = env.user_tokens(&login_for(1)).await;
    let r = post_empty(&env, &at, &format!("{USER}/subscribe?type=profile")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        env.sandbox.admin().subscriptions().users[&login_for(1)].contains(&NotifyType::Profile)
    );
    let r = post_empty(&env, &at, &format!("{COMPANY}/subscribe?type=profile")).await;
    error_message(r, StatusCode::FORBIDDEN).await;
    let r = post_empty(&env, &env.token, &format!("{USER}/subscribe?type=profile")).await;
    error_message(r, StatusCode::FORBIDDEN).await;
    let r = env
        .http
        .post(env.url(&format!("{USER}/subscribe?type=profile")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

async fn wait_for(rx: &Receiver, n: usize) -> Vec<Received> {
    for _ in 0..200 {
        let got = rx.received();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    rx.received()
}

#[tokio::test]
async fn company_subscriptions_post_every_event_with_the_documented_parameters() {
    let rx = Receiver::start().await;
    let env = Env::with(SandboxConfig::new(20, 42).with_postback_url(&rx.url)).await;
    for t in ["profile", "itinerary", "fop"] {
        post_empty(&env, &env.token, &format!("{COMPANY}/subscribe?type={t}")).await;
    }
    let admin = env.sandbox.admin();
    let key = admin.token_key(None);
    let (a, b, c) = (login_for(1), login_for(2), login_for(3));
    admin.mutate(&[&a]).unwrap();
    let n = admin
        .add_itinerary_event(&b, NotificationEventType::Update, Some("Kq3xT9"))
        .unwrap();
    admin.add_fop_event(&c).unwrap();
    // A loyalty update through the API notifies too.
    let update = profile_cache::xml::write_loyalty_update(&LoyaltyUpdate {
        memberships: vec![LoyaltyMembership {
            vendor_code: Some("UA".into()),
            vendor_type: Some(LoyaltyVendorType::Air),
            account_no: Some("UA-1".into()),
            ..Default::default()
        }],
    });
    let r = env
        .post(
            &format!("{LOYALTY}?userid_type=login&userid_value={c}"),
            update,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(admin.flush_postbacks(Duration::from_secs(5)).await);
    let got = wait_for(&rx, 4).await;
    assert_eq!(got.len(), 4, "{got:?}");

    assert_eq!(got[0].param("type").as_deref(), Some("profile"));
    assert_eq!(got[0].param("oauth_token_key"), Some(key.clone()));
    assert_eq!(got[0].param("userid_type").as_deref(), Some("login"));
    assert_eq!(got[0].param("userid_value"), Some(a.clone()));
    assert!(got[0].body.is_empty(), "profile notifications have no body");

    assert_eq!(got[1].param("type").as_deref(), Some("itinerary"));
    assert_eq!(got[1].param("userid_value"), Some(b.clone()));
    let note = profile_cache::xml::parse_notification(got[1].body.as_bytes()).unwrap();
    assert_eq!(note, n);
    assert_eq!(note.trip_id.as_deref(), Some("Kq3xT9"));
    assert_eq!(note.object_type.as_deref(), Some("ITINERARY"));
    assert_eq!(
        note.object_uri.as_deref(),
        Some(format!("{}/api/travel/trip/v1.1/Kq3xT9", env.sandbox.base_url()).as_str())
    );
    assert_eq!(note.event_type, Some(NotificationEventType::Update));

    assert_eq!(got[2].param("type").as_deref(), Some("FOP"));
    assert_eq!(got[3].param("type").as_deref(), Some("profile"));
    assert_eq!(got[3].param("userid_value"), Some(c.clone()));

    let d = admin.deliveries();
    assert_eq!(d.len(), 4);
    assert!(
        d.iter()
            .all(|d| d.status == Some(200) && d.error.is_none() && d.scope == Scope::Company)
    );
    assert!(d.windows(2).all(|w| w[0].seq < w[1].seq));
}

#[tokio::test]
async fn user_subscriptions_carry_only_type_and_token_key_and_unsubscribe_stops_them() {
    let rx = Receiver::start().await;
    let env = Env::new(10).await;
    env.sandbox.admin().set_postback_url(Some(&rx.url));
    let login = login_for(4);
    let (at, _) = env.user_tokens(&login).await;
    post_empty(&env, &at, &format!("{USER}/subscribe?type=profile")).await;
    let admin = env.sandbox.admin();
    admin.mutate(&[&login]).unwrap();
    admin.mutate(&[&login_for(5)]).unwrap(); // not subscribed
    // A profile update through the API notifies too.
    let doc = format!(
        r#"<ProfileResponse Action="Update" LoginId="{login}"><General><JobTitle>New</JobTitle></General></ProfileResponse>"#
    );
    assert_eq!(
        env.post_with(&at, PROFILE, doc).await.status(),
        StatusCode::OK
    );
    assert!(admin.flush_postbacks(Duration::from_secs(5)).await);
    let got = wait_for(&rx, 2).await;
    assert_eq!(got.len(), 2, "{got:?}");
    for g in &got {
        assert_eq!(g.param("type").as_deref(), Some("profile"));
        assert_eq!(
            g.param("oauth_token_key"),
            Some(admin.token_key(Some(&login)))
        );
        assert_eq!(g.param("userid_type"), None);
    }
    post_empty(&env, &at, &format!("{USER}/unsubscribe?type=profile")).await;
    admin.mutate(&[&login]).unwrap();
    assert!(admin.flush_postbacks(Duration::from_secs(5)).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(rx.received().len(), 2);
}

#[tokio::test]
async fn failed_deliveries_are_recorded() {
    let env = Env::new(5).await;
    // Nothing listens on this port once the listener is dropped.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hook", l.local_addr().unwrap())
    };
    let admin = env.sandbox.admin();
    admin.set_postback_url(Some(&dead));
    post_empty(
        &env,
        &env.token,
        &format!("{COMPANY}/subscribe?type=profile"),
    )
    .await;
    admin.mutate_random(2);
    assert!(admin.flush_postbacks(Duration::from_secs(10)).await);
    let d = admin.deliveries();
    assert_eq!(d.len(), 2);
    assert!(
        d.iter()
            .all(|d| d.status.is_none() && d.error.as_deref() == Some("connection failed"))
    );
    // Without a postback URL nothing is sent.
    admin.set_postback_url(None);
    admin.mutate_random(2);
    assert!(admin.flush_postbacks(Duration::from_secs(1)).await);
    assert_eq!(admin.deliveries().len(), 2);
}
