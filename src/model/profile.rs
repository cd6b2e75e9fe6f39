//! The travel profile (`ProfileResponse`) and its personal sections: names, contact
//! data, identity documents, and the company-side sections (roles, sponsors, custom fields).
//! The travel-preference sections live in [`super::travel`].

use super::travel::{
    AdvantageMembership, Air, Car, Hotel, Rail, SouthwestUnusedTicket, UnusedTicket,
};
use super::unknown::UnknownNode;
use super::values::*;
use serde::{Deserialize, Serialize};

/// One traveler's full profile, as `GET /api/travelprofile/v2.0/profile` returns it.
///
/// Every value is optional: the sections present depend on the token's scopes, and an
/// empty element means "no value". Elements and attributes this version does not model are
/// kept in [`Profile::unknown`] and written back in place.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Profile {
    /// `@Status`: active or inactive.
    pub status: Option<ProfileStatus>,
    /// `@LoginId`: the traveler's SAP Concur login, the key of the cache.
    pub login_id: Option<String>,
    /// `@Unique` (often empty).
    pub unique: Option<String>,
    /// `@Action` on a POST (`Create` or `Update`).
    pub action: Option<String>,
    /// Names, company data and settings.
    pub general: Option<General>,
    /// The person to call in an emergency.
    pub emergency_contact: Option<EmergencyContact>,
    /// Telephone numbers.
    pub telephones: Vec<Telephone>,
    /// Postal addresses.
    pub addresses: Vec<Address>,
    /// National identity documents (sensitive).
    pub national_ids: Vec<NationalId>,
    /// Driver's licences (sensitive).
    pub drivers_licenses: Vec<DriversLicense>,
    /// The traveler declared having no passport.
    pub has_no_passport: Option<bool>,
    /// Passports, at most two (sensitive).
    pub passports: Vec<Passport>,
    /// Visas (sensitive).
    pub visas: Vec<Visa>,
    /// E-mail addresses.
    pub email_addresses: Vec<EmailAddress>,
    /// Special rates the traveler qualifies for.
    pub rate_preferences: Option<RatePreferences>,
    /// Vendor discount codes (read-only on the server).
    pub discount_codes: Vec<DiscountCode>,
    /// Air preferences and memberships.
    pub air: Option<Air>,
    /// Rail preferences and memberships.
    pub rail: Option<Rail>,
    /// Car rental preferences and memberships.
    pub car: Option<Car>,
    /// Hotel preferences and memberships.
    pub hotel: Option<Hotel>,
    /// Company-defined custom fields.
    pub custom_fields: Vec<CustomField>,
    /// Travel arrangers and managers.
    pub roles: Vec<Role>,
    /// Sponsorship of a non-employee traveler.
    pub sponsors: Option<Sponsors>,
    /// Secure Flight data (sensitive).
    pub tsa_info: Option<TsaInfo>,
    /// Unused airline tickets.
    pub unused_tickets: Vec<UnusedTicket>,
    /// Unused Southwest tickets.
    pub southwest_unused_tickets: Vec<SouthwestUnusedTicket>,
    /// Advantage (discount) programs.
    pub advantage_memberships: Vec<AdvantageMembership>,
    /// Everything the server sent that this version does not model, with its position.
    pub unknown: Vec<UnknownNode>,
}

/// The `General` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct General {
    /// `NamePrefix` (Mr, Ms, Dr …).
    pub name_prefix: Option<String>,
    /// `FirstName`, as on the passport.
    pub first_name: Option<String>,
    /// `MiddleName`.
    pub middle_name: Option<String>,
    /// `LastName`, as on the passport.
    pub last_name: Option<String>,
    /// `NameSuffix` (Jr, III …).
    pub name_suffix: Option<String>,
    /// `PreferredName`: what the traveler likes to be called.
    pub preferred_name: Option<String>,
    /// `JobTitle`.
    pub job_title: Option<String>,
    /// `CostCenter`.
    pub cost_center: Option<String>,
    /// `CompanyEmployeeID`.
    pub company_employee_id: Option<String>,
    /// `Division`.
    pub division: Option<String>,
    /// `AccountTerminationDate`.
    pub account_termination_date: Option<CalendarDate>,
    /// `PreferredLanguage` (e.g. `en-US`).
    pub preferred_language: Option<String>,
    /// `EReceiptOptIn`.
    pub e_receipt_opt_in: Option<bool>,
    /// `HasOpenBooking`.
    pub has_open_booking: Option<bool>,
    /// `CountryCode`.
    pub country_code: Option<String>,
    /// `CompanyName`.
    pub company_name: Option<String>,
    /// `CompanyID`.
    pub company_id: Option<String>,
    /// `RuleClass`.
    pub rule_class: Option<String>,
    /// `TravelConfigID`.
    pub travel_config_id: Option<String>,
    /// `MedicalAlerts` (sensitive).
    pub medical_alerts: Option<String>,
    /// `AgencyNumber`.
    pub agency_number: Option<String>,
    /// `SearchId` (the reference page spells it `SearchID`).
    pub search_id: Option<String>,
    /// `GDSProfileName`.
    pub gds_profile_name: Option<String>,
    /// `SabreProfileId`.
    pub sabre_profile_id: Option<String>,
    /// `UUID`: the traveler's SAP Concur user UUID.
    pub uuid: Option<String>,
}

/// The `EmergencyContact` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct EmergencyContact {
    /// `Name`.
    pub name: Option<String>,
    /// `Relationship` (Spouse, Parent …).
    pub relationship: Option<String>,
    /// `Phones/Phone`.
    pub phones: Vec<EmergencyPhone>,
    /// `Address`.
    pub address: Option<PostalAddress>,
}

/// `EmergencyContact/Phones/Phone`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct EmergencyPhone {
    /// `@Type`.
    pub kind: Option<EmergencyPhoneType>,
    /// The number (element text).
    pub number: Option<String>,
}

/// A postal address without a type (`EmergencyContact/Address`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct PostalAddress {
    /// `Street`.
    pub street: Option<String>,
    /// `City`.
    pub city: Option<String>,
    /// `StateProvince`.
    pub state_province: Option<String>,
    /// `CountryCode`.
    pub country_code: Option<String>,
    /// `PostalCode`.
    pub postal_code: Option<String>,
}

/// `Telephones/Telephone`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Telephone {
    /// `@Type`.
    pub kind: Option<TelephoneType>,
    /// `@ContactOptIn`.
    pub contact_opt_in: Option<bool>,
    /// `@PrimaryMobile`.
    pub primary_mobile: Option<bool>,
    /// `CountryCode` (seen as `001` as well as two letters).
    pub country_code: Option<String>,
    /// `PhoneNumber`.
    pub phone_number: Option<String>,
    /// `Extension`.
    pub extension: Option<String>,
    /// `MobileDevice`.
    pub mobile_device: Option<bool>,
    /// `MobileName`.
    pub mobile_name: Option<String>,
}

/// `Addresses/Address`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Address {
    /// `@Type`.
    pub kind: Option<AddressType>,
    /// `Street`.
    pub street: Option<String>,
    /// `City`.
    pub city: Option<String>,
    /// `StateProvince`.
    pub state_province: Option<String>,
    /// `CountryCode`.
    pub country_code: Option<String>,
    /// `PostalCode`.
    pub postal_code: Option<String>,
    /// `Longitude`, as sent.
    pub longitude: Option<String>,
    /// `Latitude`, as sent.
    pub latitude: Option<String>,
}

/// `NationalIDs/NationalID` (sensitive).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct NationalId {
    /// `NationalIDNumber`.
    pub number: Option<String>,
    /// `IssuingCountry`.
    pub issuing_country: Option<String>,
    /// `Expiration`.
    pub expiration: Option<CalendarDate>,
}

/// `DriversLicenses/DriversLicense` (sensitive).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct DriversLicense {
    /// `DriversLicenseNumber`.
    pub number: Option<String>,
    /// `IssuingCountry`.
    pub issuing_country: Option<String>,
    /// `IssuingState`.
    pub issuing_state: Option<String>,
    /// `Expiration`.
    pub expiration: Option<CalendarDate>,
}

/// `Passports/Passport` (sensitive).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Passport {
    /// `PassportNumber`.
    pub number: Option<String>,
    /// `PassportNationality`.
    pub nationality: Option<String>,
    /// `PassportExpiration`.
    pub expiration: Option<CalendarDate>,
    /// `PassportDateIssued`.
    pub date_issued: Option<CalendarDate>,
    /// `PassportCityIssued`.
    pub city_issued: Option<String>,
    /// `PassportCountryIssued`.
    pub country_issued: Option<String>,
}

/// `Visas/Visa` (sensitive).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Visa {
    /// `VisaNationality`.
    pub nationality: Option<String>,
    /// `VisaNumber`.
    pub number: Option<String>,
    /// `VisaType`.
    pub kind: Option<VisaType>,
    /// `VisaDateIssued`.
    pub date_issued: Option<CalendarDate>,
    /// `VisaExpiration`.
    pub expiration: Option<CalendarDate>,
    /// `VisaCityIssued`.
    pub city_issued: Option<String>,
    /// `VisaCountryIssued`.
    pub country_issued: Option<String>,
}

/// `EmailAddresses/EmailAddress`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct EmailAddress {
    /// `@Type`.
    pub kind: Option<EmailType>,
    /// `@Contact`: whether the address is used to contact the traveler.
    pub contact: Option<bool>,
    /// The address (element text).
    pub address: Option<String>,
}

/// The `RatePreferences` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct RatePreferences {
    /// `AAARate`.
    pub aaa_rate: Option<bool>,
    /// `AARPRate`.
    pub aarp_rate: Option<bool>,
    /// `GovtRate`.
    pub govt_rate: Option<bool>,
    /// `MilitaryRate`.
    pub military_rate: Option<bool>,
}

/// `DiscountCodes/DiscountCode`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct DiscountCode {
    /// `@Vendor`.
    pub vendor: Option<String>,
    /// The code (element text).
    pub code: Option<String>,
}

/// `CustomFields/CustomField` (v2: `Name` attribute and text; v1: `Name`/`Value` children).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct CustomField {
    /// The field's name.
    pub name: Option<String>,
    /// The field's value.
    pub value: Option<String>,
}

/// `Roles/Role`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Role {
    /// `@Type`.
    pub kind: Option<RoleType>,
    /// `@PrimaryIndicatorFlag`.
    pub primary: Option<bool>,
    /// `FirstName`.
    pub first_name: Option<String>,
    /// `LastName`.
    pub last_name: Option<String>,
    /// `EmailAddress`.
    pub email_address: Option<String>,
    /// `LoginId`.
    pub login_id: Option<String>,
}

/// The `Sponsors` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Sponsors {
    /// `NonEmployeeUserType`.
    pub non_employee_user_type: Option<String>,
    /// `SponsorName`.
    pub sponsor_name: Option<String>,
    /// `SponsorshipStartDate`.
    pub sponsorship_start_date: Option<CalendarDate>,
    /// `SponsorshipEndDate`.
    pub sponsorship_end_date: Option<CalendarDate>,
    /// `LoginID` of the sponsor.
    pub login_id: Option<String>,
}

/// The `TSAInfo` section (sensitive).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct TsaInfo {
    /// `Gender`.
    pub gender: Option<Gender>,
    /// `DateOfBirth`.
    pub date_of_birth: Option<CalendarDate>,
    /// `NoMiddleName`.
    pub no_middle_name: Option<bool>,
    /// `PreCheckNumber`.
    pub pre_check_number: Option<String>,
    /// `RedressNumber`.
    pub redress_number: Option<String>,
}

impl Profile {
    /// The name to show for the traveler: preferred name, else first name, with last name.
    pub fn display_name(&self) -> Option<String> {
        let g = self.general.as_ref()?;
        let first = g.preferred_name.as_deref().or(g.first_name.as_deref());
        match (first, g.last_name.as_deref()) {
            (Some(f), Some(l)) => Some(format!("{f} {l}")),
            (Some(f), None) => Some(f.to_owned()),
            (None, Some(l)) => Some(l.to_owned()),
            (None, None) => None,
        }
    }

    /// The traveler's SAP Concur UUID (`General/UUID`).
    pub fn uuid(&self) -> Option<&str> {
        self.general.as_ref()?.uuid.as_deref()
    }
}
