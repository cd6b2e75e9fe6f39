//! The SAP Concur HTTP client: reqwest with rustls (ring; no OpenSSL), keep-alive, gzip,
//! timeouts; `Authorization: Bearer` from a [`TokenProvider`], refreshed exactly once
//! after a 401/403; transient failures (connect errors, timeouts, 429, 500/502/503/504,
//! cut-off bodies) retried per [`HttpPolicy`]; every error keeps the response's
//! `Concur-Correlationid`. Knows nothing of SQL.

mod auth;
mod oauth;
mod retry;

pub use auth::{StaticToken, TokenError, TokenProvider};
pub use oauth::{OAuthGrant, OAuthProvider, RefreshTokenSink};

use crate::cancel::CancelToken;
use crate::config::HttpPolicy;
use crate::model::{Profile, SummaryPage, Timestamp};
use crate::{Error, Result};
pub(crate) use retry::Jitter;
use retry::{backoff, parse_http_date, parse_retry_after};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// The profile summary feed path.
pub const SUMMARY_PATH: &str = "/api/travelprofile/v2.0/summary";
/// The profile path.
pub const PROFILE_PATH: &str = "/api/travelprofile/v2.0/profile";
/// The loyalty update path (v1).
pub const LOYALTY_PATH: &str = "/api/travelprofile/v1.0/loyalty";

/// A reqwest client builder with the library's TLS and timeouts.
pub(crate) fn http_builder(policy: &HttpPolicy) -> reqwest::ClientBuilder {
    // rustls needs a process-wide crypto provider; installing twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(policy.connect_timeout)
        .timeout(policy.request_timeout)
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .user_agent(concat!("profile-cache/", env!("CARGO_PKG_VERSION")))
}

/// A transport failure in general terms: never the URL (it may hold a login).
pub(crate) fn describe(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "response cut off"
    } else if e.is_request() {
        "request failed"
    } else {
        "transport error"
    }
}

/// One summary page request.
#[derive(Debug, Clone)]
pub struct SummaryQuery {
    /// `LastModifiedDate`.
    pub last_modified: Timestamp,
    /// `Page` (1-based).
    pub page: u32,
    /// `ItemsPerPage`.
    pub items_per_page: u32,
    /// `travelConfigs`, when filtering.
    pub travel_configs: Vec<String>,
}

/// A successful response.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status (2xx).
    pub status: u16,
    /// The server's clock (`Date` header), when sent.
    pub date: Option<Timestamp>,
    /// The body.
    pub body: bytes::Bytes,
}

/// The SAP Concur client.
pub struct ConcurClient {
    http: reqwest::Client,
    base: RwLock<String>,
    tokens: Arc<dyn TokenProvider>,
    policy: HttpPolicy,
    requests: AtomicU64,
    jitter: Jitter,
    /// Tokens recently given by the provider, per traveler acted for (`None`: the
    /// company's), so a sync does not call into the host app for every request.
    tokens_cache: std::sync::Mutex<std::collections::HashMap<Option<String>, (String, Instant)>>,
}

/// How long a token from the provider is reused before asking it again (it may rotate
/// tokens on its own schedule; a refused token is replaced at once in any case).
const TOKEN_REUSE: Duration = Duration::from_secs(30);

impl std::fmt::Debug for ConcurClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConcurClient")
            .field("base", &self.base_url())
            .finish_non_exhaustive()
    }
}

impl ConcurClient {
    /// A client for `base_url`.
    pub fn new(base_url: &str, tokens: Arc<dyn TokenProvider>, policy: HttpPolicy) -> Result<Self> {
        let http = http_builder(&policy).build().map_err(|_| Error::Offline {
            reason: "cannot build the HTTP client".into(),
        })?;
        Ok(ConcurClient {
            http,
            base: RwLock::new(base_url.trim_end_matches('/').to_owned()),
            tokens,
            policy,
            requests: AtomicU64::new(0),
            jitter: Jitter::new(),
            tokens_cache: std::sync::Mutex::new(std::collections::HashMap::new()),
        })
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> String {
        self.base.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Points the client at another base URL (e.g. a token's `geolocation`).
    pub fn set_base_url(&self, base_url: &str) {
        *self.base.write().unwrap_or_else(|p| p.into_inner()) =
            base_url.trim_end_matches('/').to_owned();
    }

    /// HTTP requests sent so far (retries and refreshes included).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// One page of the summary feed.
    pub async fn summary_page(
        &self,
        q: &SummaryQuery,
        cancel: &CancelToken,
    ) -> Result<(SummaryPage, Option<Timestamp>)> {
        let mut params = vec![
            (
                "LastModifiedDate",
                crate::xml::format_timestamp(&q.last_modified.with_nanosecond0()),
            ),
            ("Page", q.page.to_string()),
            ("ItemsPerPage", q.items_per_page.to_string()),
        ];
        if !q.travel_configs.is_empty() {
            params.push(("travelConfigs", q.travel_configs.join(",")));
        }
        let reply = self
            .execute(None, cancel, |http, base| {
                http.get(format!("{base}{SUMMARY_PATH}")).query(&params)
            })
            .await?;
        let page = crate::xml::parse_summary_page(&reply.body)?;
        Ok((page, reply.date))
    }

    /// One traveler's full profile: the document as received and parsed.
    pub async fn profile(&self, login: &str, cancel: &CancelToken) -> Result<(String, Profile)> {
        let (xml, profile, _) = self.profile_at(login, cancel).await?;
        Ok((xml, profile))
    }

    /// [`Self::profile`], with the server's clock when it answered (`Date`), if sent.
    pub async fn profile_at(
        &self,
        login: &str,
        cancel: &CancelToken,
    ) -> Result<(String, Profile, Option<Timestamp>)> {
        let reply = self
            .execute(None, cancel, |http, base| {
                http.get(format!("{base}{PROFILE_PATH}"))
                    .query(&[("userid_type", "login"), ("userid_value", login)])
            })
            .await?;
        let xml = String::from_utf8(reply.body.to_vec()).map_err(|_| {
            Error::Xml(crate::xml::XmlError {
                kind: crate::xml::XmlErrorKind::InvalidUtf8,
                line: 1,
                column: 1,
            })
        })?;
        let profile = crate::xml::parse_profile(xml.as_bytes())?;
        Ok((xml, profile, reply.date))
    }

    /// Sends a request built by `build` (given the client and the base URL), with the
    /// token for `acting_for`, retrying per the policy. Returns the 2xx reply.
    pub async fn execute(
        &self,
        acting_for: Option<&str>,
        cancel: &CancelToken,
        build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Result<Reply> {
        let started = Instant::now();
        let mut failures = 0u32;
        loop {
            let (error, retry_after) =
                match self.send_authorized(acting_for, cancel, &build).await? {
                    Attempt::Done(reply) => return Ok(reply),
                    Attempt::Permanent(e) => return Err(e),
                    Attempt::Transient(e, retry_after) => (e, retry_after),
                    Attempt::Refused { .. } => unreachable!("send_authorized resolves refusals"),
                };
            failures += 1;
            let budget = if matches!(error, Error::Offline { .. }) {
                self.policy.offline_total
            } else {
                self.policy.max_total
            };
            let delay = backoff(&self.policy, failures, retry_after, &self.jitter);
            if failures >= self.policy.max_attempts || started.elapsed() + delay > budget {
                log::warn!("request failed after {failures} attempt(s), giving up: {error}");
                return Err(match (error, retry_after) {
                    (Error::Server { status: 429, .. }, after) => Error::RateLimited {
                        retry_after_ms: after.unwrap_or(delay).as_millis() as u64,
                    },
                    (e, _) => e,
                });
            }
            log::debug!(
                "request failed ({error}); attempt {} in {} ms",
                failures + 1,
                delay.as_millis()
            );
            cancel
                .run(async {
                    tokio::time::sleep(delay).await;
                    Ok(())
                })
                .await?;
        }
    }

    /// Sends a request built by `build` once: no retries (a refused token is still
    /// refreshed once). For callers that keep their own, persisted backoff (the loyalty
    /// outbox). A failure comes with the `Retry-After` the server asked for, if any; a
    /// 429 is [`Error::RateLimited`].
    pub async fn execute_once(
        &self,
        acting_for: Option<&str>,
        cancel: &CancelToken,
        build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Result<Reply, (Error, Option<Duration>)> {
        let outcome = self
            .send_authorized(acting_for, cancel, &build)
            .await
            .map_err(|e| (e, None))?;
        match outcome {
            Attempt::Done(reply) => Ok(reply),
            Attempt::Permanent(e) => Err((e, None)),
            Attempt::Transient(Error::Server { status: 429, .. }, after) => Err((
                Error::RateLimited {
                    retry_after_ms: after.unwrap_or_default().as_millis() as u64,
                },
                after,
            )),
            Attempt::Transient(e, after) => Err((e, after)),
            Attempt::Refused { .. } => unreachable!("send_authorized resolves refusals"),
        }
    }

    /// One attempt with the token for `acting_for`; a refused token is refreshed and the
    /// request sent again once, a second refusal is `Unauthorized`. Never returns
    /// [`Attempt::Refused`].
    async fn send_authorized(
        &self,
        acting_for: Option<&str>,
        cancel: &CancelToken,
        build: &impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Result<Attempt> {
        let mut refreshed = false;
        loop {
            cancel.check()?;
            let token = match self.token(acting_for, refreshed).await {
                Ok(token) => token,
                // The token server is unreachable: retried like any network failure.
                Err(e @ Error::Offline { .. }) => return Ok(Attempt::Transient(e, None)),
                Err(e) => return Err(e),
            };
            let base = self.base_url();
            let request = build(&self.http, &base)
                .bearer_auth(&token)
                .header(reqwest::header::ACCEPT, "application/xml");
            self.requests.fetch_add(1, Ordering::Relaxed);
            let outcome = cancel
                .run(async { Ok(self.attempt(request).await) })
                .await?;
            match outcome {
                Attempt::Refused {
                    status,
                    correlation_id,
                } if refreshed => {
                    return Err(Error::Unauthorized {
                        status,
                        correlation_id,
                    });
                }
                Attempt::Refused { status, .. } => {
                    log::info!("token refused (HTTP {status}): asking for a fresh one");
                    refreshed = true;
                }
                other => return Ok(other),
            }
        }
    }

    async fn token(&self, acting_for: Option<&str>, force: bool) -> Result<String> {
        let key = acting_for.map(str::to_owned);
        if !force {
            let cache = self.tokens_cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((token, at)) = cache.get(&key) {
                if at.elapsed() < TOKEN_REUSE {
                    return Ok(token.clone());
                }
            }
        }
        let tokens = self.tokens.clone();
        let who = key.clone();
        // The provider may block (a refresh over the network): never on a runtime thread.
        let token = tokio::task::spawn_blocking(move || tokens.access_token(who.as_deref(), force))
            .await
            .map_err(|_| Error::TokenProvider("the token provider panicked".into()))?
            .map_err(|e| {
                if e.transient {
                    Error::Offline { reason: e.message }
                } else {
                    Error::TokenProvider(e.message)
                }
            })?;
        self.tokens_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, (token.clone(), Instant::now()));
        self.follow_geolocation();
        Ok(token)
    }

    /// Points the client at the token's `geolocation` when the provider reports a valid
    /// http(s) URL other than the current base URL.
    fn follow_geolocation(&self) {
        let Some(geo) = self.tokens.geolocation() else {
            return;
        };
        let geo = geo.trim().trim_end_matches('/');
        let valid = reqwest::Url::parse(geo)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if valid && geo != self.base_url() {
            log::info!("requests go to the token's geolocation from now on");
            self.set_base_url(geo);
        }
    }

    async fn attempt(&self, request: reqwest::RequestBuilder) -> Attempt {
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                return Attempt::Transient(
                    Error::Offline {
                        reason: describe(&e).into(),
                    },
                    None,
                );
            }
        };
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let correlation_id = header("concur-correlationid");
        let date = header("date").as_deref().and_then(parse_http_date);
        let retry_after = header("retry-after")
            .as_deref()
            .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
        let body = match response.bytes().await {
            Ok(b) => b,
            // A body cut off mid-way: the server or the network failed; try again.
            Err(e) => {
                let reason = describe(&e);
                return Attempt::Transient(
                    if (200..300).contains(&status) {
                        Error::Offline {
                            reason: reason.into(),
                        }
                    } else {
                        Error::Server {
                            status,
                            correlation_id,
                            message: None,
                        }
                    },
                    retry_after,
                );
            }
        };
        match status {
            200..=299 => Attempt::Done(Reply { status, date, body }),
            401 | 403 => Attempt::Refused {
                status,
                correlation_id,
            },
            429 | 500 | 502 | 503 | 504 => Attempt::Transient(
                Error::Server {
                    status,
                    correlation_id,
                    message: None,
                },
                retry_after,
            ),
            _ => Attempt::Permanent(Error::Server {
                status,
                correlation_id,
                message: error_kind(&body),
            }),
        }
    }
}

enum Attempt {
    Done(Reply),
    Refused {
        status: u16,
        correlation_id: Option<String>,
    },
    Transient(Error, Option<Duration>),
    Permanent(Error),
}

/// The kind of a Concur `Error` body's message, without what follows a colon (the
/// `Invalid User:someone@example.org` form names the user). A message that still looks
/// like it holds a value (an `@` or a digit) is dropped rather than kept.
fn error_kind(body: &[u8]) -> Option<String> {
    let e = crate::xml::parse_error(body).ok()?;
    let message = e.message?;
    let kind = message.split(':').next().unwrap_or("").trim();
    let looks_like_a_value = kind.chars().any(|c| c == '@' || c.is_ascii_digit());
    (!kind.is_empty() && !looks_like_a_value).then(|| kind.chars().take(80).collect())
}

trait WholeSeconds {
    fn with_nanosecond0(&self) -> Self;
}

impl WholeSeconds for Timestamp {
    fn with_nanosecond0(&self) -> Self {
        use chrono::Timelike;
        self.with_nanosecond(0).unwrap_or(*self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_kinds_drop_the_user() {
        let body = b"<Error><Message>Invalid User:someone@example.org</Message></Error>";
        assert_eq!(error_kind(body).as_deref(), Some("Invalid User"));
        assert_eq!(error_kind(b"<html/>"), None);
        let unkeyed = b"<Error><Message>No user someone@example.org</Message></Error>";
        assert_eq!(error_kind(unkeyed), None);
    }
}
