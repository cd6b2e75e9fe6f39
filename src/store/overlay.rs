//! The local overlay: a stored profile as the app should show it, with the loyalty
//! updates that the server has not confirmed yet applied to their memberships, and a
//! list saying which memberships carry local values (for a "pending" badge).

use super::outbox::{QueuedUpdate, UpdateFilter, UpdateState};
use super::{Store, StoredProfile};
use crate::Result;
use crate::model::loyalty::{self, LoyaltySection};

/// A local change shown on (or held back from) a profile's membership.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, uniffi::Record)]
pub struct PendingMembership {
    /// The queued update.
    pub update_id: i64,
    /// Its state: `pending`, `sending` and `sent` are shown on the profile; `failed` and
    /// `conflict` are not (the server's values are), but listed so the app can say so.
    pub state: UpdateState,
    /// Whether its values are shown on the profile.
    pub applied: bool,
    /// The section holding the membership.
    pub section: LoyaltySection,
    /// The membership's vendor code.
    pub vendor_code: String,
    /// The membership's index in its section's list, when the profile has it.
    pub index: Option<u32>,
    /// Whether the membership exists only locally (added by the update).
    pub added: bool,
}

/// A profile as the app shows it: the stored server copy, with `profile` showing the
/// loyalty values of updates not confirmed yet. `xml` stays the server's document exactly.
/// Dereferences to the [`StoredProfile`].
#[derive(Debug, Clone, PartialEq)]
pub struct CachedProfile {
    /// The stored profile; its `profile` has the overlay applied.
    pub stored: StoredProfile,
    /// The local changes of this traveler not confirmed yet, oldest first.
    pub pending: Vec<PendingMembership>,
}

impl std::ops::Deref for CachedProfile {
    type Target = StoredProfile;
    fn deref(&self) -> &StoredProfile {
        &self.stored
    }
}

impl CachedProfile {
    /// Whether any membership shows local values.
    pub fn has_pending(&self) -> bool {
        self.pending.iter().any(|p| p.applied)
    }
}

/// Applies `updates` (oldest first) to `stored`.
pub fn apply_overlay(mut stored: StoredProfile, updates: &[QueuedUpdate]) -> CachedProfile {
    let mut pending = Vec::new();
    for u in updates {
        if u.state == UpdateState::Confirmed {
            continue;
        }
        let Some(section) = u
            .membership
            .vendor_type
            .as_ref()
            .and_then(LoyaltySection::of)
        else {
            continue;
        };
        let vendor_code = u.membership.vendor_code.clone().unwrap_or_default();
        let (index, added, applied) = if u.state.is_shown() {
            match loyalty::apply_update(&mut stored.profile, &u.membership) {
                Some((_, i, added)) => (Some(i), added, true),
                None => continue,
            }
        } else {
            let list = match section {
                LoyaltySection::Air => stored.profile.air.as_ref().map(|a| &a.memberships),
                LoyaltySection::Car => stored.profile.car.as_ref().map(|c| &c.memberships),
                LoyaltySection::Hotel => stored.profile.hotel.as_ref().map(|h| &h.memberships),
            };
            let index = list.and_then(|l| {
                l.iter().position(|m| {
                    m.vendor_code
                        .as_deref()
                        .is_some_and(|c| c.eq_ignore_ascii_case(&vendor_code))
                })
            });
            (index.map(|i| i as u32), false, false)
        };
        pending.push(PendingMembership {
            update_id: u.id,
            state: u.state,
            applied,
            section,
            vendor_code,
            index,
            added,
        });
    }
    // An update added a membership that a later one of another program did not move:
    // indexes are positions in the final lists, which only grow at the end.
    CachedProfile { stored, pending }
}

impl Store {
    /// `stored` with its traveler's unconfirmed updates applied.
    pub fn with_overlay(&self, stored: StoredProfile) -> Result<CachedProfile> {
        let updates = self.list_updates(&UpdateFilter {
            login: Some(stored.login.clone()),
            state: None,
        })?;
        Ok(apply_overlay(stored, &updates))
    }
}
