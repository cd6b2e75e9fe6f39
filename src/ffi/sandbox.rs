//! The in-process sandbox across the FFI, for the Kotlin and Swift tests only (feature
//! `ffi-sandbox`; never in an app build). It runs on its own tokio runtime.

use super::CacheError;
use crate::sandbox::{Sandbox, SandboxConfig};
use std::sync::Mutex;

type Result<T> = std::result::Result<T, CacheError>;

fn sandbox_error(e: impl std::fmt::Display) -> CacheError {
    CacheError::invalid("sandbox", &e.to_string())
}

/// A local fake SAP Concur server with generated travelers (tests only).
#[derive(uniffi::Object)]
pub struct TestSandbox {
    runtime: Option<tokio::runtime::Runtime>,
    sandbox: Mutex<Option<Sandbox>>,
    admin: crate::sandbox::Admin,
    base_url: String,
}

impl std::fmt::Debug for TestSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestSandbox")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl TestSandbox {
    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime.as_ref().expect("the runtime lives until drop")
    }

    fn with<T>(&self, f: impl FnOnce(&mut Sandbox) -> T) -> Result<T> {
        let mut guard = self.sandbox.lock().unwrap_or_else(|p| p.into_inner());
        let sb = guard.as_mut().ok_or_else(CacheError::closed)?;
        Ok(f(sb))
    }
}

impl Drop for TestSandbox {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            let sb = self
                .sandbox
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            {
                let _inside = rt.enter();
                drop(sb);
            }
            rt.shutdown_background();
        }
    }
}

#[uniffi::export]
impl TestSandbox {
    /// Starts a sandbox with `profiles` generated travelers (deterministic for a `seed`)
    /// on a free loopback port.
    #[uniffi::constructor]
    pub fn start(profiles: u64, seed: u64) -> Result<std::sync::Arc<Self>> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sandbox")
            .enable_all()
            .build()
            .map_err(sandbox_error)?;
        let sandbox = runtime
            .block_on(Sandbox::start(SandboxConfig::new(profiles, seed)))
            .map_err(sandbox_error)?;
        Ok(std::sync::Arc::new(TestSandbox {
            admin: sandbox.admin(),
            base_url: sandbox.base_url().to_owned(),
            sandbox: Mutex::new(Some(sandbox)),
            runtime: Some(runtime),
        }))
    }

    /// The base URL (`http://127.0.0.1:…`).
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The TMC app's OAuth client id.
    pub fn client_id(&self) -> String {
        self.admin_credentials().client_id
    }

    /// The TMC app's OAuth client secret.
    pub fn client_secret(&self) -> String {
        self.admin_credentials().client_secret
    }

    /// A valid access token: the company's (`login` null) or a traveler's.
    pub fn issue_token(&self, login: Option<String>) -> Result<String> {
        self.admin
            .issue_token(login.as_deref())
            .map_err(sandbox_error)
    }

    /// While on, every API request's connection is closed without a response.
    pub fn set_down(&self, down: bool) {
        self.admin.set_down(down);
    }

    /// Changes `n` random travelers' profiles; returns their logins.
    pub fn mutate_random(&self, n: u32) -> Vec<String> {
        self.admin.mutate_random(n as usize)
    }

    /// Adds a fault in the sandbox's spec syntax, e.g. `loyalty:500@always`.
    pub fn add_fault(&self, spec: String) -> Result<()> {
        self.admin.add_fault_spec(&spec).map_err(sandbox_error)
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.admin.clear_faults();
    }

    /// Sets the latency of every response (`50`, `2s`, a range `20-80`), or none.
    pub fn set_latency(&self, spec: Option<String>) -> Result<()> {
        let latency = spec
            .map(|s| s.parse::<crate::sandbox::Latency>())
            .transpose()
            .map_err(sandbox_error)?;
        self.admin.set_latency(latency);
        Ok(())
    }

    /// Stops serving (connections are refused) until `restart`.
    pub fn stop(&self) -> Result<()> {
        let rt = self.runtime();
        self.with(|sb| rt.block_on(sb.stop()))?
            .map_err(sandbox_error)
    }

    /// Serves again on the same port after `stop`.
    pub fn restart(&self) -> Result<()> {
        let rt = self.runtime();
        self.with(|sb| rt.block_on(sb.restart()))?
            .map_err(sandbox_error)
    }
}

impl TestSandbox {
    fn admin_credentials(&self) -> crate::sandbox::Credentials {
        self.with(|sb| sb.credentials())
            .expect("credentials are known until drop")
    }
}
