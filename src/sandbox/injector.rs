//! The fault injector: the faults in force, their request counters and the seeded random
//! generator that decides rate triggers, so that a run with the same seed and the same
//! request sequence injects the same faults.

use super::faults::{Endpoint, Fault, FaultAction, Latency, Malformation, Trigger};
use super::generate::Rng;
use serde::Serialize;
use std::time::Duration;

/// A fault in force, with how often it matched and fired.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaultStatus {
    /// The fault, in the fault syntax.
    pub fault: Fault,
    /// Requests that matched its endpoint since it was set.
    pub seen: u64,
    /// Requests it fired on.
    pub fired: u64,
}

/// What the injector decided for one request before the handler runs.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Plan {
    /// Extra time to wait first.
    pub delay: Duration,
    /// Send nothing for this long before going on.
    pub stall: Option<Duration>,
    /// Replace the response (or drop the connection).
    pub reply: Option<Reply>,
    /// Cut the body after this many bytes (`None` inside: half).
    pub truncate: Option<Option<usize>>,
    /// Change this many random profiles before serving (summary crawl faults).
    pub mutate: usize,
}

/// A response that replaces the real one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reply {
    /// An error status, optionally with `Retry-After`.
    Status { code: u16, retry_after: Option<u32> },
    /// Close without a response.
    Drop,
}

/// The faults in force and their state.
#[derive(Debug)]
pub(crate) struct Injector {
    faults: Vec<FaultStatus>,
    rng: Rng,
    latency: Option<Latency>,
    default_stall: Duration,
}

impl Injector {
    pub fn new(
        seed: u64,
        faults: Vec<Fault>,
        latency: Option<Latency>,
        default_stall: Duration,
    ) -> Self {
        Injector {
            faults: faults
                .into_iter()
                .map(|fault| FaultStatus {
                    fault,
                    seen: 0,
                    fired: 0,
                })
                .collect(),
            rng: Rng::new(seed, 0xFA_0175),
            latency,
            default_stall,
        }
    }

    /// Whether nothing at all is configured (the fast path).
    pub fn is_idle(&self) -> bool {
        self.faults.is_empty() && self.latency.is_none()
    }

    pub fn add(&mut self, fault: Fault) {
        self.faults.push(FaultStatus {
            fault,
            seen: 0,
            fired: 0,
        });
    }

    pub fn clear(&mut self) {
        self.faults.clear();
    }

    pub fn set_latency(&mut self, latency: Option<Latency>) {
        self.latency = latency;
    }

    pub fn latency(&self) -> Option<Latency> {
        self.latency
    }

    pub fn statuses(&self) -> Vec<FaultStatus> {
        self.faults.clone()
    }

    /// The token-expiry limit in force, if any (the smallest when several are set).
    pub fn token_use_limit(&self) -> Option<u32> {
        self.faults
            .iter()
            .filter_map(|f| match f.fault.action {
                FaultAction::ExpireTokens(n) => Some(n),
                _ => None,
            })
            .min()
    }

    fn sample(rng: &mut Rng, latency: Latency) -> Duration {
        match latency {
            Latency::Fixed(d) => d,
            Latency::Range(a, b) => {
                let (lo, hi) = (a.min(b), a.max(b));
                let span = (hi - lo).as_millis() as u64;
                lo + Duration::from_millis(rng.below(span.saturating_add(1)))
            }
        }
    }

    fn fires(rng: &mut Rng, trigger: &Trigger, seen: u64) -> bool {
        match trigger {
            Trigger::Always => true,
            Trigger::Rate(p) => ((rng.next() >> 11) as f64 / (1u64 << 53) as f64) < *p,
            Trigger::Every(n) => seen % (*n).max(1) == 0,
            Trigger::Nth(list) => list.contains(&seen),
            Trigger::Next(k) => seen <= *k,
            Trigger::After(n) => seen > *n,
        }
    }

    /// Decides the faults for a request to `endpoint` (`page`: the summary page asked for).
    pub fn plan(&mut self, endpoint: Endpoint, page: Option<u32>) -> Plan {
        let mut plan = Plan::default();
        if let (Some(l), true) = (self.latency, endpoint != Endpoint::Other) {
            plan.delay += Self::sample(&mut self.rng, l);
        }
        for f in &mut self.faults {
            let matches = match f.fault.action {
                FaultAction::Malformed { .. } | FaultAction::ExpireTokens(_) => false,
                FaultAction::Mutate(_) => endpoint == Endpoint::Summary && page.unwrap_or(1) >= 2,
                _ => f.fault.applies_to(endpoint),
            };
            if !matches {
                continue;
            }
            f.seen += 1;
            if !Self::fires(&mut self.rng, &f.fault.trigger, f.seen) {
                continue;
            }
            let used = match &f.fault.action {
                FaultAction::Latency(l) => {
                    plan.delay += Self::sample(&mut self.rng, *l);
                    true
                }
                FaultAction::Status { code, retry_after } if plan.reply.is_none() => {
                    plan.reply = Some(Reply::Status {
                        code: *code,
                        retry_after: *retry_after,
                    });
                    true
                }
                FaultAction::Drop if plan.reply.is_none() => {
                    plan.reply = Some(Reply::Drop);
                    true
                }
                FaultAction::Stall(d) if plan.stall.is_none() => {
                    plan.stall = Some(d.unwrap_or(self.default_stall));
                    true
                }
                FaultAction::Truncate(n) if plan.truncate.is_none() => {
                    plan.truncate = Some(*n);
                    true
                }
                FaultAction::Mutate(k) => {
                    plan.mutate += k;
                    true
                }
                _ => false,
            };
            if used {
                f.fired += 1;
            }
        }
        plan
    }

    /// Whether the document served for `login` (or, with `None`, any document of
    /// `endpoint`) must be broken, and how.
    pub fn malformed(&mut self, endpoint: Endpoint, login: Option<&str>) -> Option<Malformation> {
        let mut result = None;
        for f in &mut self.faults {
            let FaultAction::Malformed { kind, logins } = &f.fault.action else {
                continue;
            };
            let for_login = logins.is_empty()
                || login.is_some_and(|l| logins.iter().any(|x| x.eq_ignore_ascii_case(l)));
            if !f.fault.applies_to(endpoint) || !for_login {
                continue;
            }
            f.seen += 1;
            if Self::fires(&mut self.rng, &f.fault.trigger, f.seen) && result.is_none() {
                f.fired += 1;
                result = Some(*kind);
            }
        }
        result
    }
}

/// Breaks an XML document the way `kind` says. The result is never well-formed.
pub(crate) fn malform(xml: &[u8], kind: Malformation) -> Vec<u8> {
    match kind {
        Malformation::Cut => {
            let mut cut = xml.len() / 2;
            // Stay on a character boundary so the damage is XML, not UTF-8.
            while cut > 0 && (xml[cut] & 0xC0) == 0x80 {
                cut -= 1;
            }
            xml[..cut].to_vec()
        }
        Malformation::BadTag => {
            // Misspell the last end tag (the root's): `</ProfileResponse>` → `</ProfileResponsX>`.
            let mut out = xml.to_vec();
            match out.windows(2).rposition(|w| w == b"</") {
                Some(start) => {
                    let end = out[start..]
                        .iter()
                        .position(|&b| b == b'>')
                        .map(|p| start + p);
                    match end {
                        Some(e) if e > start + 2 => {
                            out[e - 1] = if out[e - 1] == b'X' { b'Y' } else { b'X' }
                        }
                        _ => out.extend_from_slice(b"</broken>"),
                    }
                }
                None => out.extend_from_slice(b"</broken>"),
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inj(specs: &[&str]) -> Injector {
        Injector::new(
            7,
            specs.iter().map(|s| s.parse().unwrap()).collect(),
            None,
            Duration::from_secs(30),
        )
    }

    fn replies(i: &mut Injector, ep: Endpoint, n: usize) -> Vec<bool> {
        (0..n).map(|_| i.plan(ep, None).reply.is_some()).collect()
    }

    #[test]
    fn schedules_fire_on_the_documented_requests() {
        let mut i = inj(&["profile:500@every=3"]);
        assert_eq!(
            replies(&mut i, Endpoint::ProfileGet, 6),
            [false, false, true, false, false, true]
        );
        assert_eq!(
            replies(&mut i, Endpoint::Summary, 3),
            [false; 3],
            "other endpoints untouched"
        );
        let mut i = inj(&["any:503@next=2"]);
        assert_eq!(
            replies(&mut i, Endpoint::Token, 4),
            [true, true, false, false]
        );
        let mut i = inj(&["502@nth=2,4"]);
        assert_eq!(
            replies(&mut i, Endpoint::Loyalty, 5),
            [false, true, false, true, false]
        );
        let mut i = inj(&["drop@after=3"]);
        assert_eq!(
            replies(&mut i, Endpoint::Summary, 5),
            [false, false, false, true, true]
        );
    }

    #[test]
    fn rates_are_reproducible_and_roughly_right() {
        let a = replies(
            &mut inj(&["profile:500@rate=0.25"]),
            Endpoint::ProfileGet,
            4000,
        );
        let b = replies(
            &mut inj(&["profile:500@rate=0.25"]),
            Endpoint::ProfileGet,
            4000,
        );
        assert_eq!(a, b);
        let fired = a.iter().filter(|x| **x).count();
        assert!((800..1200).contains(&fired), "{fired}");
    }

    #[test]
    fn mutate_only_fires_after_the_first_page() {
        let mut i = inj(&["summary:mutate=3"]);
        assert_eq!(i.plan(Endpoint::Summary, Some(1)).mutate, 0);
        assert_eq!(i.plan(Endpoint::Summary, Some(2)).mutate, 3);
        assert_eq!(i.plan(Endpoint::ProfileGet, Some(2)).mutate, 0);
    }

    #[test]
    fn malformed_targets_logins() {
        let mut i = inj(&["profile:malformed=tag,login=a@x.example"]);
        assert_eq!(i.malformed(Endpoint::ProfileGet, Some("b@x.example")), None);
        assert_eq!(
            i.malformed(Endpoint::ProfileGet, Some("A@x.example")),
            Some(Malformation::BadTag)
        );
        assert_eq!(i.malformed(Endpoint::Summary, Some("a@x.example")), None);
        let doc = b"<ProfileResponse><General/></ProfileResponse>";
        assert!(crate::xml::parse_profile(&malform(doc, Malformation::BadTag)).is_err());
        assert!(crate::xml::parse_profile(&malform(doc, Malformation::Cut)).is_err());
        assert!(crate::xml::parse_profile(doc).is_ok());
    }

    #[test]
    fn latency_ranges_stay_in_bounds() {
        let mut i = Injector::new(1, vec![], Some("10-20".parse().unwrap()), Duration::ZERO);
        for _ in 0..100 {
            let d = i.plan(Endpoint::Summary, None).delay;
            assert!((Duration::from_millis(10)..=Duration::from_millis(20)).contains(&d));
        }
    }
}
