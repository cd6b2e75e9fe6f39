//! The outbox's confirmation hook: when profiles are stored (a sync, a refresh), the
//! updates they concern are confirmed when the documents show their values, and held as
//! conflicts when the server's value changed since they were queued. The rules are in
//! [`super::outbox`]'s module docs.

use super::NewProfile;
use super::outbox::{UpdateState, from_json, json_opt, remove, to_json, transition};
use super::{Store, to_ms};
use crate::Result;
use crate::model::loyalty;
use crate::model::{LoyaltyMembership, Membership};
use rusqlite::{Connection, params};
use std::collections::HashMap;

/// The confirmation hook, called inside [`Store::upsert_profiles`]' transaction: for each
/// stored profile, its `pending` and `sent` updates are confirmed when the document shows
/// their values, and held as conflicts when the server's value changed since they were
/// queued (see the module docs). Cheap when the outbox has nothing waiting.
pub(crate) fn on_profiles_stored(
    store: &Store,
    conn: &Connection,
    profiles: &[NewProfile<'_>],
) -> Result<()> {
    let waiting: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE state IN ('pending', 'sending', 'sent'))",
        )?
        .query_row([], |r| r.get(0))?;
    if !waiting {
        return Ok(());
    }
    let now = to_ms(&chrono::Utc::now());
    let mut changed = false;
    for p in profiles {
        changed |= confirm_one(conn, p, now)?;
    }
    if changed {
        store.outbox_signal.mark();
    }
    Ok(())
}

struct Waiting {
    id: i64,
    program: String,
    state: UpdateState,
    membership: LoyaltyMembership,
    base: Option<Membership>,
    base_known: bool,
    server_sent_at: Option<i64>,
}

fn confirm_one(conn: &Connection, p: &NewProfile<'_>, now: i64) -> Result<bool> {
    let rows: Vec<Waiting> = {
        let mut q = conn.prepare_cached(
            "SELECT id, program, state, membership, base, base_known, server_sent_at FROM outbox
             WHERE login = ?1 AND state IN ('pending', 'sending', 'sent') ORDER BY id DESC",
        )?;
        let raw = q.query_map([p.login], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, bool>(5)?,
                r.get::<_, Option<i64>>(6)?,
            ))
        })?;
        raw.map(|r| {
            let (id, program, state, m, base, base_known, server_sent_at) = r?;
            Ok(Waiting {
                id,
                program,
                state: UpdateState::parse(&state)?,
                membership: from_json(&m)?,
                base: json_opt(base)?,
                base_known,
                server_sent_at,
            })
        })
        .collect::<Result<_>>()?
    };
    if rows.is_empty() {
        return Ok(false);
    }
    // Per program: the oldest update still in flight, and the newest confirmed now.
    let mut oldest_in_flight: HashMap<&str, i64> = HashMap::new();
    for r in &rows {
        if matches!(r.state, UpdateState::Sending | UpdateState::Sent) {
            oldest_in_flight.insert(&r.program, r.id);
        }
    }
    let mut confirmed: HashMap<String, i64> = HashMap::new();
    let server_modified = p.server_modified.as_ref().map(to_ms);
    let mut changed = false;
    for r in &rows {
        if r.state == UpdateState::Sending {
            continue;
        }
        if let Some(&newer) = confirmed.get(&r.program) {
            // Superseded by a newer update of the program that the server shows.
            changed |= remove(conn, r.id, Some(newer), now)?;
            continue;
        }
        let theirs = loyalty::find_membership(p.profile, &r.membership);
        if loyalty::shows(theirs, &r.membership) {
            changed |= transition(conn, r.id, r.state, UpdateState::Confirmed, "", &[], now)?;
            confirmed.insert(r.program.clone(), r.id);
            // Only the latest confirmed update of a program is kept.
            let older: Vec<i64> = conn
                .prepare_cached(
                    "SELECT id FROM outbox WHERE login = ?1 AND program = ?2
                         AND state = 'confirmed' AND id < ?3",
                )?
                .query_map(params![p.login, r.program, r.id], |row| row.get(0))?
                .collect::<Result<_, _>>()?;
            for id in older {
                changed |= remove(conn, id, Some(r.id), now)?;
            }
            continue;
        }
        let conflict = match r.state {
            UpdateState::Pending => {
                let behind = oldest_in_flight
                    .get(r.program.as_str())
                    .is_some_and(|&f| f < r.id);
                if !r.base_known {
                    // Queued before the profile was cached: what we see now is the base.
                    conn.prepare_cached(
                        "UPDATE outbox SET base = ?2, base_known = 1 WHERE id = ?1",
                    )?
                    .execute(params![r.id, theirs.map(to_json)])?;
                    false
                } else {
                    // Behind an update in flight, the server may not show that one yet:
                    // its own check covers changes by others.
                    !behind && !loyalty::same_values(theirs, r.base.as_ref())
                }
            }
            // Accepted, and the server changed the program after that.
            _ => matches!((server_modified, r.server_sent_at), (Some(m), Some(s)) if m > s),
        };
        if conflict {
            let theirs = theirs.map(to_json);
            changed |= transition(
                conn,
                r.id,
                r.state,
                UpdateState::Conflict,
                "theirs = ?3",
                &[&theirs],
                now,
            )?;
        }
    }
    Ok(changed)
}
