//! Sandbox benchmark: how many profile GETs and summary pages per second the sandbox
//! serves on loopback, measured by a separate load-generator process (Debian's `wrk`).
//!
//! Run: `cargo bench --features sandbox --bench sandbox`. Needs `wrk` on the PATH
//! (`apt-get install -y wrk`); without it the benchmark says so and exits. Knobs (env):
//! `PROFILES` (default 100,000), `DURATION` seconds per phase (default 10), `CONNECTIONS`
//! (default 64), `THREADS` for wrk (default 2), `COLD_DURATION` (default 3). The sandbox runs in this process on a
//! multi-threaded tokio runtime with a static bearer token; wrk cycles through every
//! traveler's login. Phases: cold GETs (one pass over every traveler: each profile is
//! generated and rendered on its first access),
//! warm GETs (all cached after a warm-up), summary pages (200 items each, cycling through
//! every page of the full feed). Prints figures; asserts nothing.

use profile_cache::sandbox::{Sandbox, SandboxConfig};
use std::process::Command;
use std::time::Instant;

const TOKEN: &str = "bench-static-token";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A wrk script whose threads each walk through `count` paths; with `disjoint`, thread k
/// of that many starts at the k-th share of the paths (so a short run touches each path
/// at most once), otherwise at a fixed offset.
fn script(path_expr: &str, count: u64, disjoint: Option<u64>) -> String {
    let start = match disjoint {
        Some(threads) => format!("n = (id or 0) * math.floor(total / {threads})"),
        None => "n = (id or 0) * 7919 * 13".to_owned(),
    };
    format!(
        r#"local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
local n = 0
local total = {count}
local domains = {{"acme.example", "globex.example", "initech.example"}}
function init(args)
  {start}
end
function request()
  local i = n % total
  n = n + 1
  return wrk.format("GET", {path_expr}, {{["Authorization"] = "Bearer {TOKEN}"}})
end
"#
    )
}

struct Run {
    command: String,
    requests_per_sec: Option<f64>,
    output: String,
}

fn wrk(
    base: &str,
    script_text: &str,
    name: &str,
    threads: u64,
    connections: u64,
    seconds: u64,
) -> Run {
    let path =
        std::env::temp_dir().join(format!("sandbox-bench-{name}-{}.lua", std::process::id()));
    std::fs::write(&path, script_text).expect("write wrk script");
    let args = [
        format!("-t{threads}"),
        format!("-c{connections}"),
        format!("-d{seconds}s"),
        "--latency".to_owned(),
        "-s".to_owned(),
        path.display().to_string(),
        format!("{base}/"),
    ];
    let command = format!("wrk {}", args.join(" "));
    let out = Command::new("wrk").args(&args).output().expect("run wrk");
    let _ = std::fs::remove_file(&path);
    let output =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let requests_per_sec = output
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok());
    Run {
        command,
        requests_per_sec,
        output,
    }
}

fn report(title: &str, run: &Run) {
    println!("\n== {title}\n$ {}\n{}", run.command, run.output.trim_end());
    match run.requests_per_sec {
        Some(r) => println!("-> {title}: {r:.0} requests/s"),
        None => println!("-> {title}: wrk gave no figure"),
    }
}

/// The process's resident memory, from /proc (Linux), in MiB.
fn rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn main() {
    if Command::new("wrk").arg("--version").output().is_err() {
        println!(
            "wrk not found: this benchmark needs Debian's wrk as its load generator (apt-get install -y wrk). Skipped."
        );
        return;
    }
    let profiles = env_or("PROFILES", 100_000);
    let seconds = env_or("DURATION", 10);
    let connections = env_or("CONNECTIONS", 64);
    let threads = env_or("THREADS", 2);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");

    let t = Instant::now();
    let sandbox = rt
        .block_on(Sandbox::start(
            SandboxConfig::new(profiles, 42).with_static_token(TOKEN),
        ))
        .expect("sandbox starts");
    let start_time = t.elapsed();
    let base = sandbox.base_url().to_owned();
    println!(
        "resident memory after start: {:.0} MiB",
        rss_mib().unwrap_or(0.0)
    );
    println!(
        "sandbox: {profiles} profiles, started in {:.0} ms at {base}; {} cores",
        start_time.as_secs_f64() * 1000.0,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let profile_path = r#"string.format("/api/travelprofile/v2.0/profile?userid_type=login&userid_value=traveler%06d@%s", i, domains[(i % 3) + 1])"#;
    // Short enough that no thread wraps around its share: every request is a first access.
    let cold_seconds = env_or("COLD_DURATION", 3);
    let cold_script = script(profile_path, profiles, Some(threads));
    let cold = wrk(
        &base,
        &cold_script,
        "cold",
        threads,
        connections,
        cold_seconds,
    );
    report(
        "profile GET, cold (each profile generated and rendered on its first access)",
        &cold,
    );
    let served = sandbox
        .admin()
        .request_counts()
        .get(profile_cache::sandbox::Endpoint::ProfileGet);
    if served > profiles {
        println!(
            "note: {served} GETs for {profiles} profiles, so some of the cold phase hit the cache"
        );
    }
    let profile_script = script(profile_path, profiles, None);

    let t = Instant::now();
    rt.block_on(sandbox.admin().warm_up());
    println!(
        "\nwarm-up of the remaining profiles: {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let warm = wrk(
        &base,
        &profile_script,
        "warm",
        threads,
        connections,
        seconds,
    );
    report("profile GET, warm (served from the rendered cache)", &warm);

    let pages = profiles.div_ceil(200).max(1);
    let summary_path = r#"string.format("/api/travelprofile/v2.0/summary?LastModifiedDate=1900-01-01T00:00:00&ItemsPerPage=200&Page=%d", i + 1)"#;
    let summary = wrk(
        &base,
        &script(summary_path, pages, None),
        "summary",
        threads,
        connections,
        seconds,
    );
    report("summary pages (200 items each)", &summary);

    println!(
        "\nresident memory with every profile rendered and cached: {:.0} MiB",
        rss_mib().unwrap_or(0.0)
    );
    let counts = sandbox.admin().request_counts();
    println!(
        "\nsummary: start {:.0} ms | profile GET cold {:.0}/s | warm {:.0}/s | summary pages {:.0}/s \
         (server counted {} profile GETs, {} summary pages)",
        start_time.as_secs_f64() * 1000.0,
        cold.requests_per_sec.unwrap_or(0.0),
        warm.requests_per_sec.unwrap_or(0.0),
        summary.requests_per_sec.unwrap_or(0.0),
        counts.requests.get("profile").copied().unwrap_or(0),
        counts.requests.get("summary").copied().unwrap_or(0),
    );
    rt.block_on(sandbox.shutdown());
}
