//! The HTTP/1.1 server loop. It accepts connections itself (rather than through
//! `axum::serve`) so that faults can act on the connection: every request carries a
//! [`ConnCtl`] with which a handler can have its connection closed without a response
//! (a dropped connection) or right after a partial body (a truncated one).
//!
//! Shutdown is graceful: the listener closes at once, open connections finish the
//! request in flight (idle keep-alive connections close), and whatever is still running
//! after the grace period is aborted.

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tower::ServiceExt;

/// A handle on the connection a request arrived on.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnCtl(Arc<Notify>);

impl ConnCtl {
    /// Closes the connection now, whatever is in flight (nothing more is sent).
    pub fn kill(&self) {
        self.0.notify_one();
    }
}

/// Accepts connections on `listener` until `shutdown` turns true (or its sender goes away).
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    grace: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    conns.spawn(connection(stream, router.clone(), shutdown.clone()));
                }
                // Out of file descriptors and the like: back off a little, keep serving.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let drained =
        tokio::time::timeout(grace, async { while conns.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        conns.abort_all();
        while conns.join_next().await.is_some() {}
    }
}

async fn connection(stream: TcpStream, router: Router, mut shutdown: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    let ctl = ConnCtl::default();
    let for_requests = ctl.clone();
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(for_requests.clone());
        router.clone().oneshot(req)
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        tokio::select! {
            _ = conn.as_mut() => break,
            // A fault asked for the connection to go: dropping it closes the socket.
            _ = ctl.0.notified() => break,
            _ = shutdown.changed(), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}
