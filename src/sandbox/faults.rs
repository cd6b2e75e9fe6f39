//! Fault specifications: what can go wrong, where, and when; parsed from (and printed as)
//! a one-line syntax so the CLI and the admin surface can take faults as strings.
//!
//! # Syntax
//!
//! ```text
//! FAULT    = [ENDPOINT ":"] ACTION *("," OPTION) ["@" TRIGGER]
//! ENDPOINT = "any" (default) | "token" | "summary" | "profile" (GET; also "profile-get")
//!          | "profile-post" | "loyalty" | "subscribe" (subscribe and unsubscribe)
//! ACTION   = STATUS                    an HTTP error status (400..=599): 429, 500, 502, 503 …
//!          | "latency=" MS ["-" MS]    fixed or uniformly random extra latency
//!          | "drop"                    close the connection without any response
//!          | "stall" ["=" DURATION]    send nothing for a long time (default: the config's
//!                                      `stall`), then answer normally: a client times out
//!          | "truncate" ["=" BYTES]    announce the full Content-Length, send only BYTES
//!                                      (default: half the body), then close
//!          | "malformed" ["=" ("cut" | "tag")]   serve broken XML: the document cut in the
//!                                      middle (default) or with a broken end tag
//!          | "mutate=" K               summary only: before serving a page after the first,
//!                                      change K random profiles (so items shift pages)
//!          | "expire-tokens=" N        every access token expires after N API requests
//! OPTION   = "retry-after=" SECONDS    with a status: send a `Retry-After` header
//!          | "login=" LOGIN            with `malformed`: only this traveler's profile
//!                                      (repeat the option for several travelers)
//! TRIGGER  = "always" (default) | "rate=" P (probability 0..=1, seeded RNG)
//!          | "every=" N (the Nth, 2Nth … matching request) | "next=" K (the next K)
//!          | "after=" N (all after the first N) | "nth=" N *("," N) (those requests;
//!            `A-B` for a range)
//! DURATION = MS | MS "ms" | SECONDS "s"
//! ```
//!
//! Requests are counted per fault: a trigger's numbers refer to the requests that fault's
//! endpoint saw since the fault was set (for `malformed` with `login=`, only requests for
//! those travelers). Examples: `profile:500@rate=0.1`, `summary:429,retry-after=2@every=5`,
//! `token:503@next=2`, `any:latency=20-80`, `profile:malformed=tag,login=traveler000007@globex.example`,
//! `summary:mutate=5`, `any:expire-tokens=10`, `profile:stall=30s@nth=3`.

use super::error::SandboxError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The API endpoints the sandbox serves, as faults and request counts name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Endpoint {
    /// `POST /oauth2/v0/token`.
    Token,
    /// `GET /api/travelprofile/v2.0/summary`.
    Summary,
    /// `GET /api/travelprofile/v2.0/profile`.
    ProfileGet,
    /// `POST /api/travelprofile/v2.0/profile`.
    ProfilePost,
    /// `POST /api/travelprofile/v1.0/loyalty`.
    Loyalty,
    /// Company and user `subscribe` / `unsubscribe`.
    Subscribe,
    /// Any other path (answered 404).
    Other,
}

impl Endpoint {
    /// Every endpoint, in a stable order.
    pub const ALL: [Endpoint; 7] = [
        Endpoint::Token,
        Endpoint::Summary,
        Endpoint::ProfileGet,
        Endpoint::ProfilePost,
        Endpoint::Loyalty,
        Endpoint::Subscribe,
        Endpoint::Other,
    ];

    /// The name used in fault specifications and request counts.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Token => "token",
            Endpoint::Summary => "summary",
            Endpoint::ProfileGet => "profile",
            Endpoint::ProfilePost => "profile-post",
            Endpoint::Loyalty => "loyalty",
            Endpoint::Subscribe => "subscribe",
            Endpoint::Other => "other",
        }
    }

    fn parse(s: &str) -> Option<Endpoint> {
        Some(match s.to_ascii_lowercase().as_str() {
            "token" => Endpoint::Token,
            "summary" => Endpoint::Summary,
            "profile" | "profile-get" => Endpoint::ProfileGet,
            "profile-post" => Endpoint::ProfilePost,
            "loyalty" => Endpoint::Loyalty,
            "subscribe" | "unsubscribe" => Endpoint::Subscribe,
            _ => return None,
        })
    }
}

/// Extra time before a response: fixed, or uniformly random in a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Latency {
    /// Always this long.
    Fixed(Duration),
    /// Uniformly random between the two bounds (inclusive).
    Range(Duration, Duration),
}

impl FromStr for Latency {
    type Err = String;
    /// `50` (ms), `250ms`, `2s`, or a range `20-80` (ms).
    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (parse_duration(a)?, parse_duration(b)?);
                if a > b {
                    return Err("latency range lower bound above upper bound".into());
                }
                Ok(Latency::Range(a, b))
            }
            None => Ok(Latency::Fixed(parse_duration(s)?)),
        }
    }
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Latency::Fixed(d) => write!(f, "{}", d.as_millis()),
            Latency::Range(a, b) => write!(f, "{}-{}", a.as_millis(), b.as_millis()),
        }
    }
}

/// How a `malformed` fault breaks a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformation {
    /// The document is cut in the middle (an unclosed element).
    Cut,
    /// An end tag is misspelled (mismatched tags).
    BadTag,
}

/// What a fault does.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultAction {
    /// Answer with this HTTP status and an `Error` body instead of the real response.
    Status {
        /// The status code (400..=599).
        code: u16,
        /// Seconds for a `Retry-After` header, if any.
        retry_after: Option<u32>,
    },
    /// Wait before answering.
    Latency(Latency),
    /// Close the connection without sending anything.
    Drop,
    /// Send nothing for this long (`None`: the configured default), then answer.
    Stall(Option<Duration>),
    /// Announce the whole body's length but send only this many bytes (`None`: half).
    Truncate(Option<usize>),
    /// Serve broken XML, for these travelers only (empty: for any document).
    Malformed {
        /// How the document is broken.
        kind: Malformation,
        /// The logins concerned (empty: every request of the endpoint).
        logins: Vec<String>,
    },
    /// Summary only: change this many random profiles before serving any page after the
    /// first, so that items move between pages during a crawl.
    Mutate(usize),
    /// Every access token expires after this many API requests.
    ExpireTokens(u32),
}

/// When a fault fires, counted over the requests that match it.
#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// Every matching request.
    Always,
    /// With this probability (0..=1), from the sandbox's seeded generator.
    Rate(f64),
    /// The Nth, 2Nth, 3Nth … matching request.
    Every(u64),
    /// These matching requests (1-based).
    Nth(Vec<u64>),
    /// The next K matching requests, then never again.
    Next(u64),
    /// Every matching request after the first N.
    After(u64),
}

/// One fault: an endpoint (or any), an action and a trigger. Parse it from the syntax in
/// the [module docs](self) with [`str::parse`]; [`Display`](fmt::Display) prints it back.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// The endpoint concerned; `None` for any endpoint.
    pub endpoint: Option<Endpoint>,
    /// What happens.
    pub action: FaultAction,
    /// When it happens.
    pub trigger: Trigger,
}

impl Fault {
    /// A fault that fires on every request of `endpoint` (`None`: any endpoint).
    pub fn new(endpoint: Option<Endpoint>, action: FaultAction) -> Self {
        Fault {
            endpoint,
            action,
            trigger: Trigger::Always,
        }
    }

    /// The same fault with another trigger.
    pub fn when(mut self, trigger: Trigger) -> Self {
        self.trigger = trigger;
        self
    }

    /// Whether the fault concerns requests to `endpoint`.
    pub fn applies_to(&self, endpoint: Endpoint) -> bool {
        match self.endpoint {
            None => endpoint != Endpoint::Other,
            Some(e) => e == endpoint,
        }
    }
}

fn syntax(spec: &str, reason: impl Into<String>) -> SandboxError {
    SandboxError::FaultSyntax {
        spec: spec.to_owned(),
        reason: reason.into(),
    }
}

/// Parses `500` (ms), `250ms` or `30s`.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1000)
    } else {
        (s, 1)
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (ms, or a number with ms or s)"))?;
    Ok(Duration::from_millis(n.saturating_mul(scale)))
}

fn number<T: FromStr>(spec: &str, what: &str, v: &str) -> Result<T, SandboxError> {
    v.trim()
        .parse()
        .map_err(|_| syntax(spec, format!("{what} needs a number, got {v:?}")))
}

fn parse_trigger(spec: &str, t: &str) -> Result<Trigger, SandboxError> {
    let (key, value) = t.split_once('=').unwrap_or((t, ""));
    Ok(match key.trim().to_ascii_lowercase().as_str() {
        "always" => Trigger::Always,
        "rate" => {
            let p: f64 = number(spec, "rate", value)?;
            if !(0.0..=1.0).contains(&p) {
                return Err(syntax(spec, "rate must be between 0 and 1"));
            }
            Trigger::Rate(p)
        }
        "every" => match number(spec, "every", value)? {
            0 => return Err(syntax(spec, "every needs a number above 0")),
            n => Trigger::Every(n),
        },
        "next" => Trigger::Next(number(spec, "next", value)?),
        "after" => Trigger::After(number(spec, "after", value)?),
        "nth" => {
            let mut list = Vec::new();
            for part in value.split(',') {
                match part.split_once('-') {
                    Some((a, b)) => {
                        let (a, b): (u64, u64) = (number(spec, "nth", a)?, number(spec, "nth", b)?);
                        if b < a || b - a > 100_000 {
                            return Err(syntax(spec, "bad nth range"));
                        }
                        list.extend(a..=b);
                    }
                    None => list.push(number(spec, "nth", part)?),
                }
            }
            Trigger::Nth(list)
        }
        other => return Err(syntax(spec, format!("unknown trigger {other:?}"))),
    })
}

const TRIGGER_KEYS: [&str; 6] = ["always", "rate=", "every=", "next=", "after=", "nth="];

impl FromStr for Fault {
    type Err = SandboxError;

    fn from_str(spec: &str) -> Result<Self, SandboxError> {
        let s = spec.trim();
        // The trigger follows the last `@` that starts a trigger (logins contain `@` too).
        let mut body = s;
        let mut trigger = Trigger::Always;
        if let Some(at) = s.rfind('@') {
            let tail = &s[at + 1..];
            let lower = tail.trim().to_ascii_lowercase();
            if TRIGGER_KEYS.iter().any(|k| lower.starts_with(k)) {
                trigger = parse_trigger(spec, tail)?;
                body = &s[..at];
            }
        }
        let (endpoint, rest) = match body.split_once(':') {
            Some((e, rest)) if !e.contains('=') && !e.contains(',') => {
                let ep = if e.trim().eq_ignore_ascii_case("any") {
                    None
                } else {
                    Some(
                        Endpoint::parse(e.trim())
                            .ok_or_else(|| syntax(spec, format!("unknown endpoint {e:?}")))?,
                    )
                };
                (ep, rest)
            }
            _ => (None, body),
        };
        let mut parts = rest.split(',').map(str::trim);
        let head = parts.next().unwrap_or_default();
        if head.is_empty() {
            return Err(syntax(spec, "no action"));
        }
        let (name, value) = match head.split_once('=') {
            Some((n, v)) => (n.trim().to_ascii_lowercase(), Some(v.trim())),
            None => (head.to_ascii_lowercase(), None),
        };
        let mut action = match (name.as_str(), value) {
            (code, None) if code.chars().all(|c| c.is_ascii_digit()) => {
                let code: u16 = number(spec, "status", code)?;
                if !(400..=599).contains(&code) {
                    return Err(syntax(spec, "status must be between 400 and 599"));
                }
                FaultAction::Status {
                    code,
                    retry_after: None,
                }
            }
            ("latency", Some(v)) => FaultAction::Latency(v.parse().map_err(|e| syntax(spec, e))?),
            ("drop", None) => FaultAction::Drop,
            ("stall", v) => FaultAction::Stall(
                v.map(parse_duration)
                    .transpose()
                    .map_err(|e| syntax(spec, e))?,
            ),
            ("truncate", v) => {
                FaultAction::Truncate(v.map(|v| number(spec, "truncate", v)).transpose()?)
            }
            ("malformed", v) => FaultAction::Malformed {
                kind: match v.map(str::to_ascii_lowercase).as_deref() {
                    None | Some("cut") => Malformation::Cut,
                    Some("tag") => Malformation::BadTag,
                    Some(other) => {
                        return Err(syntax(
                            spec,
                            format!("unknown malformation {other:?} (cut or tag)"),
                        ));
                    }
                },
                logins: Vec::new(),
            },
            ("mutate", Some(v)) => FaultAction::Mutate(number(spec, "mutate", v)?),
            ("expire-tokens", Some(v)) => match number(spec, "expire-tokens", v)? {
                0 => return Err(syntax(spec, "expire-tokens needs a number above 0")),
                n => FaultAction::ExpireTokens(n),
            },
            _ => return Err(syntax(spec, format!("unknown action {head:?}"))),
        };
        for option in parts {
            let (key, value) = option
                .split_once('=')
                .ok_or_else(|| syntax(spec, format!("option {option:?} needs a value")))?;
            match (key.trim().to_ascii_lowercase().as_str(), &mut action) {
                ("retry-after", FaultAction::Status { retry_after, .. }) => {
                    *retry_after = Some(number(spec, "retry-after", value)?)
                }
                ("login", FaultAction::Malformed { logins, .. }) => {
                    logins.push(value.trim().to_owned())
                }
                _ => {
                    return Err(syntax(
                        spec,
                        format!("option {key:?} does not apply to this action"),
                    ));
                }
            }
        }
        Ok(Fault {
            endpoint,
            action,
            trigger,
        })
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.endpoint.map_or("any", Endpoint::name))?;
        f.write_str(":")?;
        match &self.action {
            FaultAction::Status { code, retry_after } => {
                write!(f, "{code}")?;
                if let Some(s) = retry_after {
                    write!(f, ",retry-after={s}")?;
                }
            }
            FaultAction::Latency(l) => write!(f, "latency={l}")?,
            FaultAction::Drop => f.write_str("drop")?,
            FaultAction::Stall(None) => f.write_str("stall")?,
            FaultAction::Stall(Some(d)) => write!(f, "stall={}ms", d.as_millis())?,
            FaultAction::Truncate(None) => f.write_str("truncate")?,
            FaultAction::Truncate(Some(n)) => write!(f, "truncate={n}")?,
            FaultAction::Malformed { kind, logins } => {
                f.write_str(match kind {
                    Malformation::Cut => "malformed=cut",
                    Malformation::BadTag => "malformed=tag",
                })?;
                for l in logins {
                    write!(f, ",login={l}")?;
                }
            }
            FaultAction::Mutate(k) => write!(f, "mutate={k}")?,
            FaultAction::ExpireTokens(n) => write!(f, "expire-tokens={n}")?,
        }
        match &self.trigger {
            Trigger::Always => Ok(()),
            Trigger::Rate(p) => write!(f, "@rate={p}"),
            Trigger::Every(n) => write!(f, "@every={n}"),
            Trigger::Next(n) => write!(f, "@next={n}"),
            Trigger::After(n) => write!(f, "@after={n}"),
            Trigger::Nth(list) => {
                f.write_str("@nth=")?;
                let parts: Vec<String> = list.iter().map(u64::to_string).collect();
                f.write_str(&parts.join(","))
            }
        }
    }
}

impl Serialize for Fault {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Fault {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Fault {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn documented_examples_parse() {
        assert_eq!(
            p("profile:500@rate=0.1"),
            Fault::new(
                Some(Endpoint::ProfileGet),
                FaultAction::Status {
                    code: 500,
                    retry_after: None
                }
            )
            .when(Trigger::Rate(0.1))
        );
        assert_eq!(
            p("summary:429,retry-after=2@every=5"),
            Fault::new(
                Some(Endpoint::Summary),
                FaultAction::Status {
                    code: 429,
                    retry_after: Some(2)
                }
            )
            .when(Trigger::Every(5))
        );
        assert_eq!(p("503").endpoint, None);
        assert_eq!(
            p("any:latency=20-80").action,
            FaultAction::Latency(Latency::Range(
                Duration::from_millis(20),
                Duration::from_millis(80)
            ))
        );
        assert_eq!(p("token:drop@next=2").trigger, Trigger::Next(2));
        assert_eq!(
            p("profile:stall=2s@nth=3,5-7").trigger,
            Trigger::Nth(vec![3, 5, 6, 7])
        );
        assert_eq!(
            p("profile:stall=2s").action,
            FaultAction::Stall(Some(Duration::from_secs(2)))
        );
        assert_eq!(p("summary:mutate=5").action, FaultAction::Mutate(5));
        assert_eq!(p("expire-tokens=3").action, FaultAction::ExpireTokens(3));
        assert_eq!(
            p("profile:truncate=100@after=1").action,
            FaultAction::Truncate(Some(100))
        );
    }

    #[test]
    fn logins_with_at_signs_do_not_confuse_the_trigger() {
        let f = p("profile:malformed=tag,login=a@x.example,login=b@y.example@rate=0.5");
        assert_eq!(
            f.action,
            FaultAction::Malformed {
                kind: Malformation::BadTag,
                logins: vec!["a@x.example".into(), "b@y.example".into()]
            }
        );
        assert_eq!(f.trigger, Trigger::Rate(0.5));
        let f = p("profile:malformed,login=a@x.example");
        assert_eq!(f.trigger, Trigger::Always);
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "profile:500@rate=0.1",
            "summary:429,retry-after=2@every=5",
            "any:drop@nth=1,4",
            "token:stall=1500ms",
            "loyalty:truncate",
            "profile:malformed=cut,login=a@b.example@next=3",
            "summary:mutate=4@after=2",
            "any:expire-tokens=7",
            "subscribe:latency=10-20",
        ] {
            let f = p(s);
            assert_eq!(f.to_string().parse::<Fault>().unwrap(), f, "{s}");
        }
    }

    #[test]
    fn bad_specs_are_typed_errors() {
        for s in [
            "",
            "profile:",
            "nowhere:500",
            "profile:200",
            "profile:500@rate=2",
            "profile:500@every=0",
            "profile:latency=9-1",
            "profile:explode",
            "profile:drop,retry-after=1",
            "profile:500@sometimes",
            "profile:500,retry-after=x",
            "summary:mutate",
        ] {
            assert!(
                matches!(s.parse::<Fault>(), Err(SandboxError::FaultSyntax { .. })),
                "{s:?}"
            );
        }
    }
}
