//! `ProfileResponse`: the full travel profile, section by section in the schema's order.

use super::dom::Doc;
use super::error::XmlError;
use super::mapping::xml_struct;
use super::read::Reader;
use super::write::XmlOut;
use crate::model::*;

xml_struct!(Profile {
    status => attr("Status"),
    login_id => attr("LoginId", "LoginID"),
    unique => attr("Unique"),
    action => attr("Action"),
    general => child("General"),
    emergency_contact => child("EmergencyContact"),
    telephones => list("Telephones", "Telephone"),
    addresses => list("Addresses", "Address"),
    national_ids => list("NationalIDs", "NationalID"),
    drivers_licenses => list("DriversLicenses", "DriversLicense"),
    has_no_passport => leaf("HasNoPassport"),
    passports => list("Passports", "Passport"),
    visas => list("Visas", "Visa"),
    email_addresses => list("EmailAddresses", "EmailAddress"),
    rate_preferences => child("RatePreferences"),
    discount_codes => list("DiscountCodes", "DiscountCode"),
    air => child("Air"),
    rail => child("Rail"),
    car => child("Car"),
    hotel => child("Hotel"),
    custom_fields => list("CustomFields", "CustomField"),
    roles => list("Roles", "Role"),
    sponsors => child("Sponsors"),
    tsa_info => child("TSAInfo"),
    unused_tickets => list("UnusedTickets", "UnusedTicket"),
    southwest_unused_tickets => list("SouthwestUnusedTickets", "SouthwestUnusedTicket"),
    advantage_memberships => list("AdvantageMemberships", "AdvantageMembership"),
} with_default);

xml_struct!(General {
    name_prefix => leaf("NamePrefix"),
    first_name => leaf("FirstName"),
    middle_name => leaf("MiddleName"),
    last_name => leaf("LastName"),
    name_suffix => leaf("NameSuffix"),
    preferred_name => leaf("PreferredName"),
    job_title => leaf("JobTitle"),
    cost_center => leaf("CostCenter"),
    company_employee_id => leaf("CompanyEmployeeID"),
    division => leaf("Division"),
    account_termination_date => leaf("AccountTerminationDate"),
    preferred_language => leaf("PreferredLanguage"),
    e_receipt_opt_in => leaf("EReceiptOptIn"),
    has_open_booking => leaf("HasOpenBooking"),
    country_code => leaf("CountryCode"),
    company_name => leaf("CompanyName"),
    company_id => leaf("CompanyID"),
    rule_class => leaf("RuleClass"),
    travel_config_id => leaf("TravelConfigID"),
    medical_alerts => leaf("MedicalAlerts"),
    agency_number => leaf("AgencyNumber"),
    search_id => leaf("SearchId", "SearchID"),
    gds_profile_name => leaf("GDSProfileName"),
    sabre_profile_id => leaf("SabreProfileId"),
    uuid => leaf("UUID"),
});

xml_struct!(EmergencyContact {
    name => leaf("Name"),
    relationship => leaf("Relationship"),
    phones => list("Phones", "Phone"),
    address => child("Address"),
});

xml_struct!(EmergencyPhone {
    kind => attr("Type"),
    number => text(""),
});

xml_struct!(PostalAddress {
    street => leaf("Street"),
    city => leaf("City"),
    state_province => leaf("StateProvince"),
    country_code => leaf("CountryCode"),
    postal_code => leaf("PostalCode"),
});

xml_struct!(Telephone {
    kind => attr("Type"),
    contact_opt_in => attr("ContactOptIn"),
    primary_mobile => attr("PrimaryMobile"),
    country_code => leaf("CountryCode"),
    phone_number => leaf("PhoneNumber"),
    extension => leaf("Extension"),
    mobile_device => leaf("MobileDevice"),
    mobile_name => leaf("MobileName"),
});

xml_struct!(Address {
    kind => attr("Type"),
    street => leaf("Street"),
    city => leaf("City"),
    state_province => leaf("StateProvince"),
    country_code => leaf("CountryCode"),
    postal_code => leaf("PostalCode"),
    longitude => leaf("Longitude"),
    latitude => leaf("Latitude"),
});

xml_struct!(NationalId {
    number => leaf("NationalIDNumber"),
    issuing_country => leaf("IssuingCountry"),
    expiration => leaf("Expiration"),
});

xml_struct!(DriversLicense {
    number => leaf("DriversLicenseNumber"),
    issuing_country => leaf("IssuingCountry"),
    issuing_state => leaf("IssuingState"),
    expiration => leaf("Expiration"),
});

xml_struct!(Passport {
    number => leaf("PassportNumber"),
    nationality => leaf("PassportNationality"),
    expiration => leaf("PassportExpiration"),
    date_issued => leaf("PassportDateIssued"),
    city_issued => leaf("PassportCityIssued"),
    country_issued => leaf("PassportCountryIssued"),
});

xml_struct!(Visa {
    nationality => leaf("VisaNationality"),
    number => leaf("VisaNumber"),
    kind => leaf("VisaType"),
    date_issued => leaf("VisaDateIssued"),
    expiration => leaf("VisaExpiration"),
    city_issued => leaf("VisaCityIssued"),
    country_issued => leaf("VisaCountryIssued"),
});

xml_struct!(EmailAddress {
    kind => attr("Type"),
    contact => attr("Contact"),
    address => text(""),
});

xml_struct!(RatePreferences {
    aaa_rate => leaf("AAARate"),
    aarp_rate => leaf("AARPRate"),
    govt_rate => leaf("GovtRate"),
    military_rate => leaf("MilitaryRate"),
});

xml_struct!(DiscountCode {
    vendor => attr("Vendor"),
    code => text(""),
});

xml_struct!(Membership {
    vendor_code => leaf("VendorCode"),
    account_no => leaf("AccountNo"),
    status => leaf("Status"),
    status_benefits => leaf("StatusBenefits"),
    point_total => leaf("PointTotal"),
    segment_total => leaf("SegmentTotal"),
    next_status => leaf("NextStatus"),
    points_until_next_status => leaf("PointsUntilNextStatus"),
    segments_until_next_status => leaf("SegmentsUntilNextStatus"),
    expiration => leaf("Expiration"),
    bahn_card_class => leaf("BahnCardClass"),
    bahn_card_type => leaf("BahnCardType"),
    is_senator => leaf("IsSenator"),
});

xml_struct!(AirSeat {
    inter_row_position => leaf("InterRowPositionCode"),
    section_position => leaf("SectionPositionCode"),
});

xml_struct!(Air {
    memberships => list("AirMemberships", "AirMembership"),
    seat => child("Seat"),
    meal_code => nested_leaf("MealCode", "Meals"),
    home_airport => leaf("HomeAirport"),
    air_other => leaf("AirOther"),
});

xml_struct!(Rail {
    seat => leaf("Seat"),
    coach => leaf("Coach"),
    noise_comfort => leaf("NoiseComfort"),
    bed => leaf("Bed"),
    bed_category => leaf("BedCategory"),
    berth => leaf("Berth"),
    deck => leaf("Deck"),
    space_type => leaf("SpaceType"),
    fare_space_comfort => leaf("FareSpaceComfort"),
    special_meals => leaf("SpecialMeals"),
    contingencies => leaf("Contingencies"),
    memberships => list("RailMemberships", "RailMembership"),
});

xml_struct!(Car {
    smoking => leaf("CarSmokingCode"),
    gps => leaf("CarGPS"),
    car_type => leaf("CarType"),
    memberships => list("CarMemberships", "CarMembership"),
    car_other => leaf("CarOther"),
    ski_rack => leaf("CarSkiRack"),
    transmission => leaf("CarTransmission"),
});

xml_struct!(Hotel {
    smoking => leaf("HotelSmokingCode", "SmokingCode"),
    memberships => list("HotelMemberships", "HotelMembership"),
    room_type => leaf("RoomType"),
    hotel_other => leaf("HotelOther"),
    prefer_foam_pillows => leaf("PreferFoamPillows"),
    prefer_crib => leaf("PreferCrib"),
    prefer_rollaway_bed => leaf("PreferRollawayBed"),
    prefer_gym => leaf("PreferGym"),
    prefer_pool => leaf("PreferPool"),
    prefer_restaurant => leaf("PreferRestaurant", "PreferRestaraunt"),
    prefer_wheelchair_access => leaf("PreferWheelchairAccess"),
    prefer_access_for_blind => leaf("PreferAccessForBlind"),
    prefer_room_service => leaf("PreferRoomService"),
    prefer_early_check_in => leaf("PreferEarlyCheckIn"),
});

xml_struct!(CustomField {
    name => attr_or_leaf("Name"),
    value => text_or_leaf("Value"),
});

xml_struct!(Role {
    kind => attr("Type"),
    primary => attr("PrimaryIndicatorFlag"),
    first_name => leaf("FirstName"),
    last_name => leaf("LastName"),
    email_address => leaf("EmailAddress"),
    login_id => leaf("LoginId", "LoginID"),
});

xml_struct!(Sponsors {
    non_employee_user_type => leaf("NonEmployeeUserType"),
    sponsor_name => leaf("SponsorName"),
    sponsorship_start_date => leaf("SponsorshipStartDate"),
    sponsorship_end_date => leaf("SponsorshipEndDate"),
    login_id => leaf("LoginID", "LoginId"),
});

xml_struct!(TsaInfo {
    gender => leaf("Gender"),
    date_of_birth => leaf("DateOfBirth"),
    no_middle_name => leaf("NoMiddleName"),
    pre_check_number => leaf("PreCheckNumber"),
    redress_number => leaf("RedressNumber"),
});

xml_struct!(UnusedTicket {
    carrier => leaf("Carrier"),
    ticket_number => leaf("TicketNumber"),
    record_locator => leaf("RecordLocator"),
    base_fare => leaf("BaseFare"),
    taxes => leaf("Taxes"),
    fees => leaf("Fees"),
    currency => leaf("Currency"),
    ticket_type => leaf("TicketType"),
    issue_date => leaf("IssueDate"),
    expiration_date => leaf("ExpirationDate"),
    notes => leaf("Notes"),
});

xml_struct!(SouthwestUnusedTicket {
    record_locator => leaf("RecordLocator"),
    ticket_amount => leaf("TicketAmount"),
    currency => leaf("Currency"),
    expiration_date => leaf("ExpirationDate"),
});

xml_struct!(AdvantageMembership {
    vendor_code => leaf("VendorCode"),
    vendor_type => leaf("VendorType"),
    program_number => leaf("ProgramNumber"),
    origin_code => leaf("OriginCode"),
    destination_code => leaf("DestinationCode"),
    program_code => leaf("ProgramCode"),
    expiration_date => leaf("ExpirationDate"),
    option_code => leaf("OptionCode"),
    program_name => leaf("ProgramName"),
});

/// The attributes real responses carry on the root element.
const ROOT_NAMESPACES: &str = " xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" \
     xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"";

/// Parses a `ProfileResponse` document (the body of `GET …/v2.0/profile`).
///
/// Tolerant of what the real API sends (see the module docs of [`crate::xml`]); content the
/// model does not know is kept in [`Profile::unknown`].
pub fn parse_profile(input: &[u8]) -> Result<Profile, XmlError> {
    let doc = Doc::parse(input)?;
    super::expect_root(&doc, "ProfileResponse")?;
    let mut reader = Reader::new(&doc, true);
    let mut profile: Profile = reader.read_root();
    profile.unknown = reader.unknown;
    Ok(profile)
}

/// Writes a profile as a `ProfileResponse` document in the schema's element order, with
/// its unknown content back in place.
pub fn write_profile(profile: &Profile) -> String {
    XmlOut::new(&profile.unknown, 8 * 1024).document("ProfileResponse", ROOT_NAMESPACES, profile)
}

/// [`write_profile`], indented the way the real API sends documents.
pub fn write_profile_pretty(profile: &Profile) -> String {
    XmlOut::new(&profile.unknown, 12 * 1024).pretty().document(
        "ProfileResponse",
        ROOT_NAMESPACES,
        profile,
    )
}
