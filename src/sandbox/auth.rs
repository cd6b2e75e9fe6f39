//! Access and refresh tokens: who a token speaks for (a company or one user), in which
//! role (TMC or a supplier bound to its vendor code), until when, and how often it was
//! used. Tokens are opaque random strings; they are never logged.

use super::generate::Rng;
use crate::model::LoyaltyVendorType;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Whom a token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Subject {
    /// The whole company (TMC or company admin): sees every traveler.
    Company,
    /// One traveler (by login).
    User(Arc<str>),
}

/// What a token's app may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Role {
    /// A TMC or developer app: every loyalty program.
    Tmc,
    /// A travel supplier: only its own program.
    Supplier {
        vendor_code: String,
        vendor_type: LoyaltyVendorType,
    },
}

/// What a valid token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grant {
    pub subject: Subject,
    pub role: Role,
}

impl Grant {
    /// The login of a user token.
    pub fn user(&self) -> Option<&str> {
        match &self.subject {
            Subject::User(l) => Some(l),
            Subject::Company => None,
        }
    }
}

/// Why a request's token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthFailure {
    /// No `Authorization` header, or not a bearer token (answered 401).
    Missing,
    /// A token the sandbox never issued, or revoked (answered 403).
    Unknown,
    /// A token past its lifetime or its use limit (answered 403).
    Expired,
}

#[derive(Debug)]
struct Access {
    grant: Grant,
    expires: Instant,
    uses: u32,
}

#[derive(Debug)]
struct Refresh {
    grant: Grant,
    client_id: String,
    expires: Instant,
}

/// A freshly issued token pair.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub access_token: String,
    pub refresh_token: Option<String>,
}

/// Every token the sandbox issued.
#[derive(Debug)]
pub(crate) struct Tokens {
    access: HashMap<String, Access>,
    refresh: HashMap<String, Refresh>,
    rng: Rng,
    access_lifetime: Duration,
    refresh_lifetime: Duration,
}

impl Tokens {
    pub fn new(seed: u64, access_lifetime: Duration, refresh_lifetime: Duration) -> Self {
        // Mix in the start time: tokens of two runs must not collide.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default();
        Tokens {
            access: HashMap::new(),
            refresh: HashMap::new(),
            rng: Rng::new(seed ^ nanos, 0x70_4E),
            access_lifetime,
            refresh_lifetime,
        }
    }

    fn random(&mut self, prefix: &str) -> String {
        format!("{prefix}{:016x}{:016x}", self.rng.next(), self.rng.next())
    }

    /// `now + d`, or a century from now when that overflows.
    fn until(now: Instant, d: Duration) -> Instant {
        now.checked_add(d)
            .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
            .unwrap_or(now)
    }

    fn prune(&mut self) {
        if self.access.len() > 50_000 {
            let now = Instant::now();
            self.access.retain(|_, a| a.expires > now);
            self.refresh.retain(|_, r| r.expires > now);
        }
    }

    /// Issues an access token (and a refresh token when `with_refresh`).
    pub fn issue(&mut self, grant: Grant, client_id: &str, with_refresh: bool) -> Issued {
        self.prune();
        let now = Instant::now();
        let access_token = self.random("sbx-at-");
        self.access.insert(
            access_token.clone(),
            Access {
                grant: grant.clone(),
                expires: Self::until(now, self.access_lifetime),
                uses: 0,
            },
        );
        let refresh_token = with_refresh.then(|| {
            let t = self.random("sbx-rt-");
            self.refresh.insert(
                t.clone(),
                Refresh {
                    grant,
                    client_id: client_id.to_owned(),
                    expires: Self::until(now, self.refresh_lifetime),
                },
            );
            t
        });
        Issued {
            access_token,
            refresh_token,
        }
    }

    /// Redeems a refresh token: it is consumed (rotation) and its grant returned, if it is
    /// valid and was issued to `client_id`.
    pub fn redeem(&mut self, refresh_token: &str, client_id: &str) -> Option<Grant> {
        let r = self.refresh.get(refresh_token)?;
        if r.client_id != client_id || r.expires <= Instant::now() {
            return None;
        }
        self.refresh.remove(refresh_token).map(|r| r.grant)
    }

    /// Checks a bearer token and counts one use; `use_limit` expires a token after that
    /// many uses.
    pub fn check(&mut self, token: &str, use_limit: Option<u32>) -> Result<Grant, AuthFailure> {
        let a = self.access.get_mut(token).ok_or(AuthFailure::Unknown)?;
        if a.expires <= Instant::now() {
            return Err(AuthFailure::Expired);
        }
        a.uses = a.uses.saturating_add(1);
        if use_limit.is_some_and(|n| a.uses > n) {
            // Expired for good, as a real expiry would be.
            a.expires = Instant::now();
            return Err(AuthFailure::Expired);
        }
        Ok(a.grant.clone())
    }

    /// Expires every access token at once (refresh tokens stay valid).
    pub fn expire_all(&mut self) {
        let now = Instant::now();
        for a in self.access.values_mut() {
            a.expires = now;
        }
    }

    /// Revokes every refresh token.
    pub fn revoke_refresh_tokens(&mut self) {
        self.refresh.clear();
    }

    /// The access-token lifetime.
    pub fn lifetime(&self) -> Duration {
        self.access_lifetime
    }

    /// The refresh-token lifetime.
    pub fn refresh_lifetime(&self) -> Duration {
        self.refresh_lifetime
    }
}

/// Extracts the token of an `Authorization: Bearer …` (or `OAuth …`) header value.
pub(crate) fn bearer(header: Option<&str>) -> Option<&str> {
    let (scheme, token) = header?.trim().split_once(' ')?;
    let ok = scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth");
    let token = token.trim();
    (ok && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn company() -> Grant {
        Grant {
            subject: Subject::Company,
            role: Role::Tmc,
        }
    }

    #[test]
    fn tokens_expire_rotate_and_count_uses() {
        let mut t = Tokens::new(1, Duration::from_secs(60), Duration::from_secs(600));
        let i = t.issue(company(), "app", true);
        assert_eq!(t.check(&i.access_token, None), Ok(company()));
        assert_eq!(t.check("nope", None), Err(AuthFailure::Unknown));
        assert_eq!(t.check(&i.access_token, Some(2)), Ok(company()));
        assert_eq!(t.check(&i.access_token, Some(2)), Err(AuthFailure::Expired));
        assert_eq!(
            t.check(&i.access_token, None),
            Err(AuthFailure::Expired),
            "stays expired"
        );
        let rt = i.refresh_token.unwrap();
        assert_eq!(t.redeem(&rt, "other-app"), None);
        assert_eq!(t.redeem(&rt, "app"), Some(company()));
        assert_eq!(t.redeem(&rt, "app"), None, "rotated: single use");
        let j = t.issue(company(), "app", false);
        assert!(j.refresh_token.is_none());
        t.expire_all();
        assert_eq!(t.check(&j.access_token, None), Err(AuthFailure::Expired));
    }

    #[test]
    fn bearer_headers() {
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("OAuth abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(Some("Bearer")), None);
        assert_eq!(bearer(None), None);
    }
}
