//! `demo` (the whole library against the embedded sandbox) and `sandbox` (serve it).

use crate::cli::{Global, SandboxArgs};
use crate::commands::{human_profile, print_json};
use crate::interrupt::{abandonable, interruptible};
use crate::progress::{SyncBar, spinner};
use crate::{Failure, Outcome};
use profile_cache::model::{LoyaltyMembership, LoyaltyVendorType};
use profile_cache::sandbox::{Sandbox, SandboxConfig};
use profile_cache::store::UpdateState;
use profile_cache::sync::{FlushReport, SyncListener, SyncOptions, SyncReport};
use profile_cache::{CacheConfig, ProfileCache};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The never-expiring token `profile-cache sandbox` accepts (for `sync --token`).
pub const SANDBOX_TOKEN: &str = "sandbox-static-token";

/// What became of a demo stopped by Ctrl-C.
const DEMO_STOPPED: &str = "the demo stopped; what it synced so far stays in the database (`profile-cache demo` starts again)";

/// One sync of the demo; Ctrl-C cancels it cleanly.
async fn sync(
    cache: &ProfileCache,
    listener: Option<Arc<dyn SyncListener>>,
) -> Result<SyncReport, Failure> {
    let r = interruptible(
        cache.sync(SyncOptions::default(), listener),
        || cache.cancel(),
        DEMO_STOPPED,
    )
    .await?;
    Ok(r?)
}

/// One flush of the demo; Ctrl-C cancels it (unsent updates stay queued).
async fn kick(cache: &ProfileCache) -> Result<profile_cache::Result<FlushReport>, Failure> {
    interruptible(cache.kick(), || cache.clone().close(), DEMO_STOPPED).await
}

/// A pause of the demo; Ctrl-C ends it at once.
async fn pause(ms: u64) -> Outcome {
    abandonable(tokio::time::sleep(Duration::from_millis(ms)), DEMO_STOPPED).await
}

pub async fn demo(g: &Global, profiles: u64, latency_ms: Option<u64>) -> Outcome {
    let started = Instant::now();
    let talk = !g.json && !g.quiet;
    macro_rules! say {
        ($($t:tt)*) => { if talk { println!($($t)*); } };
    }
    let mut sandbox = SandboxConfig::new(profiles, 42);
    if let Some(ms) = latency_ms {
        sandbox = sandbox.with_latency(&ms.to_string())?;
    }
    let sb = abandonable(Sandbox::start(sandbox), DEMO_STOPPED).await??;
    say!("sandbox: {} travelers at {}", profiles, sb.base_url());
    let tokens = sb
        .oauth_provider()
        .map_err(|e| Failure::new(3, format!("the OAuth provider failed: {}", e.message)))?;
    let mut config = CacheConfig::new(&g.db, sb.base_url());
    // The sandbox stamps changes and its `Date` header from one clock: a 2 s margin is
    // enough there (real servers get the 5 s default).
    config.change_margin = Duration::from_secs(2);
    config.http.offline_total = Duration::from_secs(1);
    let cache = ProfileCache::open(config, Arc::new(tokens))?;

    let t = Instant::now();
    let bar = Arc::new(SyncBar::new(g));
    let result = sync(&cache, Some(bar.clone())).await;
    bar.finish();
    let first = result?;
    let first_s = t.elapsed().as_secs_f64();
    say!(
        "sync: {} profiles in {:.1} s ({} pages, {} requests, {} failed)",
        first.profiles_fetched,
        first_s,
        first.pages,
        first.requests,
        first.failed
    );

    let login = profile_cache::sandbox::generate::login_for(1);
    if let Some(p) = cache.profile(&login)? {
        say!("\nprofile:\n{}", human_profile(&p, false));
    }
    let t = Instant::now();
    let hits = cache.search("mar", 5)?;
    let search_ms = t.elapsed().as_secs_f64() * 1000.0;
    say!("search \"mar\" ({search_ms:.1} ms):");
    for h in &hits {
        say!(
            "  {:<40} {}",
            h.login,
            h.display_name.as_deref().unwrap_or("")
        );
    }

    sb.admin().mutate_random(25);
    // Changes younger than the margin would be fetched again by the next sync: let them age.
    pause(2_200).await?;
    let t = Instant::now();
    let incremental = sync(&cache, None).await?;
    say!(
        "\nincremental sync after 25 changes: {} profiles, {} requests, {:.0} ms",
        incremental.profiles_fetched,
        incremental.requests,
        t.elapsed().as_secs_f64() * 1000.0
    );

    // The loyalty outbox through an outage.
    let vendor_code = cache
        .profile(&login)?
        .and_then(|p| p.profile.air.clone())
        .and_then(|a| a.memberships.into_iter().find_map(|m| m.vendor_code))
        .unwrap_or_else(|| "LH".into());
    sb.admin().set_down(true);
    say!("\nloyalty: the sandbox is now unreachable; queueing an air status update");
    let id = cache.queue_loyalty_update(
        &login,
        LoyaltyMembership {
            unique_id: Some("Frequent Flyer".into()),
            vendor_code: Some(vendor_code.clone()),
            vendor_type: Some(LoyaltyVendorType::Air),
            account_no: Some("DEMO-4711".into()),
            status: Some("Platinum".into()),
            ..Default::default()
        },
    )?;
    let pb = spinner(g, "flushing while offline");
    let offline = kick(&cache).await;
    pb.finish_and_clear();
    let offline = offline?;
    let state = |cache: &ProfileCache| -> Result<UpdateState, Failure> {
        Ok(cache
            .update(id)?
            .map(|u| u.state)
            .ok_or(profile_cache::Error::NotFound)?)
    };
    say!(
        "  flush while offline: {}; update #{id} is {}",
        match &offline {
            Ok(r) => format!("{} sent, {} pending", r.sent, r.pending),
            Err(e) => e.to_string(),
        },
        state(&cache)?.as_str()
    );
    if let Some(p) = cache.profile(&login)? {
        for line in human_profile(&p, false)
            .lines()
            .filter(|l| l.contains("update #"))
        {
            say!("  the profile shows it at once: {}", line.trim());
        }
    }
    sb.admin().set_down(false);
    let pb = spinner(g, "flushing");
    let report = kick(&cache).await;
    pb.finish_and_clear();
    let report = report??;
    say!(
        "  sandbox back: flush sent {}; update #{id} is {}",
        report.sent,
        state(&cache)?.as_str()
    );
    let t = Instant::now();
    let mut syncs = 0;
    while state(&cache)? == UpdateState::Sent && syncs < 4 {
        if syncs > 0 {
            pause(1_100).await?;
        }
        sync(&cache, None).await?;
        syncs += 1;
    }
    let final_state = state(&cache)?;
    say!(
        "  after {syncs} sync(s) ({:.0} ms): update #{id} is {}",
        t.elapsed().as_secs_f64() * 1000.0,
        final_state.as_str()
    );

    // A profile fetched right after a change is fetched once more (it is marked stale):
    // let the last changes age past the margin and settle.
    if cache.status()?.counts.stale > 0 {
        pause(2_200).await?;
        sync(&cache, None).await?;
    }
    let status = cache.status()?;
    let db = g.db.display();
    if g.json {
        return print_json(&json!({
            "profiles": status.counts.profiles,
            "active": status.counts.active,
            "inactive": status.counts.inactive,
            "stale": status.counts.stale,
            "first_sync_ms": (first_s * 1000.0) as u64,
            "incremental_profiles": incremental.profiles_fetched,
            "search_ms": search_ms,
            "update": { "id": id, "state": final_state.as_str() },
            "duration_ms": started.elapsed().as_millis() as u64,
            "db": g.db,
        }));
    }
    say!(
        "\ndatabase {db}: {} profiles ({} active, {} inactive), {} stale; demo took {:.1} s",
        status.counts.profiles,
        status.counts.active,
        status.counts.inactive,
        status.counts.stale,
        started.elapsed().as_secs_f64()
    );
    say!("explore it (offline, the sandbox is gone):");
    say!("  profile-cache --db {db} status");
    say!("  profile-cache --db {db} show {login}");
    say!("  profile-cache --db {db} search mar");
    say!("  profile-cache --db {db} loyalty list");
    say!("explore it: sqlite3 {db} 'select login, display_name from profiles limit 5'");
    if first.failed > 0 {
        return Err(Failure::new(
            1,
            format!("{} profiles could not be fetched", first.failed),
        ));
    }
    Ok(())
}

pub async fn sandbox(g: &Global, a: SandboxArgs) -> Outcome {
    let mut config = SandboxConfig::new(a.profiles, a.seed)
        .with_port(a.port)
        .with_static_token(SANDBOX_TOKEN);
    if let Some(ms) = a.latency_ms {
        config = config.with_latency(&ms.to_string())?;
    }
    for f in &a.fault {
        config = config.with_fault(f)?;
    }
    let sb = abandonable(Sandbox::start(config), "the sandbox stopped").await??;
    let c = sb.credentials();
    if g.json {
        print_json(&json!({
            "base_url": sb.base_url(),
            "token": SANDBOX_TOKEN,
            "client_id": c.client_id,
            "client_secret": c.client_secret,
            "profiles": a.profiles,
            "seed": a.seed,
        }))?;
    } else {
        println!("sandbox: {} travelers at {}", a.profiles, sb.base_url());
        println!("  bearer token:  {SANDBOX_TOKEN}");
        println!("  client id:     {}", c.client_id);
        println!("  client secret: {}", c.client_secret);
        println!(
            "try: profile-cache sync --base-url {} --token {SANDBOX_TOKEN}",
            sb.base_url()
        );
        if !g.quiet {
            println!("serving until Ctrl-C");
        }
    }
    crate::interrupt::wait().await;
    // Open connections end with the runtime.
    let _ = tokio::time::timeout(Duration::from_secs(2), sb.shutdown()).await;
    Err(Failure::interrupted("the sandbox stopped"))
}
