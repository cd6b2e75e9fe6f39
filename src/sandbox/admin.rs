//! [`Admin`]: the sandbox's control handle. Everything the `/_sandbox/` HTTP surface does
//! is a method here (the HTTP surface calls these): change, deactivate, reactivate and
//! delete travelers, itinerary and form-of-payment events, request counts, faults,
//! latency, the `down` switch, postbacks, tokens, and the server's view of a profile.

use super::auth::{Grant, Role, Subject};
use super::error::{Result, SandboxError};
use super::faults::{Fault, Latency};
use super::injector::FaultStatus;
use super::postback::{Delivery, NotifyType, Subscriptions, token_key};
use super::state::{RequestCounts, Shared};
use super::world::UserRef;
use crate::model::{
    Notification, NotificationEventType, Profile, ProfileStatus, ProfileSummary, Timestamp,
};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The server's view of one traveler, for tests that compare a cache with the server.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerProfile {
    /// `LoginID`.
    pub login: String,
    /// `XmlProfileSyncID`.
    pub sync_id: Option<String>,
    /// `General/UUID`.
    pub uuid: Option<String>,
    /// Active or inactive.
    pub status: ProfileStatus,
    /// `ProfileLastModifiedUTC`.
    pub last_modified: Timestamp,
    /// The document a profile GET serves (without injected faults).
    pub xml: String,
    /// The profile itself.
    pub profile: Profile,
}

/// Facts about a running sandbox.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SandboxInfo {
    /// The base URL.
    pub base_url: String,
    /// Live (not deleted) travelers.
    pub profiles: usize,
    /// The data seed.
    pub seed: u64,
    /// The sandbox clock.
    pub now: Timestamp,
    /// Whether the `down` switch is on.
    pub down: bool,
}

/// The control handle (cheap to clone; valid while the sandbox lives, also while stopped).
#[derive(Clone)]
pub struct Admin {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin")
            .field("base_url", &self.shared.base_url)
            .finish()
    }
}

impl Admin {
    pub(crate) fn from_shared(shared: Arc<Shared>) -> Admin {
        Admin { shared }
    }

    fn resolve(&self, logins: &[&str]) -> Result<Vec<u32>> {
        let w = self.shared.read();
        logins
            .iter()
            .map(|l| {
                w.find(UserRef::Login(l))
                    .ok_or(SandboxError::UnknownTraveler)
            })
            .collect()
    }

    fn logins_of(&self, idxs: &[u32]) -> Vec<String> {
        let w = self.shared.read();
        idxs.iter()
            .map(|&i| w.traveler(i).login.to_string())
            .collect()
    }

    /// Facts about the sandbox.
    pub fn info(&self) -> SandboxInfo {
        let w = self.shared.read();
        SandboxInfo {
            base_url: self.shared.base_url.clone(),
            profiles: w.live(),
            seed: w.seed,
            now: w.now(),
            down: self.is_down(),
        }
    }

    /// The sandbox clock (whole seconds, UTC): the time the next change gets.
    pub fn now(&self) -> Timestamp {
        self.shared.read().now()
    }

    /// Changes `n` random travelers now (a realistic edit and a new last-modified time);
    /// returns their logins. Sends profile postbacks.
    pub fn mutate_random(&self, n: usize) -> Vec<String> {
        let idxs = {
            let mut w = self.shared.write();
            let idxs = w.pick_random(n);
            w.mutate(&idxs);
            idxs
        };
        let logins = self.logins_of(&idxs);
        self.shared.profiles_changed(&logins);
        logins
    }

    /// Changes these travelers now. Fails, changing nothing, if one is unknown.
    pub fn mutate(&self, logins: &[&str]) -> Result<Vec<String>> {
        let idxs = self.resolve(logins)?;
        self.shared.write().mutate(&idxs);
        let logins = self.logins_of(&idxs);
        self.shared.profiles_changed(&logins);
        Ok(logins)
    }

    fn set_active(&self, logins: &[&str], active: bool) -> Result<Vec<String>> {
        let idxs = self.resolve(logins)?;
        let changed: Vec<u32> = {
            let mut w = self.shared.write();
            idxs.into_iter()
                .filter(|&i| w.set_active(i, active))
                .collect()
        };
        let logins = self.logins_of(&changed);
        self.shared.profiles_changed(&logins);
        Ok(logins)
    }

    /// Deactivates travelers (`Status` Inactive, new last-modified time); returns those
    /// that were active.
    pub fn deactivate(&self, logins: &[&str]) -> Result<Vec<String>> {
        self.set_active(logins, false)
    }

    /// Reactivates travelers; returns those that were inactive.
    pub fn reactivate(&self, logins: &[&str]) -> Result<Vec<String>> {
        self.set_active(logins, true)
    }

    /// Deletes travelers: they leave the summary feed and profile GETs answer
    /// `Invalid User`. (Like SAP Concur's v1 feeds, no notification says so.)
    pub fn delete(&self, logins: &[&str]) -> Result<Vec<String>> {
        let idxs = self.resolve(logins)?;
        let names = self.logins_of(&idxs);
        let mut w = self.shared.write();
        for i in idxs {
            w.delete(i);
        }
        Ok(names)
    }

    /// Records an itinerary event for a traveler and posts the `Notification` to
    /// itinerary subscribers; returns the notification.
    pub fn add_itinerary_event(
        &self,
        login: &str,
        event: NotificationEventType,
        trip_id: Option<&str>,
    ) -> Result<Notification> {
        let idx = self.resolve(&[login])?[0];
        let (login, now, trip) = {
            let w = self.shared.read();
            let trip = trip_id.map(str::to_owned).unwrap_or_else(|| {
                let id = self.shared.new_id().replace('-', "");
                id[..12].to_owned()
            });
            (w.traveler(idx).login.to_string(), w.now(), trip)
        };
        let n = Notification {
            object_type: Some("ITINERARY".into()),
            object_uri: Some(format!(
                "{}/api/travel/trip/v1.1/{trip}",
                self.shared.base_url
            )),
            event_date_time: Some(now),
            event_type: Some(event),
            context: None,
            trip_id: Some(trip),
        };
        self.shared.notify(
            NotifyType::Itinerary,
            &login,
            Some(crate::xml::write_notification(&n)),
        );
        Ok(n)
    }

    /// Records a form-of-payment change for a traveler and notifies FOP subscribers.
    pub fn add_fop_event(&self, login: &str) -> Result<()> {
        let idx = self.resolve(&[login])?[0];
        let login = self.shared.read().traveler(idx).login.to_string();
        self.shared.notify(NotifyType::Fop, &login, None);
        Ok(())
    }

    /// Requests per endpoint since start (or the last reset).
    pub fn request_counts(&self) -> RequestCounts {
        self.shared.counts()
    }

    /// Sets every request count to zero.
    pub fn reset_request_counts(&self) {
        self.shared.reset_counts();
    }

    /// Adds a fault (its counters start at zero).
    pub fn add_fault(&self, fault: Fault) {
        self.shared.with_injector(|i| i.add(fault));
    }

    /// Adds a fault given in the [fault syntax](super::faults).
    pub fn add_fault_spec(&self, spec: &str) -> Result<()> {
        self.add_fault(spec.parse()?);
        Ok(())
    }

    /// Removes every fault (latency stays; see [`Admin::set_latency`]).
    pub fn clear_faults(&self) {
        self.shared.with_injector(|i| i.clear());
    }

    /// The faults in force, with how often each matched and fired.
    pub fn faults(&self) -> Vec<FaultStatus> {
        self.shared.injector().statuses()
    }

    /// Sets (or, with `None`, removes) the latency added to every API response.
    pub fn set_latency(&self, latency: Option<Latency>) {
        self.shared.with_injector(|i| i.set_latency(latency));
    }

    /// The latency in force.
    pub fn latency(&self) -> Option<Latency> {
        self.shared.injector().latency()
    }

    /// The `down` switch: while on, every API request's connection is closed without a
    /// response (the admin surface keeps working). To refuse connections outright, stop
    /// the server ([`Sandbox::stop`](super::Sandbox::stop)).
    pub fn set_down(&self, down: bool) {
        self.shared.down.store(down, Ordering::Release);
    }

    /// Whether the `down` switch is on.
    pub fn is_down(&self) -> bool {
        self.shared.down.load(Ordering::Acquire)
    }

    /// Sets (or clears) the postback URL.
    pub fn set_postback_url(&self, url: Option<&str>) {
        *self
            .shared
            .postback_url
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = url.map(str::to_owned);
    }

    /// The postbacks attempted so far, in order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.postbacks.deliveries()
    }

    /// Waits until every queued postback was attempted (or `timeout` passed); returns
    /// whether none is left.
    pub async fn flush_postbacks(&self, timeout: Duration) -> bool {
        self.shared.postbacks.flush(timeout).await
    }

    /// The subscriptions in force.
    pub fn subscriptions(&self) -> Subscriptions {
        self.shared.subscriptions().clone()
    }

    /// The `oauth_token_key` postbacks carry for a user subscription (`Some(login)`) or
    /// the company's (`None`).
    pub fn token_key(&self, login: Option<&str>) -> String {
        token_key(self.shared.config.seed, login)
    }

    /// The server's view of a live traveler.
    pub fn profile(&self, login: &str) -> Option<ServerProfile> {
        let idx = self.shared.read().find(UserRef::Login(login))?;
        let xml = self.shared.profile_xml(idx);
        let w = self.shared.read();
        let t = w.traveler(idx);
        let summary = w.summary(idx);
        Some(ServerProfile {
            login: t.login.to_string(),
            sync_id: t.sync_id.as_deref().map(str::to_owned),
            uuid: t.uuid.as_deref().map(str::to_owned),
            status: summary.status.unwrap_or(ProfileStatus::Active),
            last_modified: summary.last_modified.unwrap_or_default(),
            xml: String::from_utf8_lossy(&xml).into_owned(),
            profile: w.profile(idx),
        })
    }

    /// The whole summary feed, in order (no paging).
    pub fn summaries(&self) -> Vec<ProfileSummary> {
        self.shared.read().all_summaries()
    }

    /// Expires every access token now (refresh tokens stay valid).
    pub fn expire_tokens(&self) {
        self.shared.tokens().expire_all();
    }

    /// Revokes every refresh token (a refresh then fails with code 108).
    pub fn revoke_refresh_tokens(&self) {
        self.shared.tokens().revoke_refresh_tokens();
    }

    /// Issues a TMC access token without the token endpoint: for a traveler, or (`None`)
    /// the company.
    pub fn issue_token(&self, login: Option<&str>) -> Result<String> {
        let subject = match login {
            None => Subject::Company,
            Some(l) => {
                let idx = self.resolve(&[l])?[0];
                Subject::User(self.shared.read().traveler(idx).login.clone())
            }
        };
        let grant = Grant {
            subject,
            role: Role::Tmc,
        };
        let client = self.shared.config.client_id.clone();
        Ok(self
            .shared
            .tokens()
            .issue(grant, &client, false)
            .access_token)
    }

    /// Renders every profile now (on blocking threads), so that later GETs are served
    /// from the cache.
    pub async fn warm_up(&self) {
        let threads = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .min(4);
        let mut tasks = Vec::new();
        for t in 0..threads {
            let sh = self.shared.clone();
            tasks.push(tokio::task::spawn_blocking(move || warm(&sh, t, threads)));
        }
        for task in tasks {
            let _ = task.await;
        }
    }
}

/// Renders the uncached profiles `t, t + step, …` in batches (one write lock per batch).
fn warm(sh: &Shared, t: usize, step: usize) {
    let total = sh.read().table_len();
    let mut start = t;
    while start < total {
        let jobs: Vec<_> = {
            let w = sh.read();
            (start..total)
                .step_by(step)
                .take(256)
                .filter(|&i| !w.traveler(i as u32).deleted)
                .filter_map(|i| w.cached_xml(i as u32).err())
                .collect()
        };
        start += 256 * step;
        let done: Vec<_> = jobs.into_iter().map(|j| j.run(sh.config.seed)).collect();
        let mut w = sh.write();
        for (idx, rev, xml) in done {
            w.store_xml(idx, rev, xml);
        }
    }
}
