//! The smaller documents: the summary feed page (`ConnectResponse`), loyalty updates and
//! responses, itinerary notifications, write results and the generic `Error` body.

use super::dom::Doc;
use super::error::{XmlError, XmlErrorKind};
use super::mapping::{FromXml, ToXml, xml_struct};
use super::read::Reader;
use super::write::XmlOut;
use crate::model::*;

#[derive(Default, PartialEq)]
struct ConnectResponse {
    metadata: Option<Metadata>,
    data: Vec<ProfileSummary>,
}

#[derive(Default, PartialEq)]
struct Metadata {
    paging: Option<Paging>,
}

xml_struct!(ConnectResponse {
    metadata => child("Metadata"),
    data => list("Data", "ProfileSummary"),
});

xml_struct!(Metadata {
    paging => child("Paging"),
});

xml_struct!(Paging {
    total_pages => leaf("TotalPages"),
    total_items => leaf("TotalItems"),
    page => leaf("Page"),
    items_per_page => leaf("ItemsPerPage"),
    previous_page_url => leaf("PreviousPageURL", "PreviousPageUrl"),
    next_page_url => leaf("NextPageURL", "NextPageUrl"),
});

xml_struct!(ProfileSummary {
    status => leaf("Status"),
    login_id => leaf("LoginID", "LoginId"),
    xml_profile_sync_id => leaf("XmlProfileSyncID", "XMLProfileSyncID"),
    last_modified => leaf("ProfileLastModifiedUTC"),
});

#[derive(Default, PartialEq)]
struct UpdateDoc {
    memberships: Vec<LoyaltyMembership>,
}

xml_struct!(UpdateDoc {
    memberships => many("Membership"),
});

xml_struct!(LoyaltyMembership {
    unique_id => attr("UniqueID", "UniqueId"),
    vendor_code => leaf("VendorCode"),
    vendor_type => leaf("VendorType"),
    account_no => leaf("AccountNo"),
    status => leaf("Status"),
    status_benefits => leaf("StatusBenefits"),
    point_total => leaf("PointTotal"),
    segment_total => leaf("SegmentTotal"),
    next_status => leaf("NextStatus"),
    points_until_next_status => leaf("PointsUntilNextStatus"),
    segments_until_next_status => leaf("SegmentsUntilNextStatus"),
});

#[derive(Default, PartialEq)]
struct LoyaltyResponseDoc {
    status: Option<LoyaltyStatus>,
    error_description: Option<String>,
}

xml_struct!(LoyaltyResponseDoc {
    status => leaf("Status"),
    error_description => leaf("ErrorDescription"),
});

xml_struct!(Notification {
    object_type => leaf("ObjectType"),
    object_uri => leaf("ObjectURI", "ObjectUri"),
    event_date_time => leaf("EventDateTime"),
    event_type => leaf("EventType"),
    context => leaf("Context"),
    trip_id => leaf("TripId", "TripID"),
});

xml_struct!(ResponseMessage {
    code => leaf("Code"),
    message => leaf("Message"),
    field => leaf("Field"),
});

impl FromXml for ErrorBody {
    fn read(r: &mut Reader<'_, '_>, node: u32) -> Self {
        let message = r.leaf(node, &["Message"]);
        let server_time = r.leaf(node, &["Server-Time", "ServerTime"]);
        let id = r.leaf(node, &["Id", "ID"]);
        let mut messages: Vec<ResponseMessage> = r.many(node, &["TravelProfileResponseMessage"]);
        // Some servers nest the messages inside `Message` elements.
        while let Some(m) = r.child::<Wrapped>(node, &["Message"]) {
            messages.extend(m.0);
        }
        ErrorBody {
            message,
            server_time,
            id,
            messages,
        }
    }
}

impl ToXml for ErrorBody {
    fn write(&self, w: &mut XmlOut<'_>) {
        w.leaf(&["Message"], &self.message);
        w.leaf(&["Server-Time"], &self.server_time);
        w.leaf(&["Id"], &self.id);
        w.many(&["TravelProfileResponseMessage"], &self.messages);
    }
}

/// A `Message` element that holds response messages rather than text.
#[derive(Default, PartialEq)]
struct Wrapped(Vec<ResponseMessage>);

impl FromXml for Wrapped {
    fn read(r: &mut Reader<'_, '_>, node: u32) -> Self {
        Wrapped(r.many(node, &["TravelProfileResponseMessage"]))
    }
}

fn parse_as<T: FromXml>(input: &[u8], root: &'static str) -> Result<T, XmlError> {
    let doc = Doc::parse(input)?;
    super::expect_root(&doc, root)?;
    Ok(Reader::new(&doc, false).read_root())
}

/// Parses one page of the summary feed (`ConnectResponse`).
pub fn parse_summary_page(input: &[u8]) -> Result<SummaryPage, XmlError> {
    let doc: ConnectResponse = parse_as(input, "ConnectResponse")?;
    Ok(SummaryPage {
        paging: doc.metadata.and_then(|m| m.paging),
        summaries: doc.data,
    })
}

/// Writes a summary feed page (`ConnectResponse`) in the documented order.
pub fn write_summary_page(page: &SummaryPage) -> String {
    let doc = ConnectResponse {
        metadata: Some(Metadata {
            paging: page.paging.clone(),
        }),
        data: page.summaries.clone(),
    };
    XmlOut::new(&[], 128 + page.summaries.len() * 220).document("ConnectResponse", "", &doc)
}

/// Parses a `LoyaltyMembershipUpdate` request body.
pub fn parse_loyalty_update(input: &[u8]) -> Result<LoyaltyUpdate, XmlError> {
    let doc: UpdateDoc = parse_as(input, "LoyaltyMembershipUpdate")?;
    Ok(LoyaltyUpdate {
        memberships: doc.memberships,
    })
}

/// Writes a `LoyaltyMembershipUpdate` exactly as documented.
pub fn write_loyalty_update(update: &LoyaltyUpdate) -> String {
    let doc = UpdateDoc {
        memberships: update.memberships.clone(),
    };
    XmlOut::new(&[], 512).document("LoyaltyMembershipUpdate", "", &doc)
}

/// Parses a `LoyaltyMembershipResponse`. A response without `Status` is an error.
pub fn parse_loyalty_response(input: &[u8]) -> Result<LoyaltyResponse, XmlError> {
    let doc: LoyaltyResponseDoc = parse_as(input, "LoyaltyMembershipResponse")?;
    let status = doc
        .status
        .ok_or(XmlError::at_start(XmlErrorKind::MissingElement {
            name: "Status",
        }))?;
    Ok(LoyaltyResponse {
        status,
        error_description: doc.error_description,
    })
}

/// Writes a `LoyaltyMembershipResponse`.
pub fn write_loyalty_response(response: &LoyaltyResponse) -> String {
    let doc = LoyaltyResponseDoc {
        status: Some(response.status.clone()),
        error_description: response.error_description.clone(),
    };
    XmlOut::new(&[], 128).document("LoyaltyMembershipResponse", "", &doc)
}

/// Parses an itinerary `Notification`.
pub fn parse_notification(input: &[u8]) -> Result<Notification, XmlError> {
    parse_as(input, "Notification")
}

/// Writes an itinerary `Notification`.
pub fn write_notification(n: &Notification) -> String {
    XmlOut::new(&[], 384).document("Notification", "", n)
}

/// Parses the generic `Error` body.
pub fn parse_error(input: &[u8]) -> Result<ErrorBody, XmlError> {
    parse_as(input, "Error")
}

/// Writes the generic `Error` body.
pub fn write_error(e: &ErrorBody) -> String {
    XmlOut::new(&[], 256).document("Error", "", e)
}

/// Parses the result of a profile write: one `TravelProfileResponseMessage`, or several
/// wrapped in an `Error`.
pub fn parse_response_messages(input: &[u8]) -> Result<Vec<ResponseMessage>, XmlError> {
    let doc = Doc::parse(input)?;
    let root = doc.node(doc.root()).name;
    if root.eq_ignore_ascii_case("Error") {
        let body: ErrorBody = Reader::new(&doc, false).read_root();
        Ok(body.messages)
    } else {
        super::expect_root(&doc, "TravelProfileResponseMessage")?;
        Ok(vec![Reader::new(&doc, false).read_root()])
    }
}

/// Writes one `TravelProfileResponseMessage`.
pub fn write_response_message(m: &ResponseMessage) -> String {
    XmlOut::new(&[], 256).document("TravelProfileResponseMessage", "", m)
}
