//! The HTTP surface: the API routes, the admin routes, and the layer in front of them
//! that stamps every response with a `Concur-Correlationid`, counts requests, applies the
//! `down` switch and injects faults.

mod admin;
mod loyalty;
mod notify;
mod profile;
mod summary;
mod token;
mod update;

use super::faults::Endpoint;
use super::injector::{Plan, Reply, malform};
use super::server::ConnCtl;
use super::state::Shared;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;

/// The name of the correlation header.
pub(crate) const CORRELATION: &str = "concur-correlationid";

/// Paths of the API.
pub(crate) mod paths {
    pub const TOKEN: &str = "/oauth2/v0/token";
    pub const SUMMARY: &str = "/api/travelprofile/v2.0/summary";
    pub const PROFILE: &str = "/api/travelprofile/v2.0/profile";
    pub const LOYALTY: &str = "/api/travelprofile/v1.0/loyalty";
    pub const COMPANY_SUBSCRIBE: &str = "/api/company/v1.0/subscribe";
    pub const COMPANY_UNSUBSCRIBE: &str = "/api/company/v1.0/unsubscribe";
    pub const USER_SUBSCRIBE: &str = "/api/travelprofile/v1.0/subscribe";
    pub const USER_UNSUBSCRIBE: &str = "/api/travelprofile/v1.0/unsubscribe";
}

/// Builds the whole router.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(paths::TOKEN, post(token::token))
        .route(paths::SUMMARY, get(summary::summary))
        .route(
            paths::PROFILE,
            get(profile::get_profile).post(profile::post_profile),
        )
        .route(paths::LOYALTY, post(loyalty::loyalty))
        .route(paths::COMPANY_SUBSCRIBE, post(notify::company_subscribe))
        .route(
            paths::COMPANY_UNSUBSCRIBE,
            post(notify::company_unsubscribe),
        )
        .route(paths::USER_SUBSCRIBE, post(notify::user_subscribe))
        .route(paths::USER_UNSUBSCRIBE, post(notify::user_unsubscribe))
        .nest("/_sandbox", admin::router())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(shared.clone(), layer))
        .with_state(shared)
}

async fn not_found(State(sh): State<Arc<Shared>>) -> Response {
    sh.error(StatusCode::NOT_FOUND, "Not found")
}

/// Which endpoint a request is for.
fn classify(method: &Method, path: &str) -> Endpoint {
    let path = path.trim_end_matches('/');
    match (method, path) {
        (&Method::POST, paths::TOKEN) => Endpoint::Token,
        (&Method::GET, paths::SUMMARY) => Endpoint::Summary,
        (&Method::GET, paths::PROFILE) => Endpoint::ProfileGet,
        (&Method::POST, paths::PROFILE) => Endpoint::ProfilePost,
        (&Method::POST, paths::LOYALTY) => Endpoint::Loyalty,
        (
            &Method::POST,
            paths::COMPANY_SUBSCRIBE
            | paths::COMPANY_UNSUBSCRIBE
            | paths::USER_SUBSCRIBE
            | paths::USER_UNSUBSCRIBE,
        ) => Endpoint::Subscribe,
        _ => Endpoint::Other,
    }
}

/// Query-string or form parameters, decoded; names match without regard to case.
#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len()
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit() =>
            {
                let hex = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
                out.push(hex(bytes[i + 1]) * 16 + hex(bytes[i + 2]));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Params {
    /// Parses `a=1&b=2` (URL-encoded).
    pub fn parse(raw: Option<&str>) -> Params {
        Params(
            raw.unwrap_or("")
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }

    /// The first value of `name` (any case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The login a profile response was for, so that login-targeted faults can find it.
#[derive(Debug, Clone)]
pub(crate) struct ServedLogin(pub Arc<str>);

/// Waits forever after asking for the connection to be closed.
async fn drop_connection(ctl: Option<ConnCtl>) -> Response {
    match ctl {
        Some(c) => {
            c.kill();
            std::future::pending::<()>().await;
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable: the service is under maintenance",
        504 => "Gateway Timeout",
        _ => "Injected fault",
    }
}

/// The layer in front of every route.
async fn layer(State(sh): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let correlation = sh.new_id();
    let endpoint = classify(req.method(), req.uri().path());
    let admin = req.uri().path().starts_with("/_sandbox");
    let mut resp = if admin {
        next.run(req).await
    } else {
        api(&sh, endpoint, req, next).await
    };
    if let Ok(v) = HeaderValue::from_str(&correlation) {
        resp.headers_mut().insert(CORRELATION, v);
    }
    resp
}

async fn api(sh: &Arc<Shared>, endpoint: Endpoint, req: Request, next: Next) -> Response {
    let ctl = req.extensions().get::<ConnCtl>().cloned();
    sh.count(endpoint);
    if sh.down.load(Ordering::Acquire) {
        return drop_connection(ctl).await;
    }
    let plan = if sh.faults_idle.load(Ordering::Acquire) {
        Plan::default()
    } else {
        let page = (endpoint == Endpoint::Summary)
            .then(|| {
                Params::parse(req.uri().query())
                    .get("Page")
                    .and_then(|p| p.parse().ok())
            })
            .flatten();
        sh.injector().plan(endpoint, page)
    };
    if plan.mutate > 0 {
        super::Admin::from_shared(sh.clone()).mutate_random(plan.mutate);
    }
    if !plan.delay.is_zero() {
        tokio::time::sleep(plan.delay).await;
    }
    if let Some(stall) = plan.stall {
        tokio::time::sleep(stall).await;
    }
    match plan.reply {
        Some(Reply::Drop) => return drop_connection(ctl).await,
        Some(Reply::Status { code, retry_after }) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut r = sh.error(status, reason(code));
            if let Some(s) = retry_after {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(s));
            }
            return r;
        }
        None => {}
    }
    let mut resp = next.run(req).await;
    let xml_endpoint = matches!(endpoint, Endpoint::Summary | Endpoint::ProfileGet);
    if xml_endpoint && resp.status().is_success() && !sh.faults_idle.load(Ordering::Acquire) {
        let login = resp.extensions().get::<ServedLogin>().map(|l| l.0.clone());
        let malformed = sh.injector().malformed(endpoint, login.as_deref());
        if let Some(kind) = malformed {
            let (parts, body) = resp.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            let mut parts = parts;
            parts.headers.remove(header::CONTENT_LENGTH);
            resp = Response::from_parts(parts, Body::from(malform(&bytes, kind)));
        }
    }
    if let Some(keep) = plan.truncate {
        resp = truncate(resp, keep, ctl).await;
    }
    resp
}

/// Announces the whole body's length but sends only `keep` bytes (default half), then has
/// the connection closed.
async fn truncate(resp: Response, keep: Option<usize>, ctl: Option<ConnCtl>) -> Response {
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let full = bytes.len().max(1);
    let keep = keep.unwrap_or(full / 2).min(full - 1).min(bytes.len());
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(full));
    let body = Truncated {
        data: Some(bytes.slice(..keep)),
        ctl,
    };
    Response::from_parts(parts, Body::new(body))
}

/// A body that yields its bytes, then never ends; the connection is closed shortly after,
/// once the bytes are flushed.
struct Truncated {
    data: Option<Bytes>,
    ctl: Option<ConnCtl>,
}

impl http_body::Body for Truncated {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
        if let Some(d) = self.data.take() {
            if !d.is_empty() {
                return Poll::Ready(Some(Ok(http_body::Frame::data(d))));
            }
        }
        if let Some(ctl) = self.ctl.take() {
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                ctl.kill();
            });
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_decode_and_ignore_case() {
        let p = Params::parse(Some(
            "userid_type=login&USERID_VALUE=a%40b.example&x=a+b&bad=%zz&e",
        ));
        assert_eq!(p.get("userid_value"), Some("a@b.example"));
        assert_eq!(p.get("x"), Some("a b"));
        assert_eq!(p.get("bad"), Some("%zz"));
        assert_eq!(p.get("e"), Some(""));
        assert_eq!(p.get("nothing"), None);
        assert_eq!(Params::parse(Some("a=%4")).get("a"), Some("%4"));
    }

    #[test]
    fn endpoints_are_classified() {
        assert_eq!(classify(&Method::GET, paths::SUMMARY), Endpoint::Summary);
        assert_eq!(
            classify(&Method::POST, paths::PROFILE),
            Endpoint::ProfilePost
        );
        assert_eq!(
            classify(&Method::POST, paths::USER_UNSUBSCRIBE),
            Endpoint::Subscribe
        );
        assert_eq!(classify(&Method::GET, paths::LOYALTY), Endpoint::Other);
    }
}
