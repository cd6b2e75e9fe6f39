//! Sync benchmark, against the sandbox running in another process (this binary, started
//! again with `PC_BENCH_SANDBOX=N`):
//!
//! (a) full sync of 10,000 and 100,000 profiles: profiles/s and peak RSS of the syncing
//!     process; (b) the same profile URLs fetched by our client alone, by our client with
//!     each profile parsed, and by `wrk`, at the same concurrency, and the ratios; (c) 100 ms injected latency on profile GETs at concurrency 16: wall time
//!     against the ideal N/16 × 100 ms; (d) an incremental sync of 100 changes on 100,000
//!     cached profiles: requests and wall time.
//!
//! Run: `cargo bench --features sandbox --bench sync`. Knobs: `SIZES` (default
//! `10000,100000`), `LATENCY_PROFILES` (default 2000), `CONCURRENCY` (default 8),
//! `STORE_BATCH` (profiles per transaction, default the library's). Needs `wrk` for the
//! last part of (b). Prints figures, among them the bytes written per profile (a figure
//! that, unlike the rates, does not depend on what else the machine is doing); asserts
//! nothing.

mod common;

use common::{bytes_written, cpu_seconds, peak_rss_mb};
use profile_cache::client::StaticToken;
use profile_cache::sync::SyncOptions;
use profile_cache::{CacheConfig, ProfileCache};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

const TOKEN: &str = "bench-static-token";

fn main() {
    if let Ok(n) = std::env::var("PC_BENCH_SANDBOX") {
        return serve(n.parse().expect("profile count"));
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sizes: Vec<u64> = std::env::var("SIZES")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    for &n in &sizes {
        let (mut child, url) = spawn_sandbox(n);
        rt.block_on(async {
            admin(&url, "POST", "/warm-up", "").await;
            let dir = tempfile::tempdir().expect("temp dir");
            let conc: usize = std::env::var("CONCURRENCY").ok().and_then(|v| v.parse().ok()).unwrap_or(8);
            let cache = open(&dir, &url, conc);
            let t = Instant::now();
            let cpu = cpu_seconds();
            let written = bytes_written();
            let report = cache.sync(SyncOptions::default(), None).await.expect("full sync");
            let secs = t.elapsed().as_secs_f64();
            let cpu = cpu_seconds() - cpu;
            let written = bytes_written() - written;
            let rate = report.profiles_fetched as f64 / secs;
            println!(
                "(a) full sync of {n}: {secs:.1} s, {rate:.0} profiles/s, {} requests, peak RSS {} MB, CPU {:.0} µs/profile in this process, {:.1} KB written to files per profile",
                report.requests,
                peak_rss_mb(),
                cpu * 1e6 / report.profiles_fetched.max(1) as f64,
                written as f64 / 1e3 / report.profiles_fetched.max(1) as f64
            );
            // (b) The same URLs without the sync around them: our HTTP client alone (8
            // tasks, each GET's body read and dropped), then with each document parsed,
            // then wrk.
            let ours = client_rate(&url, n, 8, false).await;
            let parsed = client_rate(&url, n, 8, true).await;
            println!(
                "(b) our client alone, 8 tasks: {ours:.0} GET/s; with each profile parsed: {parsed:.0}/s"
            );
            match wrk(&url, n, 8) {
                Some(raw) => println!(
                    "(b) wrk, same URLs, 8 connections: {raw:.0} GET/s; client/raw = {:.2}, client+parse/raw = {:.2}, sync/raw = {:.2} (target >= 0.8)",
                    ours / raw,
                    parsed / raw,
                    rate / raw
                ),
                None => println!("(b) wrk skipped: not found (apt-get install wrk)"),
            }
            if n >= 100_000 {
                admin(&url, "POST", "/mutate", r#"{"count":100}"#).await;
                admin(&url, "POST", "/counts/reset", "").await;
                let t = Instant::now();
                let report = cache.sync(SyncOptions::default(), None).await.expect("incremental");
                println!(
                    "(d) incremental, 100 changes on {n}: {:.0} ms, {} requests ({} pages, {} profiles) (target < 1 s)",
                    t.elapsed().as_secs_f64() * 1000.0,
                    report.requests,
                    report.pages,
                    report.profiles_fetched
                );
            }
        });
        let _ = child.kill();
        let _ = child.wait();
    }

    let n: u64 = std::env::var("LATENCY_PROFILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let (mut child, url) = spawn_sandbox(n);
    rt.block_on(async {
        admin(&url, "POST", "/warm-up", "").await;
        admin(&url, "POST", "/faults", r#"{"fault":"profile:latency=100"}"#).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = open(&dir, &url, 16);
        let t = Instant::now();
        let report = cache.sync(SyncOptions::default(), None).await.expect("sync");
        let wall = t.elapsed().as_secs_f64();
        let ideal = n as f64 / 16.0 * 0.1;
        println!(
            "(c) {n} profiles, 100 ms latency, concurrency 16: {wall:.2} s vs ideal {ideal:.2} s ({:+.1}%; target within 10%; {} fetched)",
            (wall / ideal - 1.0) * 100.0,
            report.profiles_fetched
        );
    });
    let _ = child.kill();
    let _ = child.wait();
}

/// Profile GETs per second our `ConcurClient` reaches over the sandbox's logins with
/// `tasks` concurrent tasks for 5 s (with `parse`, each document is also parsed).
async fn client_rate(url: &str, n: u64, tasks: u64, parse: bool) -> f64 {
    use profile_cache::HttpPolicy;
    use profile_cache::cancel::CancelToken;
    use profile_cache::client::ConcurClient;
    use std::sync::atomic::{AtomicU64, Ordering};
    let client = Arc::new(
        ConcurClient::new(
            url,
            Arc::new(StaticToken::new(TOKEN)),
            HttpPolicy::default(),
        )
        .expect("client"),
    );
    let done = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + std::time::Duration::from_secs(5);
    let started = Instant::now();
    let workers: Vec<_> = (0..tasks)
        .map(|k| {
            let (client, done) = (client.clone(), done.clone());
            tokio::spawn(async move {
                let cancel = CancelToken::new();
                let mut i = k;
                while Instant::now() < until {
                    let login = profile_cache::sandbox::generate::login_for(i % n);
                    if parse {
                        client.profile_at(&login, &cancel).await.expect("profile");
                    } else {
                        client
                            .execute(None, &cancel, |http, base| {
                                http.get(format!("{base}/api/travelprofile/v2.0/profile"))
                                    .query(&[("userid_type", "login"), ("userid_value", &login)])
                            })
                            .await
                            .expect("profile");
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                    i += tasks;
                }
            })
        })
        .collect();
    for w in workers {
        w.await.expect("task");
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

fn open(dir: &tempfile::TempDir, url: &str, concurrency: usize) -> ProfileCache {
    let mut config = CacheConfig::new(dir.path().join("bench.db"), url);
    config.concurrency = concurrency;
    if let Some(b) = std::env::var("STORE_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        config.store_batch = b;
    }
    ProfileCache::open(config, Arc::new(StaticToken::new(TOKEN))).expect("open")
}

fn spawn_sandbox(n: u64) -> (Child, String) {
    let mut child = Command::new(std::env::current_exe().expect("exe"))
        .env("PC_BENCH_SANDBOX", n.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("sandbox process");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("sandbox prints its URL");
    (child, line.trim().to_owned())
}

fn serve(n: u64) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let config = profile_cache::sandbox::SandboxConfig::new(n, 42).with_static_token(TOKEN);
        let sb = profile_cache::sandbox::Sandbox::start(config)
            .await
            .expect("sandbox");
        println!("{}", sb.base_url());
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    });
}

async fn admin(url: &str, method: &str, path: &str, body: &str) {
    let http = reqwest::Client::new();
    let url = format!("{url}/_sandbox{path}");
    let req = match method {
        "POST" => http.post(url),
        _ => http.get(url),
    };
    let r = req
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("admin request");
    assert!(r.status().is_success(), "admin {path}: {}", r.status());
}

/// Profile GETs per second that wrk reaches over the same URLs.
fn wrk(url: &str, n: u64, connections: u32) -> Option<f64> {
    let script = format!(
        r#"local n = 0
local domains = {{"acme.example", "globex.example", "initech.example"}}
function request()
  local i = n % {n}
  n = n + 1
  local login = string.format("traveler%06d@%s", i, domains[(i % 3) + 1])
  return wrk.format("GET", "/api/travelprofile/v2.0/profile?userid_type=login&userid_value=" .. login,
    {{["Authorization"] = "Bearer {TOKEN}", ["Accept"] = "application/xml"}})
end
"#
    );
    let path = std::env::temp_dir().join(format!("pc-sync-bench-{}.lua", std::process::id()));
    std::fs::write(&path, script).ok()?;
    let out = Command::new("wrk")
        .args(["-t", "2", "-c", &connections.to_string(), "-d", "8s", "-s"])
        .arg(&path)
        .arg(url)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find(|l| l.starts_with("Requests/sec:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
}
