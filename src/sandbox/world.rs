//! The sandbox's data: every traveler's cheap summary facts (from
//! [`generate::identity`]), the feed order, the lookups by login, sync id and UUID, and —
//! lazily — full profiles and their rendered XML.
//!
//! A traveler nobody changed has no stored model: it is regenerated from `(seed, index)`
//! when needed, and only its rendered XML is cached. A change materializes the model,
//! applies the change, bumps the last-modified time, moves the traveler in the feed and
//! drops the cached XML (re-rendered on the next read).

use super::generate::{self, Quirks, Rng};
use super::index::{Entry, Filter, SummaryIndex};
use super::mutate::random_change;
use crate::model::{Profile, ProfileStatus, ProfileSummary, Timestamp};
use axum::body::Bytes;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

/// Above this many changes at once, the feed is rebuilt with one sort instead of moving
/// entries one by one.
const BULK: usize = 64;

/// One traveler.
#[derive(Debug)]
pub(crate) struct Traveler {
    /// The generator index, for travelers the generator made.
    pub gen_index: Option<u64>,
    pub login: Arc<str>,
    pub sync_id: Option<Box<str>>,
    pub uuid: Option<Box<str>>,
    pub active: bool,
    pub config: u16,
    /// Last-modified time, seconds since the epoch.
    pub modified: i64,
    pub deleted: bool,
    pub quirks: Quirks,
    /// Bumped on every change, so a rendering made from an older state is not cached.
    pub rev: u32,
    /// The full profile, once it was changed (or created through the API).
    pub model: Option<Box<Profile>>,
    /// The rendered document, once it was served.
    pub xml: Option<Bytes>,
}

/// How a request names a traveler.
#[derive(Debug, Clone, Copy)]
pub(crate) enum UserRef<'a> {
    Login(&'a str),
    SyncId(&'a str),
    Uuid(&'a str),
}

/// Rendering work to do outside the lock (see [`World::cached_xml`]).
pub(crate) struct RenderJob {
    idx: u32,
    rev: u32,
    quirks: Quirks,
    source: Source,
}

enum Source {
    Model(Box<Profile>),
    Generate(u64, bool),
}

impl RenderJob {
    /// Renders the document; store it with [`World::store_xml`].
    pub fn run(self, seed: u64) -> (u32, u32, Bytes) {
        let (profile, quirks) = match self.source {
            Source::Model(p) => (p, self.quirks),
            Source::Generate(i, active) => {
                let (p, q) = generated(seed, i, active);
                (Box::new(p), q)
            }
        };
        let mut xml = generate::render(&profile, quirks).into_bytes();
        // The writer reserves generously; the cache keeps 100,000 of these.
        xml.shrink_to_fit();
        (self.idx, self.rev, Bytes::from(xml))
    }
}

fn generated(seed: u64, index: u64, active: bool) -> (Profile, Quirks) {
    let (mut p, q) = generate::profile(seed, index);
    p.status = Some(if active {
        ProfileStatus::Active
    } else {
        ProfileStatus::Inactive
    });
    (p, q)
}

/// The sandbox clock: starts at a configured or derived time and follows real time.
#[derive(Debug)]
struct Clock {
    start: i64,
    started: Instant,
}

impl Clock {
    fn now(&self) -> i64 {
        self.start + self.started.elapsed().as_secs() as i64
    }
}

/// Seconds to a timestamp (whole seconds, as the server's format has).
pub(crate) fn timestamp(secs: i64) -> Timestamp {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

/// Every traveler and the indexes over them.
#[derive(Debug)]
pub(crate) struct World {
    pub seed: u64,
    travelers: Vec<Traveler>,
    by_login: HashMap<Box<str>, u32>,
    by_sync: HashMap<Box<str>, u32>,
    by_uuid: HashMap<Box<str>, u32>,
    configs: Vec<Box<str>>,
    config_ids: HashMap<Box<str>, u16>,
    index: SummaryIndex,
    rng: Rng,
    clock: Clock,
    created: u64,
}

impl World {
    /// Generates the identities of `count` travelers from `seed`.
    pub fn new(seed: u64, count: u64, mutation_seed: u64, clock_start: Option<Timestamp>) -> World {
        let mut w = World {
            seed,
            travelers: Vec::with_capacity(count as usize),
            by_login: HashMap::with_capacity(count as usize),
            by_sync: HashMap::with_capacity(count as usize),
            by_uuid: HashMap::with_capacity(count as usize),
            configs: Vec::new(),
            config_ids: HashMap::new(),
            index: SummaryIndex::default(),
            rng: Rng::new(mutation_seed, 0x03D7_A7E5),
            clock: Clock {
                start: 0,
                started: Instant::now(),
            },
            created: 0,
        };
        for c in generate::travel_configs() {
            w.intern(c);
        }
        let mut newest = i64::MIN;
        for i in 0..count {
            let id = generate::identity(seed, i);
            let modified = id.modified.timestamp();
            newest = newest.max(modified);
            let config = w.intern(id.travel_config);
            let t = Traveler {
                gen_index: Some(i),
                login: id.login.into(),
                sync_id: Some(id.sync_id.into()),
                uuid: Some(id.uuid.into()),
                active: id.status == ProfileStatus::Active,
                config,
                modified,
                deleted: false,
                quirks: Quirks { spellings: false },
                rev: 0,
                model: None,
                xml: None,
            };
            w.add_lookups(&t, i as u32);
            w.travelers.push(t);
        }
        let start = clock_start.unwrap_or_else(Utc::now).timestamp();
        w.clock.start = start.max(newest.saturating_add(1));
        // Count from now, not from before the travelers were generated: otherwise the
        // clock runs ahead of real time (and of the `Date` header) by the set-up time.
        w.clock.started = Instant::now();
        w.rebuild_index();
        w
    }

    fn intern(&mut self, config: &str) -> u16 {
        if let Some(&id) = self.config_ids.get(config) {
            return id;
        }
        // Past 65,535 distinct configs (only reachable through creates), share the last id.
        let Ok(id) = u16::try_from(self.configs.len()) else {
            return u16::MAX;
        };
        self.configs.push(config.into());
        self.config_ids.insert(config.into(), id);
        id
    }

    fn add_lookups(&mut self, t: &Traveler, idx: u32) {
        self.by_login.insert(t.login.to_lowercase().into(), idx);
        if let Some(s) = &t.sync_id {
            self.by_sync.insert(s.to_lowercase().into(), idx);
        }
        if let Some(u) = &t.uuid {
            self.by_uuid.insert(u.to_lowercase().into(), idx);
        }
    }

    fn rebuild_index(&mut self) {
        let entries = self
            .travelers
            .iter()
            .enumerate()
            .filter(|(_, t)| !t.deleted)
            .map(|(i, t)| entry(i as u32, t))
            .collect();
        let travelers = &self.travelers;
        self.index = SummaryIndex::build(entries, |i| &travelers[i as usize].login);
    }

    /// The sandbox's current time, whole seconds.
    pub fn now(&self) -> Timestamp {
        timestamp(self.clock.now())
    }

    /// Number of table positions (deleted travelers included).
    pub fn table_len(&self) -> usize {
        self.travelers.len()
    }

    /// Number of live (not deleted) travelers.
    pub fn live(&self) -> usize {
        self.index.len()
    }

    /// Finds a live traveler (names are matched without regard to case).
    pub fn find(&self, by: UserRef<'_>) -> Option<u32> {
        let (map, key) = match by {
            UserRef::Login(k) => (&self.by_login, k),
            UserRef::SyncId(k) => (&self.by_sync, k),
            UserRef::Uuid(k) => (&self.by_uuid, k),
        };
        let idx = *map.get(key.to_lowercase().as_str())?;
        (!self.travelers[idx as usize].deleted).then_some(idx)
    }

    /// A traveler by table position.
    pub fn traveler(&self, idx: u32) -> &Traveler {
        &self.travelers[idx as usize]
    }

    /// The summary-feed entry of a traveler.
    pub fn summary(&self, idx: u32) -> ProfileSummary {
        let t = self.traveler(idx);
        ProfileSummary {
            status: Some(if t.active {
                ProfileStatus::Active
            } else {
                ProfileStatus::Inactive
            }),
            login_id: Some(t.login.to_string()),
            xml_profile_sync_id: t.sync_id.as_deref().map(str::to_owned),
            last_modified: Some(timestamp(t.modified)),
        }
    }

    /// The interned ids of these travel configs (unknown ones match nothing).
    pub fn config_ids(&self, configs: &[&str]) -> Vec<u16> {
        configs
            .iter()
            .filter_map(|c| self.config_ids.get(*c).copied())
            .collect()
    }

    /// One page of the feed: total matching, and the summaries on the page.
    pub fn page(
        &self,
        from: Timestamp,
        inclusive: bool,
        filter: &Filter,
        offset: usize,
        limit: usize,
    ) -> (usize, Vec<ProfileSummary>) {
        let (total, idxs) = self
            .index
            .page(from.timestamp(), inclusive, filter, offset, limit);
        (total, idxs.into_iter().map(|i| self.summary(i)).collect())
    }

    /// The whole feed, in order (for admin views and tests).
    pub fn all_summaries(&self) -> Vec<ProfileSummary> {
        self.index
            .entries()
            .iter()
            .map(|e| self.summary(e.idx))
            .collect()
    }

    /// The cached document of a live traveler, or the work to render it (to be run
    /// without holding the lock).
    pub fn cached_xml(&self, idx: u32) -> Result<Bytes, RenderJob> {
        let t = self.traveler(idx);
        if let Some(x) = &t.xml {
            return Ok(x.clone());
        }
        let source = match (&t.model, t.gen_index) {
            (Some(m), _) => Source::Model(m.clone()),
            (None, Some(i)) => Source::Generate(i, t.active),
            (None, None) => Source::Model(Box::default()),
        };
        Err(RenderJob {
            idx,
            rev: t.rev,
            quirks: t.quirks,
            source,
        })
    }

    /// Caches a rendering unless the traveler changed since the job was made.
    pub fn store_xml(&mut self, idx: u32, rev: u32, xml: Bytes) {
        let t = &mut self.travelers[idx as usize];
        if t.rev == rev && !t.deleted {
            t.xml = Some(xml);
        }
    }

    /// The traveler's full profile (a copy).
    pub fn profile(&self, idx: u32) -> Profile {
        let t = self.traveler(idx);
        match (&t.model, t.gen_index) {
            (Some(m), _) => (**m).clone(),
            (None, Some(i)) => generated(self.seed, i, t.active).0,
            (None, None) => Profile::default(),
        }
    }

    fn materialize(&mut self, idx: u32) -> &mut Profile {
        let t = &self.travelers[idx as usize];
        if let (None, Some(i)) = (&t.model, t.gen_index) {
            let (p, q) = generated(self.seed, i, t.active);
            let t = &mut self.travelers[idx as usize];
            t.model = Some(Box::new(p));
            t.quirks = q;
        }
        let t = &mut self.travelers[idx as usize];
        t.model.get_or_insert_with(Box::default)
    }

    /// Applies `change` to a traveler's profile; when it reports a change, bumps the
    /// last-modified time. Returns whether anything changed.
    pub fn modify(&mut self, idx: u32, change: impl FnOnce(&mut Profile) -> bool) -> bool {
        let changed = change(self.materialize(idx));
        if changed {
            let t = &mut self.travelers[idx as usize];
            if let Some(m) = &t.model {
                t.active = m.status != Some(ProfileStatus::Inactive);
            }
            self.bump(&[idx]);
        }
        changed
    }

    /// Sets new last-modified times (now) for these travelers and moves them in the feed.
    fn bump(&mut self, idxs: &[u32]) {
        let now = self.clock.now();
        if idxs.len() > BULK {
            for &i in idxs {
                touch(&mut self.travelers[i as usize], now);
            }
            self.rebuild_index();
            return;
        }
        for &i in idxs {
            let old = self.travelers[i as usize].modified;
            let travelers = &self.travelers;
            let removed = self.index.remove(|j| &travelers[j as usize].login, old, i);
            let t = &mut self.travelers[i as usize];
            touch(t, now);
            if removed.is_some() {
                let e = entry(i, t);
                let travelers = &self.travelers;
                self.index.insert(|j| &travelers[j as usize].login, e);
            }
        }
    }

    /// Picks `n` distinct live travelers at random (all of them if there are fewer).
    pub fn pick_random(&mut self, n: usize) -> Vec<u32> {
        let live: Vec<u32> = self.index.entries().iter().map(|e| e.idx).collect();
        if n >= live.len() {
            return live;
        }
        let mut chosen = Vec::with_capacity(n);
        let mut seen = HashSet::with_capacity(n);
        while chosen.len() < n {
            let i = live[self.rng.below(live.len() as u64) as usize];
            if seen.insert(i) {
                chosen.push(i);
            }
        }
        chosen
    }

    /// Makes a random, realistic change to each of these travelers.
    pub fn mutate(&mut self, idxs: &[u32]) {
        for &i in idxs {
            let mut r = Rng::new(self.rng.next(), i as u64);
            random_change(self.materialize(i), &mut r);
        }
        self.bump(idxs);
    }

    /// Activates or deactivates a traveler; returns whether that changed anything.
    pub fn set_active(&mut self, idx: u32, active: bool) -> bool {
        if self.traveler(idx).active == active {
            return false;
        }
        self.materialize(idx).status = Some(if active {
            ProfileStatus::Active
        } else {
            ProfileStatus::Inactive
        });
        let (old, travelers) = (self.travelers[idx as usize].modified, &self.travelers);
        self.index
            .set_active(|j| &travelers[j as usize].login, old, idx, active);
        self.travelers[idx as usize].active = active;
        self.bump(&[idx]);
        true
    }

    /// Deletes a traveler: it leaves the feed and can no longer be found.
    pub fn delete(&mut self, idx: u32) {
        let (old, travelers) = (self.travelers[idx as usize].modified, &self.travelers);
        self.index
            .remove(|j| &travelers[j as usize].login, old, idx);
        let t = &mut self.travelers[idx as usize];
        t.deleted = true;
        t.rev += 1;
        t.xml = None;
        t.model = None;
    }

    /// Adds a traveler from a created profile (its login must be new).
    pub fn create(&mut self, mut profile: Profile) -> Option<u32> {
        let login: Arc<str> = profile.login_id.clone()?.into();
        if self.by_login.contains_key(login.to_lowercase().as_str()) {
            return None;
        }
        self.created += 1;
        let n = self.created;
        let general = profile.general.get_or_insert_with(Default::default);
        let uuid = general
            .uuid
            .get_or_insert_with(|| format!("00000000-0000-4000-8000-{n:012x}"))
            .clone();
        let config = general.travel_config_id.clone().unwrap_or_default();
        profile.action = None;
        let active = profile.status != Some(ProfileStatus::Inactive);
        profile.status = Some(if active {
            ProfileStatus::Active
        } else {
            ProfileStatus::Inactive
        });
        let t = Traveler {
            gen_index: None,
            login,
            sync_id: Some(format!("XS-N{n:06}").into()),
            uuid: Some(uuid.into()),
            active,
            config: self.intern(&config),
            modified: self.clock.now(),
            deleted: false,
            quirks: Quirks { spellings: false },
            rev: 0,
            model: Some(Box::new(profile)),
            xml: None,
        };
        let idx = self.travelers.len() as u32;
        self.add_lookups(&t, idx);
        let e = entry(idx, &t);
        self.travelers.push(t);
        let travelers = &self.travelers;
        self.index.insert(|j| &travelers[j as usize].login, e);
        Some(idx)
    }
}

fn touch(t: &mut Traveler, now: i64) {
    t.modified = now.max(t.modified);
    t.rev += 1;
    t.xml = None;
}

fn entry(idx: u32, t: &Traveler) -> Entry {
    Entry {
        modified: t.modified,
        idx,
        config: t.config,
        active: t.active,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(n: u64) -> World {
        World::new(42, n, 42, None)
    }

    #[test]
    fn identities_are_found_every_way() {
        let w = world(50);
        assert_eq!(w.live(), 50);
        let i = w
            .find(UserRef::Login(&generate::login_for(7).to_uppercase()))
            .unwrap();
        assert_eq!(w.traveler(i).gen_index, Some(7));
        assert_eq!(w.find(UserRef::SyncId(&generate::sync_id_for(7))), Some(i));
        let uuid = generate::identity(42, 7).uuid;
        assert_eq!(w.find(UserRef::Uuid(&uuid)), Some(i));
        assert_eq!(w.find(UserRef::Login("nobody@example.org")), None);
        assert!(
            w.now().timestamp()
                > w.all_summaries()
                    .last()
                    .unwrap()
                    .last_modified
                    .unwrap()
                    .timestamp()
        );
    }

    #[test]
    fn changes_move_travelers_to_the_end_and_invalidate_xml() {
        let mut w = world(100);
        let first = w.all_summaries()[0].clone();
        let i = w
            .find(UserRef::Login(first.login_id.as_deref().unwrap()))
            .unwrap();
        let xml = match w.cached_xml(i) {
            Ok(_) => panic!("nothing cached yet"),
            Err(job) => job.run(42),
        };
        w.store_xml(xml.0, xml.1, xml.2.clone());
        assert_eq!(w.cached_xml(i).ok(), Some(xml.2.clone()));
        w.mutate(&[i]);
        assert!(w.cached_xml(i).is_err(), "cache dropped");
        let all = w.all_summaries();
        assert_eq!(all.last().unwrap().login_id, first.login_id);
        assert_eq!(all.len(), 100);
        assert_ne!(
            w.profile(i),
            generate::profile(42, w.traveler(i).gen_index.unwrap()).0
        );
        // A rendering started before a change is not cached.
        let stale = w.cached_xml(i).err().unwrap();
        w.mutate(&[i]);
        let (a, b, c) = stale.run(42);
        w.store_xml(a, b, c);
        assert!(w.cached_xml(i).is_err());
    }

    #[test]
    fn bulk_changes_keep_the_feed_sorted_and_complete() {
        let mut w = world(500);
        let picked = w.pick_random(200);
        assert_eq!(picked.iter().collect::<HashSet<_>>().len(), 200);
        w.mutate(&picked);
        let all = w.all_summaries();
        assert_eq!(all.len(), 500);
        assert!(
            all.windows(2)
                .all(|p| p[0].last_modified <= p[1].last_modified)
        );
        assert!(w.set_active(picked[0], false));
        assert!(!w.set_active(picked[0], false));
        assert_eq!(w.profile(picked[0]).status, Some(ProfileStatus::Inactive));
        w.delete(picked[1]);
        assert_eq!(w.live(), 499);
        assert_eq!(
            w.find(UserRef::Login(&w.traveler(picked[1]).login.clone())),
            None
        );
    }

    #[test]
    fn same_seed_same_world() {
        assert_eq!(world(300).all_summaries(), world(300).all_summaries());
        assert_ne!(
            World::new(1, 300, 1, None).all_summaries(),
            world(300).all_summaries()
        );
    }
}
