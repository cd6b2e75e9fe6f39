//! The data model: plain Rust types for everything the SAP Concur Travel Profile API
//! exchanges. No I/O here: the XML mapping lives in [`crate::xml`], storage in
//! [`crate::store`].
//!
//! Conventions: an absent or empty value is `None` (never an empty string); documented
//! value sets are enums with an `Unrecognized(String)` catch-all; dates are
//! [`chrono::NaiveDate`], times [`chrono::DateTime<Utc>`](chrono::DateTime).

mod documents;
pub mod loyalty;
mod profile;
mod travel;
mod unknown;
mod values;

pub use documents::*;
pub use profile::*;
pub use travel::*;
pub use unknown::*;
pub use values::*;
