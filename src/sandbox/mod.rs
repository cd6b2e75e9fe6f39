//! The sandbox: a local server that speaks the SAP Concur Travel Profile API (feature
//! `sandbox`), with deterministic generated travelers and faults on demand. It is what
//! integration tests, demos and benchmarks talk to over real HTTP on loopback.
//!
//! ```no_run
//! # async fn demo() -> profile_cache::sandbox::Result<()> {
//! use profile_cache::sandbox::{Sandbox, SandboxConfig};
//! let config = SandboxConfig::new(10_000, 42).with_fault("profile:503@rate=0.05")?;
//! let sandbox = Sandbox::start(config).await?;
//! println!("{} (client id {})", sandbox.base_url(), sandbox.credentials().client_id);
//! sandbox.admin().mutate_random(25);
//! # Ok(()) }
//! ```
//!
//! What it serves (see each route's module for the details):
//! * `POST /oauth2/v0/token` — `password`, `refresh_token`, `client_credentials`;
//! * `GET /api/travelprofile/v2.0/summary` — the change feed, paged, in last-modified order;
//! * `GET`/`POST /api/travelprofile/v2.0/profile` — read, update and create profiles;
//! * `POST /api/travelprofile/v1.0/loyalty` — loyalty program updates;
//! * `POST /api/company/v1.0/(un)subscribe`, `/api/travelprofile/v1.0/(un)subscribe` —
//!   notifications, delivered to the postback URL;
//! * `/_sandbox/…` — the JSON admin surface, mirrored by [`Admin`].
//!
//! Every response carries a `Concur-Correlationid` header. Data: [`generate`]; faults and
//! their string syntax: [`faults`].
//!
//! Tokens are *company* tokens (see all travelers: `client_credentials`, or `password`
//! with `credtype=authtoken`) or *user* tokens (`password` with a traveler's login: that
//! traveler only). A token from a supplier app ([`SupplierCredential`]) may only update
//! its own vendor's loyalty program.

mod admin;
mod auth;
mod config;
mod error;
pub mod faults;
pub mod generate;
mod index;
mod injector;
mod mutate;
mod postback;
mod routes;
mod server;
mod state;
mod world;

pub use admin::{Admin, SandboxInfo, ServerProfile};
pub use config::{
    AuthErrorStyle, Credentials, DateBound, ExpiresIn, SandboxConfig, SupplierCredential,
};
pub use error::{Result, SandboxError};
pub use faults::{Endpoint, Fault, FaultAction, Latency, Malformation, Trigger};
pub use injector::FaultStatus;
pub use postback::{Delivery, NotifyType, Scope, Subscriptions};
pub use state::RequestCounts;

use state::Shared;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A running (or stopped) sandbox server. Dropping it shuts the server down gracefully.
///
/// It must be started, stopped and dropped inside a tokio runtime; its tasks run on that
/// runtime.
pub struct Sandbox {
    shared: Arc<Shared>,
    addr: SocketAddr,
    running: Option<Running>,
    postbacks: JoinHandle<()>,
}

struct Running {
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("base_url", &self.shared.base_url)
            .field("running", &self.running.is_some())
            .finish()
    }
}

async fn bind(addr: SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| SandboxError::Bind {
            addr: addr.to_string(),
            source,
        })
}

impl Sandbox {
    /// Generates the travelers, binds the address (a free port unless one is given) and
    /// starts serving.
    pub async fn start(config: SandboxConfig) -> Result<Sandbox> {
        config.validate()?;
        let listener = bind(SocketAddr::new(config.host, config.port)).await?;
        let addr = listener
            .local_addr()
            .map_err(|e| SandboxError::Config(format!("no local address: {e}")))?;
        let base_url = config
            .public_url
            .clone()
            .map(|u| u.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| format!("http://{addr}"));
        let fault_seed = config.fault_seed.unwrap_or(config.seed);
        let (seed, profiles, clock) = (config.seed, config.profiles, config.clock_start);
        let world = tokio::task::spawn_blocking(move || {
            world::World::new(seed, profiles, fault_seed, clock)
        })
        .await
        .map_err(|_| SandboxError::Config("generating the travelers failed".into()))?;
        let (postbacks, rx) = postback::Postbacks::new();
        // rustls needs a process-wide crypto provider; installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| SandboxError::Client(e.to_string()))?;
        let warm = config.warm_up;
        let shared = Arc::new(Shared::new(config, base_url, world, postbacks));
        let for_postbacks = shared.clone();
        let postbacks = tokio::spawn(async move { for_postbacks.postbacks.run(rx, client).await });
        let mut sandbox = Sandbox {
            shared,
            addr,
            running: None,
            postbacks,
        };
        sandbox.serve(listener);
        if warm {
            let admin = sandbox.admin();
            tokio::spawn(async move { admin.warm_up().await });
        }
        Ok(sandbox)
    }

    fn serve(&mut self, listener: TcpListener) {
        let (tx, rx) = watch::channel(false);
        let router = routes::router(self.shared.clone());
        let grace = self.shared.config.shutdown_grace;
        let task = tokio::spawn(server::serve(listener, router, grace, rx));
        self.running = Some(Running { shutdown: tx, task });
    }

    /// The base URL, e.g. `http://127.0.0.1:40123` (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The credentials a client needs.
    pub fn credentials(&self) -> Credentials {
        let c = &self.shared.config;
        Credentials {
            token_url: format!("{}{}", self.shared.base_url, routes::paths::TOKEN),
            client_id: c.client_id.clone(),
            client_secret: c.client_secret.clone(),
            user_password: c.user_password.clone(),
            company_auth_token: c.company_auth_token.clone(),
            static_token: c.static_token.clone(),
        }
    }

    /// The built-in OAuth provider for the TMC app's credentials (client-credentials
    /// grant) against this sandbox: what the demo and the tests sign in with.
    pub fn oauth_provider(
        &self,
    ) -> Result<crate::client::OAuthProvider, crate::client::TokenError> {
        let c = &self.shared.config;
        crate::client::OAuthProvider::new(
            &self.shared.base_url,
            c.client_id.clone(),
            c.client_secret.clone(),
            crate::client::OAuthGrant::ClientCredentials,
        )
    }

    /// The configuration it was started with.
    pub fn config(&self) -> &SandboxConfig {
        &self.shared.config
    }

    /// The control handle.
    pub fn admin(&self) -> Admin {
        Admin::from_shared(self.shared.clone())
    }

    /// Whether the server is accepting connections.
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// Stops serving (gracefully) and frees the port; the data, tokens and faults stay.
    /// Connections are then refused until [`Sandbox::restart`].
    pub async fn stop(&mut self) -> Result<()> {
        let running = self.running.take().ok_or(SandboxError::NotRunning)?;
        let _ = running.shutdown.send(true);
        let _ = running.task.await;
        Ok(())
    }

    /// Serves again on the same address after [`Sandbox::stop`].
    pub async fn restart(&mut self) -> Result<()> {
        if self.running.is_some() {
            return Err(SandboxError::AlreadyRunning);
        }
        let listener = bind(self.addr).await?;
        self.serve(listener);
        Ok(())
    }

    /// Stops the server and waits until it is gone.
    pub async fn shutdown(mut self) {
        let _ = self.stop().await;
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            // The server task finishes the requests in flight, then ends.
            let _ = r.shutdown.send(true);
        }
        self.postbacks.abort();
    }
}
