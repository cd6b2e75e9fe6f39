//! Outbox benchmark against the sandbox on loopback (its own tokio runtime in this
//! process):
//!
//! (a) time to queue one loyalty update (validated, stored in one transaction synced to
//!     disk with `synchronous = FULL`, event logged): p50 / p99 / max over `QUEUE` calls
//!     on a cache of `PROFILES` synced profiles;
//! (b) updates sent per second by `flush_updates` (one `LoyaltyMembershipUpdate` POST
//!     each, states written before and after every request) at concurrency 1, 4 and 8.
//!
//! Run: `cargo bench --features sandbox --bench outbox`. Knobs: `PROFILES` (default
//! 1000), `QUEUE` (default 2000). Prints figures; asserts nothing.

use profile_cache::client::StaticToken;
use profile_cache::model::{LoyaltyMembership, LoyaltyVendorType, Total};
use profile_cache::sandbox::generate::login_for;
use profile_cache::sandbox::{Sandbox, SandboxConfig};
use profile_cache::sync::SyncOptions;
use profile_cache::{CacheConfig, ProfileCache};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TOKEN: &str = "bench-static-token";
const AIRLINES: [&str; 4] = ["LH", "UA", "AF", "KL"];

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn update(code: &str, n: u64) -> LoyaltyMembership {
    LoyaltyMembership {
        unique_id: Some("Frequent Flyer".into()),
        vendor_code: Some(code.into()),
        vendor_type: Some(LoyaltyVendorType::Air),
        account_no: Some(format!("ACC-{n:08}")),
        status: Some("Senator".into()),
        point_total: Some(Total::Number(n as i64)),
        segment_total: Some(Total::Number(61)),
        ..Default::default()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let profiles = env("PROFILES", 1000);
    let queue = env("QUEUE", 2000);
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("server runtime");
    let sb = server_rt
        .block_on(Sandbox::start(
            SandboxConfig::new(profiles, 42).with_static_token(TOKEN),
        ))
        .expect("sandbox");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let open = |concurrency: usize| {
            let mut c = CacheConfig::new(dir.path().join("cache.db"), sb.base_url());
            c.outbox.concurrency = concurrency;
            ProfileCache::open(c, Arc::new(StaticToken::new(TOKEN))).expect("open")
        };
        let cache = open(4);
        cache.sync(SyncOptions::default(), None).await.expect("sync");

        // (a) queueing
        let mut times = Vec::with_capacity(queue as usize);
        for n in 0..queue {
            let login = login_for(n % profiles);
            let code = AIRLINES[((n / profiles) % 4) as usize];
            let t = Instant::now();
            cache
                .queue_loyalty_update(&login, update(code, n))
                .expect("queue");
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "(a) queue one update (durable, {profiles} profiles cached, {queue} calls): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3,
            times.last().unwrap().as_secs_f64() * 1e3,
        );
        drop(cache);

        // (b) sending
        for concurrency in [1usize, 4, 8] {
            let cache = open(concurrency);
            let pending = cache.outbox_status().expect("status").pending;
            if pending == 0 {
                for n in 0..queue {
                    let code = AIRLINES[((n / profiles) % 4) as usize];
                    cache
                        .queue_loyalty_update(&login_for(n % profiles), update(code, n + 1))
                        .expect("queue");
                }
            }
            let pending = cache.outbox_status().expect("status").pending;
            let t = Instant::now();
            let report = cache.flush_updates().await.expect("flush");
            let secs = t.elapsed().as_secs_f64();
            println!(
                "(b) flush of {pending} updates at concurrency {concurrency}: {secs:.2} s, {:.0} updates/s ({} sent, {} failed)",
                report.sent as f64 / secs,
                report.sent,
                report.failed
            );
        }
    });
    drop(sb);
}
