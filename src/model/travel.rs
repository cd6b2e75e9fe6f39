//! The travel-preference sections of a profile: air, rail, car and hotel preferences, the
//! loyalty memberships they hold, unused tickets and advantage programs.

use super::values::*;
use serde::{Deserialize, Serialize};

/// A loyalty membership (`AirMembership`, `RailMembership`, `CarMembership`,
/// `HotelMembership`). Fields a program type does not use stay `None`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Membership {
    /// `VendorCode`: the two-character vendor code (e.g. `LH`).
    pub vendor_code: Option<String>,
    /// `AccountNo`: the membership number.
    pub account_no: Option<String>,
    /// `Status` (e.g. `Senator`).
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
    /// `Expiration` (rail and car).
    pub expiration: Option<CalendarDate>,
    /// `BahnCardClass` (rail).
    pub bahn_card_class: Option<String>,
    /// `BahnCardType` (rail).
    pub bahn_card_type: Option<String>,
    /// `IsSenator` (air).
    pub is_senator: Option<bool>,
}

/// `Air/Seat`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct AirSeat {
    /// `InterRowPositionCode`: window, aisle, middle.
    pub inter_row_position: Option<InterRowPosition>,
    /// `SectionPositionCode`: forward, rear, bulkhead, exit row.
    pub section_position: Option<SectionPosition>,
}

/// The `Air` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Air {
    /// `AirMemberships/AirMembership`: frequent-flyer programs.
    pub memberships: Vec<Membership>,
    /// `Seat`.
    pub seat: Option<AirSeat>,
    /// `MealCode` (directly under `Air`, or under `Meals` as the reference page has it).
    pub meal_code: Option<String>,
    /// `HomeAirport` (IATA code).
    pub home_airport: Option<String>,
    /// `AirOther`: free-text notes.
    pub air_other: Option<String>,
}

/// The `Rail` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Rail {
    /// `Seat`.
    pub seat: Option<String>,
    /// `Coach`.
    pub coach: Option<String>,
    /// `NoiseComfort`.
    pub noise_comfort: Option<String>,
    /// `Bed`.
    pub bed: Option<String>,
    /// `BedCategory`.
    pub bed_category: Option<String>,
    /// `Berth`.
    pub berth: Option<String>,
    /// `Deck`.
    pub deck: Option<String>,
    /// `SpaceType`.
    pub space_type: Option<String>,
    /// `FareSpaceComfort`.
    pub fare_space_comfort: Option<String>,
    /// `SpecialMeals`.
    pub special_meals: Option<String>,
    /// `Contingencies`.
    pub contingencies: Option<String>,
    /// `RailMemberships/RailMembership`.
    pub memberships: Vec<Membership>,
}

/// The `Car` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Car {
    /// `CarSmokingCode`.
    pub smoking: Option<SmokingPreference>,
    /// `CarGPS`.
    pub gps: Option<bool>,
    /// `CarType`.
    pub car_type: Option<CarType>,
    /// `CarMemberships/CarMembership`.
    pub memberships: Vec<Membership>,
    /// `CarOther`: free-text notes.
    pub car_other: Option<String>,
    /// `CarSkiRack`.
    pub ski_rack: Option<bool>,
    /// `CarTransmission`.
    pub transmission: Option<CarTransmission>,
}

/// The `Hotel` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct Hotel {
    /// `HotelSmokingCode` (the reference page says `SmokingCode`).
    pub smoking: Option<SmokingPreference>,
    /// `HotelMemberships/HotelMembership`.
    pub memberships: Vec<Membership>,
    /// `RoomType`.
    pub room_type: Option<RoomType>,
    /// `HotelOther`: free-text notes.
    pub hotel_other: Option<String>,
    /// `PreferFoamPillows`.
    pub prefer_foam_pillows: Option<bool>,
    /// `PreferCrib`.
    pub prefer_crib: Option<bool>,
    /// `PreferRollawayBed`.
    pub prefer_rollaway_bed: Option<bool>,
    /// `PreferGym`.
    pub prefer_gym: Option<bool>,
    /// `PreferPool`.
    pub prefer_pool: Option<bool>,
    /// `PreferRestaurant` (the reference page misspells it `PreferRestaraunt`).
    pub prefer_restaurant: Option<bool>,
    /// `PreferWheelchairAccess`.
    pub prefer_wheelchair_access: Option<bool>,
    /// `PreferAccessForBlind`.
    pub prefer_access_for_blind: Option<bool>,
    /// `PreferRoomService`.
    pub prefer_room_service: Option<bool>,
    /// `PreferEarlyCheckIn`.
    pub prefer_early_check_in: Option<bool>,
}

/// `UnusedTickets/UnusedTicket`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct UnusedTicket {
    /// `Carrier`.
    pub carrier: Option<String>,
    /// `TicketNumber`.
    pub ticket_number: Option<String>,
    /// `RecordLocator`.
    pub record_locator: Option<String>,
    /// `BaseFare`, as sent.
    pub base_fare: Option<String>,
    /// `Taxes`, as sent.
    pub taxes: Option<String>,
    /// `Fees`, as sent.
    pub fees: Option<String>,
    /// `Currency`.
    pub currency: Option<String>,
    /// `TicketType`.
    pub ticket_type: Option<String>,
    /// `IssueDate`.
    pub issue_date: Option<CalendarDate>,
    /// `ExpirationDate`.
    pub expiration_date: Option<CalendarDate>,
    /// `Notes`.
    pub notes: Option<String>,
}

/// `SouthwestUnusedTickets/SouthwestUnusedTicket`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct SouthwestUnusedTicket {
    /// `RecordLocator`.
    pub record_locator: Option<String>,
    /// `TicketAmount`, as sent.
    pub ticket_amount: Option<String>,
    /// `Currency`.
    pub currency: Option<String>,
    /// `ExpirationDate`.
    pub expiration_date: Option<CalendarDate>,
}

/// `AdvantageMemberships/AdvantageMembership`: a discount or advantage program.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct AdvantageMembership {
    /// `VendorCode`.
    pub vendor_code: Option<String>,
    /// `VendorType`.
    pub vendor_type: Option<AdvantageVendorType>,
    /// `ProgramNumber`.
    pub program_number: Option<String>,
    /// `OriginCode`.
    pub origin_code: Option<String>,
    /// `DestinationCode`.
    pub destination_code: Option<String>,
    /// `ProgramCode`.
    pub program_code: Option<String>,
    /// `ExpirationDate`.
    pub expiration_date: Option<CalendarDate>,
    /// `OptionCode`.
    pub option_code: Option<String>,
    /// `ProgramName`.
    pub program_name: Option<String>,
}
