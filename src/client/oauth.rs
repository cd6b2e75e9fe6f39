//! The built-in OAuth 2.0 token provider: client id and secret plus a refresh token, a
//! password grant, or client credentials. It refreshes before expiry and after a refusal,
//! and hands every rotated refresh token to the host so it can store it securely.

use super::auth::{TokenError, TokenProvider};
use serde::Deserialize;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How the provider obtains tokens.
#[derive(Clone)]
pub enum OAuthGrant {
    /// `grant_type=refresh_token` (a TMC's stored refresh token).
    RefreshToken(String),
    /// `grant_type=password` (`credtype=password`).
    Password {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
    /// `grant_type=client_credentials` (a company-level token).
    ClientCredentials,
}

/// Called with each new refresh token the server issues (store it; it replaces the old).
pub type RefreshTokenSink = Arc<dyn Fn(&str) + Send + Sync>;

/// OAuth 2.0 against `{base}/oauth2/v0/token`.
pub struct OAuthProvider {
    http: reqwest::Client,
    token_url: String,
    client_id: String,
    client_secret: String,
    on_refresh_token: Option<RefreshTokenSink>,
    state: Mutex<State>,
    /// The provider's own runtime, made at the first request. Current-thread: it has no
    /// thread of its own, the caller of `access_token` drives it. Token requests then
    /// never depend on the caller's runtime, which may be shutting down (Ctrl-C, a cache
    /// closed mid-sync) while a token is fetched: a request on a runtime that is going
    /// away panics inside its I/O.
    runtime: OnceLock<tokio::runtime::Runtime>,
}

impl Drop for OAuthProvider {
    fn drop(&mut self) {
        // Dropped anywhere, an async task included: do not wait for anything.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

struct State {
    grant: OAuthGrant,
    access: Option<(String, Instant)>,
    geolocation: Option<String>,
}

impl fmt::Debug for OAuthProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthProvider")
            .field("token_url", &self.token_url)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenReply {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    geolocation: Option<String>,
}

#[derive(Deserialize)]
struct TokenFailure {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    code: Option<serde_json::Value>,
}

/// Tokens are refreshed this long before they expire.
const EARLY: Duration = Duration::from_secs(60);

impl OAuthProvider {
    /// A provider for the token endpoint of `base_url`.
    pub fn new(
        base_url: &str,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        grant: OAuthGrant,
    ) -> Result<Self, TokenError> {
        let http = super::http_builder(&crate::config::HttpPolicy::default())
            .build()
            .map_err(|_| TokenError::new("cannot build the HTTP client"))?;
        Ok(OAuthProvider {
            http,
            token_url: format!("{}/oauth2/v0/token", base_url.trim_end_matches('/')),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            on_refresh_token: None,
            state: Mutex::new(State {
                grant,
                access: None,
                geolocation: None,
            }),
            runtime: OnceLock::new(),
        })
    }

    /// Sets the callback that receives rotated refresh tokens.
    pub fn on_refresh_token(mut self, sink: RefreshTokenSink) -> Self {
        self.on_refresh_token = Some(sink);
        self
    }

    /// The base URL the last token response named (`geolocation`), if any.
    pub fn geolocation(&self) -> Option<String> {
        self.lock().geolocation.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn request(&self, grant: &OAuthGrant) -> Result<TokenReply, TokenError> {
        let mut form: Vec<(&str, &str)> = vec![
            ("client_id", &self.client_id),
            ("client_secret", &self.client_secret),
        ];
        match grant {
            OAuthGrant::RefreshToken(t) => {
                form.push(("grant_type", "refresh_token"));
                form.push(("refresh_token", t));
            }
            OAuthGrant::Password { username, password } => {
                form.push(("grant_type", "password"));
                form.push(("username", username));
                form.push(("password", password));
                form.push(("credtype", "password"));
            }
            OAuthGrant::ClientCredentials => form.push(("grant_type", "client_credentials")),
        }
        let reply = self
            .http
            .post(&self.token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| {
                TokenError::unreachable(format!(
                    "token endpoint unreachable ({})",
                    super::describe(&e)
                ))
            })?;
        let status = reply.status().as_u16();
        let body = reply
            .bytes()
            .await
            .map_err(|_| TokenError::unreachable("token response was cut off"))?;
        if status == 429 || status >= 500 {
            return Err(TokenError::unreachable(format!(
                "token endpoint unavailable (HTTP {status})"
            )));
        }
        if status != 200 {
            let why = serde_json::from_slice::<TokenFailure>(&body)
                .map(|f| {
                    let code = f.code.map(|c| c.to_string()).unwrap_or_default();
                    format!("{} {code}", f.error.unwrap_or_default())
                })
                .unwrap_or_default();
            return Err(TokenError::new(format!(
                "token endpoint refused the grant (HTTP {status}; {})",
                why.trim()
            )));
        }
        serde_json::from_slice(&body)
            .map_err(|_| TokenError::new("token response is not valid JSON"))
    }
}

fn lifetime(v: Option<&serde_json::Value>) -> Duration {
    let secs = match v {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    Duration::from_secs(secs.unwrap_or(3600))
}

impl OAuthProvider {
    fn runtime(&self) -> Result<&tokio::runtime::Runtime, TokenError> {
        if self.runtime.get().is_none() {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|_| TokenError::new("cannot start the token requests' runtime"))?;
            // Another thread may have been first: then this one goes, without waiting.
            if let Err(rt) = self.runtime.set(rt) {
                rt.shutdown_background();
            }
        }
        self.runtime
            .get()
            .ok_or_else(|| TokenError::new("cannot start the token requests' runtime"))
    }
}

impl TokenProvider for OAuthProvider {
    fn geolocation(&self) -> Option<String> {
        self.lock().geolocation.clone()
    }

    fn access_token(&self, _: Option<&str>, force_refresh: bool) -> Result<String, TokenError> {
        let grant = {
            let state = self.lock();
            if let (false, Some((token, until))) = (force_refresh, &state.access) {
                if Instant::now() + EARLY < *until {
                    return Ok(token.clone());
                }
            }
            state.grant.clone()
        };
        let reply = self.runtime()?.block_on(self.request(&grant))?;
        let mut state = self.lock();
        state.access = Some((
            reply.access_token.clone(),
            Instant::now() + lifetime(reply.expires_in.as_ref()),
        ));
        if let Some(geo) = reply.geolocation.filter(|g| !g.is_empty()) {
            state.geolocation = Some(geo);
        }
        if let Some(rt) = reply.refresh_token.filter(|t| !t.is_empty()) {
            let rotated = !matches!(&state.grant, OAuthGrant::RefreshToken(old) if *old == rt);
            state.grant = OAuthGrant::RefreshToken(rt.clone());
            drop(state);
            if rotated {
                if let Some(sink) = &self.on_refresh_token {
                    sink(&rt);
                }
            }
        }
        Ok(reply.access_token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_in_is_read_as_number_or_string() {
        assert_eq!(
            lifetime(Some(&serde_json::json!(3600))),
            Duration::from_secs(3600)
        );
        assert_eq!(
            lifetime(Some(&serde_json::json!("120"))),
            Duration::from_secs(120)
        );
        assert_eq!(lifetime(None), Duration::from_secs(3600));
    }
}
