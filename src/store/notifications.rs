//! What change notifications leave in the store: itinerary events (recorded once each)
//! and profiles marked stale so the next sync fetches them.

use super::{Store, from_ms, to_ms};
use crate::Result;
use crate::model::{Notification, Timestamp};
use rusqlite::params;

/// An itinerary notification as recorded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, uniffi::Record)]
pub struct ItineraryEvent {
    /// The traveler, when the notification named one (company subscriptions do).
    pub login: Option<String>,
    /// `TripId`.
    pub trip_id: String,
    /// `EventType` as sent (`CREATE`, `UPDATE`, `CANCEL`).
    pub event_type: String,
    /// `EventDateTime`.
    pub event_time: Option<Timestamp>,
    /// `ObjectURI`: where the trip can be read.
    pub object_uri: Option<String>,
    /// When the cache received it.
    pub received_at: Timestamp,
}

impl ItineraryEvent {
    /// The event a notification describes; `None` without a trip id.
    pub fn from_notification(
        n: &Notification,
        login: Option<&str>,
        received_at: Timestamp,
    ) -> Option<ItineraryEvent> {
        let trip_id = n.trip_id.clone().or_else(|| {
            n.object_uri
                .as_deref()
                .and_then(|u| u.rsplit('/').next())
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        })?;
        Some(ItineraryEvent {
            login: login.map(str::to_owned),
            trip_id,
            event_type: n
                .event_type
                .as_ref()
                .map_or_else(|| "UNKNOWN".to_owned(), |t| t.as_wire().to_owned()),
            event_time: n.event_date_time,
            object_uri: n.object_uri.clone(),
            // As stored: whole milliseconds.
            received_at: from_ms(to_ms(&received_at)).unwrap_or(received_at),
        })
    }
}

impl Store {
    /// Records an itinerary event; returns `false` when it was recorded before (same
    /// trip, event type, time and traveler), which changes nothing.
    pub fn record_itinerary_event(&self, e: &ItineraryEvent) -> Result<bool> {
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO itinerary_events
                         (login, trip_id, event_type, event_time, object_uri, received_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    e.login.as_deref().unwrap_or(""),
                    e.trip_id,
                    e.event_type,
                    e.event_time.as_ref().map_or(0, to_ms),
                    e.object_uri,
                    to_ms(&e.received_at),
                ])?;
            Ok(n > 0)
        })
    }

    /// The latest `limit` itinerary events, newest first.
    pub fn itinerary_events(&self, limit: u32) -> Result<Vec<ItineraryEvent>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT login, trip_id, event_type, event_time, object_uri, received_at
                 FROM itinerary_events ORDER BY id DESC LIMIT ?1",
            )?;
            let mut rows = stmt.query([limit])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let login: String = r.get(0)?;
                let time: i64 = r.get(3)?;
                out.push(ItineraryEvent {
                    login: (!login.is_empty()).then_some(login),
                    trip_id: r.get(1)?,
                    event_type: r.get(2)?,
                    event_time: (time != 0).then(|| from_ms(time)).transpose()?,
                    object_uri: r.get(4)?,
                    received_at: from_ms(r.get(5)?)?,
                });
            }
            Ok(out)
        })
    }

    /// Marks `login`'s profile stale, so the next sync fetches it (a summary row is
    /// added for a login the cache has not seen). Returns whether it was not stale yet.
    pub fn mark_stale(&self, login: &str, now: Timestamp) -> Result<bool> {
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "INSERT INTO summaries (login, seen_at, stale) VALUES (?1, ?2, 1)
                     ON CONFLICT (login) DO UPDATE SET stale = 1 WHERE stale = 0",
                )?
                .execute(params![login, to_ms(&now)])?;
            Ok(n > 0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NotificationEventType;

    #[test]
    fn itinerary_events_are_recorded_once_and_stale_marks_are_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("cache.db")).unwrap();
        let now = chrono::Utc::now();
        let n = Notification {
            object_uri: Some("https://x.example/api/travel/trip/v1.1/Kq3xT9".into()),
            event_type: Some(NotificationEventType::Cancel),
            event_date_time: chrono::DateTime::from_timestamp(1_800_000_000, 0),
            ..Default::default()
        };
        let e = ItineraryEvent::from_notification(&n, Some("ana@example.org"), now).unwrap();
        assert_eq!(e.trip_id, "Kq3xT9", "from the URI when TripId is missing");
        assert!(store.record_itinerary_event(&e).unwrap());
        assert!(!store.record_itinerary_event(&e).unwrap());
        assert_eq!(store.itinerary_events(10).unwrap(), vec![e]);
        assert!(ItineraryEvent::from_notification(&Notification::default(), None, now).is_none());

        assert!(store.mark_stale("ana@example.org", now).unwrap());
        assert!(!store.mark_stale("ANA@example.org", now).unwrap());
        assert_eq!(store.stale_logins(10).unwrap(), vec!["ana@example.org"]);
    }
}
