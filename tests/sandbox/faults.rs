//! Every fault through real HTTP: statuses, Retry-After, schedules and rates, latency,
//! dropped, stalled and truncated responses, malformed XML, the down switch, and stopping
//! and restarting the server on the same port.

use crate::common::*;
use profile_cache::sandbox::generate::login_for;
use profile_cache::sandbox::{Endpoint, Fault, FaultAction, Latency, SandboxConfig, Trigger};
use profile_cache::xml::parse_profile;
use reqwest::StatusCode;
use std::time::{Duration, Instant};

#[tokio::test]
async fn error_statuses_with_and_without_retry_after() {
    let env = Env::new(5).await;
    let admin = env.sandbox.admin();
    let summary = format!("{SUMMARY}?{EVERYTHING}");
    for (spec, code, retry) in [
        ("summary:500", 500, None),
        ("summary:502", 502, None),
        ("summary:503,retry-after=120", 503, Some("120")),
        ("summary:429", 429, None),
        ("summary:429,retry-after=2", 429, Some("2")),
    ] {
        admin.clear_faults();
        admin.add_fault_spec(spec).unwrap();
        let r = env.get(&summary).await;
        assert_eq!(r.status().as_u16(), code, "{spec}");
        assert_eq!(
            r.headers().get("retry-after").map(|v| v.to_str().unwrap()),
            retry,
            "{spec}"
        );
        assert!(r.headers().contains_key("concur-correlationid"));
        error_message(r, StatusCode::from_u16(code).unwrap()).await;
    }
    admin.clear_faults();
    assert_eq!(env.get(&summary).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn faults_hit_only_their_endpoint() {
    let env = Env::new(5).await;
    env.sandbox.admin().add_fault_spec("token:503").unwrap();
    let c = env.sandbox.credentials();
    let r = env
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret),
        ])
        .await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        env.get(&format!("{SUMMARY}?{EVERYTHING}")).await.status(),
        StatusCode::OK
    );
    assert_eq!(env.profile(&login_for(1)).await.status(), StatusCode::OK);
}

async fn statuses(env: &Env, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(env.profile(&login_for(1)).await.status().as_u16());
    }
    out
}

#[tokio::test]
async fn schedules_fire_on_the_requests_they_name() {
    let env = Env::new(5).await;
    let admin = env.sandbox.admin();
    for (spec, want) in [
        ("profile:500@every=3", vec![200, 200, 500, 200, 200, 500]),
        ("profile:502@next=2", vec![502, 502, 200, 200]),
        ("profile:503@nth=2,4", vec![200, 503, 200, 503, 200]),
        ("profile:429@after=3", vec![200, 200, 200, 429, 429]),
    ] {
        admin.clear_faults();
        admin.add_fault_spec(spec).unwrap();
        assert_eq!(statuses(&env, want.len()).await, want, "{spec}");
        let f = &admin.faults()[0];
        assert_eq!(f.seen, want.len() as u64);
        assert_eq!(f.fired, want.iter().filter(|s| **s != 200).count() as u64);
    }
}

#[tokio::test]
async fn rates_are_reproducible_with_the_same_seed() {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let env = Env::with(
            SandboxConfig::new(5, 9)
                .with_fault("profile:500@rate=0.3")
                .unwrap(),
        )
        .await;
        runs.push(statuses(&env, 60).await);
    }
    assert_eq!(runs[0], runs[1]);
    let errors = runs[0].iter().filter(|s| **s == 500).count();
    assert!((6..=35).contains(&errors), "{errors} of 60");
}

#[tokio::test]
async fn latency_fixed_random_and_set_at_run_time() {
    let env = Env::with(SandboxConfig::new(5, 1).with_latency("300").unwrap()).await;
    let t = Instant::now();
    assert_eq!(env.profile(&login_for(1)).await.status(), StatusCode::OK);
    assert!(t.elapsed() >= Duration::from_millis(300));
    let admin = env.sandbox.admin();
    admin.set_latency(None);
    admin.add_fault(Fault::new(
        Some(Endpoint::ProfileGet),
        FaultAction::Latency(Latency::Range(
            Duration::from_millis(50),
            Duration::from_millis(80),
        )),
    ));
    let t = Instant::now();
    env.profile(&login_for(1)).await;
    let e = t.elapsed();
    assert!(e >= Duration::from_millis(50), "{e:?}");
    admin.clear_faults();
    let t = Instant::now();
    env.profile(&login_for(1)).await;
    assert!(t.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn a_dropped_connection_gives_no_response() {
    let env = Env::new(5).await;
    env.sandbox
        .admin()
        .add_fault_spec("profile:drop@next=1")
        .unwrap();
    let err = env
        .http
        .get(env.url(&format!(
            "{PROFILE}?userid_type=login&userid_value={}",
            login_for(1)
        )))
        .bearer_auth(&env.token)
        .send()
        .await
        .expect_err("no response");
    assert!(
        err.is_request() && !err.is_timeout() && err.status().is_none(),
        "{err:?}"
    );
    assert_eq!(
        env.profile(&login_for(1)).await.status(),
        StatusCode::OK,
        "next one is fine"
    );
}

#[tokio::test]
async fn a_stalled_response_makes_the_client_time_out() {
    let env = Env::new(5).await;
    env.sandbox
        .admin()
        .add_fault_spec("summary:stall=3s@next=1")
        .unwrap();
    let t = Instant::now();
    let err = env
        .http
        .get(env.url(&format!("{SUMMARY}?{EVERYTHING}")))
        .bearer_auth(&env.token)
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .expect_err("times out");
    assert!(err.is_timeout(), "{err:?}");
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_truncated_body_fails_while_reading() {
    let env = Env::new(5).await;
    env.sandbox
        .admin()
        .add_fault_spec("profile:truncate@next=1")
        .unwrap();
    let r = env.profile(&login_for(1)).await;
    assert_eq!(r.status(), StatusCode::OK, "headers arrive");
    let announced = r.content_length().unwrap();
    assert!(announced > 1000);
    let err = r.bytes().await.expect_err("body cut short");
    assert!(err.is_body() || err.is_decode(), "{err:?}");
    env.sandbox
        .admin()
        .add_fault_spec("summary:truncate=10@next=1")
        .unwrap();
    let r = env.get(&format!("{SUMMARY}?{EVERYTHING}")).await;
    assert!(r.bytes().await.is_err());
    assert_eq!(
        env.profile(&login_for(1))
            .await
            .bytes()
            .await
            .unwrap()
            .len() as u64,
        announced
    );
}

#[tokio::test]
async fn malformed_xml_for_chosen_travelers_only() {
    let (bad, good) = (login_for(1), login_for(2));
    let cfg = SandboxConfig::new(5, 1)
        .with_fault(&format!("profile:malformed=tag,login={bad}"))
        .unwrap();
    let env = Env::with(cfg).await;
    let r = env.profile(&bad).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.bytes().await.unwrap();
    assert!(parse_profile(&body).is_err(), "broken tag");
    assert!(parse_profile(&env.profile(&good).await.bytes().await.unwrap()).is_ok());
    let admin = env.sandbox.admin();
    admin.clear_faults();
    admin
        .add_fault_spec(&format!("profile:malformed=cut,login={good}@next=1"))
        .unwrap();
    let cut = env.profile(&good).await.bytes().await.unwrap();
    assert!(parse_profile(&cut).is_err(), "cut document");
    assert!(cut.len() < admin.profile(&good).unwrap().xml.len());
    assert!(
        parse_profile(&env.profile(&good).await.bytes().await.unwrap()).is_ok(),
        "only the next one"
    );
    admin.add_fault_spec("summary:malformed").unwrap();
    let s = env
        .get(&format!("{SUMMARY}?{EVERYTHING}"))
        .await
        .bytes()
        .await
        .unwrap();
    assert!(profile_cache::xml::parse_summary_page(&s).is_err());
}

#[tokio::test]
async fn the_down_switch_drops_api_requests_but_not_the_admin_surface() {
    let env = Env::new(5).await;
    let admin = env.sandbox.admin();
    admin.set_down(true);
    assert!(
        env.http
            .get(env.url(&format!("{SUMMARY}?{EVERYTHING}")))
            .bearer_auth(&env.token)
            .send()
            .await
            .is_err()
    );
    let (status, info) = env.admin_json(reqwest::Method::GET, "/info", None).await;
    assert_eq!(
        (status, info["down"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    let (status, _) = env
        .admin_json(
            reqwest::Method::PUT,
            "/down",
            Some(serde_json::json!({"down": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        env.get(&format!("{SUMMARY}?{EVERYTHING}")).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn stop_refuses_connections_and_restart_serves_the_same_data_on_the_same_port() {
    let mut env = Env::new(20).await;
    let admin = env.sandbox.admin();
    let changed = admin.mutate_random(3);
    let before = admin.summaries();
    let url = env.url(&format!("{SUMMARY}?{EVERYTHING}"));
    env.sandbox.stop().await.unwrap();
    assert!(!env.sandbox.is_running());
    let err = env
        .http
        .get(&url)
        .bearer_auth(&env.token)
        .send()
        .await
        .expect_err("refused");
    assert!(err.is_connect(), "{err:?}");
    assert!(env.sandbox.stop().await.is_err(), "already stopped");
    env.sandbox.restart().await.unwrap();
    let all = crawl(&env, &format!("{SUMMARY}?{EVERYTHING}")).await;
    assert_eq!(all, before, "same data, same token, same port");
    assert!(
        changed
            .iter()
            .all(|l| all.iter().any(|s| s.login_id.as_ref() == Some(l)))
    );
    assert!(env.sandbox.restart().await.is_err(), "already running");
}

#[tokio::test]
async fn faults_given_as_config_and_over_the_admin_surface() {
    let cfg = SandboxConfig::new(5, 1)
        .with_fault("summary:503@next=1")
        .unwrap();
    let env = Env::with(cfg).await;
    assert_eq!(
        env.get(&format!("{SUMMARY}?{EVERYTHING}")).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        env.get(&format!("{SUMMARY}?{EVERYTHING}")).await.status(),
        StatusCode::OK
    );
    let (status, list) = env
        .admin_json(
            reqwest::Method::POST,
            "/faults",
            Some(serde_json::json!({"faults": ["profile:500@every=2", "any:latency=1"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert_eq!(list[1]["fault"], "profile:500@every=2");
    let (status, err) = env
        .admin_json(
            reqwest::Method::POST,
            "/faults",
            Some(serde_json::json!({"fault": "profile:bogus"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["error"].as_str().unwrap().contains("profile:bogus"));
    assert_eq!(statuses(&env, 2).await, [200, 500]);
    let (_, list) = env.admin_json(reqwest::Method::GET, "/faults", None).await;
    assert_eq!(
        (list[1]["seen"].as_u64(), list[1]["fired"].as_u64()),
        (Some(2), Some(1))
    );
    env.admin_json(reqwest::Method::DELETE, "/faults", None)
        .await;
    assert!(env.sandbox.admin().faults().is_empty());
    let (status, v) = env
        .admin_json(
            reqwest::Method::PUT,
            "/latency",
            Some(serde_json::json!({"latency": "5-10"})),
        )
        .await;
    assert_eq!(
        (status, v["latency"].as_str()),
        (StatusCode::OK, Some("5-10"))
    );
    assert_eq!(
        env.sandbox.admin().latency(),
        Some(Latency::Range(
            Duration::from_millis(5),
            Duration::from_millis(10)
        ))
    );
    let t = Fault::new(None, FaultAction::Drop).when(Trigger::Next(1));
    assert_eq!(t.to_string(), "any:drop@next=1");
}
