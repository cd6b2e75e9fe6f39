//! Change notifications: v1 subscriptions (`subscribe` / `unsubscribe`), v1 postbacks that
//! the app's backend hands over (query string and body as SAP Concur posted them), and v4
//! Event Subscription Service events of the travel profile topic (JSON).
//!
//! Every handler is idempotent, since deliveries repeat (v4 is at least once): refreshing a
//! profile again, marking it stale again, recording an itinerary event already recorded,
//! or removing a profile already gone changes nothing. Input that cannot be understood is
//! [`Error::InvalidInput`] and changes nothing.
//!
//! User-level postbacks carry only `type` and `oauth_token_key`: the backend, which knows
//! whose key it is, must add `userid_type=login&userid_value=…` before handing a profile
//! or fop postback over (company postbacks carry them already).

use crate::model::Timestamp;
use crate::store::ItineraryEvent;
use crate::{Error, Result};
use serde::Deserialize;

/// Who a subscription is for.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SubscriptionScope {
    /// Every user of the company (a company token).
    Company,
    /// One user (that user's token): `login` is passed to the token provider as the
    /// traveler the request acts for (`None`: the token's own user).
    User {
        /// The traveler, when the app acts for one.
        login: Option<String>,
    },
}

/// What a subscription is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, uniffi::Enum)]
pub enum NotificationKind {
    /// Profile changes.
    Profile,
    /// Itinerary changes.
    Itinerary,
    /// Form-of-payment changes.
    Fop,
}

impl NotificationKind {
    /// The `type` parameter value.
    pub fn as_wire(self) -> &'static str {
        match self {
            NotificationKind::Profile => "profile",
            NotificationKind::Itinerary => "itinerary",
            NotificationKind::Fop => "fop",
        }
    }

    /// Parses a `type` value (any case: SAP Concur sends `FOP`).
    pub fn parse(s: &str) -> Option<NotificationKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "profile" => Some(NotificationKind::Profile),
            "itinerary" => Some(NotificationKind::Itinerary),
            "fop" => Some(NotificationKind::Fop),
            _ => None,
        }
    }
}

/// The path of a subscribe (or unsubscribe) request.
pub fn subscription_path(scope: &SubscriptionScope, subscribe: bool) -> &'static str {
    match (scope, subscribe) {
        (SubscriptionScope::Company, true) => "/api/company/v1.0/subscribe",
        (SubscriptionScope::Company, false) => "/api/company/v1.0/unsubscribe",
        (SubscriptionScope::User { .. }, true) => "/api/travelprofile/v1.0/subscribe",
        (SubscriptionScope::User { .. }, false) => "/api/travelprofile/v1.0/unsubscribe",
    }
}

/// What handling a notification did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, uniffi::Enum)]
pub enum NotificationOutcome {
    /// The traveler's profile was fetched and stored.
    Refreshed {
        /// The traveler.
        login: String,
    },
    /// The profile was marked stale: the next sync fetches it (the server could not be
    /// reached now, or the notification asks for no more).
    MarkedStale {
        /// The traveler.
        login: String,
    },
    /// An itinerary event was recorded (`new`: false when it had been recorded before;
    /// the listener is told only about new ones).
    Itinerary {
        /// The event.
        event: ItineraryEvent,
        /// Whether it was new.
        new: bool,
    },
    /// The profile was removed from the cache (`existed`: false when it was not there).
    Removed {
        /// The traveler.
        login: String,
        /// Whether the cache had it.
        existed: bool,
    },
}

/// Receives notifications the app may want to show. Keep it quick.
pub trait NotificationListener: Send + Sync {
    /// A new itinerary event was recorded.
    fn on_itinerary(&self, event: ItineraryEvent);
}

/// A parsed postback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Postback {
    pub kind: NotificationKind,
    pub login: Option<String>,
}

fn invalid(field: &str, reason: &str) -> Error {
    Error::InvalidInput {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Decodes one `application/x-www-form-urlencoded` component.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Parses a postback's query string (with or without the leading `?`).
pub(crate) fn parse_postback(query: &str) -> Result<Postback> {
    let mut kind = None;
    let (mut id_type, mut id_value) = (None, None);
    for pair in query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent_decode(k).ok_or_else(|| invalid("query", "is not URL-encoded"))?;
        let v = percent_decode(v).ok_or_else(|| invalid("query", "is not URL-encoded"))?;
        match k.to_ascii_lowercase().as_str() {
            "type" => kind = Some(v),
            "userid_type" => id_type = Some(v),
            "userid_value" => id_value = Some(v),
            _ => {}
        }
    }
    let kind = kind.ok_or_else(|| invalid("type", "is required"))?;
    let kind = NotificationKind::parse(&kind)
        .ok_or_else(|| invalid("type", "must be profile, itinerary or fop"))?;
    let login = match (id_type.as_deref().map(str::trim), id_value) {
        (None, None) => None,
        (Some(t), Some(v)) if t.eq_ignore_ascii_case("login") && !v.trim().is_empty() => {
            Some(v.trim().to_owned())
        }
        (Some(t), Some(_)) if !t.eq_ignore_ascii_case("login") => {
            return Err(invalid("userid_type", "must be login"));
        }
        _ => return Err(invalid("userid_value", "is required with userid_type")),
    };
    Ok(Postback { kind, login })
}

/// The v4 travel profile topic.
pub const PROFILE_TOPIC: &str = "public.concur.user.travel.profile";

/// What a v4 event says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProfileEvent {
    /// Created or updated: fetch it.
    Changed {
        login: Option<String>,
        user_id: Option<String>,
    },
    /// Deleted: remove it.
    Deleted {
        login: Option<String>,
        user_id: Option<String>,
    },
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Envelope {
    topic: Option<String>,
    event_type: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    data: Option<Data>,
    facts: Option<Data>,
    #[serde(flatten)]
    top: Data,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
struct Data {
    #[serde(alias = "loginID", alias = "login_id", alias = "LoginId")]
    login_id: Option<String>,
    #[serde(alias = "userID", alias = "user_id", alias = "uuid")]
    user_id: Option<String>,
}

/// Parses a v4 event (`topic`, `eventType`, and `loginId` / `userId` in `data`, `facts`
/// or at the top level).
pub(crate) fn parse_event(json: &str) -> Result<ProfileEvent> {
    let e: Envelope =
        serde_json::from_str(json).map_err(|_| invalid("event", "is not a JSON event"))?;
    let topic = e.topic.ok_or_else(|| invalid("topic", "is required"))?;
    if !topic.trim().eq_ignore_ascii_case(PROFILE_TOPIC) {
        return Err(invalid("topic", "is not the travel profile topic"));
    }
    let kind = e
        .event_type
        .or(e.kind)
        .ok_or_else(|| invalid("eventType", "is required"))?;
    let pick = |f: fn(&Data) -> Option<String>| {
        [e.data.as_ref(), e.facts.as_ref(), Some(&e.top)]
            .into_iter()
            .flatten()
            .find_map(|d| f(d).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()))
    };
    let login = pick(|d| d.login_id.clone());
    let user_id = pick(|d| d.user_id.clone());
    if login.is_none() && user_id.is_none() {
        return Err(invalid("loginId", "is required (or userId)"));
    }
    match kind.trim() {
        k if k.eq_ignore_ascii_case("TravelProfileCreated")
            || k.eq_ignore_ascii_case("TravelProfileUpdated") =>
        {
            Ok(ProfileEvent::Changed { login, user_id })
        }
        k if k.eq_ignore_ascii_case("TravelProfileDeleted") => {
            Ok(ProfileEvent::Deleted { login, user_id })
        }
        _ => Err(invalid(
            "eventType",
            "must be TravelProfileCreated, TravelProfileUpdated or TravelProfileDeleted",
        )),
    }
}

/// Parses an itinerary postback's body into the event to record.
pub(crate) fn parse_itinerary(
    body: &[u8],
    login: Option<&str>,
    now: Timestamp,
) -> Result<ItineraryEvent> {
    let n = crate::xml::parse_notification(body)
        .map_err(|_| invalid("body", "is not an itinerary Notification"))?;
    ItineraryEvent::from_notification(&n, login, now)
        .ok_or_else(|| invalid("body", "names no trip (TripId or ObjectURI)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postback_queries_parse_with_any_case_and_encoding() {
        let p = parse_postback(
            "?type=FOP&oauth_token_key=k&userid_type=login&userid_value=ana%40example.org",
        )
        .unwrap();
        assert_eq!(p.kind, NotificationKind::Fop);
        assert_eq!(p.login.as_deref(), Some("ana@example.org"));
        let p = parse_postback("type=itinerary&oauth_token_key=k").unwrap();
        assert_eq!((p.kind, p.login), (NotificationKind::Itinerary, None));
        for (bad, field) in [
            ("", "type"),
            ("type=expense", "type"),
            ("type=profile&userid_type=login", "userid_value"),
            (
                "type=profile&userid_type=uuid&userid_value=x",
                "userid_type",
            ),
            ("type=profile&userid_value=%zz", "query"),
        ] {
            match parse_postback(bad) {
                Err(Error::InvalidInput { field: f, .. }) => assert_eq!(f, field, "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn v4_events_parse_from_data_facts_or_top_level() {
        let e = parse_event(
            r#"{"topic":"public.concur.user.travel.profile","eventType":"TravelProfileDeleted",
                "data":{"loginId":"ana@example.org","userId":"u-1","companyId":"c"}}"#,
        )
        .unwrap();
        assert_eq!(
            e,
            ProfileEvent::Deleted {
                login: Some("ana@example.org".into()),
                user_id: Some("u-1".into())
            }
        );
        let e = parse_event(
            r#"{"topic":"public.concur.user.travel.profile","eventType":"TravelProfileUpdated",
                "loginId":"b@example.org","attributes":["General.FirstName"]}"#,
        )
        .unwrap();
        assert!(matches!(e, ProfileEvent::Changed { login: Some(l), .. } if l == "b@example.org"));
        for (bad, field) in [
            ("{", "event"),
            (
                r#"{"eventType":"TravelProfileUpdated","loginId":"a"}"#,
                "topic",
            ),
            (
                r#"{"topic":"public.concur.expense","eventType":"x","loginId":"a"}"#,
                "topic",
            ),
            (
                r#"{"topic":"public.concur.user.travel.profile","loginId":"a"}"#,
                "eventType",
            ),
            (
                r#"{"topic":"public.concur.user.travel.profile","eventType":"Other","loginId":"a"}"#,
                "eventType",
            ),
            (
                r#"{"topic":"public.concur.user.travel.profile","eventType":"TravelProfileUpdated"}"#,
                "loginId",
            ),
        ] {
            match parse_event(bad) {
                Err(Error::InvalidInput { field: f, .. }) => assert_eq!(f, field, "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
