//! The admin surface (HTTP and Rust), request counts, determinism, and start-up at
//! 100,000 travelers.

use crate::common::*;
use profile_cache::sandbox::generate::login_for;
use profile_cache::sandbox::{Endpoint, Sandbox, SandboxConfig};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Instant;

#[tokio::test]
async fn http_admin_changes_travelers_and_shows_the_server_view() {
    let env = Env::new(30).await;
    let (status, info) = env.admin_json(Method::GET, "/info", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (info["profiles"].as_u64(), info["seed"].as_u64()),
        (Some(30), Some(42))
    );
    assert_eq!(info["base_url"], env.sandbox.base_url());

    let (status, v) = env
        .admin_json(Method::POST, "/mutate", Some(json!({"count": 4})))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["changed"].as_array().unwrap().len(), 4);
    let (a, b) = (login_for(1), login_for(2));
    let (_, v) = env
        .admin_json(Method::POST, "/mutate", Some(json!({"logins": [a]})))
        .await;
    assert_eq!(v["changed"], json!([a]));
    let (status, _) = env
        .admin_json(
            Method::POST,
            "/mutate",
            Some(json!({"logins": ["ghost@x.example"]})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = env
        .admin_json(Method::POST, "/mutate", Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (_, v) = env
        .admin_json(Method::GET, &format!("/profile?login={a}"), None)
        .await;
    assert_eq!(v["login"], a.as_str());
    let served = text(env.profile(&a).await).await;
    assert_eq!(
        v["xml"],
        served.as_str(),
        "the server view is what GET serves"
    );
    assert!(v["last_modified"].is_string() && v["profile"]["general"].is_object());

    env.admin_json(Method::POST, "/deactivate", Some(json!({"logins": [b]})))
        .await;
    let (_, v) = env
        .admin_json(Method::GET, &format!("/profile?login={b}"), None)
        .await;
    assert_eq!(v["status"], "Inactive");
    let p =
        profile_cache::xml::parse_profile(text(env.profile(&b).await).await.as_bytes()).unwrap();
    assert_eq!(
        p.status,
        Some(profile_cache::model::ProfileStatus::Inactive),
        "still fetchable"
    );
    env.admin_json(Method::POST, "/reactivate", Some(json!({"logins": [b]})))
        .await;
    let (_, v) = env
        .admin_json(Method::GET, &format!("/profile?login={b}"), None)
        .await;
    assert_eq!(v["status"], "Active");
    let (_, v) = env
        .admin_json(Method::POST, "/delete", Some(json!({"logins": [b]})))
        .await;
    assert_eq!(v["changed"], json!([b]));
    let (status, _) = env
        .admin_json(Method::GET, &format!("/profile?login={b}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, all) = env.admin_json(Method::GET, "/summaries", None).await;
    assert_eq!(all.as_array().unwrap().len(), 29);

    let (status, v) = env
        .admin_json(
            Method::POST,
            "/itinerary",
            Some(json!({"login": a, "event_type": "CANCEL", "trip_id": "T1"})),
        )
        .await;
    assert_eq!(
        (status, v["trip_id"].as_str(), v["event_type"].as_str()),
        (StatusCode::OK, Some("T1"), Some("CANCEL"))
    );
    let (status, _) = env
        .admin_json(
            Method::POST,
            "/itinerary",
            Some(json!({"login": a, "event_type": "EXPLODE"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = env
        .admin_json(Method::POST, "/fop", Some(json!({"login": a})))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = env
        .admin_json(Method::PUT, "/postback", Some(json!({"url": "ftp://nope"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = env.admin_json(Method::GET, "/nothing-here", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let r = env
        .http
        .post(env.url("/_sandbox/mutate"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers().contains_key("concur-correlationid"));

    let (_, v) = env
        .admin_json(Method::POST, "/tokens", Some(json!({"login": a})))
        .await;
    let user_token = v["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        env.get_with(&user_token, PROFILE).await.status(),
        StatusCode::OK
    );
    env.admin_json(Method::POST, "/tokens/expire", None).await;
    assert_eq!(
        env.get_with(&user_token, PROFILE).await.status(),
        StatusCode::FORBIDDEN
    );
    let (status, _) = env.admin_json(Method::POST, "/warm-up", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn request_counts_per_endpoint() {
    let env = Env::new(10).await;
    let admin = env.sandbox.admin();
    assert_eq!(
        admin.request_counts().get(Endpoint::Token),
        1,
        "the env's own token"
    );
    admin.reset_request_counts();
    for _ in 0..3 {
        env.get(&format!("{SUMMARY}?{EVERYTHING}")).await;
    }
    env.profile(&login_for(1)).await;
    env.profile(&login_for(2)).await;
    env.post(PROFILE, "<x/>".into()).await;
    env.post(LOYALTY, "<x/>".into()).await;
    env.http
        .post(env.url("/api/company/v1.0/subscribe?type=profile"))
        .bearer_auth(&env.token)
        .send()
        .await
        .unwrap();
    env.get("/api/nowhere").await;
    env.admin_json(Method::GET, "/info", None).await;
    let c = admin.request_counts();
    assert_eq!(
        [
            Endpoint::Token,
            Endpoint::Summary,
            Endpoint::ProfileGet,
            Endpoint::ProfilePost,
            Endpoint::Loyalty,
            Endpoint::Subscribe,
            Endpoint::Other
        ]
        .map(|e| c.get(e)),
        [0, 3, 2, 1, 1, 1, 1]
    );
    assert_eq!(c.total, 9, "admin requests are not counted");
    let (_, v) = env.admin_json(Method::GET, "/counts", None).await;
    assert_eq!(v["requests"]["summary"], 3);
    env.admin_json(Method::POST, "/counts/reset", None).await;
    assert_eq!(admin.request_counts().total, 0);
}

#[tokio::test]
async fn every_response_has_a_correlation_id() {
    let env = Env::with(
        SandboxConfig::new(5, 1)
            .with_fault("profile:500@nth=2")
            .unwrap(),
    )
    .await;
    let mut ids = std::collections::HashSet::new();
    let responses = vec![
        env.profile(&login_for(1)).await,
        env.profile(&login_for(1)).await, // faulted
        env.get(&format!("{SUMMARY}?")).await,
        env.http.get(env.url(PROFILE)).send().await.unwrap(),
        env.get("/nowhere").await,
        env.http
            .get(env.url("/_sandbox/info"))
            .send()
            .await
            .unwrap(),
    ];
    for r in responses {
        let id = r.headers()["concur-correlationid"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(id.len(), 36, "{id}");
        ids.insert(id);
    }
    assert_eq!(ids.len(), 6, "distinct ids");
}

#[tokio::test]
async fn the_same_seed_gives_the_same_data() {
    let a = Env::new(200).await;
    let b = Env::new(200).await;
    let c = Env::with(SandboxConfig::new(200, 7)).await;
    assert_eq!(a.sandbox.admin().summaries(), b.sandbox.admin().summaries());
    assert_ne!(a.sandbox.admin().summaries(), c.sandbox.admin().summaries());
    for i in [0, 17, 199] {
        let (x, y, z) = (
            text(a.profile(&login_for(i)).await).await,
            text(b.profile(&login_for(i)).await).await,
            text(c.profile(&login_for(i)).await).await,
        );
        assert_eq!(x, y);
        assert_ne!(x, z);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_with_100_000_profiles_quickly() {
    let t = Instant::now();
    let sandbox = Sandbox::start(SandboxConfig::new(100_000, 42))
        .await
        .unwrap();
    let started = t.elapsed();
    println!("sandbox with 100,000 profiles started in {started:?}");
    assert!(started.as_secs() < 10, "{started:?}");
    assert_eq!(sandbox.admin().info().profiles, 100_000);
    let http = client();
    let token = sandbox.admin().issue_token(None).unwrap();
    let r = http
        .get(format!(
            "{}{SUMMARY}?{EVERYTHING}&Page=500",
            sandbox.base_url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let page = profile_cache::xml::parse_summary_page(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(page.summaries.len(), 200);
    assert_eq!(page.paging.unwrap().total_pages, Some(500));
    let r = http
        .get(format!(
            "{}{PROFILE}?userid_type=login&userid_value={}",
            sandbox.base_url(),
            login_for(99_999)
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
