//! The state every request handler and the admin handle share: the world, the tokens,
//! the faults, the subscriptions, the request counters and the postback queue.

use super::auth::{AuthFailure, Grant, Role, Subject, Tokens, bearer};
use super::config::{AuthErrorStyle, SandboxConfig};
use super::faults::Endpoint;
use super::generate::Rng;
use super::injector::Injector;
use super::postback::{NotifyType, Postbacks, Scope, Subscriptions, encode, token_key};
use super::world::{RenderJob, World};
use crate::model::ErrorBody;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// How many requests each endpoint received.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestCounts {
    /// Requests per endpoint name (`token`, `summary`, `profile`, `profile-post`,
    /// `loyalty`, `subscribe`, `other`), faulted ones included.
    pub requests: BTreeMap<String, u64>,
    /// All API requests (admin requests are not counted).
    pub total: u64,
}

impl RequestCounts {
    /// The count of one endpoint.
    pub fn get(&self, endpoint: Endpoint) -> u64 {
        self.requests.get(endpoint.name()).copied().unwrap_or(0)
    }
}

/// The XML content type of every API body.
pub(crate) const XML: &str = "application/xml; charset=utf-8";

/// Shared server state.
pub(crate) struct Shared {
    pub config: SandboxConfig,
    pub base_url: String,
    pub world: RwLock<World>,
    pub tokens: Mutex<Tokens>,
    pub faults: Mutex<Injector>,
    /// Set while no fault or latency is configured, so requests skip the injector lock.
    pub faults_idle: AtomicBool,
    pub subscriptions: Mutex<Subscriptions>,
    pub postback_url: Mutex<Option<String>>,
    pub postbacks: Postbacks,
    pub down: AtomicBool,
    counts: [AtomicU64; Endpoint::ALL.len()],
    ids: AtomicU64,
    id_seed: u64,
}

impl Shared {
    pub fn new(
        config: SandboxConfig,
        base_url: String,
        world: World,
        postbacks: Postbacks,
    ) -> Shared {
        let fault_seed = config.fault_seed.unwrap_or(config.seed);
        let injector = Injector::new(
            fault_seed,
            config.faults.clone(),
            config.latency,
            config.stall,
        );
        Shared {
            tokens: Mutex::new(Tokens::new(
                config.seed,
                config.token_lifetime,
                config.refresh_lifetime,
            )),
            faults_idle: AtomicBool::new(injector.is_idle()),
            faults: Mutex::new(injector),
            subscriptions: Mutex::new(Subscriptions::default()),
            postback_url: Mutex::new(config.postback_url.clone()),
            postbacks,
            down: AtomicBool::new(false),
            counts: Default::default(),
            ids: AtomicU64::new(0),
            id_seed: Rng::new(config.seed, 0x1D).next(),
            world: RwLock::new(world),
            base_url,
            config,
        }
    }

    pub fn read(&self) -> RwLockReadGuard<'_, World> {
        self.world.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, World> {
        self.world.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn injector(&self) -> MutexGuard<'_, Injector> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the injector and refreshes the idle flag.
    pub fn with_injector<T>(&self, f: impl FnOnce(&mut Injector) -> T) -> T {
        let mut inj = self.injector();
        let out = f(&mut inj);
        self.faults_idle.store(inj.is_idle(), Ordering::Release);
        out
    }

    pub fn tokens(&self) -> MutexGuard<'_, Tokens> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn subscriptions(&self) -> MutexGuard<'_, Subscriptions> {
        self.subscriptions.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn count(&self, endpoint: Endpoint) {
        let i = Endpoint::ALL
            .iter()
            .position(|e| *e == endpoint)
            .unwrap_or(0);
        self.counts[i].fetch_add(1, Ordering::Relaxed);
    }

    pub fn counts(&self) -> RequestCounts {
        let mut c = RequestCounts::default();
        for (i, e) in Endpoint::ALL.iter().enumerate() {
            let n = self.counts[i].load(Ordering::Relaxed);
            c.requests.insert(e.name().to_owned(), n);
            c.total += n;
        }
        c
    }

    pub fn reset_counts(&self) {
        for c in &self.counts {
            c.store(0, Ordering::Relaxed);
        }
    }

    /// A fresh id in UUID form (correlation ids, error ids).
    pub fn new_id(&self) -> String {
        let n = self.ids.fetch_add(1, Ordering::Relaxed);
        let mut r = Rng::new(self.id_seed, n);
        let (a, b) = (r.next(), r.next());
        format!(
            "{:08X}-{:04X}-4{:03X}-{:04X}-{:012X}",
            a >> 32,
            (a >> 16) & 0xFFFF,
            a & 0xFFF,
            0x8000 | (b >> 48 & 0x3FFF),
            b & 0xFFFF_FFFF_FFFF
        )
    }

    /// The generic `Error` document.
    pub fn error_xml(&self, message: &str) -> String {
        crate::xml::write_error(&ErrorBody {
            message: Some(message.to_owned()),
            server_time: Some(crate::xml::format_timestamp(&super::world::timestamp(
                chrono::Utc::now().timestamp(),
            ))),
            id: Some(self.new_id()),
            messages: Vec::new(),
        })
    }

    /// An XML `Error` response.
    pub fn error(&self, status: StatusCode, message: &str) -> Response {
        xml_response(status, self.error_xml(message))
    }

    /// Checks the request's token; the error is the complete 401/403 answer.
    #[allow(clippy::result_large_err)] // the error is the early answer, not a value to inspect
    pub fn authorize(&self, headers: &HeaderMap) -> Result<Grant, Response> {
        let value = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let failure = match bearer(value) {
            None => AuthFailure::Missing,
            Some(t) if self.config.static_token.as_deref() == Some(t) => {
                return Ok(Grant {
                    subject: Subject::Company,
                    role: Role::Tmc,
                });
            }
            Some(t) => {
                let limit = if self.faults_idle.load(Ordering::Acquire) {
                    None
                } else {
                    self.injector().token_use_limit()
                };
                match self.tokens().check(t, limit) {
                    Ok(g) => return Ok(g),
                    Err(f) => f,
                }
            }
        };
        let (status, message) = match failure {
            AuthFailure::Missing => (
                StatusCode::UNAUTHORIZED,
                "Authorization header with a Bearer token required",
            ),
            AuthFailure::Unknown => (StatusCode::FORBIDDEN, "Invalid token"),
            AuthFailure::Expired => (StatusCode::FORBIDDEN, "Token expired"),
        };
        let mut resp = match self.config.auth_errors {
            AuthErrorStyle::XmlBody => self.error(status, message),
            AuthErrorStyle::Empty => status.into_response(),
        };
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        Err(resp)
    }

    /// The rendered profile of a live traveler, from the cache or rendered now (outside
    /// the world lock) and cached.
    pub fn profile_xml(&self, idx: u32) -> Bytes {
        let job: RenderJob = match self.read().cached_xml(idx) {
            Ok(xml) => return xml,
            Err(job) => job,
        };
        let (idx, rev, xml) = job.run(self.config.seed);
        self.write().store_xml(idx, rev, xml.clone());
        xml
    }

    /// Sends the postbacks that an event for `login` calls for.
    pub fn notify(&self, kind: NotifyType, login: &str, body: Option<String>) {
        let Some(url) = self
            .postback_url
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        else {
            return;
        };
        let (company, user) = {
            let subs = self.subscriptions();
            (
                subs.company.contains(&kind),
                subs.users
                    .get(&login.to_lowercase())
                    .is_some_and(|s| s.contains(&kind)),
            )
        };
        let sep = if url.contains('?') { '&' } else { '?' };
        let seed = self.config.seed;
        if company {
            let full = format!(
                "{url}{sep}type={}&oauth_token_key={}&userid_type=login&userid_value={}",
                kind.wire(),
                encode(&token_key(seed, None)),
                encode(login)
            );
            self.postbacks
                .send(kind, Scope::Company, login, full, body.clone());
        }
        if user {
            let full = format!(
                "{url}{sep}type={}&oauth_token_key={}",
                kind.wire(),
                encode(&token_key(seed, Some(login)))
            );
            self.postbacks.send(kind, Scope::User, login, full, body);
        }
    }

    /// Profile-change postbacks for these travelers.
    pub fn profiles_changed<S: AsRef<str>>(&self, logins: &[S]) {
        for l in logins {
            self.notify(NotifyType::Profile, l.as_ref(), None);
        }
    }
}

/// An XML response with the given status, dated now.
///
/// The `Date` header is stamped here, right after the handler read the state the body
/// shows, not when the response is written (a latency fault, or a busy machine, can delay
/// that by seconds): a client trusts a document to cover the changes made before its
/// `Date`, so the header must not be later than the read.
pub(crate) fn xml_response(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(XML));
    if let Some(v) = http_date_now() {
        r.headers_mut().insert(header::DATE, v);
    }
    r
}

/// Now as an HTTP date, formatted once a second per thread (every response needs one).
fn http_date_now() -> Option<HeaderValue> {
    thread_local! {
        static CACHED: std::cell::RefCell<(i64, Option<HeaderValue>)> =
            const { std::cell::RefCell::new((i64::MIN, None)) };
    }
    let now = chrono::Utc::now();
    CACHED.with_borrow_mut(|(second, value)| {
        if *second != now.timestamp() {
            *second = now.timestamp();
            *value =
                HeaderValue::from_str(&now.format("%a, %d %b %Y %H:%M:%S GMT").to_string()).ok();
        }
        value.clone()
    })
}
