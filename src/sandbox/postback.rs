//! Change notifications (v1): company and user subscriptions, and delivery of postbacks to
//! the configured URL, one at a time in event order, each result recorded.
//!
//! A postback is `POST {url}?type=…&oauth_token_key=…` (company subscriptions add
//! `&userid_type=login&userid_value={login}`); itinerary notifications carry the
//! `Notification` XML body, the others none. `oauth_token_key` is a stable public key
//! naming the subscriber (see [`Admin::token_key`](super::Admin::token_key)), never a token.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, mpsc};

/// What a subscription is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyType {
    /// Profile changes.
    Profile,
    /// Itinerary changes (with a `Notification` body).
    Itinerary,
    /// Form-of-payment changes.
    Fop,
}

impl NotifyType {
    /// Parses the `type` query parameter (any case).
    pub fn parse(s: &str) -> Option<NotifyType> {
        match s.to_ascii_lowercase().as_str() {
            "profile" => Some(NotifyType::Profile),
            "itinerary" => Some(NotifyType::Itinerary),
            "fop" => Some(NotifyType::Fop),
            _ => None,
        }
    }

    /// The `type` value of a postback, spelled as SAP Concur does (`FOP` in capitals).
    pub fn wire(self) -> &'static str {
        match self {
            NotifyType::Profile => "profile",
            NotifyType::Itinerary => "itinerary",
            NotifyType::Fop => "FOP",
        }
    }
}

/// The subscriptions in force.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscriptions {
    /// Company-level subscriptions (all users).
    pub company: HashSet<NotifyType>,
    /// User-level subscriptions, by login (lower case).
    pub users: HashMap<String, HashSet<NotifyType>>,
}

/// Whether a postback was for a company or a user subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// A company subscription.
    Company,
    /// A user subscription.
    User,
}

/// One postback and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Sequence number, in event order.
    pub seq: u64,
    /// The notification type.
    pub kind: NotifyType,
    /// Company or user subscription.
    pub scope: Scope,
    /// The traveler concerned.
    pub login: String,
    /// The full URL posted to.
    pub url: String,
    /// The XML body, for itinerary notifications.
    pub body: Option<String>,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    /// The transport error, when it did not.
    pub error: Option<String>,
}

/// Percent-encodes a query component.
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The delivery queue and its record.
#[derive(Debug)]
pub(crate) struct Postbacks {
    tx: mpsc::UnboundedSender<Delivery>,
    seq: AtomicU64,
    queued: AtomicU64,
    done: AtomicU64,
    idle: Notify,
    record: Mutex<Vec<Delivery>>,
}

/// Most deliveries kept in the record.
const KEEP: usize = 10_000;

impl Postbacks {
    /// Creates the queue; the returned receiver goes to [`Postbacks::run`].
    pub fn new() -> (Self, mpsc::UnboundedReceiver<Delivery>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            Postbacks {
                tx,
                seq: AtomicU64::new(0),
                queued: AtomicU64::new(0),
                done: AtomicU64::new(0),
                idle: Notify::new(),
                record: Mutex::new(Vec::new()),
            },
            rx,
        )
    }

    /// Queues a postback.
    pub fn send(
        &self,
        kind: NotifyType,
        scope: Scope,
        login: &str,
        url: String,
        body: Option<String>,
    ) {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        self.queued.fetch_add(1, Ordering::SeqCst);
        let d = Delivery {
            seq,
            kind,
            scope,
            login: login.to_owned(),
            url,
            body,
            status: None,
            error: None,
        };
        if self.tx.send(d).is_err() {
            self.done.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Delivers queued postbacks until the queue closes.
    pub async fn run(&self, mut rx: mpsc::UnboundedReceiver<Delivery>, client: reqwest::Client) {
        while let Some(mut d) = rx.recv().await {
            let mut req = client.post(&d.url).header("Content-Length", "0");
            if let Some(b) = &d.body {
                req = client
                    .post(&d.url)
                    .header("Content-Type", "application/xml; charset=utf-8")
                    .body(b.clone());
            }
            match req.send().await {
                Ok(resp) => d.status = Some(resp.status().as_u16()),
                Err(e) => {
                    d.error = Some(if e.is_timeout() {
                        "timed out".to_owned()
                    } else if e.is_connect() {
                        "connection failed".to_owned()
                    } else {
                        "request failed".to_owned()
                    })
                }
            }
            {
                let mut rec = self.record.lock().unwrap_or_else(|e| e.into_inner());
                if rec.len() >= KEEP {
                    rec.drain(..KEEP / 10);
                }
                rec.push(d);
            }
            self.done.fetch_add(1, Ordering::SeqCst);
            self.idle.notify_waiters();
        }
    }

    /// The deliveries made so far (the latest 10,000).
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.record
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits until every queued postback was attempted, or `timeout` passed; returns
    /// whether the queue is empty.
    pub async fn flush(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let waiting = self.idle.notified();
            if self.done.load(Ordering::SeqCst) >= self.queued.load(Ordering::SeqCst) {
                return true;
            }
            if tokio::time::timeout_at(deadline, waiting).await.is_err() {
                return self.done.load(Ordering::SeqCst) >= self.queued.load(Ordering::SeqCst);
            }
        }
    }
}

/// A stable public key for a subscriber (`None`: the company).
pub(crate) fn token_key(seed: u64, login: Option<&str>) -> String {
    // FNV-1a over the lower-case login: stable across runs and restarts.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in login.unwrap_or("").to_lowercase().bytes() {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    match login {
        None => format!("company-{h:016x}"),
        Some(_) => format!("user-{h:016x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_encoding() {
        assert_eq!(NotifyType::parse("FOP"), Some(NotifyType::Fop));
        assert_eq!(NotifyType::parse("Itinerary"), Some(NotifyType::Itinerary));
        assert_eq!(NotifyType::parse("expense"), None);
        assert_eq!(encode("a b@c.example"), "a%20b%40c.example");
        assert_eq!(token_key(1, Some("A@x")), token_key(1, Some("a@x")));
        assert_ne!(token_key(1, Some("a@x")), token_key(1, None));
    }
}
