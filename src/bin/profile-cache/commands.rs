//! The commands that work on a database: sync, queries, export, status, the loyalty
//! outbox and notifications.

use crate::cli::{
    Auth, ExportFormat, Global, KindArg, LoyaltyCommand, OptionalRemote, QueueArgs, Remote,
    ScopeArg, StatusArg, SubscriptionArgs, SyncArgs, VendorTypeArg,
};
use crate::interrupt::{abandonable, interruptible};
use crate::progress::{SyncBar, spinner};
use crate::{Failure, Outcome};
use profile_cache::client::{OAuthGrant, OAuthProvider, StaticToken, TokenProvider};
use profile_cache::model::{LoyaltyMembership, LoyaltyVendorType, ProfileStatus, Total};
use profile_cache::store::{QueuedUpdate, Resolution, SummaryFilter, UpdateFilter};
use profile_cache::sync::{NotificationKind, NotificationOutcome, SubscriptionScope, SyncOptions};
use profile_cache::{CacheConfig, CachedProfile, ProfileCache, SyncStatus};
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Where local-only commands point the client (nothing listens there: a refresh attempt
/// fails at once as offline and the profile is marked stale).
const NO_SERVER: &str = "http://127.0.0.1:9";

pub fn print_json(value: &impl serde::Serialize) -> Outcome {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::new(1, format!("cannot write JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

fn tokens(base_url: &str, auth: &Auth) -> Result<Arc<dyn TokenProvider>, Failure> {
    if let Some(t) = &auth.token {
        return Ok(Arc::new(StaticToken::new(t.clone())));
    }
    match (&auth.client_id, &auth.client_secret) {
        (Some(id), Some(secret)) => {
            let grant = match &auth.refresh_token {
                Some(r) => OAuthGrant::RefreshToken(r.clone()),
                None => OAuthGrant::ClientCredentials,
            };
            let p =
                OAuthProvider::new(base_url, id.clone(), secret.clone(), grant).map_err(|e| {
                    Failure::new(3, format!("the OAuth provider failed: {}", e.message))
                })?;
            Ok(Arc::new(p))
        }
        _ => Err(Failure::usage(
            "no credentials: give --token (or PROFILE_CACHE_TOKEN), or --client-id and --client-secret (with --refresh-token for a refresh-token grant)",
        )),
    }
}

/// Opens the cache to talk to a server.
pub fn open_remote(g: &Global, remote: &Remote) -> Result<ProfileCache, Failure> {
    let tokens = tokens(&remote.base_url, &remote.auth)?;
    let config = CacheConfig::new(&g.db, remote.base_url.trim_end_matches('/'));
    Ok(ProfileCache::open(config, tokens)?)
}

fn open_optional(g: &Global, remote: &OptionalRemote) -> Result<ProfileCache, Failure> {
    require_db(g)?;
    match &remote.base_url {
        Some(url) => open_remote(
            g,
            &Remote {
                base_url: url.clone(),
                auth: remote.auth.clone(),
            },
        ),
        None => open_local(g),
    }
}

fn require_db(g: &Global) -> Outcome {
    if g.db.exists() {
        Ok(())
    } else {
        Err(Failure::new(
            5,
            format!(
                "no database at {}; run `profile-cache sync` (or `profile-cache demo`) first, or point --db at one",
                g.db.display()
            ),
        ))
    }
}

/// Opens an existing database for local work.
pub fn open_local(g: &Global) -> Result<ProfileCache, Failure> {
    require_db(g)?;
    let mut config = CacheConfig::new(&g.db, NO_SERVER);
    config.http.max_attempts = 1;
    config.http.offline_total = Duration::from_millis(200);
    Ok(ProfileCache::open(config, Arc::new(StaticToken::new("")))?)
}

/// What became of a sync stopped by Ctrl-C.
const SYNC_STOPPED: &str =
    "the sync stopped cleanly; run the same command again to resume where it stopped";

pub async fn sync(g: &Global, args: SyncArgs) -> Outcome {
    let cache = open_remote(g, &args.remote)?;
    let options = SyncOptions {
        full: args.full,
        reconcile: args.reconcile,
        travel_configs: args.travel_configs,
        concurrency: args.concurrency,
        ..Default::default()
    };
    let bar = Arc::new(SyncBar::new(g));
    let result = interruptible(
        cache.sync(options, Some(bar.clone())),
        || cache.cancel(),
        SYNC_STOPPED,
    )
    .await;
    bar.finish();
    let report = result??;
    if g.json {
        print_json(&report)?;
    } else if !g.quiet {
        println!(
            "synced: {} profiles fetched, {} inactive, {} removed, {} failed ({} pages, {} requests, {:.1} s)",
            report.profiles_fetched,
            report.inactive,
            report.removed,
            report.failed,
            report.pages,
            report.requests,
            report.duration_ms as f64 / 1000.0
        );
        if g.verbose {
            println!(
                "  passes {}, summaries seen {}, deferred {}, checkpoint advanced: {}",
                report.passes, report.summaries_seen, report.deferred, report.checkpoint_advanced
            );
        }
    }
    if report.failed > 0 {
        return Err(Failure::new(
            1,
            format!(
                "{} profiles could not be fetched; they stay stale and the next sync retries them",
                report.failed
            ),
        ));
    }
    Ok(())
}

fn cached(cache: &ProfileCache, login: &str) -> Result<CachedProfile, Failure> {
    cache.profile(login)?.ok_or_else(|| {
        Failure::invalid("no cached profile has that login; `profile-cache search` finds travelers")
    })
}

pub fn show(g: &Global, login: &str, xml: bool) -> Outcome {
    let cache = open_local(g)?;
    let p = cached(&cache, login)?;
    if xml {
        println!("{}", p.xml);
        return Ok(());
    }
    if g.json {
        return print_json(&p.profile);
    }
    let stale = cache.store().summary(&p.login)?.is_some_and(|s| s.stale);
    print!("{}", human_profile(&p, stale));
    Ok(())
}

/// The human view of a profile (also used by the demo).
pub fn human_profile(p: &CachedProfile, stale: bool) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let g = p.profile.general.clone().unwrap_or_default();
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let _ = writeln!(
        s,
        "{}",
        p.profile.display_name().unwrap_or_else(|| p.login.clone())
    );
    let _ = writeln!(s, "  login:       {}", p.login);
    let status = p.status.as_ref().map(|s| s.as_wire().to_owned());
    let _ = writeln!(
        s,
        "  status:      {}{}",
        status.unwrap_or_else(|| "-".into()),
        if stale {
            " (stale: the next sync fetches it again)"
        } else {
            ""
        }
    );
    let _ = writeln!(s, "  company:     {}", opt(&g.company_name));
    let _ = writeln!(s, "  employee id: {}", opt(&g.company_employee_id));
    let _ = writeln!(s, "  job title:   {}", opt(&g.job_title));
    for e in &p.profile.email_addresses {
        let _ = writeln!(s, "  e-mail:      {}", opt(&e.address));
    }
    let _ = writeln!(s, "  telephones:  {}", p.profile.telephones.len());
    let _ = writeln!(s, "  passports:   {}", p.profile.passports.len());
    let sections = [
        ("air", "A", p.profile.air.as_ref().map(|a| &a.memberships)),
        ("car", "C", p.profile.car.as_ref().map(|a| &a.memberships)),
        (
            "hotel",
            "H",
            p.profile.hotel.as_ref().map(|a| &a.memberships),
        ),
    ];
    for (name, wire, memberships) in sections {
        for m in memberships.into_iter().flatten() {
            let code = m.vendor_code.clone().unwrap_or_default();
            let marks: Vec<String> = p
                .pending
                .iter()
                .filter(|u| {
                    format!("{:?}", u.section).eq_ignore_ascii_case(name)
                        && u.vendor_code.eq_ignore_ascii_case(&code)
                })
                .map(|u| format!("[{} update #{}]", u.state.as_str(), u.update_id))
                .collect();
            let _ = writeln!(
                s,
                "  {name:<5} {wire} {:<4} account {:<14} status {:<10} {}",
                code,
                opt(&m.account_no),
                opt(&m.status),
                marks.join(" ")
            );
        }
    }
    let _ = writeln!(s, "  fetched:     {}", p.fetched_at.to_rfc3339());
    if let Some(t) = p.server_modified {
        let _ = writeln!(s, "  modified:    {}", t.to_rfc3339());
    }
    s
}

pub fn search(g: &Global, query: &str, limit: u32) -> Outcome {
    let cache = open_local(g)?;
    let hits = cache.search(query, limit)?;
    if g.json {
        let v: Vec<Value> = hits
            .iter()
            .map(|h| {
                json!({
                    "login": h.login,
                    "display_name": h.display_name,
                    "status": h.status.as_ref().map(|s| s.as_wire()),
                    "score": h.score,
                })
            })
            .collect();
        return print_json(&v);
    }
    for h in &hits {
        println!(
            "{:<44} {}",
            h.login,
            h.display_name.as_deref().unwrap_or("")
        );
    }
    if hits.is_empty() && !g.quiet {
        eprintln!("no matches");
    }
    Ok(())
}

fn parse_time(field: &str, s: &str) -> Result<profile_cache::model::Timestamp, Failure> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| {
            Failure::invalid(format!(
                "{field} must be an RFC 3339 time such as 2026-01-31T00:00:00Z"
            ))
        })
}

pub fn list(g: &Global, status: Option<StatusArg>, modified_since: Option<&str>) -> Outcome {
    let modified_since = modified_since
        .map(|s| parse_time("--modified-since", s))
        .transpose()?;
    let cache = open_local(g)?;
    let filter = SummaryFilter {
        status: status.map(|s| match s {
            StatusArg::Active => ProfileStatus::Active,
            StatusArg::Inactive => ProfileStatus::Inactive,
        }),
        modified_since,
        ..Default::default()
    };
    let rows = cache.list(&filter)?;
    if g.json {
        let v: Vec<Value> = rows
            .iter()
            .map(|s| {
                json!({
                    "login": s.login,
                    "sync_id": s.sync_id,
                    "status": s.status.as_ref().map(|s| s.as_wire()),
                    "last_modified": s.last_modified,
                    "stale": s.stale,
                })
            })
            .collect();
        return print_json(&v);
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for s in &rows {
        let _ = writeln!(
            out,
            "{:<44} {:<8} {}{}",
            s.login,
            s.status.as_ref().map(|s| s.as_wire()).unwrap_or("-"),
            s.last_modified.map(|t| t.to_rfc3339()).unwrap_or_default(),
            if s.stale { " stale" } else { "" }
        );
    }
    Ok(())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

pub fn export(g: &Global, format: ExportFormat, out: Option<&Path>) -> Outcome {
    let cache = open_local(g)?;
    let rows = cache.list(&SummaryFilter::default())?;
    let mut w: Box<dyn Write> = match out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| Failure::io("create the --out file", e))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let write_err = |e: std::io::Error| Failure::io("write the export", e);
    if let ExportFormat::Csv = format {
        writeln!(
            w,
            "login,status,first_name,last_name,email,company_name,employee_id,last_modified"
        )
        .map_err(write_err)?;
    }
    let mut n = 0u64;
    for s in &rows {
        if crate::interrupt::pressed() {
            let _ = w.flush();
            return Err(Failure::interrupted(&format!(
                "the export stopped after {n} profiles"
            )));
        }
        let Some(p) = cache.profile(&s.login)? else {
            continue;
        };
        match format {
            ExportFormat::Jsonl => {
                let line = serde_json::to_string(&p.profile)
                    .map_err(|e| Failure::new(1, format!("cannot write JSON: {e}")))?;
                writeln!(w, "{line}").map_err(write_err)?;
            }
            ExportFormat::Csv => {
                let g = p.profile.general.clone().unwrap_or_default();
                let email = p
                    .profile
                    .email_addresses
                    .first()
                    .and_then(|e| e.address.clone());
                let fields = [
                    Some(p.login.clone()),
                    p.status.as_ref().map(|s| s.as_wire().to_owned()),
                    g.first_name,
                    g.last_name,
                    email,
                    g.company_name,
                    g.company_employee_id,
                    s.last_modified.map(|t| t.to_rfc3339()),
                ];
                let line: Vec<String> = fields
                    .iter()
                    .map(|f| csv_field(f.as_deref().unwrap_or("")))
                    .collect();
                writeln!(w, "{}", line.join(",")).map_err(write_err)?;
            }
        }
        n += 1;
    }
    w.flush().map_err(write_err)?;
    if !g.quiet {
        eprintln!("exported {n} profiles");
    }
    Ok(())
}

/// How the last sync ended: `ok`, `failed`, `running` or `interrupted` (and the error of
/// a failed one). A sync that started, is not running, has no success since it started
/// and left no error was stopped (Ctrl-C, `cancel()`, or the process ended): interrupted.
/// Older library versions recorded a cancelled sync as the error "cancelled".
pub fn last_sync_result(s: &SyncStatus) -> Option<(&'static str, Option<&str>)> {
    let at = s.last_attempt_at?;
    let error = s.last_error.as_deref().filter(|e| *e != "cancelled");
    Some(if s.running {
        ("running", None)
    } else if s.last_success_at.is_some_and(|ok| ok >= at) {
        ("ok", None)
    } else if error.is_some() {
        ("failed", error)
    } else {
        ("interrupted", None)
    })
}

/// The `status --json` object (documented in the README).
pub fn status_json(s: &SyncStatus) -> Value {
    let last_sync = s
        .last_attempt_at
        .zip(last_sync_result(s))
        .map(|(at, (result, error))| {
            json!({
                "started_at": at,
                "result": result,
                "succeeded_at": s.last_success_at,
                "error": error,
            })
        });
    let o = &s.outbox;
    json!({
        "profiles": s.counts.profiles,
        "summaries": s.counts.summaries,
        "active": s.counts.active,
        "inactive": s.counts.inactive,
        "stale": s.counts.stale,
        "failed": s.failed,
        "updates": {
            "pending": o.pending, "sending": o.sending, "sent": o.sent,
            "confirmed": o.confirmed, "failed": o.failed, "conflict": o.conflict,
        },
        "checkpoint": s.checkpoint,
        "last_sync": last_sync,
    })
}

pub fn status(g: &Global) -> Outcome {
    let cache = open_local(g)?;
    let s = cache.status()?;
    if g.json {
        return print_json(&status_json(&s));
    }
    let c = &s.counts;
    println!("database:   {}", g.db.display());
    println!(
        "profiles:   {} ({} active, {} inactive), {} stale, {} failed",
        c.profiles, c.active, c.inactive, c.stale, s.failed
    );
    println!(
        "checkpoint: {}",
        s.checkpoint
            .as_deref()
            .unwrap_or("none (the next sync is a full one)")
    );
    match s.last_attempt_at.zip(last_sync_result(&s)) {
        None => println!("last sync:  never"),
        Some((at, (_, Some(e)))) => println!("last sync:  {} failed: {e}", at.to_rfc3339()),
        Some((at, ("interrupted", _))) => println!(
            "last sync:  {} interrupted (the next sync resumes it)",
            at.to_rfc3339()
        ),
        Some((at, (result, None))) => println!("last sync:  {} {result}", at.to_rfc3339()),
    }
    let o = &s.outbox;
    println!(
        "loyalty:    {} pending, {} sending, {} sent, {} confirmed, {} failed, {} conflict",
        o.pending, o.sending, o.sent, o.confirmed, o.failed, o.conflict
    );
    Ok(())
}

fn update_json(u: &QueuedUpdate) -> Value {
    let m = &u.membership;
    json!({
        "id": u.id,
        "login": u.login,
        "program": m.unique_id,
        "vendor_code": m.vendor_code,
        "vendor_type": m.vendor_type.as_ref().map(|t| t.as_wire()),
        "account_no": m.account_no,
        "status": m.status,
        "state": u.state.as_str(),
        "attempts": u.attempts,
        "queued_at": u.queued_at,
        "updated_at": u.updated_at,
        "sent_at": u.sent_at,
        "next_attempt_at": u.next_attempt_at,
        "last_error": u.last_error,
    })
}

fn print_update(g: &Global, u: &QueuedUpdate, what: &str) -> Outcome {
    if g.json {
        print_json(&update_json(u))
    } else {
        if !g.quiet {
            println!("update #{} {what}: now {}", u.id, u.state.as_str());
        }
        Ok(())
    }
}

pub fn membership(a: &QueueArgs) -> LoyaltyMembership {
    LoyaltyMembership {
        unique_id: Some(a.program.clone()),
        vendor_code: Some(a.vendor_code.clone()),
        vendor_type: Some(match a.vendor_type {
            VendorTypeArg::Air => LoyaltyVendorType::Air,
            VendorTypeArg::Car => LoyaltyVendorType::Car,
            VendorTypeArg::Hotel => LoyaltyVendorType::Hotel,
        }),
        account_no: Some(a.account_no.clone()),
        status: a.status.clone(),
        status_benefits: a.status_benefits.clone(),
        point_total: a.point_total.as_deref().map(Total::from_wire),
        segment_total: a.segment_total.as_deref().map(Total::from_wire),
        next_status: a.next_status.clone(),
        ..Default::default()
    }
}

pub async fn loyalty(g: &Global, cmd: LoyaltyCommand) -> Outcome {
    match cmd {
        LoyaltyCommand::Queue(a) => {
            let cache = open_local(g)?;
            let id = cache.queue_loyalty_update(&a.login, membership(&a))?;
            let u = cache.update(id)?.ok_or(profile_cache::Error::NotFound)?;
            if g.json {
                return print_json(&update_json(&u));
            }
            if !g.quiet {
                println!(
                    "queued update #{id}; send it with `profile-cache loyalty flush --base-url URL`"
                );
            }
            Ok(())
        }
        LoyaltyCommand::List => {
            let cache = open_local(g)?;
            let updates = cache.updates(&UpdateFilter::default())?;
            if g.json {
                let v: Vec<Value> = updates.iter().map(update_json).collect();
                return print_json(&v);
            }
            for u in &updates {
                let m = &u.membership;
                println!(
                    "#{:<5} {:<10} {:<40} {} {} {}{}",
                    u.id,
                    u.state.as_str(),
                    u.login,
                    m.vendor_type.as_ref().map(|t| t.as_wire()).unwrap_or("-"),
                    m.vendor_code.as_deref().unwrap_or("-"),
                    m.unique_id.as_deref().unwrap_or(""),
                    u.last_error
                        .as_deref()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
        LoyaltyCommand::Flush { remote } => {
            require_db(g)?;
            let cache = open_remote(g, &remote)?;
            let pb = spinner(g, "sending loyalty updates");
            let closer = cache.clone();
            let result = interruptible(cache.kick(), move || closer.close(), FLUSH_STOPPED).await;
            pb.finish_and_clear();
            let r = result??;
            if g.json {
                print_json(&r)?;
            } else if !g.quiet {
                println!(
                    "flush: {} sent, {} refused, {} still pending, {} in conflict",
                    r.sent, r.failed, r.pending, r.conflicts
                );
            }
            if r.failed > 0 || r.conflicts > 0 {
                return Err(Failure::new(
                    1,
                    "some updates were refused or are in conflict; see `profile-cache loyalty list`, then retry, discard or resolve them",
                ));
            }
            Ok(())
        }
        LoyaltyCommand::Retry { id } => {
            let cache = open_local(g)?;
            let u = cache.retry_update(id)?;
            print_update(g, &u, "queued again")
        }
        LoyaltyCommand::Discard { id } => {
            let cache = open_local(g)?;
            let unknown = || {
                Failure::invalid("no update has that id; `profile-cache loyalty list` shows them")
            };
            let u = cache.update(id)?.ok_or_else(unknown)?;
            if !cache.discard_update(id)? {
                return Err(unknown());
            }
            if g.json {
                // The update as it was; `state` says it left the outbox.
                let mut v = update_json(&u);
                v["state"] = "discarded".into();
                return print_json(&v);
            }
            if !g.quiet {
                println!("update #{id} discarded");
            }
            Ok(())
        }
        LoyaltyCommand::Resolve {
            id,
            keep_mine,
            take_theirs: _,
        } => {
            let cache = open_local(g)?;
            let resolution = if keep_mine {
                Resolution::KeepMine
            } else {
                Resolution::TakeTheirs
            };
            let before = cache.update(id)?;
            match cache.resolve_conflict(id, resolution)? {
                Some(u) => print_update(g, &u, "resolved"),
                None if g.json => {
                    // The update as it was; `state` says it left the outbox.
                    let mut v = before
                        .as_ref()
                        .map_or_else(|| json!({ "id": id }), update_json);
                    v["state"] = "dropped".into();
                    print_json(&v)
                }
                None => {
                    if !g.quiet {
                        println!("update #{id} dropped: the server's values stay");
                    }
                    Ok(())
                }
            }
        }
    }
}

/// What became of a flush stopped by Ctrl-C.
const FLUSH_STOPPED: &str = "the flush stopped; updates not confirmed as sent stay queued, and `profile-cache loyalty flush` sends them";

/// A permanent refusal (HTTP 4xx) of a request naming one traveler: the server does not
/// know that traveler (e.g. 400 Invalid User), an invalid-input error (6) rather than a
/// server one. `what` names where the traveler came from.
fn for_traveler(e: profile_cache::Error, what: &str) -> Failure {
    match &e {
        profile_cache::Error::Server {
            status, message, ..
        } if (400..500).contains(status) => Failure::invalid(format!(
            "SAP Concur refused the request for the traveler {what} (HTTP {status}{}); check that the traveler exists there and that the token may see them",
            message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        )),
        _ => Failure::from(e),
    }
}

pub async fn subscription(g: &Global, a: SubscriptionArgs, on: bool) -> Outcome {
    let cache = open_remote(g, &a.remote)?;
    let user = a.login.is_some();
    let (scope, scope_name) = match a.scope {
        ScopeArg::Company => (SubscriptionScope::Company, "company"),
        ScopeArg::User => (SubscriptionScope::User { login: a.login }, "user"),
    };
    let kind = match a.kind {
        KindArg::Profile => NotificationKind::Profile,
        KindArg::Itinerary => NotificationKind::Itinerary,
        KindArg::Fop => NotificationKind::Fop,
    };
    let request = async {
        if on {
            cache.subscribe(scope, kind).await
        } else {
            cache.unsubscribe(scope, kind).await
        }
    };
    let result = abandonable(request, "nothing was changed here; run the command again").await?;
    result.map_err(|e| {
        if user {
            for_traveler(e, "given with --login")
        } else {
            Failure::from(e)
        }
    })?;
    let verb = if on { "subscribed" } else { "unsubscribed" };
    if g.json {
        print_json(&json!({ "result": verb, "scope": scope_name, "type": kind.as_wire() }))
    } else {
        if !g.quiet {
            println!("{verb} to {} notifications", kind.as_wire());
        }
        Ok(())
    }
}

/// What became of a notification stopped by Ctrl-C.
const NOTIFICATION_STOPPED: &str =
    "the notification was not handled; handle it again (a repeat is harmless)";

fn outcome_json(o: &NotificationOutcome) -> Value {
    match o {
        NotificationOutcome::Refreshed { login } => json!({"outcome": "refreshed", "login": login}),
        NotificationOutcome::MarkedStale { login } => {
            json!({"outcome": "marked_stale", "login": login})
        }
        NotificationOutcome::Itinerary { event, new } => json!({
            "outcome": "itinerary", "new": new, "login": event.login,
            "trip_id": event.trip_id, "event_type": event.event_type,
        }),
        NotificationOutcome::Removed { login, existed } => {
            json!({"outcome": "removed", "login": login, "existed": existed})
        }
    }
}

fn print_outcome(g: &Global, o: &NotificationOutcome) -> Outcome {
    if g.json {
        return print_json(&outcome_json(o));
    }
    if !g.quiet {
        match o {
            NotificationOutcome::Refreshed { .. } => println!("profile refreshed"),
            NotificationOutcome::MarkedStale { .. } => {
                println!("profile marked stale: the next sync fetches it")
            }
            NotificationOutcome::Itinerary { new, .. } => println!(
                "itinerary event recorded{}",
                if *new { "" } else { " (already known)" }
            ),
            NotificationOutcome::Removed { existed, .. } => println!(
                "profile {}",
                if *existed {
                    "removed from the cache"
                } else {
                    "was not cached"
                }
            ),
        }
    }
    Ok(())
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::io(&format!("read {what}"), e))
}

pub async fn postback(
    g: &Global,
    query: &str,
    body: Option<&Path>,
    remote: OptionalRemote,
) -> Outcome {
    let body = body.map(|p| read(p, "the --body file")).transpose()?;
    let cache = open_optional(g, &remote)?;
    let handled = cache.handle_postback(
        query.trim_start_matches('?'),
        body.as_deref().unwrap_or(&[]),
    );
    let o = abandonable(handled, NOTIFICATION_STOPPED)
        .await?
        .map_err(|e| for_traveler(e, "the postback names"))?;
    print_outcome(g, &o)
}

pub async fn event(g: &Global, file: &Path, remote: OptionalRemote) -> Outcome {
    let bytes = read(file, "the --file event")?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Failure::invalid("the event file is not UTF-8 JSON"))?;
    let cache = open_optional(g, &remote)?;
    let o = abandonable(cache.handle_event(&text), NOTIFICATION_STOPPED)
        .await?
        .map_err(|e| for_traveler(e, "the event names"))?;
    print_outcome(g, &o)
}
