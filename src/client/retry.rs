//! The retry policy: which failures are worth another attempt, and how long to wait
//! (exponential backoff with full jitter, `Retry-After` honoured, bounded attempts and
//! total time).

use crate::config::HttpPolicy;
use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The delay before attempt `attempt` (1-based count of failures so far): uniformly random
/// in `[0, min(max_delay, base × 2^(attempt-1))]`, but at least what `Retry-After` asked.
pub(crate) fn backoff(
    policy: &HttpPolicy,
    attempt: u32,
    retry_after: Option<Duration>,
    rng: &Jitter,
) -> Duration {
    let exp = policy.base_delay.saturating_mul(
        1u32.checked_shl(attempt.saturating_sub(1).min(20))
            .unwrap_or(u32::MAX),
    );
    let cap = exp.min(policy.max_delay);
    let jittered = Duration::from_nanos(rng.below(cap.as_nanos() as u64 + 1));
    match retry_after {
        Some(asked) => asked.max(jittered),
        None => jittered,
    }
}

/// Parses `Retry-After`: delta seconds, or an HTTP date.
pub(crate) fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((when - now).to_std().unwrap_or(Duration::ZERO))
}

/// Parses an HTTP `Date` header.
pub(crate) fn parse_http_date(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(value.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// A small, lock-free random source for jitter (splitmix64; not for secrets).
#[derive(Debug)]
pub(crate) struct Jitter(AtomicU64);

impl Jitter {
    pub(crate) fn new() -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(7, |d| d.as_nanos() as u64);
        Jitter(AtomicU64::new(seed))
    }

    /// The next 64 random bits.
    pub(crate) fn next(&self) -> u64 {
        let mut z = self
            .0
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let p = HttpPolicy::default();
        let j = Jitter::new();
        for attempt in 1..12 {
            let cap = p
                .base_delay
                .saturating_mul(1 << (attempt - 1))
                .min(p.max_delay);
            for _ in 0..50 {
                assert!(backoff(&p, attempt, None, &j) <= cap);
            }
        }
        let d = backoff(&p, 1, Some(Duration::from_secs(7)), &j);
        assert_eq!(d, Duration::from_secs(7));
        // Full jitter: not always the cap.
        let spread: std::collections::HashSet<_> =
            (0..20).map(|_| backoff(&p, 6, None, &j)).collect();
        assert!(spread.len() > 10);
    }

    #[test]
    fn retry_after_takes_seconds_or_dates() {
        let now = DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Fri, 04 Dec 2026 10:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert!(parse_http_date("Fri, 04 Dec 2026 10:00:30 GMT").is_some());
    }
}
