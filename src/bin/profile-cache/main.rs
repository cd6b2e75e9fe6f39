//! The `profile-cache` command line (feature `cli`). Today it has the `demo` command:
//! start the built-in sandbox, sync it into a local database, show a profile and a
//! search. The full CLI (sync against a real server, show, search, export, loyalty …)
//! is the CLI milestone's work.

use profile_cache::client::{OAuthGrant, OAuthProvider};
use profile_cache::sandbox::{Sandbox, SandboxConfig};
use profile_cache::sync::{SyncListener, SyncOptions, SyncProgress};
use profile_cache::{CacheConfig, ProfileCache};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: profile-cache [--db PATH] demo [--profiles N]";

struct Line;

impl SyncListener for Line {
    fn on_progress(&self, p: SyncProgress) {
        eprint!(
            "\r  {:?}: pages {}/{}, profiles {}/{}   ",
            p.phase, p.pages_done, p.pages_total, p.profiles_done, p.profiles_total
        );
        let _ = std::io::stderr().flush();
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut db = std::env::var("PROFILE_CACHE_DB").unwrap_or_else(|_| "profile-cache.db".into());
    let mut profiles: u64 = 5_000;
    let mut command = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--db" => db = it.next().cloned().unwrap_or_default(),
            "--profiles" => match it.next().and_then(|v| v.parse().ok()) {
                Some(n) => profiles = n,
                None => return usage("--profiles needs a number"),
            },
            "demo" => command = Some("demo"),
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => return usage(&format!("unknown argument {other:?}")),
        }
    }
    if command != Some("demo") {
        return usage("a command is needed");
    }
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(demo(&db, profiles)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nerror: {e}");
            ExitCode::from(match e {
                profile_cache::Error::Unauthorized { .. } => 3,
                profile_cache::Error::Offline { .. } => 4,
                profile_cache::Error::Store(_) => 5,
                profile_cache::Error::InvalidInput { .. } => 6,
                _ => 1,
            })
        }
    }
}

fn usage(why: &str) -> ExitCode {
    eprintln!("error: {why}\n{USAGE}");
    ExitCode::from(2)
}

async fn demo(db: &str, profiles: u64) -> profile_cache::Result<()> {
    let started = Instant::now();
    let sb = Sandbox::start(SandboxConfig::new(profiles, 42))
        .await
        .map_err(|e| profile_cache::Error::Offline {
            reason: e.to_string(),
        })?;
    println!("sandbox: {} travelers at {}", profiles, sb.base_url());
    let c = sb.credentials();
    let tokens = OAuthProvider::new(
        sb.base_url(),
        c.client_id,
        c.client_secret,
        OAuthGrant::ClientCredentials,
    )
    .map_err(|e| profile_cache::Error::TokenProvider(e.message))?;
    let mut config = CacheConfig::new(db, sb.base_url());
    // The sandbox stamps changes and its `Date` header from one clock: a 2 s margin is
    // enough there (real servers get the 5 s default).
    config.change_margin = Duration::from_secs(2);
    let cache = ProfileCache::open(config, Arc::new(tokens))?;

    let t = Instant::now();
    let report = cache
        .sync(SyncOptions::default(), Some(Arc::new(Line)))
        .await?;
    eprintln!();
    println!(
        "sync: {} profiles in {:.1} s ({} pages, {} requests, {} failed)",
        report.profiles_fetched,
        t.elapsed().as_secs_f64(),
        report.pages,
        report.requests,
        report.failed
    );

    let login = profile_cache::sandbox::generate::login_for(1);
    if let Some(p) = cache.profile(&login)? {
        let g = p.profile.general.clone().unwrap_or_default();
        println!("\nprofile {login}:");
        println!(
            "  name:        {} {}",
            g.first_name.unwrap_or_default(),
            g.last_name.unwrap_or_default()
        );
        println!("  company:     {}", g.company_name.unwrap_or_default());
        println!("  passports:   {}", p.profile.passports.len());
        for m in p.profile.air.iter().flat_map(|a| &a.memberships) {
            println!(
                "  air program: {} {}",
                m.vendor_code.as_deref().unwrap_or("?"),
                m.status.as_deref().unwrap_or("")
            );
        }
    }
    let t = Instant::now();
    let hits = cache.search("mar", 5)?;
    println!(
        "\nsearch \"mar\" ({:.1} ms):",
        t.elapsed().as_secs_f64() * 1000.0
    );
    for h in hits {
        println!("  {:<40} {}", h.login, h.display_name.unwrap_or_default());
    }

    sb.admin().mutate_random(25);
    // Changes younger than the margin would be fetched again by the next sync: let them age.
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let t = Instant::now();
    let report = cache.sync(SyncOptions::default(), None).await?;
    println!(
        "\nincremental sync after 25 changes: {} profiles, {} requests, {:.0} ms",
        report.profiles_fetched,
        report.requests,
        t.elapsed().as_secs_f64() * 1000.0
    );
    let status = cache.status()?;
    println!(
        "\ndatabase {db}: {} profiles ({} active, {} inactive), {} stale; demo took {:.1} s",
        status.counts.profiles,
        status.counts.active,
        status.counts.inactive,
        status.counts.stale,
        started.elapsed().as_secs_f64()
    );
    println!("explore it: sqlite3 {db} 'select login, display_name from profiles limit 5'");
    Ok(())
}
