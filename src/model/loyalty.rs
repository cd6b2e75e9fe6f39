//! Loyalty updates and the profile memberships they set: which membership an update
//! addresses, comparing values, and applying an update to a profile locally (the outbox's
//! overlay). Plain data, no I/O.
//!
//! An update *sets* a membership's loyalty values (it is not a delta): the account number,
//! status, benefits, totals and next status become exactly what the update carries, an
//! absent value clearing the stored one. That is how the server applies it, so the same
//! rule shows pending values locally and decides whether a fetched profile confirms them.

use super::{LoyaltyMembership, LoyaltyVendorType, Membership, Profile};

/// Which profile section holds a loyalty program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, uniffi::Enum)]
pub enum LoyaltySection {
    /// `Air/AirMemberships` (vendor type `A`).
    Air,
    /// `Car/CarMemberships` (vendor type `C`).
    Car,
    /// `Hotel/HotelMemberships` (vendor type `H`).
    Hotel,
}

impl LoyaltySection {
    /// The section of a vendor type (`None` for an unrecognized one).
    pub fn of(vendor_type: &LoyaltyVendorType) -> Option<LoyaltySection> {
        match vendor_type {
            LoyaltyVendorType::Air => Some(LoyaltySection::Air),
            LoyaltyVendorType::Car => Some(LoyaltySection::Car),
            LoyaltyVendorType::Hotel => Some(LoyaltySection::Hotel),
            LoyaltyVendorType::Unrecognized(_) => None,
        }
    }
}

/// The key of the program an update addresses: vendor type and code, e.g. `A:LH`.
///
/// Profiles identify a membership by its section and vendor code (they carry no
/// `UniqueID`), and the server applies an update to the membership of that vendor code, so
/// this is what makes two updates "the same program". `None` when the update lacks a
/// recognized vendor type or a vendor code.
pub fn program_key(update: &LoyaltyMembership) -> Option<String> {
    let section = LoyaltySection::of(update.vendor_type.as_ref()?)?;
    let code = update.vendor_code.as_deref()?.trim();
    if code.is_empty() {
        return None;
    }
    let t = match section {
        LoyaltySection::Air => 'A',
        LoyaltySection::Car => 'C',
        LoyaltySection::Hotel => 'H',
    };
    Some(format!("{t}:{}", code.to_ascii_uppercase()))
}

fn section(profile: &Profile, s: LoyaltySection) -> &[Membership] {
    let list = match s {
        LoyaltySection::Air => profile.air.as_ref().map(|a| &a.memberships),
        LoyaltySection::Car => profile.car.as_ref().map(|c| &c.memberships),
        LoyaltySection::Hotel => profile.hotel.as_ref().map(|h| &h.memberships),
    };
    list.map_or(&[], Vec::as_slice)
}

fn section_mut(profile: &mut Profile, s: LoyaltySection) -> &mut Vec<Membership> {
    match s {
        LoyaltySection::Air => &mut profile.air.get_or_insert_with(Default::default).memberships,
        LoyaltySection::Car => &mut profile.car.get_or_insert_with(Default::default).memberships,
        LoyaltySection::Hotel => {
            &mut profile
                .hotel
                .get_or_insert_with(Default::default)
                .memberships
        }
    }
}

fn same_code(m: &Membership, code: &str) -> bool {
    m.vendor_code
        .as_deref()
        .is_some_and(|c| c.trim().eq_ignore_ascii_case(code.trim()))
}

/// The membership of `profile` that `update` addresses (same section and vendor code).
pub fn find_membership<'a>(
    profile: &'a Profile,
    update: &LoyaltyMembership,
) -> Option<&'a Membership> {
    let s = LoyaltySection::of(update.vendor_type.as_ref()?)?;
    let code = update.vendor_code.as_deref()?;
    section(profile, s).iter().find(|m| same_code(m, code))
}

/// Whether two memberships hold the same loyalty values (the fields an update sets;
/// `None` is a membership that does not exist).
pub fn same_values(a: Option<&Membership>, b: Option<&Membership>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.account_no == b.account_no
                && a.status == b.status
                && a.status_benefits == b.status_benefits
                && a.point_total == b.point_total
                && a.segment_total == b.segment_total
                && a.next_status == b.next_status
                && a.points_until_next_status == b.points_until_next_status
                && a.segments_until_next_status == b.segments_until_next_status
        }
        _ => false,
    }
}

/// `membership` with the loyalty values of `update` set (the server's rule); a new
/// membership when `membership` is `None`.
pub fn updated(membership: Option<&Membership>, update: &LoyaltyMembership) -> Membership {
    let mut m = membership.cloned().unwrap_or_else(|| Membership {
        vendor_code: update.vendor_code.clone(),
        ..Default::default()
    });
    m.account_no = update.account_no.clone();
    m.status = update.status.clone();
    m.status_benefits = update.status_benefits.clone();
    m.point_total = update.point_total.clone();
    m.segment_total = update.segment_total.clone();
    m.next_status = update.next_status.clone();
    m.points_until_next_status = update.points_until_next_status.clone();
    m.segments_until_next_status = update.segments_until_next_status.clone();
    m
}

/// Whether `membership` already shows what `update` sets.
pub fn shows(membership: Option<&Membership>, update: &LoyaltyMembership) -> bool {
    membership.is_some_and(|m| same_values(Some(m), Some(&updated(Some(m), update))))
}

/// Applies `update` to `profile` (updating the addressed membership, or adding it).
/// Returns the section, the membership's index in it and whether it was added; `None`
/// when the update does not name a program.
pub fn apply_update(
    profile: &mut Profile,
    update: &LoyaltyMembership,
) -> Option<(LoyaltySection, u32, bool)> {
    let s = LoyaltySection::of(update.vendor_type.as_ref()?)?;
    let code = update.vendor_code.clone()?;
    let list = section_mut(profile, s);
    match list.iter().position(|m| same_code(m, &code)) {
        Some(i) => {
            list[i] = updated(Some(&list[i]), update);
            Some((s, i as u32, false))
        }
        None => {
            list.push(updated(None, update));
            Some((s, (list.len() - 1) as u32, true))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Air, Total};

    fn update(code: &str, account: &str) -> LoyaltyMembership {
        LoyaltyMembership {
            vendor_code: Some(code.into()),
            vendor_type: Some(LoyaltyVendorType::Air),
            account_no: Some(account.into()),
            point_total: Some(Total::Number(5)),
            ..Default::default()
        }
    }

    #[test]
    fn keys_name_the_section_and_the_vendor() {
        assert_eq!(program_key(&update("lh", "1")).as_deref(), Some("A:LH"));
        let mut u = update("LH", "1");
        u.vendor_type = Some(LoyaltyVendorType::Unrecognized("R".into()));
        assert_eq!(program_key(&u), None);
        u.vendor_type = None;
        assert_eq!(program_key(&u), None);
    }

    #[test]
    fn applying_sets_state_updates_or_adds() {
        let mut p = Profile {
            air: Some(Air {
                memberships: vec![Membership {
                    vendor_code: Some("LH".into()),
                    account_no: Some("old".into()),
                    status: Some("Gold".into()),
                    is_senator: Some(true),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            apply_update(&mut p, &update("lh", "new")),
            Some((LoyaltySection::Air, 0, false))
        );
        let m = &p.air.as_ref().unwrap().memberships[0];
        assert_eq!(m.account_no.as_deref(), Some("new"));
        assert_eq!(m.status, None, "an absent value clears");
        assert_eq!(
            m.is_senator,
            Some(true),
            "fields an update does not set stay"
        );
        assert!(shows(Some(m), &update("LH", "new")));
        assert!(!shows(Some(m), &update("LH", "other")));
        assert!(!same_values(None, Some(m)));
        assert_eq!(
            apply_update(&mut p, &update("UA", "9")),
            Some((LoyaltySection::Air, 1, true))
        );
        assert!(find_membership(&p, &update("ua", "x")).is_some());
        assert!(same_values(None, None));
    }
}
