//! Cooperative cancellation: a flag that long jobs check between steps and race against
//! every network wait, so `cancel()` stops a sync within a second, between two consistent
//! store writes.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;

/// A cancellation flag shared by a job and whoever may cancel it. Cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    cancelled: AtomicBool,
    notify: Notify,
}

impl CancelToken {
    /// A fresh, uncancelled token.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels: every waiter wakes, every later check fails.
    pub fn cancel(&self) {
        self.0.cancelled.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    /// Whether [`Self::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::SeqCst)
    }

    /// `Err(Cancelled)` once cancelled.
    pub fn check(&self) -> crate::Result<()> {
        if self.is_cancelled() {
            Err(crate::Error::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Resolves when cancelled.
    pub async fn cancelled(&self) {
        loop {
            let notified = self.0.notify.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }

    /// Runs `fut`, or gives `Err(Cancelled)` as soon as the token is cancelled.
    pub async fn run<T>(&self, fut: impl Future<Output = crate::Result<T>>) -> crate::Result<T> {
        tokio::select! {
            biased;
            _ = self.cancelled() => Err(crate::Error::Cancelled),
            r = fut => r,
        }
    }
}
