//! SAP Concur XML <-> [`crate::model`].
//!
//! Parsing is tolerant the way the real API demands: element and attribute names are
//! matched without regard to case (and namespace prefix); booleans may be
//! `true/True/TRUE/false/False/1/0`; self-closed or whitespace-only elements are `None`;
//! the documented alternative spellings are accepted (`HotelSmokingCode`/`SmokingCode`,
//! `PreferRestaurant`/`PreferRestaraunt`, `SearchId`/`SearchID`, `MealCode` directly under
//! `Air` or inside `Meals`, `XmlProfileSyncID`/`XMLProfileSyncID`, v1's `CustomField`
//! `Name`/`Value` children); an XML declaration, namespaces and a UTF-8 BOM are fine.
//!
//! Nothing is lost: an element or attribute the model does not know, or a value that does
//! not parse as its type (a date that is not a date), is kept as an
//! [`UnknownNode`](crate::model::UnknownNode) with its position and written back in place,
//! so parse → write → parse gives the same [`Profile`](crate::model::Profile).
//!
//! Writing follows the schema's element order. Bad input of any kind gives an
//! [`XmlError`] with line and column, never a panic; documents are capped in size
//! ([`MAX_DOCUMENT_BYTES`]) and depth ([`MAX_DEPTH`]); DTDs are refused, so entity
//! expansion attacks cannot start; error texts never quote the document.

mod documents;
mod dom;
mod error;
pub(crate) mod mapping;
mod profile;
pub(crate) mod read;
pub(crate) mod write;

pub use documents::*;
pub use dom::{MAX_DEPTH, MAX_DOCUMENT_BYTES};
pub use error::{XmlError, XmlErrorKind};
pub use mapping::{format_timestamp, parse_timestamp};
pub use profile::{parse_profile, write_profile, write_profile_pretty};

/// Checks that the root element is `expected` (in any case).
fn expect_root(doc: &dom::Doc<'_>, expected: &'static str) -> Result<(), XmlError> {
    let root = doc.node(doc.root());
    if root.name.eq_ignore_ascii_case(expected) {
        Ok(())
    } else {
        Err(XmlError::at(
            XmlErrorKind::UnexpectedRoot { expected },
            doc.src,
            root.start as usize,
        ))
    }
}
