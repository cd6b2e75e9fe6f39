//! [`SandboxConfig`]: everything the sandbox can be told at start-up. Every field has a
//! default; the `with_*` methods take the strings a command line would give, so the CLI
//! maps its flags one to one.

use super::error::{Result, SandboxError};
use super::faults::{Fault, Latency, parse_duration};
use crate::model::{LoyaltyVendorType, Timestamp};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// Whether the summary feed's `LastModifiedDate` bound is inclusive (`>=`) or exclusive
/// (`>`). The public docs do not say; a correct client must survive either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateBound {
    /// Profiles modified at or after the date (the default: it repeats boundary items).
    #[default]
    Inclusive,
    /// Profiles modified strictly after the date (it can hide same-second changes).
    Exclusive,
}

/// How the token endpoint writes `expires_in` (SAP Concur has sent both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpiresIn {
    /// `"expires_in": 3600`.
    #[default]
    Number,
    /// `"expires_in": "3600"`.
    String,
}

/// How an API call with a missing, unknown or expired token is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthErrorStyle {
    /// The status (401 or 403) with an XML `Error` body (the default).
    #[default]
    XmlBody,
    /// The status with an empty body.
    Empty,
}

macro_rules! from_str {
    ($t:ident { $($name:literal => $v:ident),+ $(,)? }) => {
        impl std::str::FromStr for $t {
            type Err = SandboxError;
            /// Parses the value's name (any case), as a command line gives it.
            fn from_str(s: &str) -> Result<Self> {
                $( if s.trim().eq_ignore_ascii_case($name) { return Ok($t::$v); } )+
                Err(SandboxError::Config(format!(
                    concat!("{:?} is not one of:", $(" ", $name),+), s
                )))
            }
        }
    };
}

from_str!(DateBound { "inclusive" => Inclusive, "exclusive" => Exclusive });
from_str!(ExpiresIn { "number" => Number, "string" => String });
from_str!(AuthErrorStyle { "xml" => XmlBody, "empty" => Empty });

/// A travel supplier's app credentials: its tokens may only touch the loyalty program of
/// its own vendor code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierCredential {
    /// The supplier app's `client_id`.
    pub client_id: String,
    /// Its `client_secret`.
    pub client_secret: String,
    /// The two-character vendor code of its program (e.g. `LH`).
    pub vendor_code: String,
    /// The kind of program (air, car, hotel).
    pub vendor_type: LoyaltyVendorType,
}

/// The sandbox's configuration. `SandboxConfig::default()` is a small, fault-free server
/// on a free loopback port.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Address to bind (default 127.0.0.1).
    pub host: IpAddr,
    /// Port to bind; 0 (the default) picks a free one.
    pub port: u16,
    /// The base URL the server announces (`geolocation`, paging URLs, notification URIs);
    /// default `http://{host}:{port}`.
    pub public_url: Option<String>,
    /// Number of generated travelers (default 1,000).
    pub profiles: u64,
    /// Seed of the data generator (default 42): the same seed gives the same travelers.
    pub seed: u64,
    /// Seed of the fault and mutation generator (default: `seed`).
    pub fault_seed: Option<u64>,
    /// The TMC app's `client_id`.
    pub client_id: String,
    /// The TMC app's `client_secret`.
    pub client_secret: String,
    /// The password every traveler has for the `password` grant (`username` = login).
    pub user_password: String,
    /// The company request token for the `password` grant with `credtype=authtoken`
    /// (which gives a company token, as SAP Concur's company auth flow does).
    pub company_auth_token: String,
    /// Supplier apps.
    pub suppliers: Vec<SupplierCredential>,
    /// A company token that is always valid and never expires (for benchmarks).
    pub static_token: Option<String>,
    /// Lifetime of access tokens (default one hour).
    pub token_lifetime: Duration,
    /// Lifetime of refresh tokens (default 180 days).
    pub refresh_lifetime: Duration,
    /// How `expires_in` is written.
    pub expires_in: ExpiresIn,
    /// How bad-token answers look.
    pub auth_errors: AuthErrorStyle,
    /// Inclusive or exclusive `LastModifiedDate`.
    pub date_bound: DateBound,
    /// Faults in force from the start.
    pub faults: Vec<Fault>,
    /// Latency added to every API response.
    pub latency: Option<Latency>,
    /// How long a `stall` fault sends nothing when it names no duration (default 30 s).
    pub stall: Duration,
    /// Where notifications are posted, if anywhere.
    pub postback_url: Option<String>,
    /// The sandbox's clock at start-up (default: now, or just after the newest generated
    /// modification time if that is later). It then advances with real time.
    pub clock_start: Option<Timestamp>,
    /// Generate and render every profile in the background right after start-up.
    pub warm_up: bool,
    /// How long a graceful shutdown waits for requests in flight (default 2 s).
    pub shutdown_grace: Duration,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            public_url: None,
            profiles: 1_000,
            seed: 42,
            fault_seed: None,
            client_id: "sandbox-tmc-client".into(),
            client_secret: "sandbox-tmc-secret".into(),
            user_password: "sandbox-password".into(),
            company_auth_token: "sandbox-company-auth-token".into(),
            suppliers: Vec::new(),
            static_token: None,
            token_lifetime: Duration::from_secs(3600),
            refresh_lifetime: Duration::from_secs(180 * 24 * 3600),
            expires_in: ExpiresIn::Number,
            auth_errors: AuthErrorStyle::XmlBody,
            date_bound: DateBound::Inclusive,
            faults: Vec::new(),
            latency: None,
            stall: Duration::from_secs(30),
            postback_url: None,
            clock_start: None,
            warm_up: false,
            shutdown_grace: Duration::from_secs(2),
        }
    }
}

impl SandboxConfig {
    /// The default configuration with `profiles` travelers from `seed`.
    pub fn new(profiles: u64, seed: u64) -> Self {
        SandboxConfig {
            profiles,
            seed,
            ..Default::default()
        }
    }

    /// Sets the port (0: a free one).
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Adds a fault given in the [fault syntax](super::faults), e.g. `profile:500@rate=0.1`.
    pub fn with_fault(mut self, spec: &str) -> Result<Self> {
        self.faults.push(spec.parse()?);
        Ok(self)
    }

    /// Sets the latency of every API response: `50` (ms), `2s`, or a range `20-80`.
    pub fn with_latency(mut self, spec: &str) -> Result<Self> {
        self.latency = Some(spec.parse().map_err(SandboxError::Config)?);
        Ok(self)
    }

    /// Sets the access-token lifetime: `3600s`, `500ms`, or milliseconds.
    pub fn with_token_lifetime(mut self, spec: &str) -> Result<Self> {
        self.token_lifetime = parse_duration(spec).map_err(SandboxError::Config)?;
        Ok(self)
    }

    /// Adds a supplier app bound to `vendor_code` of `vendor_type` (`A`, `C` or `H`).
    pub fn with_supplier(
        mut self,
        client_id: &str,
        client_secret: &str,
        vendor_type: &str,
        vendor_code: &str,
    ) -> Result<Self> {
        let vendor_type = LoyaltyVendorType::from_wire(vendor_type);
        if matches!(vendor_type, LoyaltyVendorType::Unrecognized(_)) {
            return Err(SandboxError::Config(
                "supplier vendor type must be A, C or H".into(),
            ));
        }
        if vendor_code.chars().count() != 2 {
            return Err(SandboxError::Config(
                "supplier vendor code must have 2 characters".into(),
            ));
        }
        self.suppliers.push(SupplierCredential {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            vendor_code: vendor_code.to_ascii_uppercase(),
            vendor_type,
        });
        Ok(self)
    }

    /// Sets a never-expiring company token (for benchmarks and load tools).
    pub fn with_static_token(mut self, token: &str) -> Self {
        self.static_token = Some(token.into());
        self
    }

    /// Sets the postback URL.
    pub fn with_postback_url(mut self, url: &str) -> Self {
        self.postback_url = Some(url.into());
        self
    }

    /// Checks the values that cannot be checked by their types.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.profiles > 10_000_000 {
            return Err(SandboxError::Config("at most 10,000,000 profiles".into()));
        }
        if self.client_id.is_empty() || self.client_secret.is_empty() {
            return Err(SandboxError::Config(
                "client id and secret must not be empty".into(),
            ));
        }
        if self.suppliers.iter().any(|s| s.client_id == self.client_id) {
            return Err(SandboxError::Config(
                "a supplier must not reuse the TMC client id".into(),
            ));
        }
        if let Some(u) = &self.postback_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(SandboxError::Config("postback URL must be http(s)".into()));
            }
        }
        Ok(())
    }
}

/// The credentials a client needs to talk to the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The token endpoint (`{base}/oauth2/v0/token`).
    pub token_url: String,
    /// The TMC app's `client_id`.
    pub client_id: String,
    /// The TMC app's `client_secret`.
    pub client_secret: String,
    /// The password of every traveler (`password` grant, `username` = login).
    pub user_password: String,
    /// The company request token (`password` grant with `credtype=authtoken`).
    pub company_auth_token: String,
    /// The never-expiring company token, if configured.
    pub static_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_take_cli_strings() {
        let c = SandboxConfig::new(10, 7)
            .with_port(8080)
            .with_fault("profile:500@rate=0.1")
            .unwrap()
            .with_latency("20-80")
            .unwrap()
            .with_token_lifetime("2s")
            .unwrap()
            .with_supplier("lh-app", "lh-secret", "A", "lh")
            .unwrap();
        assert_eq!(
            (c.port, c.profiles, c.seed, c.faults.len()),
            (8080, 10, 7, 1)
        );
        assert_eq!(c.token_lifetime, Duration::from_secs(2));
        assert_eq!(c.suppliers[0].vendor_code, "LH");
        assert!(c.validate().is_ok());
        assert!(SandboxConfig::default().with_latency("x").is_err());
        assert!(
            SandboxConfig::default()
                .with_supplier("a", "b", "Q", "LH")
                .is_err()
        );
        assert!(
            SandboxConfig::default()
                .with_postback_url("ftp://x")
                .validate()
                .is_err()
        );
        assert_eq!(
            "Exclusive".parse::<DateBound>().unwrap(),
            DateBound::Exclusive
        );
        assert_eq!("string".parse::<ExpiresIn>().unwrap(), ExpiresIn::String);
        assert_eq!(
            "empty".parse::<AuthErrorStyle>().unwrap(),
            AuthErrorStyle::Empty
        );
        assert!("sometimes".parse::<DateBound>().is_err());
    }
}
