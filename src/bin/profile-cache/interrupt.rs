//! Ctrl-C. The first one asks the running command to stop cleanly (a sync is cancelled
//! between two consistent store writes and resumes next time; a flush leaves unsent
//! updates queued); the command then exits with 130 and one line on stderr. A command
//! that does not stop within [`GRACE`] is abandoned (the database is transactional), and
//! a second Ctrl-C leaves at once.

use crate::Failure;
use profile_cache::cancel::CancelToken;
use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

/// How long a cancelled operation gets to stop cleanly.
pub const GRACE: Duration = Duration::from_secs(5);

/// After this long (or at a second Ctrl-C) the process exits whatever it is doing.
const HARD: Duration = Duration::from_secs(8);

static PRESSED: OnceLock<CancelToken> = OnceLock::new();

fn token() -> &'static CancelToken {
    PRESSED.get_or_init(CancelToken::new)
}

/// Whether Ctrl-C was pressed.
pub fn pressed() -> bool {
    token().is_cancelled()
}

/// Resolves when Ctrl-C is pressed.
pub async fn wait() {
    token().cancelled().await
}

/// Takes over SIGINT (call once, inside the runtime, before any work). The handler is
/// registered before this returns, so no Ctrl-C is lost to the default action.
pub fn install() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut sigint) = signal(SignalKind::interrupt()) else {
            return;
        };
        tokio::spawn(async move {
            if sigint.recv().await.is_none() {
                return;
            }
            token().cancel();
            tokio::select! {
                _ = sigint.recv() => {}
                _ = tokio::time::sleep(HARD) => {}
            }
            leave();
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        token().cancel();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = tokio::time::sleep(HARD) => {}
        }
        leave();
    });
}

fn leave() -> ! {
    eprintln!(
        "error: {}",
        Failure::interrupted("stopped at once").message()
    );
    std::process::exit(130);
}

/// Runs `fut` unless Ctrl-C was pressed. On Ctrl-C calls `stop` (which makes `fut` end
/// soon, e.g. `ProfileCache::cancel`), gives `fut` up to [`GRACE`] to end, and fails with
/// exit code 130 and "interrupted by Ctrl-C: {stopped}".
pub async fn interruptible<T>(
    fut: impl Future<Output = T>,
    stop: impl FnOnce(),
    stopped: &str,
) -> Result<T, Failure> {
    if pressed() {
        return Err(Failure::interrupted(stopped));
    }
    tokio::pin!(fut);
    tokio::select! {
        r = &mut fut => Ok(r),
        _ = wait() => {
            stop();
            let _ = tokio::time::timeout(GRACE, fut).await;
            Err(Failure::interrupted(stopped))
        }
    }
}

/// Runs `fut` unless Ctrl-C was pressed; on Ctrl-C drops it at once (for waits and
/// single requests, which are safe to abandon) and fails with exit code 130.
pub async fn abandonable<T>(fut: impl Future<Output = T>, stopped: &str) -> Result<T, Failure> {
    if pressed() {
        return Err(Failure::interrupted(stopped));
    }
    tokio::select! {
        r = fut => Ok(r),
        _ = wait() => Err(Failure::interrupted(stopped)),
    }
}
