//! What the server sent that this version does not model. SAP Concur adds elements without
//! notice; they are kept here, with their position, and written back in place.

use serde::{Deserialize, Serialize};

/// An element or attribute the model does not know, and where it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
pub struct UnknownNode {
    /// The canonical path of the element that held it, from the document root (which is
    /// `""`), e.g. `Air/AirMemberships/AirMembership[2]`. A repeated element's position is
    /// given as `[n]` (1-based) from its second occurrence on.
    pub path: String,
    /// The known sibling element it followed (same notation), or `None` when it came first.
    /// Not used for attributes.
    pub after: Option<String>,
    /// The element or attribute itself.
    pub content: UnknownContent,
}

/// The content of an [`UnknownNode`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, uniffi::Enum)]
pub enum UnknownContent {
    /// A whole element, as the exact XML text received.
    Element {
        /// The element's XML, from its start tag to its end tag.
        xml: String,
    },
    /// An attribute.
    Attribute {
        /// The attribute's qualified name, as received.
        name: String,
        /// Its value, unescaped.
        value: String,
    },
}
