//! Helpers shared by the sandbox tests: starting a sandbox, getting tokens, calling the
//! API, and a tiny postback receiver.

#![allow(dead_code)]

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use profile_cache::sandbox::{Sandbox, SandboxConfig};
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const SUMMARY: &str = "/api/travelprofile/v2.0/summary";
pub const PROFILE: &str = "/api/travelprofile/v2.0/profile";
pub const LOYALTY: &str = "/api/travelprofile/v1.0/loyalty";
pub const TOKEN: &str = "/oauth2/v0/token";
pub const EVERYTHING: &str = "LastModifiedDate=1900-01-01T00:00:00";

pub fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A started sandbox with a client and a company token.
pub struct Env {
    pub sandbox: Sandbox,
    pub http: Client,
    pub token: String,
}

impl Env {
    pub async fn new(profiles: u64) -> Env {
        Env::with(SandboxConfig::new(profiles, 42)).await
    }

    pub async fn with(config: SandboxConfig) -> Env {
        let sandbox = Sandbox::start(config).await.expect("sandbox starts");
        let http = client();
        let mut env = Env {
            sandbox,
            http,
            token: String::new(),
        };
        env.token = env.company_token().await;
        env
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.sandbox.base_url(), path_and_query)
    }

    pub async fn token_request(&self, form: &[(&str, &str)]) -> Response {
        self.http
            .post(self.url(TOKEN))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn token_json(&self, form: &[(&str, &str)]) -> Value {
        let r = self.token_request(form).await;
        assert_eq!(r.status(), StatusCode::OK, "token request");
        r.json().await.unwrap()
    }

    /// A company token (client_credentials grant).
    pub async fn company_token(&self) -> String {
        let c = self.sandbox.credentials();
        let j = self
            .token_json(&[
                ("grant_type", "client_credentials"),
                ("client_id", &c.client_id),
                ("client_secret", &c.client_secret),
            ])
            .await;
        j["access_token"].as_str().unwrap().to_owned()
    }

    /// A user token (password grant) for `login`: (access, refresh).
    pub async fn user_tokens(&self, login: &str) -> (String, String) {
        let c = self.sandbox.credentials();
        let j = self
            .token_json(&[
                ("grant_type", "password"),
                ("client_id", &c.client_id),
                ("client_secret", &c.client_secret),
                ("username", login),
                ("password", &c.user_password),
                ("credtype", "password"),
            ])
            .await;
        (
            j["access_token"].as_str().unwrap().to_owned(),
            j["refresh_token"].as_str().unwrap().to_owned(),
        )
    }

    pub async fn get_with(&self, token: &str, path_and_query: &str) -> Response {
        self.http
            .get(self.url(path_and_query))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path_and_query: &str) -> Response {
        self.get_with(&self.token, path_and_query).await
    }

    pub async fn post_with(&self, token: &str, path_and_query: &str, body: String) -> Response {
        self.http
            .post(self.url(path_and_query))
            .bearer_auth(token)
            .header("Content-Type", "application/xml")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, path_and_query: &str, body: String) -> Response {
        self.post_with(&self.token, path_and_query, body).await
    }

    pub async fn admin_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, self.url(&format!("/_sandbox{path}")));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A profile GET by login (company token).
    pub async fn profile(&self, login: &str) -> Response {
        self.get(&format!("{PROFILE}?userid_type=login&userid_value={login}"))
            .await
    }
}

pub async fn text(r: Response) -> String {
    r.text().await.unwrap()
}

/// Asserts an XML `Error` body and returns its message.
pub async fn error_message(r: Response, status: StatusCode) -> String {
    assert_eq!(r.status(), status);
    let body = r.bytes().await.unwrap();
    let e = profile_cache::xml::parse_error(&body).expect("an Error body");
    assert!(e.id.is_some() && e.server_time.is_some());
    e.message.unwrap_or_default()
}

/// One postback as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub query: String,
    pub body: String,
}

impl Received {
    pub fn param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|p| {
            let (k, v) = p.split_once('=')?;
            (k == name).then(|| v.replace("%40", "@"))
        })
    }
}

/// A tiny HTTP server that records every POST it gets.
pub struct Receiver {
    pub url: String,
    pub got: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Log = Arc<Mutex<Vec<Received>>>;

async fn record(State(log): State<Log>, RawQuery(q): RawQuery, body: Bytes) -> &'static str {
    log.lock().unwrap().push(Received {
        query: q.unwrap_or_default(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    "ok"
}

impl Receiver {
    pub async fn start() -> Receiver {
        let got: Log = Arc::default();
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(record))
            .with_state(got.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { url, got, task }
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

/// All summaries of a crawl that follows NextPageURL from page 1.
pub async fn crawl(env: &Env, first: &str) -> Vec<profile_cache::model::ProfileSummary> {
    let mut url = env.url(first);
    let mut out = Vec::new();
    for _ in 0..10_000 {
        let r = env
            .http
            .get(&url)
            .bearer_auth(&env.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let page = profile_cache::xml::parse_summary_page(&r.bytes().await.unwrap()).unwrap();
        out.extend(page.summaries);
        match page.paging.and_then(|p| p.next_page_url) {
            Some(next) => url = next,
            None => return out,
        }
    }
    panic!("crawl did not end");
}
