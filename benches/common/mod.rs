//! What the benchmarks read about their own process from Linux's `/proc`: figures that,
//! unlike rates, do not depend much on what else the machine is doing. (Each bench uses
//! some of them.)
#![allow(dead_code)]

use std::time::Duration;

/// The number after `key` (e.g. `"wchar:"`) on its line of a `/proc` file.
fn proc_field(path: &str, key: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok().and_then(|s| {
        s.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
    })
}

/// Bytes this process has handed to write calls so far (`/proc/self/io` `wchar`: the
/// database file, its WAL and stderr).
pub fn bytes_written() -> u64 {
    proc_field("/proc/self/io", "wchar:").unwrap_or(0)
}

/// Peak resident memory of this process (`VmHWM`), in MB.
pub fn peak_rss_mb() -> u64 {
    proc_field("/proc/self/status", "VmHWM:").map_or(0, |kb| kb / 1024)
}

/// CPU time the calling thread has used so far (`/proc/thread-self/schedstat`).
pub fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

/// CPU time (user + system) this process has used, in seconds.
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name's closing parenthesis; utime and stime are 14 and 15.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}
