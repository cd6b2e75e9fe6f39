//! Core benchmark: XML parse throughput, parse+store throughput into a file database,
//! get-by-login and search latency at N stored profiles, and the database size.
//!
//! Run: `cargo bench --features sandbox --bench core` (N defaults to 100,000;
//! `PROFILES=20000 cargo bench …` for a quicker run; `STORE_ONLY=BATCH` measures only the
//! store, with pre-parsed profiles in batches of BATCH; `PARSERS=N` parser threads, default
//! 2). Prints figures; asserts nothing.

mod common;

use chrono::Utc;
use common::{bytes_written, thread_cpu};
use profile_cache::model::Profile;
use profile_cache::sandbox::generate;
use profile_cache::store::{Document, NewProfile, Store, encode_document};
use profile_cache::xml::parse_profile;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const SEED: u64 = 42;
const BATCH: usize = 2000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    let n: u64 = std::env::var("PROFILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    println!("core benchmark: {n} generated profiles (seed {SEED})");

    let t = Instant::now();
    let docs: Vec<String> = (0..n)
        .map(|i| {
            let (p, q) = generate::profile(SEED, i);
            generate::render(&p, q)
        })
        .collect();
    let bytes: usize = docs.iter().map(|d| d.len()).sum();
    let sizes = {
        let mut s: Vec<usize> = docs.iter().map(|d| d.len()).collect();
        s.sort_unstable();
        s
    };
    println!(
        "  generated in {:.1} s; XML size: mean {} B, p10 {} B, p90 {} B, max {} B",
        t.elapsed().as_secs_f64(),
        bytes / n as usize,
        sizes[sizes.len() / 10],
        sizes[sizes.len() * 9 / 10],
        sizes[sizes.len() - 1]
    );

    // 1. Parse throughput, one thread.
    let t = Instant::now();
    let mut sections = 0usize;
    for d in &docs {
        let p = parse_profile(d.as_bytes()).expect("generated profile parses");
        sections += p.telephones.len();
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "parse (1 thread):        {:>9.0} profiles/s  {:>6.1} MB/s   ({sections} phones)",
        n as f64 / secs,
        bytes as f64 / secs / 1e6
    );

    // 1b. Encoding a document for storage (zstd with the dictionary), one thread.
    let t = Instant::now();
    let encoded: usize = docs.iter().map(|d| encode_document(d).len()).sum();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "encode (1 thread):       {:>9.0} profiles/s  {:>6.1} MB/s   ({:.0} B/profile stored)",
        n as f64 / secs,
        bytes as f64 / secs / 1e6,
        encoded as f64 / n as f64
    );

    if let Ok(batch) = std::env::var("STORE_ONLY") {
        let batch: usize = batch.parse().unwrap_or(BATCH);
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path().join("so.db")).expect("open");
        let parsed: Vec<Profile> = docs
            .iter()
            .map(|d| parse_profile(d.as_bytes()).expect("parses"))
            .collect();
        let now = Utc::now();
        let t = Instant::now();
        for (c, chunk) in parsed.chunks(batch).enumerate() {
            let items: Vec<NewProfile<'_>> = chunk
                .iter()
                .enumerate()
                .map(|(j, p)| NewProfile {
                    login: p.login_id.as_deref().expect("login"),
                    sync_id: None,
                    status: p.status.as_ref(),
                    server_modified: Some(now),
                    fetched_at: now,
                    document: Document::Xml(&docs[c * batch + j]),
                    profile: p,
                })
                .collect();
            store.upsert_profiles(&items).expect("upsert");
        }
        println!(
            "store only (batch {batch}): {:.0}/s",
            n as f64 / t.elapsed().as_secs_f64()
        );
        return;
    }
    // 2. Parse + store into a file database, the way the sync engine does it: parsers
    //    (`PARSERS`, default 2, one per core, like the sync's runtime workers) parse and
    //    compress documents and hand batches to the single writer (one transaction each).
    //    The writer spends part of each batch waiting on the file system; with a parser
    //    per core, that time goes to parsing instead of being lost.
    let parsers: usize = std::env::var("PARSERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2)
        .max(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.db");
    let store = Store::open(&path).expect("open store");
    let t = Instant::now();
    let written = bytes_written();
    type Batch = Vec<(usize, Profile, Vec<u8>)>;
    let (tx, rx) = mpsc::sync_channel::<Batch>(2 * parsers);
    let (stored, writing, writer_cpu) = std::thread::scope(|scope| {
        let docs = &docs;
        let chunk = BATCH / parsers;
        let mut returns = Vec::new();
        for k in 0..parsers {
            let tx = tx.clone();
            // Stored batches go back to the parser that made them, to be freed where
            // they were allocated (freeing in the writer contends on the allocator).
            let (back_tx, back_rx) = mpsc::channel::<Batch>();
            returns.push(back_tx);
            scope.spawn(move || {
                let mut batch = Vec::with_capacity(chunk);
                // Parser k takes every `parsers`-th chunk of `chunk` documents.
                for start in (k * chunk..docs.len()).step_by(parsers * chunk) {
                    for (i, d) in docs.iter().enumerate().skip(start).take(chunk) {
                        let profile = parse_profile(d.as_bytes()).expect("parses");
                        batch.push((i, profile, encode_document(d)));
                    }
                    tx.send(std::mem::replace(&mut batch, Vec::with_capacity(chunk)))
                        .expect("writer alive");
                    while let Ok(done) = back_rx.try_recv() {
                        drop(done);
                    }
                }
            });
        }
        drop(tx);
        let now = Utc::now();
        let mut stored = 0;
        let mut writing = Duration::ZERO;
        let mut writer_cpu = Duration::ZERO;
        // Batches from the parsers, written together once they hold BATCH documents.
        let mut pending: Vec<(usize, Batch)> = Vec::new();
        let mut flush = |pending: &mut Vec<(usize, Batch)>| {
            let items: Vec<NewProfile<'_>> = pending
                .iter()
                .flat_map(|(_, b)| b)
                .map(|(_, p, encoded)| NewProfile {
                    login: p.login_id.as_deref().expect("login"),
                    sync_id: None,
                    status: p.status.as_ref(),
                    server_modified: Some(now),
                    fetched_at: now,
                    document: Document::Encoded(encoded),
                    profile: p,
                })
                .collect();
            let (w, cpu) = (Instant::now(), thread_cpu());
            stored += store.upsert_profiles(&items).expect("upsert");
            writing += w.elapsed();
            writer_cpu += thread_cpu() - cpu;
            drop(items);
            for (k, b) in pending.drain(..) {
                let _ = returns[k].send(b);
            }
        };
        let mut held = 0;
        for batch in rx {
            let owner = batch.first().map_or(0, |(i, _, _)| (i / chunk) % parsers);
            held += batch.len();
            pending.push((owner, batch));
            if held >= BATCH {
                flush(&mut pending);
                held = 0;
            }
        }
        if !pending.is_empty() {
            flush(&mut pending);
        }
        (stored, writing, writer_cpu)
    });
    let secs = t.elapsed().as_secs_f64();
    let written = bytes_written() - written;
    println!(
        "parse+store (file db):   {:>9.0} profiles/s  ({stored} stored in {secs:.1} s, {parsers} parser thread(s), the writer busy {:.0}% and on a CPU {:.0}%, {:.1} µs of CPU and {:.1} KB written to files per profile; target >= 20000)",
        n as f64 / secs,
        writing.as_secs_f64() / secs * 100.0,
        writer_cpu.as_secs_f64() / secs * 100.0,
        writer_cpu.as_secs_f64() * 1e6 / n as f64,
        written as f64 / 1e3 / n as f64
    );

    // 3. Get by login at n stored profiles.
    let mut rng = generate::Rng::new(7, 7);
    let mut lat = Vec::with_capacity(20_000);
    for _ in 0..20_000 {
        let login = generate::login_for(rng.below(n));
        let t = Instant::now();
        let p = store.get_by_login(&login).expect("get").expect("present");
        lat.push(t.elapsed());
        assert_eq!(p.login, login);
    }
    lat.sort_unstable();
    println!(
        "get_by_login (parsed):   p50 {:>7.1} µs  p99 {:>7.1} µs  (target p99 < 100 µs)",
        us(percentile(&lat, 0.5)),
        us(percentile(&lat, 0.99))
    );
    let mut lat = Vec::with_capacity(20_000);
    for _ in 0..20_000 {
        let login = generate::login_for(rng.below(n));
        let t = Instant::now();
        let x = store.get_xml(&login).expect("get").expect("present");
        lat.push(t.elapsed());
        assert!(!x.is_empty());
    }
    lat.sort_unstable();
    println!(
        "get_xml (raw document):  p50 {:>7.1} µs  p99 {:>7.1} µs",
        us(percentile(&lat, 0.5)),
        us(percentile(&lat, 0.99))
    );

    // 4. Search: what agents type — 2 to 5 letters of a name, a login prefix, an
    //    employee id, two words.
    let mut queries = Vec::new();
    for _ in 0..2_000 {
        let (p, _) = generate::profile(SEED, rng.below(n));
        let g = p.general.expect("general");
        let first = g.first_name.unwrap_or_default();
        let last = g.last_name.unwrap_or_default();
        let take = |s: &str, k: usize| s.chars().take(k).collect::<String>();
        let q = match rng.below(5) {
            0 => take(&last, 2 + rng.below(4) as usize),
            1 => take(&first, 2 + rng.below(4) as usize),
            2 => format!("{} {}", take(&first, 3), take(&last, 2)),
            3 => p
                .login_id
                .as_deref()
                .unwrap_or("")
                .split('@')
                .next()
                .unwrap_or("")
                .to_owned(),
            _ => g.company_employee_id.unwrap_or_default(),
        };
        queries.push(q);
    }
    let mut lat = Vec::with_capacity(queries.len());
    let mut hits = 0usize;
    for q in &queries {
        let t = Instant::now();
        let r = store.search(q, 20).expect("search");
        lat.push(t.elapsed());
        hits += r.len();
    }
    lat.sort_unstable();
    println!(
        "search (limit 20):       p50 {:>7.1} µs  p99 {:>7.1} µs  max {:>7.1} µs  (target p99 < 5 ms; {:.1} hits/query)",
        us(percentile(&lat, 0.5)),
        us(percentile(&lat, 0.99)),
        us(lat[lat.len() - 1]),
        hits as f64 / queries.len() as f64
    );

    let counts = store.counts().expect("counts");
    let len = |suffix: &str| {
        std::fs::metadata(format!("{}{suffix}", path.display())).map_or(0, |m| m.len())
    };
    let (db, wal) = (len(""), len("-wal"));
    println!(
        "database: {} profiles ({} active, {} inactive), file {:.1} MB ({:.0} B/profile) + WAL {:.1} MB (XML {:.1} MB)",
        counts.profiles,
        counts.active,
        counts.inactive,
        db as f64 / 1e6,
        db as f64 / n as f64,
        wal as f64 / 1e6,
        bytes as f64 / 1e6
    );
}
