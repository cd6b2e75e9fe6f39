//! How model types map to elements: the [`Leaf`] values (text of an element or an
//! attribute), the [`FromXml`]/[`ToXml`] element traits, and the `xml_struct!` macro that
//! declares a struct's mapping once, in the schema's element order, for both directions.

use super::read::Reader;
use super::write::XmlOut;
use crate::model::*;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use std::borrow::Cow;

/// A value held in an element's text or an attribute.
pub(crate) trait Leaf: Sized {
    /// Parses the (trimmed, non-empty) text; `None` when it is not a valid value, in which
    /// case the element is kept as unknown instead, so nothing is lost.
    fn parse(text: &str) -> Option<Self>;
    /// The text to write.
    fn render(&self) -> Cow<'_, str>;
}

impl Leaf for String {
    fn parse(text: &str) -> Option<Self> {
        Some(text.to_owned())
    }
    fn render(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

impl Leaf for bool {
    fn parse(text: &str) -> Option<Self> {
        if text.eq_ignore_ascii_case("true") || text == "1" {
            Some(true)
        } else if text.eq_ignore_ascii_case("false") || text == "0" {
            Some(false)
        } else {
            None
        }
    }
    fn render(&self) -> Cow<'_, str> {
        Cow::Borrowed(if *self { "true" } else { "false" })
    }
}

impl Leaf for u32 {
    fn parse(text: &str) -> Option<Self> {
        text.parse().ok()
    }
    fn render(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_string())
    }
}

impl Leaf for Total {
    fn parse(text: &str) -> Option<Self> {
        Some(Total::from_wire(text))
    }
    fn render(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_wire())
    }
}

/// Parses the server's `YYYY-MM-DDThh:mm:ss` (optionally with fractional seconds and a
/// trailing `Z`), which is UTC.
pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    let text = text.strip_suffix(['Z', 'z']).unwrap_or(text);
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

/// Formats a timestamp the way the server does (UTC, no zone).
pub fn format_timestamp(t: &Timestamp) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.f").to_string()
}

impl Leaf for Timestamp {
    fn parse(text: &str) -> Option<Self> {
        parse_timestamp(text)
    }
    fn render(&self) -> Cow<'_, str> {
        Cow::Owned(format_timestamp(self))
    }
}

impl Leaf for CalendarDate {
    /// `YYYY-MM-DD`; a date-time at midnight is accepted as its date. Any other time of day
    /// is not a date: the element is kept as unknown rather than losing the time.
    fn parse(text: &str) -> Option<Self> {
        if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            return Some(d);
        }
        let t = parse_timestamp(text)?;
        (t.time() == NaiveTime::MIN).then(|| t.date_naive())
    }
    fn render(&self) -> Cow<'_, str> {
        Cow::Owned(self.format("%Y-%m-%d").to_string())
    }
}

macro_rules! leaf_enums {
    ($($ty:ty),* $(,)?) => {$(
        impl Leaf for $ty {
            fn parse(text: &str) -> Option<Self> {
                Some(<$ty>::from_wire(text))
            }
            fn render(&self) -> Cow<'_, str> {
                Cow::Borrowed(self.as_wire())
            }
        }
    )*};
}

leaf_enums!(
    ProfileStatus,
    TelephoneType,
    AddressType,
    EmergencyPhoneType,
    EmailType,
    VisaType,
    InterRowPosition,
    SectionPosition,
    SmokingPreference,
    CarType,
    CarTransmission,
    RoomType,
    Gender,
    RoleType,
    AdvantageVendorType,
    LoyaltyVendorType,
    LoyaltyStatus,
    NotificationEventType,
);

/// A model type read from one element (its attributes and children).
pub(crate) trait FromXml: Sized + Default + PartialEq {
    /// Reads the element `node`. Lookups mark what they use; the caller collects the rest.
    fn read(r: &mut Reader<'_, '_>, node: u32) -> Self;
}

/// A model type written as one element's attributes and children (the caller writes the
/// start and end tags).
pub(crate) trait ToXml {
    /// Writes attributes first, then children in schema order.
    fn write(&self, w: &mut XmlOut<'_>);
}

/// Declares how a struct maps to XML, field by field, in the schema's order (attributes
/// first). Each line is `field => kind("Name", …)` where `kind` is a method that exists on
/// both [`Reader`] and [`XmlOut`]:
///
/// * `leaf("Name", "Alias"…)`: a child element's text (first name canonical);
/// * `attr("Name")`: an attribute;
/// * `text("")`: the element's own text;
/// * `child("Name")`: a nested element mapped by its own `xml_struct!`;
/// * `list("Wrapper", "Item")`: a wrapper element holding repeated items;
/// * `attr_or_leaf("Name")` / `text_or_leaf("Name")`: v2 attribute/text, or v1 child;
/// * `nested_leaf("Name", "Wrapper")`: a child's text, also found inside `Wrapper`.
///
/// The struct literal lists every field, so the compiler rejects a field left unmapped.
macro_rules! xml_struct {
    (@impl $ty:ident { $( $field:ident => $kind:ident ( $($name:literal),+ ) ),* $(,)? } $($rest:tt)*) => {
        impl $crate::xml::mapping::FromXml for $ty {
            fn read(r: &mut $crate::xml::read::Reader<'_, '_>, node: u32) -> Self {
                $ty { $( $field: r.$kind(node, &[$($name),+]), )* $($rest)* }
            }
        }
        impl $crate::xml::mapping::ToXml for $ty {
            fn write(&self, w: &mut $crate::xml::write::XmlOut<'_>) {
                $( w.$kind(&[$($name),+], &self.$field); )*
            }
        }
    };
    ($ty:ident { $($body:tt)* } with_default) => {
        xml_struct!(@impl $ty { $($body)* } ..Default::default());
    };
    ($ty:ident { $($body:tt)* }) => {
        xml_struct!(@impl $ty { $($body)* });
    };
}
pub(crate) use xml_struct;
