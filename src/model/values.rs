//! Scalar value types of the profile model: the documented value sets (as enums that
//! keep any value they do not know), loyalty totals, and the date and time types.
//!
//! Every enum here has an `Unrecognized(String)` variant holding a value exactly as the
//! server sent it, so a value SAP Concur adds tomorrow is kept and written back unchanged.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A point in time, always UTC. Across the FFI it is milliseconds since the Unix epoch.
pub type Timestamp = DateTime<Utc>;

/// A calendar date without a time zone (`YYYY-MM-DD` on the wire). Across the FFI it is
/// that same ISO string. (Not named `Date`: in Swift that would hide `Foundation.Date`.)
pub type CalendarDate = NaiveDate;

uniffi::custom_type!(Timestamp, i64, {
    remote,
    lower: |t| t.timestamp_millis(),
    try_lift: |ms| DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| uniffi::deps::anyhow::anyhow!("timestamp out of range")),
});

uniffi::custom_type!(CalendarDate, String, {
    remote,
    lower: |d| d.format("%Y-%m-%d").to_string(),
    try_lift: |s| NaiveDate::parse_from_str(&s, "%Y-%m-%d")
        .map_err(|_| uniffi::deps::anyhow::anyhow!("date must be YYYY-MM-DD")),
});

/// Defines a documented value set: an enum with one variant per documented value (matched
/// without regard to case, with alternative spellings), plus `Unrecognized(String)`.
macro_rules! value_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal $(| $alt:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Enum)]
        pub enum $name {
            $( $(#[$vmeta])* #[doc = $wire] $variant, )+
            /// A value this version does not know, kept exactly as the server sent it.
            Unrecognized(String),
        }

        impl $name {
            /// Maps a wire value (any case, any documented spelling) to its variant.
            pub fn from_wire(value: &str) -> Self {
                $(
                    if value.eq_ignore_ascii_case($wire) $(|| value.eq_ignore_ascii_case($alt))* {
                        return Self::$variant;
                    }
                )+
                Self::Unrecognized(value.to_owned())
            }

            /// The value as written to the wire (the documented spelling).
            pub fn as_wire(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Unrecognized(value) => value,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_wire())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_wire())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let value = String::deserialize(d)?;
                Ok(Self::from_wire(&value))
            }
        }
    };
}

value_enum! {
    /// Whether a traveler's profile is active (`Status` attribute and summary field).
    ProfileStatus { Active = "Active", Inactive = "Inactive" }
}

value_enum! {
    /// `Telephone/@Type`.
    TelephoneType {
        Home = "Home", Work = "Work", Fax = "Fax", Pager = "Pager",
        /// The documented value `Other` (not an unknown value).
        Other = "Other",
        Cell = "Cell",
    }
}

value_enum! {
    /// `Address/@Type`.
    AddressType { Home = "Home", Work = "Work" }
}

value_enum! {
    /// `EmergencyContact/Phones/Phone/@Type`.
    EmergencyPhoneType { DayTime = "DayTime", Alternate = "Alternate" }
}

value_enum! {
    /// `EmailAddress/@Type`.
    EmailType {
        Business = "Business", Personal = "Personal", Supervisor = "Supervisor",
        TravelArranger = "TravelArranger", Business2 = "Business2",
        Other1 = "Other1", Other2 = "Other2",
    }
}

value_enum! {
    /// `Visa/VisaType`: the schema codes, also accepted in the reference page's long form.
    VisaType {
        /// `Unknown` in the schema: the type was not recorded.
        NotRecorded = "Unknown",
        SingleEntry = "SE" | "SingleEntry",
        DoubleEntry = "DE" | "DoubleEntry",
        MultiEntry = "ME" | "MultiEntry",
        Esta = "ES" | "ESTA",
        Eta = "ET" | "ETA",
        Schengen = "SH" | "SchengenVisa",
    }
}

value_enum! {
    /// `Air/Seat/InterRowPositionCode`: where in a row the traveler likes to sit.
    InterRowPosition { Window = "Window", Aisle = "Aisle", Middle = "Middle", DontCare = "DontCare" }
}

value_enum! {
    /// `Air/Seat/SectionPositionCode`: where in the cabin the traveler likes to sit.
    SectionPosition {
        Bulkhead = "Bulkhead", Forward = "Forward", Rear = "Rear",
        ExitRow = "ExitRow", DontCare = "DontCare",
    }
}

value_enum! {
    /// `CarSmokingCode` and `HotelSmokingCode`.
    SmokingPreference { NonSmoking = "NonSmoking", Smoking = "Smoking", DontCare = "DontCare" }
}

value_enum! {
    /// `Car/CarType`: the preferred car class.
    CarType {
        Economy = "Economy", Compact = "Compact", Intermediate = "Intermediate",
        Standard = "Standard", FullSize = "FullSize", Premium = "Premium", Luxury = "Luxury",
        Minivan = "Minivan", Suv = "SUV", Convertible = "Convertible", Van = "Van",
    }
}

value_enum! {
    /// `Car/CarTransmission`.
    CarTransmission { Automatic = "Automatic", Manual = "Manual", DontCare = "DontCare" }
}

value_enum! {
    /// `Hotel/RoomType`.
    RoomType {
        King = "King", Queen = "Queen", Double = "Double", Twin = "Twin",
        Single = "Single", Disability = "Disability", DontCare = "DontCare",
    }
}

value_enum! {
    /// `TSAInfo/Gender`.
    Gender { Male = "Male", Female = "Female" }
}

value_enum! {
    /// `Role/@Type`.
    RoleType { Arranger = "Arranger", Manager = "Manager" }
}

value_enum! {
    /// `AdvantageMembership/VendorType`.
    AdvantageVendorType { Air = "Air", Rail = "Rail", Car = "Car", Hotel = "Hotel" }
}

value_enum! {
    /// `LoyaltyMembershipUpdate/Membership/VendorType`: A air, C car, H hotel.
    LoyaltyVendorType { Air = "A", Car = "C", Hotel = "H" }
}

value_enum! {
    /// `LoyaltyMembershipResponse/Status`.
    LoyaltyStatus { Ok = "OK", Error = "ERROR" }
}

value_enum! {
    /// `Notification/EventType` of an itinerary notification.
    NotificationEventType { Create = "CREATE", Update = "UPDATE", Cancel = "CANCEL" }
}

/// A loyalty point or segment total. The wire carries strings; a canonical integer is a
/// `Number`, anything else (`"1,200"`, `"n/a"`) is kept as `Text`, exactly as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Total {
    /// A whole number.
    Number(i64),
    /// A value that is not a canonical whole number, as the server sent it.
    Text(String),
}

impl Total {
    /// Parses a wire value: canonical integers become `Number`, the rest `Text`.
    pub fn from_wire(value: &str) -> Self {
        match value.parse::<i64>() {
            Ok(n) if n.to_string() == value => Total::Number(n),
            _ => Total::Text(value.to_owned()),
        }
    }

    /// The value as written to the wire.
    pub fn to_wire(&self) -> String {
        match self {
            Total::Number(n) => n.to_string(),
            Total::Text(s) => s.clone(),
        }
    }

    /// The number, when the total is one.
    pub fn as_number(&self) -> Option<i64> {
        match self {
            Total::Number(n) => Some(*n),
            Total::Text(_) => None,
        }
    }
}

impl fmt::Display for Total {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Total::Number(n) => write!(f, "{n}"),
            Total::Text(s) => f.write_str(s),
        }
    }
}

impl Serialize for Total {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Total::Number(n) => s.serialize_i64(*n),
            Total::Text(t) => s.serialize_str(t),
        }
    }
}

impl<'de> Deserialize<'de> for Total {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(i64),
            Text(String),
        }
        Ok(match Raw::deserialize(d)? {
            Raw::Number(n) => Total::Number(n),
            Raw::Text(t) => Total::from_wire(&t),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_enums_match_any_case_and_keep_unknown_values() {
        assert_eq!(TelephoneType::from_wire("cell"), TelephoneType::Cell);
        assert_eq!(TelephoneType::from_wire("Other"), TelephoneType::Other);
        assert_eq!(
            TelephoneType::from_wire("Satellite"),
            TelephoneType::Unrecognized("Satellite".into())
        );
        assert_eq!(TelephoneType::from_wire("Satellite").as_wire(), "Satellite");
        assert_eq!(VisaType::from_wire("SchengenVisa"), VisaType::Schengen);
        assert_eq!(VisaType::from_wire("sh").as_wire(), "SH");
        assert_eq!(LoyaltyVendorType::from_wire("a"), LoyaltyVendorType::Air);
    }

    #[test]
    fn totals_keep_non_numbers_as_sent() {
        assert_eq!(Total::from_wire("120500"), Total::Number(120500));
        assert_eq!(Total::from_wire("-3"), Total::Number(-3));
        assert_eq!(Total::from_wire("007"), Total::Text("007".into()));
        assert_eq!(Total::from_wire("1,200").to_wire(), "1,200");
        assert_eq!(Total::from_wire("n/a").as_number(), None);
    }

    #[test]
    fn enums_and_totals_serialize_as_wire_values() {
        let json =
            serde_json::to_string(&(CarType::Suv, Total::Number(5), Total::Text("x".into())))
                .unwrap();
        assert_eq!(json, r#"["SUV",5,"x"]"#);
        let back: (CarType, Total, Total) = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back,
            (CarType::Suv, Total::Number(5), Total::Text("x".into()))
        );
    }
}
