//! Plausible changes a traveler or an agent makes to a profile, chosen by the sandbox's
//! seeded generator: "change N random profiles" and the crawl faults use these.

use super::generate::Rng;
use crate::model::*;

/// Applies one random, realistic change to `p`; returns what kind of change it was.
pub(crate) fn random_change(p: &mut Profile, r: &mut Rng) -> &'static str {
    match r.below(6) {
        0 => {
            let g = p.general.get_or_insert_with(Default::default);
            g.job_title = Some(
                r.pick(&[
                    "Senior Consultant",
                    "Travel Manager",
                    "Principal Engineer",
                    "Directora Comercial",
                    "Geschäftsführer",
                ])
                .to_string(),
            );
            "job title"
        }
        1 => {
            let g = p.general.get_or_insert_with(Default::default);
            g.cost_center = Some(format!("CC-{}", 1000 + r.below(9000)));
            "cost center"
        }
        2 => {
            let number = format!(
                "+{} {} {:04} {:04}",
                1 + r.below(98),
                10 + r.below(89),
                r.below(10_000),
                r.below(10_000)
            );
            match p.telephones.first_mut() {
                Some(t) => t.phone_number = Some(number),
                None => p.telephones.push(Telephone {
                    kind: Some(TelephoneType::Cell),
                    phone_number: Some(number),
                    ..Default::default()
                }),
            }
            "telephone"
        }
        3 => {
            let air = p.air.get_or_insert_with(Default::default);
            match air.memberships.first_mut() {
                Some(m) => {
                    let points = m
                        .point_total
                        .as_ref()
                        .and_then(Total::as_number)
                        .unwrap_or(0);
                    m.point_total = Some(Total::Number(points + 100 + r.below(5000) as i64));
                    m.segment_total = Some(Total::Number(
                        m.segment_total
                            .as_ref()
                            .and_then(Total::as_number)
                            .unwrap_or(0)
                            + 1,
                    ));
                }
                None => {
                    air.home_airport =
                        Some(r.pick(&["GRU", "FRA", "LHR", "NRT", "SFO"]).to_string())
                }
            }
            "air"
        }
        4 => {
            let hotel = p.hotel.get_or_insert_with(Default::default);
            hotel.prefer_gym = Some(!hotel.prefer_gym.unwrap_or(false));
            hotel.room_type = Some(
                r.pick(&[RoomType::King, RoomType::Queen, RoomType::Twin])
                    .clone(),
            );
            "hotel"
        }
        _ => {
            let value = format!("V-{}", r.below(10_000));
            match p
                .custom_fields
                .iter_mut()
                .find(|f| f.name.as_deref() == Some("Project"))
            {
                Some(f) => f.value = Some(value),
                None => p.custom_fields.push(CustomField {
                    name: Some("Project".into()),
                    value: Some(value),
                }),
            }
            "custom field"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_visible_and_round_trip() {
        let mut r = Rng::new(3, 3);
        let mut changed = 0;
        for i in 0..60 {
            let (mut p, q) = super::super::generate::profile(42, i);
            let before = p.clone();
            random_change(&mut p, &mut r);
            changed += usize::from(before != p);
            let xml = super::super::generate::render(&p, q);
            assert_eq!(crate::xml::parse_profile(xml.as_bytes()).unwrap(), p);
        }
        // A change can coincide with the old value (rarely); almost all must differ.
        assert!(changed >= 55, "{changed}");
    }
}
