//! Applying a profile `Update` document: which elements it carries, and merging them into
//! the stored profile with the documented semantics.
//!
//! Omitted elements are left alone; an element that is present but empty clears the
//! value. `General`, `RatePreferences`, `TSAInfo`, `Air`, `Rail`, `Car` and `Hotel` merge
//! field by field (a membership list or `Air/Seat` is replaced as a whole); every other
//! section is replaced as a whole when present. Read-only values (`DiscountCodes`,
//! `General/UUID`, `CompanyID`, `TravelConfigID`) are ignored. Warnings: W007 when
//! `FirstName`/`LastName` would be cleared (kept), W010 for a membership whose vendor code
//! is not two characters (skipped), W016 for more than two passports (the first two kept).

use crate::model::{Membership, Profile, ResponseMessage};
use quick_xml::events::Event;
use std::collections::HashSet;

/// The element paths (below the root, lower case, `/`-separated, up to three levels)
/// that a document carries.
#[derive(Debug, Default)]
pub(crate) struct Presence(HashSet<String>);

impl Presence {
    /// Scans a document (already known to parse).
    pub fn of(xml: &[u8]) -> Presence {
        let mut reader = quick_xml::Reader::from_reader(xml);
        let mut stack: Vec<String> = Vec::new();
        let mut set = HashSet::new();
        loop {
            let (name, open) = match reader.read_event() {
                Ok(Event::Start(e)) => (e.local_name().as_ref().to_lowercase(), true),
                Ok(Event::Empty(e)) => (e.local_name().as_ref().to_lowercase(), false),
                Ok(Event::End(_)) => {
                    stack.pop();
                    continue;
                }
                Ok(Event::Eof) | Err(_) => break,
                Ok(_) => continue,
            };
            if (1..=3).contains(&stack.len()) {
                let mut path = stack[1..].join("/");
                if !path.is_empty() {
                    path.push('/');
                }
                path.push_str(&name);
                set.insert(path);
            }
            if open {
                stack.push(name);
            }
        }
        Presence(set)
    }

    /// Whether the document has the element at `path` (lower case).
    pub fn has(&self, path: &str) -> bool {
        self.0.contains(path)
    }
}

fn message(code: &str, text: &str, field: &str) -> ResponseMessage {
    ResponseMessage {
        code: Some(code.into()),
        message: Some(text.into()),
        field: Some(field.into()),
    }
}

/// Copies the listed fields from `$src` to `$dst` where the document has them.
macro_rules! fields {
    ($pr:expr, $sec:literal, $dst:expr, $src:expr; $($($name:literal)|+ => $f:ident),+ $(,)?) => {
        $( if $( $pr.has(concat!($sec, "/", $name)) )||+ { $dst.$f = $src.$f.clone(); } )+
    };
}

fn memberships(
    list: &[Membership],
    field: &str,
    msgs: &mut Vec<ResponseMessage>,
) -> Vec<Membership> {
    list.iter()
        .filter(|m| {
            let ok = m
                .vendor_code
                .as_deref()
                .is_some_and(|c| c.chars().count() == 2);
            if !ok {
                msgs.push(message(
                    "W010",
                    "Invalid vendor code; membership skipped",
                    field,
                ));
            }
            ok
        })
        .cloned()
        .collect()
}

/// Merges `update` into `stored`; returns the warnings (empty when all was applied).
pub(crate) fn apply(stored: &mut Profile, update: &Profile, pr: &Presence) -> Vec<ResponseMessage> {
    let mut msgs = Vec::new();
    if pr.has("general") {
        let mut src = update.general.clone().unwrap_or_default();
        let dst = stored.general.get_or_insert_with(Default::default);
        if pr.has("general/firstname") && src.first_name.is_none() {
            msgs.push(message(
                "W007",
                "Required field; value kept",
                "General/FirstName",
            ));
            src.first_name = dst.first_name.clone();
        }
        if pr.has("general/lastname") && src.last_name.is_none() {
            msgs.push(message(
                "W007",
                "Required field; value kept",
                "General/LastName",
            ));
            src.last_name = dst.last_name.clone();
        }
        fields!(pr, "general", dst, src;
            "nameprefix" => name_prefix, "firstname" => first_name, "middlename" => middle_name,
            "lastname" => last_name, "namesuffix" => name_suffix, "preferredname" => preferred_name,
            "jobtitle" => job_title, "costcenter" => cost_center,
            "companyemployeeid" => company_employee_id, "division" => division,
            "accountterminationdate" => account_termination_date,
            "preferredlanguage" => preferred_language, "ereceiptoptin" => e_receipt_opt_in,
            "hasopenbooking" => has_open_booking, "countrycode" => country_code,
            "companyname" => company_name, "ruleclass" => rule_class,
            "medicalalerts" => medical_alerts, "agencynumber" => agency_number,
            "searchid" => search_id, "gdsprofilename" => gds_profile_name,
            "sabreprofileid" => sabre_profile_id,
        );
    }
    macro_rules! whole {
        ($($name:literal => $f:ident),+ $(,)?) => {
            $( if pr.has($name) { stored.$f = update.$f.clone(); } )+
        };
    }
    whole!(
        "emergencycontact" => emergency_contact, "telephones" => telephones,
        "addresses" => addresses, "nationalids" => national_ids,
        "driverslicenses" => drivers_licenses, "hasnopassport" => has_no_passport,
        "visas" => visas, "emailaddresses" => email_addresses, "customfields" => custom_fields,
        "roles" => roles, "sponsors" => sponsors, "unusedtickets" => unused_tickets,
        "southwestunusedtickets" => southwest_unused_tickets,
        "advantagememberships" => advantage_memberships,
    );
    if pr.has("passports") {
        let mut p = update.passports.clone();
        if p.len() > 2 {
            msgs.push(message(
                "W016",
                "Too many items: at most 2 passports; the first 2 kept",
                "Passports",
            ));
            p.truncate(2);
        }
        stored.passports = p;
    }
    if pr.has("ratepreferences") {
        let src = update.rate_preferences.clone().unwrap_or_default();
        let dst = stored.rate_preferences.get_or_insert_with(Default::default);
        fields!(pr, "ratepreferences", dst, src;
            "aaarate" => aaa_rate, "aarprate" => aarp_rate, "govtrate" => govt_rate, "militaryrate" => military_rate);
    }
    if pr.has("tsainfo") {
        let src = update.tsa_info.clone().unwrap_or_default();
        let dst = stored.tsa_info.get_or_insert_with(Default::default);
        fields!(pr, "tsainfo", dst, src;
            "gender" => gender, "dateofbirth" => date_of_birth, "nomiddlename" => no_middle_name,
            "prechecknumber" => pre_check_number, "redressnumber" => redress_number);
    }
    if pr.has("air") {
        let mut src = update.air.clone().unwrap_or_default();
        src.memberships = memberships(
            &src.memberships,
            "Air/AirMemberships/AirMembership/VendorCode",
            &mut msgs,
        );
        let dst = stored.air.get_or_insert_with(Default::default);
        fields!(pr, "air", dst, src;
            "airmemberships" => memberships, "seat" => seat, "mealcode" | "meals" => meal_code,
            "homeairport" => home_airport, "airother" => air_other);
    }
    if pr.has("rail") {
        let mut src = update.rail.clone().unwrap_or_default();
        src.memberships = memberships(
            &src.memberships,
            "Rail/RailMemberships/RailMembership/VendorCode",
            &mut msgs,
        );
        let dst = stored.rail.get_or_insert_with(Default::default);
        fields!(pr, "rail", dst, src;
            "seat" => seat, "coach" => coach, "noisecomfort" => noise_comfort, "bed" => bed,
            "bedcategory" => bed_category, "berth" => berth, "deck" => deck, "spacetype" => space_type,
            "farespacecomfort" => fare_space_comfort, "specialmeals" => special_meals,
            "contingencies" => contingencies, "railmemberships" => memberships);
    }
    if pr.has("car") {
        let mut src = update.car.clone().unwrap_or_default();
        src.memberships = memberships(
            &src.memberships,
            "Car/CarMemberships/CarMembership/VendorCode",
            &mut msgs,
        );
        let dst = stored.car.get_or_insert_with(Default::default);
        fields!(pr, "car", dst, src;
            "carsmokingcode" => smoking, "cargps" => gps, "cartype" => car_type,
            "carmemberships" => memberships, "carother" => car_other, "carskirack" => ski_rack,
            "cartransmission" => transmission);
    }
    if pr.has("hotel") {
        let mut src = update.hotel.clone().unwrap_or_default();
        src.memberships = memberships(
            &src.memberships,
            "Hotel/HotelMemberships/HotelMembership/VendorCode",
            &mut msgs,
        );
        let dst = stored.hotel.get_or_insert_with(Default::default);
        fields!(pr, "hotel", dst, src;
            "hotelsmokingcode" | "smokingcode" => smoking, "hotelmemberships" => memberships,
            "roomtype" => room_type, "hotelother" => hotel_other,
            "preferfoampillows" => prefer_foam_pillows, "prefercrib" => prefer_crib,
            "preferrollawaybed" => prefer_rollaway_bed, "prefergym" => prefer_gym,
            "preferpool" => prefer_pool, "preferrestaurant" | "preferrestaraunt" => prefer_restaurant,
            "preferwheelchairaccess" => prefer_wheelchair_access,
            "preferaccessforblind" => prefer_access_for_blind,
            "preferroomservice" => prefer_room_service, "preferearlycheckin" => prefer_early_check_in);
    }
    msgs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse_profile;

    const UPDATE: &str = r#"<ProfileResponse Action="Update" LoginId="x@y.example">
      <General><JobTitle>Chief Traveler</JobTitle><CostCenter /><FirstName /></General>
      <Passports>
        <Passport><PassportNumber>1</PassportNumber></Passport>
        <Passport><PassportNumber>2</PassportNumber></Passport>
        <Passport><PassportNumber>3</PassportNumber></Passport>
      </Passports>
      <Air><AirMemberships>
        <AirMembership><VendorCode>LH</VendorCode><AccountNo>9</AccountNo></AirMembership>
        <AirMembership><VendorCode>LHX</VendorCode><AccountNo>8</AccountNo></AirMembership>
      </AirMemberships></Air>
      <Hotel><preferPool>True</preferPool></Hotel>
      <Telephones />
    </ProfileResponse>"#;

    #[test]
    fn present_fields_merge_omitted_stay_empty_clear() {
        let (mut stored, _) = crate::sandbox::generate::profile(42, 3);
        let before = stored.clone();
        let update = parse_profile(UPDATE.as_bytes()).unwrap();
        let pr = Presence::of(UPDATE.as_bytes());
        assert!(pr.has("general/costcenter") && pr.has("air/airmemberships") && !pr.has("rail"));
        let msgs = apply(&mut stored, &update, &pr);
        let codes: Vec<_> = msgs.iter().filter_map(|m| m.code.as_deref()).collect();
        assert_eq!(codes, ["W007", "W016", "W010"]);
        let (g, g0) = (
            stored.general.as_ref().unwrap(),
            before.general.as_ref().unwrap(),
        );
        assert_eq!(g.job_title.as_deref(), Some("Chief Traveler"));
        assert_eq!(g.cost_center, None, "empty element clears");
        assert_eq!(g.first_name, g0.first_name, "required field kept");
        assert_eq!(g.last_name, g0.last_name, "omitted field left alone");
        assert_eq!(stored.passports.len(), 2);
        let air = stored.air.as_ref().unwrap();
        assert_eq!(air.memberships.len(), 1);
        assert_eq!(air.home_airport, before.air.as_ref().unwrap().home_airport);
        assert_eq!(stored.hotel.as_ref().unwrap().prefer_pool, Some(true));
        assert!(stored.telephones.is_empty(), "empty list section clears");
        assert_eq!(stored.email_addresses, before.email_addresses);
        assert_eq!(stored.tsa_info, before.tsa_info);
    }
}
