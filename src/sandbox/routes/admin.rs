//! The admin surface under `/_sandbox/` (JSON in, JSON out), a thin layer over
//! [`Admin`]. Not subject to faults, latency or the `down` switch.
//!
//! | method and path | body | does |
//! |---|---|---|
//! | `GET /_sandbox/info` | | base URL, live profiles, seed, clock, down |
//! | `GET /_sandbox/counts` | | requests per endpoint |
//! | `POST /_sandbox/counts/reset` | | zero the counts |
//! | `GET /_sandbox/faults` | | faults with their seen/fired counters |
//! | `POST /_sandbox/faults` | `{"fault": SPEC}` or `{"faults": [SPEC…]}` | add faults |
//! | `DELETE /_sandbox/faults` | | remove every fault |
//! | `PUT /_sandbox/latency` | `{"latency": "20-80"}` or `{"latency": null}` | set latency |
//! | `PUT /_sandbox/down` | `{"down": true}` | the down switch |
//! | `POST /_sandbox/mutate` | `{"count": N}` or `{"logins": [..]}` | change travelers |
//! | `POST /_sandbox/deactivate`, `/reactivate`, `/delete` | `{"logins": [..]}` | |
//! | `POST /_sandbox/itinerary` | `{"login", "event_type"?, "trip_id"?}` | itinerary event |
//! | `POST /_sandbox/fop` | `{"login"}` | form-of-payment event |
//! | `GET /_sandbox/profile?login=…` | | the server's view of a profile |
//! | `GET /_sandbox/summaries` | | the whole feed, in order |
//! | `PUT /_sandbox/postback` | `{"url": "…"}` or `{"url": null}` | postback URL |
//! | `GET /_sandbox/deliveries` | | postbacks attempted |
//! | `GET /_sandbox/subscriptions` | | subscriptions in force |
//! | `POST /_sandbox/tokens` | `{"login"?}` | issue an access token |
//! | `POST /_sandbox/tokens/expire` | | expire every access token |
//! | `POST /_sandbox/warm-up` | | render every profile now |
//!
//! Errors are `{"error": "…"}` with 400 (bad request) or 404 (unknown traveler).

use super::Params;
use crate::model::NotificationEventType;
use crate::sandbox::admin::Admin;
use crate::sandbox::error::SandboxError;
use crate::sandbox::faults::{Fault, Latency};
use crate::sandbox::state::Shared;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::sync::Arc;

type S = State<Arc<Shared>>;

pub(super) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/info", get(info))
        .route("/counts", get(counts))
        .route("/counts/reset", post(reset_counts))
        .route("/faults", get(faults).post(add_faults).delete(clear_faults))
        .route("/latency", put(latency))
        .route("/down", put(down))
        .route("/mutate", post(mutate))
        .route("/deactivate", post(deactivate))
        .route("/reactivate", post(reactivate))
        .route("/delete", post(delete_travelers))
        .route("/itinerary", post(itinerary))
        .route("/fop", post(fop))
        .route("/profile", get(profile))
        .route("/summaries", get(summaries))
        .route("/postback", put(postback))
        .route("/deliveries", get(deliveries))
        .route("/subscriptions", get(subscriptions))
        .route("/tokens", post(token))
        .route("/tokens/expire", post(expire))
        .route("/warm-up", post(warm_up))
        .fallback(not_found)
}

fn admin(sh: &Arc<Shared>) -> Admin {
    Admin::from_shared(sh.clone())
}

fn fail(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

fn from_error(e: SandboxError) -> Response {
    match e {
        SandboxError::UnknownTraveler => fail(StatusCode::NOT_FOUND, e.to_string()),
        other => fail(StatusCode::BAD_REQUEST, other.to_string()),
    }
}

#[allow(clippy::result_large_err)] // the error is the early answer, not a value to inspect
fn body<T: DeserializeOwned + Default>(bytes: &Bytes) -> Result<T, Response> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes)
        .map_err(|e| fail(StatusCode::BAD_REQUEST, format!("bad JSON body: {e}")))
}

fn json_of<T: serde::Serialize>(value: &T) -> Response {
    Json(value).into_response()
}

async fn not_found() -> Response {
    fail(StatusCode::NOT_FOUND, "no such admin route")
}

async fn info(State(sh): S) -> Response {
    json_of(&admin(&sh).info())
}

async fn counts(State(sh): S) -> Response {
    json_of(&admin(&sh).request_counts())
}

async fn reset_counts(State(sh): S) -> Response {
    admin(&sh).reset_request_counts();
    json_of(&json!({}))
}

async fn faults(State(sh): S) -> Response {
    json_of(&admin(&sh).faults())
}

#[derive(Deserialize, Default)]
struct FaultsBody {
    fault: Option<String>,
    #[serde(default)]
    faults: Vec<String>,
}

async fn add_faults(State(sh): S, bytes: Bytes) -> Response {
    let b: FaultsBody = match body(&bytes) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let specs: Vec<String> = b.fault.into_iter().chain(b.faults).collect();
    // Parse them all before adding any.
    let parsed: Result<Vec<Fault>, _> = specs.iter().map(|s| s.parse()).collect();
    match parsed {
        Ok(list) => {
            let a = admin(&sh);
            for f in list {
                a.add_fault(f);
            }
            json_of(&a.faults())
        }
        Err(e) => from_error(e),
    }
}

async fn clear_faults(State(sh): S) -> Response {
    admin(&sh).clear_faults();
    json_of(&json!([]))
}

#[derive(Deserialize, Default)]
struct LatencyBody {
    latency: Option<Value>,
}

async fn latency(State(sh): S, bytes: Bytes) -> Response {
    let b: LatencyBody = match body(&bytes) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let parsed = match b.latency {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(format!("{n}")),
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            return fail(
                StatusCode::BAD_REQUEST,
                "latency must be a string, a number or null",
            );
        }
    };
    let latency = match parsed.map(|s| s.parse::<Latency>()).transpose() {
        Ok(l) => l,
        Err(e) => return fail(StatusCode::BAD_REQUEST, e),
    };
    admin(&sh).set_latency(latency);
    json_of(&json!({ "latency": latency.map(|l| l.to_string()) }))
}

#[derive(Deserialize, Default)]
struct DownBody {
    down: bool,
}

async fn down(State(sh): S, bytes: Bytes) -> Response {
    match body::<DownBody>(&bytes) {
        Ok(b) => {
            admin(&sh).set_down(b.down);
            json_of(&json!({ "down": b.down }))
        }
        Err(r) => r,
    }
}

#[derive(Deserialize, Default)]
struct LoginsBody {
    count: Option<usize>,
    #[serde(default)]
    logins: Vec<String>,
}

fn with_logins(
    bytes: &Bytes,
    f: impl FnOnce(&[&str], Option<usize>) -> Result<Vec<String>, SandboxError>,
) -> Response {
    let b: LoginsBody = match body(bytes) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let logins: Vec<&str> = b.logins.iter().map(String::as_str).collect();
    match f(&logins, b.count) {
        Ok(changed) => json_of(&json!({ "changed": changed })),
        Err(e) => from_error(e),
    }
}

async fn mutate(State(sh): S, bytes: Bytes) -> Response {
    let a = admin(&sh);
    with_logins(&bytes, |logins, count| match (count, logins.is_empty()) {
        (Some(n), true) => Ok(a.mutate_random(n)),
        (None, false) => a.mutate(logins),
        _ => Err(SandboxError::Config("give either count or logins".into())),
    })
}

async fn deactivate(State(sh): S, bytes: Bytes) -> Response {
    with_logins(&bytes, |l, _| admin(&sh).deactivate(l))
}

async fn reactivate(State(sh): S, bytes: Bytes) -> Response {
    with_logins(&bytes, |l, _| admin(&sh).reactivate(l))
}

async fn delete_travelers(State(sh): S, bytes: Bytes) -> Response {
    with_logins(&bytes, |l, _| admin(&sh).delete(l))
}

#[derive(Deserialize, Default)]
struct EventBody {
    login: String,
    event_type: Option<String>,
    trip_id: Option<String>,
}

async fn itinerary(State(sh): S, bytes: Bytes) -> Response {
    let b: EventBody = match body(&bytes) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let event = match b
        .event_type
        .as_deref()
        .map(NotificationEventType::from_wire)
    {
        None => NotificationEventType::Create,
        Some(NotificationEventType::Unrecognized(_)) => {
            return fail(
                StatusCode::BAD_REQUEST,
                "event_type must be CREATE, UPDATE or CANCEL",
            );
        }
        Some(e) => e,
    };
    match admin(&sh).add_itinerary_event(&b.login, event, b.trip_id.as_deref()) {
        Ok(n) => json_of(&n),
        Err(e) => from_error(e),
    }
}

async fn fop(State(sh): S, bytes: Bytes) -> Response {
    let b: EventBody = match body(&bytes) {
        Ok(b) => b,
        Err(r) => return r,
    };
    match admin(&sh).add_fop_event(&b.login) {
        Ok(()) => json_of(&json!({})),
        Err(e) => from_error(e),
    }
}

async fn profile(State(sh): S, RawQuery(q): RawQuery) -> Response {
    let q = Params::parse(q.as_deref());
    let Some(login) = q.get("login") else {
        return fail(StatusCode::BAD_REQUEST, "login is required");
    };
    match admin(&sh).profile(login) {
        Some(p) => json_of(&p),
        None => from_error(SandboxError::UnknownTraveler),
    }
}

async fn summaries(State(sh): S) -> Response {
    json_of(&admin(&sh).summaries())
}

#[derive(Deserialize, Default)]
struct UrlBody {
    url: Option<String>,
}

async fn postback(State(sh): S, bytes: Bytes) -> Response {
    match body::<UrlBody>(&bytes) {
        Ok(b) => {
            if b.url
                .as_deref()
                .is_some_and(|u| !(u.starts_with("http://") || u.starts_with("https://")))
            {
                return fail(StatusCode::BAD_REQUEST, "url must be http(s)");
            }
            admin(&sh).set_postback_url(b.url.as_deref());
            json_of(&json!({ "url": b.url }))
        }
        Err(r) => r,
    }
}

async fn deliveries(State(sh): S) -> Response {
    json_of(&admin(&sh).deliveries())
}

async fn subscriptions(State(sh): S) -> Response {
    json_of(&admin(&sh).subscriptions())
}

#[derive(Deserialize, Default)]
struct TokenBody {
    login: Option<String>,
}

async fn token(State(sh): S, bytes: Bytes) -> Response {
    let b: TokenBody = match body(&bytes) {
        Ok(b) => b,
        Err(r) => return r,
    };
    match admin(&sh).issue_token(b.login.as_deref()) {
        Ok(t) => json_of(&json!({ "access_token": t, "token_type": "Bearer" })),
        Err(e) => from_error(e),
    }
}

async fn expire(State(sh): S) -> Response {
    admin(&sh).expire_tokens();
    json_of(&json!({}))
}

async fn warm_up(State(sh): S) -> Response {
    admin(&sh).warm_up().await;
    json_of(&json!({}))
}
