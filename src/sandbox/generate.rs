//! A deterministic generator of realistic travelers: the same `(seed, index)` always gives
//! the same profile. Names in many scripts and with accents, several companies and travel
//! configs, some inactive travelers, memberships of every program type, documents, custom
//! fields; a share of documents uses the quirky spellings and casings the real API sends,
//! and a few carry elements no client knows.

use crate::model::*;
use chrono::{DateTime, Duration, NaiveDate};

/// SplitMix64: tiny, fast, and good enough for test data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for one `(seed, stream)` pair.
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut r = Rng(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next();
        r
    }

    /// The next 64 random bits.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// First and last names by script or region: (first names, last names).
const NAMES: &[(&[&str], &[&str])] = &[
    (
        &[
            "Ana",
            "João",
            "Luís",
            "Conceição",
            "Inês",
            "Thiago",
            "Lúcia",
            "Mário",
        ],
        &[
            "Souza",
            "Gonçalves",
            "Araújo",
            "Conceição",
            "Magalhães",
            "Simões",
        ],
    ),
    (
        &[
            "Jürgen",
            "Jörg",
            "Müller",
            "Käthe",
            "Björn",
            "Sören",
            "Lena",
            "Maximilian",
        ],
        &[
            "Müller",
            "Schäfer",
            "Groß",
            "Köhler",
            "Weiß",
            "Ångström",
            "Søndergaard",
        ],
    ),
    (
        &[
            "François",
            "Hélène",
            "Zoë",
            "Renée",
            "Jérôme",
            "Anaïs",
            "Loïc",
        ],
        &["Lefèvre", "Béranger", "Dupré", "Çelik", "Nœl", "Garçon"],
    ),
    (
        &[
            "José", "María", "Ángel", "Nuñez", "Begoña", "Iñaki", "Sofía",
        ],
        &["Muñoz", "Peña", "Ibáñez", "Fernández", "Gómez", "Núñez"],
    ),
    (
        &[
            "Łukasz",
            "Małgorzata",
            "Zoltán",
            "Dvořák",
            "Agnieszka",
            "Tomáš",
        ],
        &["Wiśniewski", "Kowalczyk", "Dvořáková", "Szűcs", "Nováček"],
    ),
    (
        &["Алексей", "Мария", "Дмитрий", "Ольга", "Иван"],
        &["Иванов", "Смирнова", "Кузнецов", "Попова"],
    ),
    (
        &["Γιώργος", "Ελένη", "Νίκος", "Μαρία"],
        &["Παπαδόπουλος", "Οικονόμου", "Γεωργίου"],
    ),
    (
        &["太郎", "花子", "健", "美咲", "翔"],
        &["山田", "佐藤", "鈴木", "高橋", "田中"],
    ),
    (&["伟", "芳", "娜", "敏"], &["王", "李", "张", "刘"]),
    (
        &["Ahmet", "Ayşe", "Gülşen", "Çağrı", "Işıl"],
        &["Yılmaz", "Öztürk", "Şahin", "Doğan"],
    ),
    (
        &[
            "John", "Mary", "Robert", "Patricia", "Michael", "Linda", "David", "Susan",
        ],
        &[
            "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "O'Brien",
        ],
    ),
    (&["आरव", "अनन्या", "विहान"], &["शर्मा", "वर्मा", "गुप्ता"]),
];

/// Companies: (name, id, travel configs).
const COMPANIES: &[(&str, &str, &[&str])] = &[
    ("Acme Viagens", "p0042acme", &["100", "200"]),
    ("Globex Logistics", "p0077glbx", &["300"]),
    ("Initech Consulting", "p0101init", &["3000", "3001"]),
    ("Umbrella Pharma", "p0200umbr", &["400"]),
    ("Stark Travel Services", "p0300strk", &["500", "501", "502"]),
];

const AIRLINES: &[&str] = &[
    "LH", "UA", "AA", "DL", "BA", "AF", "KL", "LA", "NH", "SQ", "TK",
];
const HOTELS: &[&str] = &["MC", "HH", "IC", "WY", "AC", "HY"];
const CARS: &[&str] = &["ZE", "ZI", "ZD", "ET", "AL"];
const RAILS: &[&str] = &["DB", "SN", "2C", "VR"];
const COUNTRIES: &[&str] = &[
    "BR", "DE", "FR", "ES", "PL", "RU", "GR", "JP", "CN", "TR", "US", "IN",
];
const STATUSES: &[&str] = &["Basic", "Silver", "Gold", "Platinum", "Senator", "Elite"];
const AIRPORTS: &[&str] = &[
    "GRU", "FRA", "CDG", "MAD", "WAW", "SVO", "ATH", "HND", "PEK", "IST", "JFK", "DEL",
];

/// The vendor codes the generator uses for memberships of a program type (`A` air,
/// `C` car, `H` hotel; anything else: rail), which the sandbox treats as the known ones.
pub fn known_vendors(vendor_type: &LoyaltyVendorType) -> &'static [&'static str] {
    match vendor_type {
        LoyaltyVendorType::Air => AIRLINES,
        LoyaltyVendorType::Car => CARS,
        LoyaltyVendorType::Hotel => HOTELS,
        LoyaltyVendorType::Unrecognized(_) => RAILS,
    }
}

/// What kind of document to render for a generated traveler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quirks {
    /// Use the reference page's alternative spellings and odd casings.
    pub spellings: bool,
}

/// The cheap facts about a traveler that the summary feed needs, computed without
/// generating the whole profile (so a sandbox of 100,000 travelers starts at once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `LoginID`.
    pub login: String,
    /// `XmlProfileSyncID`.
    pub sync_id: String,
    /// `General/UUID`.
    pub uuid: String,
    /// Active or inactive.
    pub status: ProfileStatus,
    /// Index into the company table.
    pub company: usize,
    /// `General/TravelConfigID`.
    pub travel_config: &'static str,
    /// The initial last-modified time.
    pub modified: Timestamp,
}

/// The identity of traveler `index` of the data set `seed`.
pub fn identity(seed: u64, index: u64) -> Identity {
    let mut r = Rng::new(seed ^ 0x1D1D_1D1D, index);
    let company = r.below(COMPANIES.len() as u64) as usize;
    let travel_config = *r.pick(COMPANIES[company].2);
    let status = if r.chance(6) {
        ProfileStatus::Inactive
    } else {
        ProfileStatus::Active
    };
    Identity {
        login: login_for(index),
        sync_id: sync_id_for(index),
        uuid: uuid_for(seed, index),
        status,
        company,
        travel_config,
        modified: initial_modified(seed, index),
    }
}

/// All travel config IDs the generator uses.
pub fn travel_configs() -> Vec<&'static str> {
    COMPANIES.iter().flat_map(|c| c.2.iter().copied()).collect()
}

/// Generates traveler `index` of the data set `seed`.
pub fn profile(seed: u64, index: u64) -> (Profile, Quirks) {
    let id = identity(seed, index);
    let mut r = Rng::new(seed, index);
    let (firsts, lasts) = *r.pick(NAMES);
    let first = *r.pick(firsts);
    let last = *r.pick(lasts);
    let (company, company_id, _) = COMPANIES[id.company];
    let config = id.travel_config;
    let country = *r.pick(COUNTRIES);
    let login = id.login.clone();
    let domain = login.split('@').nth(1).unwrap_or("example.org").to_owned();
    let day = |r: &mut Rng, from: i32, years: i32| -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(
            from + r.below(years as u64) as i32,
            1 + r.below(12) as u32,
            1 + r.below(28) as u32,
        )
    };
    let status = id.status.clone();

    let mut p = Profile {
        status: Some(status),
        login_id: Some(login.clone()),
        ..Default::default()
    };
    p.general = Some(General {
        name_prefix: r
            .chance(30)
            .then(|| r.pick(&["Mr", "Ms", "Dr", "Prof"]).to_string()),
        first_name: Some(first.to_owned()),
        middle_name: r.chance(25).then(|| r.pick(firsts).to_string()),
        last_name: Some(last.to_owned()),
        preferred_name: r.chance(20).then(|| first.chars().take(3).collect()),
        job_title: Some(
            r.pick(&[
                "Consultant",
                "Engineer",
                "Sales Director",
                "Analyst",
                "Head of Logistics & Travel",
            ])
            .to_string(),
        ),
        cost_center: Some(format!("CC-{}", 1000 + r.below(9000))),
        company_employee_id: Some(format!("E{:06}", index)),
        division: Some(
            r.pick(&["Operations", "Sales", "R&D", "Finance"])
                .to_string(),
        ),
        preferred_language: Some(
            r.pick(&["en-US", "pt-BR", "de-DE", "fr-FR", "ja-JP"])
                .to_string(),
        ),
        e_receipt_opt_in: Some(r.chance(70)),
        has_open_booking: Some(r.chance(10)),
        country_code: Some(country.to_owned()),
        company_name: Some(company.to_owned()),
        company_id: Some(company_id.to_owned()),
        rule_class: Some("Default Travel Class".to_owned()),
        travel_config_id: Some(config.to_owned()),
        medical_alerts: r.chance(5).then(|| "Allergy".to_owned()),
        search_id: Some(format!("{}/{}", last.to_uppercase(), first.to_uppercase())),
        gds_profile_name: Some(format!("{}/{}", last.to_uppercase(), first.to_uppercase())),
        uuid: Some(id.uuid.clone()),
        ..Default::default()
    });
    p.emergency_contact = r.chance(60).then(|| EmergencyContact {
        name: Some(format!("{} {}", r.pick(firsts), last)),
        relationship: Some(
            r.pick(&["Spouse", "Parent", "Sibling", "Friend"])
                .to_string(),
        ),
        phones: vec![EmergencyPhone {
            kind: Some(EmergencyPhoneType::DayTime),
            number: Some(phone(&mut r)),
        }],
        address: None,
    });
    p.telephones = (0..1 + r.below(3))
        .map(|i| Telephone {
            kind: Some(
                [
                    TelephoneType::Work,
                    TelephoneType::Cell,
                    TelephoneType::Home,
                ][i as usize]
                    .clone(),
            ),
            contact_opt_in: Some(r.chance(50)),
            primary_mobile: Some(i == 1),
            country_code: Some(if r.chance(20) {
                "001".into()
            } else {
                country.to_owned()
            }),
            phone_number: Some(phone(&mut r)),
            ..Default::default()
        })
        .collect();
    p.addresses = (0..1 + r.below(2))
        .map(|i| Address {
            kind: Some(if i == 0 {
                AddressType::Work
            } else {
                AddressType::Home
            }),
            street: Some(format!(
                "{} {}",
                r.pick(&[
                    "Rua Augusta",
                    "Hauptstraße",
                    "Rue de la Paix",
                    "Calle Mayor",
                    "Main Street"
                ]),
                1 + r.below(2000)
            )),
            city: Some(
                r.pick(&[
                    "São Paulo",
                    "München",
                    "Paris",
                    "Madrid",
                    "New York",
                    "東京",
                ])
                .to_string(),
            ),
            country_code: Some(country.to_owned()),
            postal_code: Some(format!("{:05}", r.below(99999))),
            ..Default::default()
        })
        .collect();
    if r.chance(40) {
        p.national_ids.push(NationalId {
            number: Some(format!("NID{:09}", r.below(1_000_000_000))),
            issuing_country: Some(country.to_owned()),
            expiration: day(&mut r, 2027, 10),
        });
    }
    if r.chance(50) {
        p.drivers_licenses.push(DriversLicense {
            number: Some(format!("DL{:08}", r.below(100_000_000))),
            issuing_country: Some(country.to_owned()),
            issuing_state: None,
            expiration: day(&mut r, 2027, 8),
        });
    }
    let passports = r.below(3);
    p.has_no_passport = Some(passports == 0);
    p.passports = (0..passports)
        .map(|_| Passport {
            number: Some(format!("P{:08}", r.below(100_000_000))),
            nationality: Some(country.to_owned()),
            expiration: day(&mut r, 2027, 10),
            date_issued: day(&mut r, 2016, 10),
            city_issued: Some("Brasília".to_owned()),
            country_issued: Some(country.to_owned()),
        })
        .collect();
    p.visas = (0..r.below(3))
        .map(|_| Visa {
            nationality: Some(r.pick(&["US", "GB", "CN", "IN"]).to_string()),
            number: Some(format!("V{:07}", r.below(10_000_000))),
            kind: Some(
                r.pick(&[
                    VisaType::MultiEntry,
                    VisaType::SingleEntry,
                    VisaType::Esta,
                    VisaType::Schengen,
                ])
                .clone(),
            ),
            date_issued: day(&mut r, 2020, 6),
            expiration: day(&mut r, 2027, 8),
            ..Default::default()
        })
        .collect();
    let ascii = ascii_name(first, last, index);
    p.email_addresses.push(EmailAddress {
        kind: Some(EmailType::Business),
        contact: Some(true),
        address: Some(login.clone()),
    });
    if r.chance(40) {
        p.email_addresses.push(EmailAddress {
            kind: Some(EmailType::Personal),
            contact: Some(false),
            address: Some(format!("{ascii}@mail.example")),
        });
    }
    p.rate_preferences = Some(RatePreferences {
        aaa_rate: Some(r.chance(10)),
        aarp_rate: Some(false),
        govt_rate: Some(r.chance(5)),
        military_rate: Some(false),
    });
    p.air = Some(Air {
        memberships: (0..r.below(4))
            .map(|_| membership(&mut r, AIRLINES))
            .collect(),
        seat: Some(AirSeat {
            inter_row_position: Some(
                r.pick(&[
                    InterRowPosition::Window,
                    InterRowPosition::Aisle,
                    InterRowPosition::DontCare,
                ])
                .clone(),
            ),
            section_position: Some(
                r.pick(&[
                    SectionPosition::Forward,
                    SectionPosition::Rear,
                    SectionPosition::DontCare,
                ])
                .clone(),
            ),
        }),
        meal_code: r
            .chance(30)
            .then(|| r.pick(&["VGML", "KSML", "MOML", "GFML"]).to_string()),
        home_airport: Some(r.pick(AIRPORTS).to_string()),
        air_other: None,
    });
    if r.chance(40) {
        p.rail = Some(Rail {
            seat: Some("Window".into()),
            coach: Some("Quiet".into()),
            memberships: (0..r.below(2)).map(|_| membership(&mut r, RAILS)).collect(),
            ..Default::default()
        });
    }
    p.car = Some(Car {
        smoking: Some(SmokingPreference::NonSmoking),
        gps: Some(r.chance(50)),
        car_type: Some(
            r.pick(&[
                CarType::Compact,
                CarType::Intermediate,
                CarType::FullSize,
                CarType::Suv,
            ])
            .clone(),
        ),
        memberships: (0..r.below(3)).map(|_| membership(&mut r, CARS)).collect(),
        transmission: Some(CarTransmission::Automatic),
        ..Default::default()
    });
    p.hotel = Some(Hotel {
        smoking: Some(SmokingPreference::NonSmoking),
        memberships: (0..r.below(3))
            .map(|_| membership(&mut r, HOTELS))
            .collect(),
        room_type: Some(
            r.pick(&[RoomType::King, RoomType::Queen, RoomType::Double])
                .clone(),
        ),
        prefer_gym: Some(r.chance(40)),
        prefer_pool: Some(r.chance(30)),
        prefer_restaurant: Some(r.chance(50)),
        prefer_early_check_in: Some(r.chance(20)),
        ..Default::default()
    });
    p.custom_fields = (0..r.below(5))
        .map(|i| CustomField {
            name: Some(
                ["Department", "Badge", "Project", "Region", "Approver"][i as usize].to_owned(),
            ),
            value: Some(format!("V-{}", r.below(10_000))),
        })
        .collect();
    if r.chance(30) {
        p.roles.push(Role {
            kind: Some(RoleType::Arranger),
            primary: Some(true),
            first_name: Some(r.pick(firsts).to_string()),
            last_name: Some(r.pick(lasts).to_string()),
            email_address: Some(format!("arranger{}@{domain}", r.below(50))),
            login_id: Some(format!("arranger{}@{domain}", r.below(50))),
        });
    }
    p.tsa_info = Some(TsaInfo {
        gender: Some(if r.chance(50) {
            Gender::Female
        } else {
            Gender::Male
        }),
        date_of_birth: day(&mut r, 1950, 50),
        no_middle_name: Some(r.chance(50)),
        pre_check_number: r
            .chance(20)
            .then(|| format!("{:09}", r.below(1_000_000_000))),
        redress_number: None,
    });
    if r.chance(15) {
        p.unused_tickets.push(UnusedTicket {
            carrier: Some(r.pick(AIRLINES).to_string()),
            ticket_number: Some(format!("220{:010}", r.below(10_000_000_000))),
            record_locator: Some(format!("R{:05}", r.below(100_000))),
            base_fare: Some(format!("{}.00", 100 + r.below(900))),
            currency: Some("USD".into()),
            issue_date: day(&mut r, 2025, 2),
            expiration_date: day(&mut r, 2026, 2),
            ..Default::default()
        });
    }
    if r.chance(10) {
        p.advantage_memberships.push(AdvantageMembership {
            vendor_code: Some("DB".into()),
            vendor_type: Some(AdvantageVendorType::Rail),
            program_number: Some(format!("BC{}", r.below(100_000))),
            program_name: Some("BahnCard 25".into()),
            ..Default::default()
        });
    }
    if r.chance(3) {
        p.unknown.push(UnknownNode {
            path: String::new(),
            after: Some("General".into()),
            content: UnknownContent::Element {
                xml: format!(
                    "<Wellness><Program tier=\"{}\">Yoga</Program></Wellness>",
                    r.below(3)
                ),
            },
        });
    }
    let quirks = Quirks {
        spellings: r.chance(10),
    };
    (p, quirks)
}

/// The login of traveler `index` (stable across seeds, so tests can name travelers).
pub fn login_for(index: u64) -> String {
    let domain = ["acme.example", "globex.example", "initech.example"][(index % 3) as usize];
    format!("traveler{index:06}@{domain}")
}

/// The XML sync id of traveler `index`.
pub fn sync_id_for(index: u64) -> String {
    format!("XS-{index:07}")
}

fn uuid_for(seed: u64, index: u64) -> String {
    let mut r = Rng::new(seed ^ 0x5555, index);
    let (a, b) = (r.next(), r.next());
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0xFFF,
        b >> 52,
        b & 0xFFFF_FFFF_FFFF
    )
}

fn ascii_name(first: &str, last: &str, index: u64) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_lowercase()
    };
    let (f, l) = (clean(first), clean(last));
    if f.is_empty() || l.is_empty() {
        format!("user{index}")
    } else {
        format!("{f}.{l}")
    }
}

fn phone(r: &mut Rng) -> String {
    format!(
        "+{} {} {:04} {:04}",
        1 + r.below(98),
        10 + r.below(89),
        r.below(10_000),
        r.below(10_000)
    )
}

fn membership(r: &mut Rng, vendors: &[&str]) -> Membership {
    let points = r.below(500_000) as i64;
    Membership {
        vendor_code: Some(r.pick(vendors).to_string()),
        account_no: Some(format!("{:012}", r.below(1_000_000_000_000))),
        status: Some(r.pick(STATUSES).to_string()),
        status_benefits: r.chance(30).then(|| "Lounge access".to_owned()),
        point_total: Some(if r.chance(3) {
            Total::Text(format!("{},{:03}", points / 1000, points % 1000))
        } else {
            Total::Number(points)
        }),
        segment_total: Some(Total::Number(r.below(120) as i64)),
        next_status: Some(r.pick(STATUSES).to_string()),
        points_until_next_status: Some(Total::Number(r.below(100_000) as i64)),
        ..Default::default()
    }
}

/// Renders a generated profile the way the server would send it, applying its quirks.
pub fn render(profile: &Profile, quirks: Quirks) -> String {
    let xml = crate::xml::write_profile_pretty(profile);
    if !quirks.spellings {
        return xml;
    }
    xml.replace("<SearchId>", "<SearchID>")
        .replace("</SearchId>", "</SearchID>")
        .replace("HotelSmokingCode>", "SmokingCode>")
        .replace("PreferRestaurant>", "PreferRestaraunt>")
        .replace("PreferPool>", "preferPool>")
        .replace(">true<", ">True<")
        .replace(">false<", ">False<")
        .replace("<MealCode>", "<Meals><MealCode>")
        .replace("</MealCode>", "</MealCode></Meals>")
}

/// The last-modified time of a freshly generated traveler: spread over the past year.
pub fn initial_modified(seed: u64, index: u64) -> Timestamp {
    let base = DateTime::from_timestamp(1_764_547_200, 0).unwrap_or_default(); // 2025-12-01
    let mut r = Rng::new(seed ^ 0xABCD, index);
    base + Duration::seconds(r.below(365 * 24 * 3600) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_round_trips() {
        for i in 0..300 {
            let (a, qa) = profile(42, i);
            let (b, qb) = profile(42, i);
            assert_eq!(a, b);
            let xml = render(&a, qa);
            assert_eq!(xml, render(&b, qb));
            let parsed = crate::xml::parse_profile(xml.as_bytes()).unwrap();
            assert_eq!(parsed, a, "profile {i} (quirks {qa:?})");
        }
        assert_ne!(profile(1, 7).0, profile(2, 7).0);
    }
}
