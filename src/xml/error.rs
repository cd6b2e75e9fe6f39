//! The typed error for documents that cannot be read. It gives a position and a fixed
//! description, never the document's content (which may hold passport numbers).

use std::fmt;

/// A document that could not be parsed, with the position of the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} (line {line}, column {column})")]
pub struct XmlError {
    /// What is wrong.
    pub kind: XmlErrorKind,
    /// 1-based line of the problem.
    pub line: u32,
    /// 1-based column (in characters) of the problem.
    pub column: u32,
}

/// The kinds of malformed input. Descriptions are fixed texts: no document content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmlErrorKind {
    /// The document is larger than the accepted maximum.
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Elements are nested deeper than the accepted maximum.
    TooDeep {
        /// The limit in levels.
        limit: usize,
    },
    /// The bytes are not valid UTF-8.
    InvalidUtf8,
    /// The document is UTF-16 or another encoding this library does not read.
    UnsupportedEncoding,
    /// The document is not well-formed XML (the text says which rule was broken).
    Syntax(&'static str),
    /// An end tag does not match its start tag.
    MismatchedEndTag,
    /// An element is never closed (the document is truncated).
    UnclosedElement,
    /// A `<!DOCTYPE>`: refused, so no entity definitions can be smuggled in.
    DoctypeNotAllowed,
    /// A reference to an entity other than the five predefined ones.
    UnknownEntity,
    /// A malformed character reference (`&#…;`).
    BadReference,
    /// A malformed or duplicated attribute.
    BadAttribute,
    /// There is no root element.
    NoRootElement,
    /// Text or a second element outside the root element.
    ContentOutsideRoot,
    /// A required element is missing.
    MissingElement {
        /// The element's name.
        name: &'static str,
    },
    /// The root element is not the document type expected.
    UnexpectedRoot {
        /// The root element expected.
        expected: &'static str,
    },
}

impl fmt::Display for XmlErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { limit } => write!(f, "document larger than {limit} bytes"),
            Self::TooDeep { limit } => write!(f, "elements nested deeper than {limit} levels"),
            Self::InvalidUtf8 => f.write_str("invalid UTF-8"),
            Self::UnsupportedEncoding => f.write_str("unsupported encoding (UTF-8 expected)"),
            Self::Syntax(what) => write!(f, "XML syntax error: {what}"),
            Self::MismatchedEndTag => f.write_str("end tag does not match its start tag"),
            Self::UnclosedElement => f.write_str("element not closed (truncated document?)"),
            Self::DoctypeNotAllowed => f.write_str("DOCTYPE declarations are not accepted"),
            Self::UnknownEntity => f.write_str("reference to an undefined entity"),
            Self::BadReference => f.write_str("malformed character reference"),
            Self::BadAttribute => f.write_str("malformed or duplicate attribute"),
            Self::NoRootElement => f.write_str("no root element (empty document?)"),
            Self::ContentOutsideRoot => f.write_str("content outside the root element"),
            Self::MissingElement { name } => write!(f, "required element {name} is missing"),
            Self::UnexpectedRoot { expected } => write!(f, "root element is not {expected}"),
        }
    }
}

impl XmlErrorKind {
    pub(crate) fn from_quick_xml(e: &quick_xml::Error) -> Self {
        use quick_xml::errors::{IllFormedError, SyntaxError};
        match e {
            quick_xml::Error::Syntax(s) => Self::Syntax(match s {
                SyntaxError::InvalidBangMarkup => "invalid <! markup",
                SyntaxError::UnclosedPI => "unclosed processing instruction",
                SyntaxError::UnclosedXmlDecl => "unclosed XML declaration",
                SyntaxError::UnclosedComment => "unclosed comment",
                SyntaxError::UnclosedDoctype => "unclosed DOCTYPE",
                SyntaxError::UnclosedCData => "unclosed CDATA section",
                SyntaxError::UnclosedTag => "unclosed tag",
                _ => "malformed markup",
            }),
            quick_xml::Error::IllFormed(i) => match i {
                IllFormedError::MismatchedEndTag { .. } | IllFormedError::UnmatchedEndTag(_) => {
                    Self::MismatchedEndTag
                }
                IllFormedError::MissingEndTag(_) => Self::UnclosedElement,
                _ => Self::Syntax("ill-formed document"),
            },
            quick_xml::Error::InvalidAttr(_) => Self::BadAttribute,
            quick_xml::Error::Encoding(_) => Self::InvalidUtf8,
            quick_xml::Error::Escape(_) => Self::UnknownEntity,
            _ => Self::Syntax("malformed document"),
        }
    }
}

impl XmlError {
    /// An error at byte offset `pos` of `src`.
    pub(crate) fn at(kind: XmlErrorKind, src: &str, pos: usize) -> Self {
        let (line, column) = position_of(src, pos);
        XmlError { kind, line, column }
    }

    pub(crate) fn at_start(kind: XmlErrorKind) -> Self {
        XmlError {
            kind,
            line: 1,
            column: 1,
        }
    }
}

/// 1-based line and column (in characters) of byte offset `pos`.
pub(crate) fn position_of(src: &str, pos: usize) -> (u32, u32) {
    let mut pos = pos.min(src.len());
    while !src.is_char_boundary(pos) {
        pos -= 1;
    }
    let before = &src[..pos];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line as u32, column as u32)
}
