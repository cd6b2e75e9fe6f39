//! The other documents the API exchanges: the summary feed page, loyalty updates and
//! their response, itinerary notifications, write results and the generic error body.

use super::values::*;
use serde::{Deserialize, Serialize};

/// One entry of the change feed (`ConnectResponse/Data/ProfileSummary`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct ProfileSummary {
    /// `Status`.
    pub status: Option<ProfileStatus>,
    /// `LoginID`.
    pub login_id: Option<String>,
    /// `XmlProfileSyncID` (also spelled `XMLProfileSyncID`).
    pub xml_profile_sync_id: Option<String>,
    /// `ProfileLastModifiedUTC`.
    pub last_modified: Option<Timestamp>,
}

/// `ConnectResponse/Metadata/Paging`. The wire carries the numbers as strings; a value
/// that is not a number is `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Paging {
    /// `TotalPages`.
    pub total_pages: Option<u32>,
    /// `TotalItems`.
    pub total_items: Option<u32>,
    /// `Page` (1-based).
    pub page: Option<u32>,
    /// `ItemsPerPage`.
    pub items_per_page: Option<u32>,
    /// `PreviousPageURL` (absolute; `None` on the first page).
    pub previous_page_url: Option<String>,
    /// `NextPageURL` (absolute; `None` on the last page).
    pub next_page_url: Option<String>,
}

/// One page of the summary feed (`ConnectResponse`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct SummaryPage {
    /// The paging metadata, when the server sent it.
    pub paging: Option<Paging>,
    /// The summaries on this page, in the server's order.
    pub summaries: Vec<ProfileSummary>,
}

/// One membership in a `LoyaltyMembershipUpdate` (Loyalty Program v1).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct LoyaltyMembership {
    /// `@UniqueID`: the program's name (e.g. `Frequent Flyer`).
    pub unique_id: Option<String>,
    /// `VendorCode` (TMC: required; supplier: ignored).
    pub vendor_code: Option<String>,
    /// `VendorType`: air, car or hotel (TMC: required).
    pub vendor_type: Option<LoyaltyVendorType>,
    /// `AccountNo`.
    pub account_no: Option<String>,
    /// `Status`.
    pub status: Option<String>,
    /// `StatusBenefits`.
    pub status_benefits: Option<String>,
    /// `PointTotal`.
    pub point_total: Option<Total>,
    /// `SegmentTotal`.
    pub segment_total: Option<Total>,
    /// `NextStatus`.
    pub next_status: Option<String>,
    /// `PointsUntilNextStatus`.
    pub points_until_next_status: Option<Total>,
    /// `SegmentsUntilNextStatus`.
    pub segments_until_next_status: Option<Total>,
}

/// A `LoyaltyMembershipUpdate` request body: one or more memberships. It sets state (it is
/// not a delta), so sending the same update twice is harmless.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct LoyaltyUpdate {
    /// The memberships to set.
    pub memberships: Vec<LoyaltyMembership>,
}

/// A `LoyaltyMembershipResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, uniffi::Record)]
pub struct LoyaltyResponse {
    /// `Status`: `OK` or `ERROR` (a rejection: retrying will not help).
    pub status: LoyaltyStatus,
    /// `ErrorDescription`, for `ERROR`.
    pub error_description: Option<String>,
}

/// An itinerary change notification (`Notification`), as posted to a postback URL.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Notification {
    /// `ObjectType` (e.g. `ITINERARY`).
    pub object_type: Option<String>,
    /// `ObjectURI`.
    pub object_uri: Option<String>,
    /// `EventDateTime`.
    pub event_date_time: Option<Timestamp>,
    /// `EventType`: create, update, cancel.
    pub event_type: Option<NotificationEventType>,
    /// `Context`.
    pub context: Option<String>,
    /// `TripId`.
    pub trip_id: Option<String>,
}

/// A `TravelProfileResponseMessage`: the result of a profile write.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct ResponseMessage {
    /// `Code`: `S001` success, `E…` error, `W…` warning.
    pub code: Option<String>,
    /// `Message`.
    pub message: Option<String>,
    /// `Field`: the path of the field concerned, e.g. `General/CountryCode`.
    pub field: Option<String>,
}

impl ResponseMessage {
    /// Whether the code says success (`S…`).
    pub fn is_success(&self) -> bool {
        self.code
            .as_deref()
            .is_some_and(|c| c.starts_with(['S', 's']))
    }
}

/// The generic `Error` body (bad XML, unknown user, bad token …).
///
/// Its message may name a user (`Invalid User:…`): do not log it or put it in errors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct ErrorBody {
    /// `Message`.
    pub message: Option<String>,
    /// `Server-Time`, as sent.
    pub server_time: Option<String>,
    /// `Id`: the server's error id, useful in support requests.
    pub id: Option<String>,
    /// Any `TravelProfileResponseMessage` wrapped in the error.
    pub messages: Vec<ResponseMessage>,
}
