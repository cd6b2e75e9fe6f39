//! `POST /api/travelprofile/v1.0/loyalty`: a `LoyaltyMembershipUpdate` applied to the
//! user's air, car or hotel memberships.
//!
//! The user is the token's user. For company tokens (the docs give no parameter) the
//! sandbox takes `userid_type=login|xmlsyncid|uuid&userid_value=…` from the query, as the
//! profile endpoint does. Every membership is validated before any is applied:
//! `VendorType` A, C or H and `VendorCode` (two characters, a known vendor) are required
//! from a TMC; a supplier's token fills in its own vendor and may not name another one;
//! `AccountNo` is always required. A rejection is `ERROR` with a description (status 200:
//! the server understood and refused; retrying will not help).
//!
//! The update sets state: the membership of that vendor is updated (or added) with the
//! values given, the others left alone. The profile's last-modified time moves only when
//! something changed, and a profile postback follows.

use super::{Params, profile};
use crate::model::{
    LoyaltyMembership, LoyaltyResponse, LoyaltyStatus, LoyaltyVendorType, Membership, Profile,
};
use crate::sandbox::auth::Role;
use crate::sandbox::generate::known_vendors;
use crate::sandbox::state::{Shared, xml_response};
use crate::xml::{parse_loyalty_update, write_loyalty_response};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::sync::Arc;

fn answer(status: LoyaltyStatus, description: Option<String>) -> Response {
    xml_response(
        StatusCode::OK,
        write_loyalty_response(&LoyaltyResponse {
            status,
            error_description: description,
        }),
    )
}

/// Checks one membership and fills in a supplier's vendor; the error is the description.
fn validate(m: &mut LoyaltyMembership, role: &Role, n: usize) -> Result<(), String> {
    match role {
        Role::Supplier {
            vendor_code,
            vendor_type,
        } => {
            if m.vendor_code
                .as_deref()
                .is_some_and(|c| !c.eq_ignore_ascii_case(vendor_code))
                || m.vendor_type.as_ref().is_some_and(|t| t != vendor_type)
            {
                return Err(format!(
                    "Membership {n}: a supplier may only update its own loyalty program"
                ));
            }
            m.vendor_code = Some(vendor_code.clone());
            m.vendor_type = Some(vendor_type.clone());
        }
        Role::Tmc => {
            let Some(kind) = &m.vendor_type else {
                return Err(format!("Membership {n}: VendorType is required"));
            };
            if matches!(kind, LoyaltyVendorType::Unrecognized(_)) {
                return Err(format!("Membership {n}: VendorType must be A, C or H"));
            }
            let Some(code) = m.vendor_code.as_deref().map(str::trim) else {
                return Err(format!("Membership {n}: VendorCode is required"));
            };
            if code.chars().count() != 2 {
                return Err(format!("Membership {n}: VendorCode must have 2 characters"));
            }
            if !known_vendors(kind)
                .iter()
                .any(|v| v.eq_ignore_ascii_case(code))
            {
                return Err(format!(
                    "Membership {n}: unknown vendor code for this program type"
                ));
            }
            m.vendor_code = Some(code.to_ascii_uppercase());
        }
    }
    if m.account_no.as_deref().is_none_or(|a| a.trim().is_empty()) {
        return Err(format!("Membership {n}: AccountNo is required"));
    }
    Ok(())
}

/// Sets a membership's loyalty values (state, not delta); returns whether it changed.
fn set(p: &mut Profile, m: &LoyaltyMembership) -> bool {
    let list = match m.vendor_type {
        Some(LoyaltyVendorType::Air) => &mut p.air.get_or_insert_with(Default::default).memberships,
        Some(LoyaltyVendorType::Car) => &mut p.car.get_or_insert_with(Default::default).memberships,
        _ => &mut p.hotel.get_or_insert_with(Default::default).memberships,
    };
    let code = m.vendor_code.as_deref().unwrap_or_default();
    let at = match list.iter().position(|x| {
        x.vendor_code
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case(code))
    }) {
        Some(i) => i,
        None => {
            list.push(Membership {
                vendor_code: Some(code.to_owned()),
                ..Default::default()
            });
            list.len() - 1
        }
    };
    let target = &mut list[at];
    let before = target.clone();
    target.account_no = m.account_no.clone();
    target.status = m.status.clone();
    target.status_benefits = m.status_benefits.clone();
    target.point_total = m.point_total.clone();
    target.segment_total = m.segment_total.clone();
    target.next_status = m.next_status.clone();
    target.points_until_next_status = m.points_until_next_status.clone();
    target.segments_until_next_status = m.segments_until_next_status.clone();
    *target != before
}

pub(crate) async fn loyalty(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let grant = match sh.authorize(&headers) {
        Ok(g) => g,
        Err(r) => return r,
    };
    let mut update = match parse_loyalty_update(&body) {
        Ok(u) => u,
        Err(e) => {
            return sh.error(
                StatusCode::BAD_REQUEST,
                &format!("The request body is not a LoyaltyMembershipUpdate: {e}"),
            );
        }
    };
    let idx = match profile::target(&sh, &Params::parse(query.as_deref()), &grant) {
        Ok(i) => i,
        Err(r) => return r,
    };
    if update.memberships.is_empty() {
        return answer(
            LoyaltyStatus::Error,
            Some("No Membership in the update".into()),
        );
    }
    for (n, m) in update.memberships.iter_mut().enumerate() {
        if let Err(description) = validate(m, &grant.role, n + 1) {
            return answer(LoyaltyStatus::Error, Some(description));
        }
    }
    let (changed, login) = {
        let mut w = sh.write();
        let changed = w.modify(idx, |p| {
            let mut any = false;
            for m in &update.memberships {
                any |= set(p, m);
            }
            any
        });
        (changed, w.traveler(idx).login.clone())
    };
    if changed {
        sh.profiles_changed(&[login]);
    }
    answer(LoyaltyStatus::Ok, None)
}
