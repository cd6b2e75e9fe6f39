//! Progress bars on stderr (indicatif): only when stderr is a terminal and neither
//! `--json` nor `--quiet` is given.

use crate::cli::Global;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use profile_cache::sync::{SyncListener, SyncPhase, SyncProgress};
use std::io::IsTerminal;
use std::time::Duration;

pub fn enabled(g: &Global) -> bool {
    !g.json && !g.quiet && std::io::stderr().is_terminal()
}

fn bar(g: &Global) -> ProgressBar {
    if enabled(g) {
        ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    }
}

/// A spinner for work without counts (a flush).
pub fn spinner(g: &Global, message: &'static str) -> ProgressBar {
    let pb = bar(g);
    pb.set_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("template"));
    pb.set_message(message);
    pb.enable_steady_tick(Duration::from_millis(100));
    pb
}

/// Shows a sync's phases: crawling the feed (pages), fetching profiles.
pub struct SyncBar {
    pb: ProgressBar,
}

impl SyncBar {
    pub fn new(g: &Global) -> Self {
        let pb = bar(g);
        pb.set_style(
            ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} {elapsed}")
                .expect("template")
                .progress_chars("=> "),
        );
        pb.set_message("crawling");
        SyncBar { pb }
    }

    pub fn finish(&self) {
        self.pb.finish_and_clear();
    }
}

impl SyncListener for SyncBar {
    fn on_progress(&self, p: SyncProgress) {
        match p.phase {
            SyncPhase::Crawling => {
                self.pb.set_message("crawling");
                self.pb
                    .set_length(u64::from(p.pages_total.max(p.pages_done)));
                self.pb.set_position(u64::from(p.pages_done));
            }
            SyncPhase::Fetching => {
                self.pb.set_message("fetching");
                self.pb.set_length(p.profiles_total.max(p.profiles_done));
                self.pb.set_position(p.profiles_done);
            }
            SyncPhase::Done => self.pb.finish_and_clear(),
        }
    }
}
