//! The token endpoint and token checks on the API.

use crate::common::*;
use profile_cache::sandbox::generate::login_for;
use profile_cache::sandbox::{AuthErrorStyle, ExpiresIn, SandboxConfig};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

#[tokio::test]
async fn password_grant_gives_a_user_token_with_the_documented_fields() {
    let env = Env::new(20).await;
    let c = env.sandbox.credentials();
    assert_eq!(c.token_url, env.url(TOKEN));
    let login = login_for(3);
    let r = env
        .token_request(&[
            ("grant_type", "password"),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret),
            ("username", &login),
            ("password", &c.user_password),
            ("credtype", "password"),
        ])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().contains_key("concur-correlationid"));
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let j: Value = r.json().await.unwrap();
    assert_eq!(j["token_type"], "Bearer");
    assert_eq!(j["expires_in"], 3600);
    assert_eq!(j["geolocation"], env.sandbox.base_url());
    assert!(j["access_token"].as_str().is_some_and(|t| t.len() > 20));
    assert!(j["refresh_token"].as_str().is_some());
    assert!(j["refresh_expires_in"].as_u64().is_some());
    assert!(j["scope"].is_string() && j["id_token"].is_string());
    // A user token reads its own profile without parameters.
    let token = j["access_token"].as_str().unwrap();
    let r = env.get_with(token, PROFILE).await;
    assert_eq!(r.status(), StatusCode::OK);
    let p = profile_cache::xml::parse_profile(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(p.login_id.as_deref(), Some(login.as_str()));
}

#[tokio::test]
async fn client_credentials_and_company_auth_tokens_are_company_tokens() {
    let env = Env::new(20).await;
    let c = env.sandbox.credentials();
    let j = env
        .token_json(&[
            ("grant_type", "client_credentials"),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret),
        ])
        .await;
    assert!(
        j.get("refresh_token").is_none(),
        "no refresh token for client_credentials"
    );
    let j = env
        .token_json(&[
            ("grant_type", "password"),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret),
            ("username", "company"),
            ("password", &c.company_auth_token),
            ("credtype", "authtoken"),
        ])
        .await;
    assert!(j["refresh_token"].is_string());
    for token in [
        env.token.clone(),
        j["access_token"].as_str().unwrap().to_owned(),
    ] {
        let r = env
            .get_with(&token, &format!("{SUMMARY}?{EVERYTHING}"))
            .await;
        assert_eq!(r.status(), StatusCode::OK, "company tokens read the feed");
        let r = env.get_with(&token, PROFILE).await;
        assert_eq!(
            r.status(),
            StatusCode::BAD_REQUEST,
            "company tokens must name the user"
        );
    }
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token_and_bad_ones_get_code_108() {
    let env = Env::new(5).await;
    let c = env.sandbox.credentials();
    let (_, rt) = env.user_tokens(&login_for(1)).await;
    let refresh = |rt: String, id: String, secret: String| {
        let env = &env;
        async move {
            env.token_request(&[
                ("grant_type", "refresh_token"),
                ("client_id", &id),
                ("client_secret", &secret),
                ("refresh_token", &rt),
            ])
            .await
        }
    };
    let r = refresh(rt.clone(), c.client_id.clone(), c.client_secret.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let j: Value = r.json().await.unwrap();
    let new_rt = j["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(new_rt, rt, "rotated");
    assert_eq!(j["geolocation"], env.sandbox.base_url());
    let at = j["access_token"].as_str().unwrap();
    assert_eq!(
        env.get_with(at, PROFILE).await.status(),
        StatusCode::OK,
        "still the same user"
    );
    for bad in [rt, "sbx-rt-nonsense".to_owned()] {
        let r = refresh(bad, c.client_id.clone(), c.client_secret.clone()).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let j: Value = r.json().await.unwrap();
        assert_eq!(
            (j["error"].as_str(), j["code"].as_u64()),
            (Some("invalid_grant"), Some(108))
        );
        assert!(j["error_description"].is_string());
    }
    env.sandbox.admin().revoke_refresh_tokens();
    let r = refresh(new_rt, c.client_id.clone(), c.client_secret.clone()).await;
    let j: Value = r.json().await.unwrap();
    assert_eq!(j["code"], 108);
}

/// A token request's form fields.
type Form<'a> = Vec<(&'a str, &'a str)>;

#[tokio::test]
async fn bad_grants_get_the_documented_json_errors() {
    let env = Env::new(5).await;
    let c = env.sandbox.credentials();
    let user = login_for(2);
    let cases: Vec<(Form, u16, &str, u64)> = vec![
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", &c.client_id),
                ("client_secret", "wrong"),
            ],
            401,
            "invalid_client",
            100,
        ),
        (
            vec![("grant_type", "client_credentials")],
            400,
            "invalid_request",
            102,
        ),
        (
            vec![
                ("grant_type", "magic"),
                ("client_id", &c.client_id),
                ("client_secret", &c.client_secret),
            ],
            400,
            "unsupported_grant_type",
            101,
        ),
        (
            vec![
                ("client_id", &c.client_id),
                ("client_secret", &c.client_secret),
            ],
            400,
            "invalid_request",
            102,
        ),
        (
            vec![
                ("grant_type", "password"),
                ("client_id", &c.client_id),
                ("client_secret", &c.client_secret),
                ("username", &user),
                ("password", "nope"),
            ],
            400,
            "invalid_grant",
            104,
        ),
        (
            vec![
                ("grant_type", "password"),
                ("client_id", &c.client_id),
                ("client_secret", &c.client_secret),
                ("username", "ghost@nowhere.example"),
                ("password", &c.user_password),
            ],
            400,
            "invalid_grant",
            104,
        ),
        (
            vec![
                ("grant_type", "password"),
                ("client_id", &c.client_id),
                ("client_secret", &c.client_secret),
                ("username", "x"),
                ("password", "bad"),
                ("credtype", "authtoken"),
            ],
            400,
            "invalid_grant",
            106,
        ),
    ];
    for (form, status, error, code) in cases {
        let r = env.token_request(&form).await;
        assert_eq!(r.status().as_u16(), status, "{form:?}");
        assert!(r.headers().contains_key("concur-correlationid"));
        let j: Value = r.json().await.unwrap();
        assert_eq!(j["error"], error, "{form:?}");
        assert_eq!(j["code"], code, "{form:?}");
        assert!(j["error_description"].is_string());
    }
}

#[tokio::test]
async fn missing_bad_and_expired_tokens_get_401_and_403() {
    let env = Env::new(5).await;
    let url = env.url(&format!("{SUMMARY}?{EVERYTHING}"));
    let r = env.http.get(&url).send().await.unwrap();
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    assert!(
        error_message(r, StatusCode::UNAUTHORIZED)
            .await
            .contains("Bearer")
    );
    let r = env
        .http
        .get(&url)
        .header("Authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = env
        .http
        .get(&url)
        .bearer_auth("made-up")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_message(r, StatusCode::FORBIDDEN).await,
        "Invalid token"
    );
    // The reference pages' `OAuth` scheme is accepted too.
    let r = env
        .http
        .get(&url)
        .header("Authorization", format!("OAuth {}", env.token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    env.sandbox.admin().expire_tokens();
    let r = env.get(&format!("{SUMMARY}?{EVERYTHING}")).await;
    assert_eq!(
        error_message(r, StatusCode::FORBIDDEN).await,
        "Token expired"
    );
}

#[tokio::test]
async fn token_lifetime_and_expires_in_style_are_configurable() {
    let mut cfg = SandboxConfig::new(5, 1).with_token_lifetime("1s").unwrap();
    cfg.expires_in = ExpiresIn::String;
    cfg.auth_errors = AuthErrorStyle::Empty;
    let env = Env::with(cfg).await;
    let c = env.sandbox.credentials();
    let j = env
        .token_json(&[
            ("grant_type", "client_credentials"),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret),
        ])
        .await;
    assert_eq!(j["expires_in"], "1");
    let at = j["access_token"].as_str().unwrap();
    assert_eq!(
        env.get_with(at, &format!("{SUMMARY}?{EVERYTHING}"))
            .await
            .status(),
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = env.get_with(at, &format!("{SUMMARY}?{EVERYTHING}")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(text(r).await.is_empty(), "empty-body style");
}

#[tokio::test]
async fn expire_tokens_fault_expires_every_token_after_n_requests() {
    let env = Env::with(
        SandboxConfig::new(5, 1)
            .with_fault("any:expire-tokens=3")
            .unwrap(),
    )
    .await;
    let (at, rt) = env.user_tokens(&login_for(0)).await;
    for _ in 0..3 {
        assert_eq!(env.get_with(&at, PROFILE).await.status(), StatusCode::OK);
    }
    let r = env.get_with(&at, PROFILE).await;
    assert_eq!(
        error_message(r, StatusCode::FORBIDDEN).await,
        "Token expired"
    );
    // Refreshing gives a new token that again lasts three requests.
    let c = env.sandbox.credentials();
    let j = env
        .token_json(&[
            ("grant_type", "refresh_token"),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret),
            ("refresh_token", &rt),
        ])
        .await;
    let at = j["access_token"].as_str().unwrap();
    for _ in 0..3 {
        assert_eq!(env.get_with(at, PROFILE).await.status(), StatusCode::OK);
    }
    assert_eq!(
        env.get_with(at, PROFILE).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_static_token_never_expires() {
    let env = Env::with(SandboxConfig::new(5, 1).with_static_token("bench-token")).await;
    assert_eq!(
        env.sandbox.credentials().static_token.as_deref(),
        Some("bench-token")
    );
    env.sandbox.admin().expire_tokens();
    let r = env
        .get_with(
            "bench-token",
            &format!("{PROFILE}?userid_type=login&userid_value={}", login_for(1)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}
