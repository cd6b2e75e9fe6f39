//! A small, bounded element tree built from quick-xml events, borrowing from the input.
//!
//! Mapping to the model works on this tree rather than on the event stream: lookups by
//! name (in any case, in any order, with alternative spellings) are simple, and each node
//! records whether the mapping used it, so whatever the model does not know can be kept.

use super::error::{XmlError, XmlErrorKind};
use quick_xml::events::Event;
use quick_xml::events::attributes::{Attribute, Attributes};
use std::borrow::Cow;
use std::cell::Cell;

/// The largest document accepted, in bytes. A profile is 5–10 KB; a summary page of 200
/// items is well under 100 KB.
pub const MAX_DOCUMENT_BYTES: usize = 8 * 1024 * 1024;
/// The deepest element nesting accepted. Concur documents are at most 5 levels deep.
pub const MAX_DEPTH: usize = 64;

pub(crate) const NONE: u32 = u32::MAX;

/// One element.
pub(crate) struct Node<'a> {
    /// The local name (namespace prefix removed).
    pub name: &'a str,
    /// Byte range of the whole element in the source.
    pub start: u32,
    pub end: u32,
    /// The element's own text (CDATA and references resolved), concatenated.
    pub text: Cow<'a, str>,
    /// Range in [`Doc::attrs`].
    pub attrs: (u32, u32),
    pub first_child: u32,
    pub next_sibling: u32,
    /// Set when the mapping looked this element up (so it is not "unknown").
    pub seen: Cell<bool>,
    /// Set when the mapping took a value from it: the canonical name and occurrence.
    pub used: Cell<Option<(&'static str, u32)>>,
    /// The first child that may not have been looked up yet (every child before it has
    /// been): lookups start there. `NONE` once every child was looked up (or there is none).
    pub cursor: Cell<u32>,
}

/// One attribute.
pub(crate) struct Attr<'a> {
    /// The qualified name, as written.
    pub qname: &'a str,
    /// The local name.
    pub name: &'a str,
    pub value: Cow<'a, str>,
    pub seen: Cell<bool>,
}

/// A parsed document. Node 0 is the root element.
pub(crate) struct Doc<'a> {
    pub src: &'a str,
    pub nodes: Vec<Node<'a>>,
    pub attrs: Vec<Attr<'a>>,
}

impl<'a> Doc<'a> {
    /// Checks size, encoding and well-formedness, and builds the tree.
    pub fn parse(input: &'a [u8]) -> Result<Doc<'a>, XmlError> {
        if input.len() > MAX_DOCUMENT_BYTES {
            return Err(XmlError::at_start(XmlErrorKind::TooLarge {
                limit: MAX_DOCUMENT_BYTES,
            }));
        }
        let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
        if input.starts_with(b"\xFF\xFE") || input.starts_with(b"\xFE\xFF") {
            return Err(XmlError::at_start(XmlErrorKind::UnsupportedEncoding));
        }
        let src = match std::str::from_utf8(input) {
            Ok(s) => s,
            Err(e) => {
                let valid = std::str::from_utf8(&input[..e.valid_up_to()]).unwrap_or("");
                return Err(XmlError::at(XmlErrorKind::InvalidUtf8, valid, valid.len()));
            }
        };
        Builder::new(src).run()
    }

    pub fn root(&self) -> u32 {
        0
    }

    pub fn node(&self, i: u32) -> &Node<'a> {
        &self.nodes[i as usize]
    }

    pub fn attrs_of(&self, i: u32) -> &[Attr<'a>] {
        let (a, b) = self.node(i).attrs;
        &self.attrs[a as usize..b as usize]
    }

    /// The element children of `i`, in document order.
    pub fn children(&self, i: u32) -> Children<'_, 'a> {
        Children {
            doc: self,
            next: self.node(i).first_child,
        }
    }

    /// Element `first` and its following siblings.
    pub fn children_from(&self, first: u32) -> Children<'_, 'a> {
        Children {
            doc: self,
            next: first,
        }
    }

    /// The exact source text of element `i`.
    pub fn source_of(&self, i: u32) -> &'a str {
        let n = self.node(i);
        &self.src[n.start as usize..n.end as usize]
    }
}

/// Iterator over element children.
pub(crate) struct Children<'d, 'a> {
    doc: &'d Doc<'a>,
    next: u32,
}

impl Iterator for Children<'_, '_> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        if self.next == NONE {
            return None;
        }
        let i = self.next;
        self.next = self.doc.node(i).next_sibling;
        Some(i)
    }
}

struct Builder<'a> {
    src: &'a str,
    nodes: Vec<Node<'a>>,
    attrs: Vec<Attr<'a>>,
    /// Open elements: (node index, index of its last child so far).
    stack: Vec<(u32, u32)>,
    root_done: bool,
}

fn local(name: &str) -> &str {
    match name.as_bytes().iter().rposition(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

impl<'a> Builder<'a> {
    fn new(src: &'a str) -> Self {
        Builder {
            src,
            nodes: Vec::with_capacity(src.len() / 40),
            attrs: Vec::new(),
            stack: Vec::with_capacity(8),
            root_done: false,
        }
    }

    fn err(&self, kind: XmlErrorKind, pos: usize) -> XmlError {
        XmlError::at(kind, self.src, pos)
    }

    fn run(mut self) -> Result<Doc<'a>, XmlError> {
        let mut reader = quick_xml::Reader::from_str(self.src);
        reader.config_mut().check_end_names = true;
        loop {
            let before = reader.buffer_position() as usize;
            let event = match reader.read_event() {
                Ok(e) => e,
                Err(e) => {
                    let pos = reader.error_position() as usize;
                    return Err(self.err(XmlErrorKind::from_quick_xml(&e), pos));
                }
            };
            let after = reader.buffer_position() as usize;
            match event {
                Event::Start(e) => self.open(&e, before)?,
                Event::Empty(e) => {
                    self.open(&e, before)?;
                    self.close(after);
                }
                Event::End(_) => self.close(after),
                Event::Text(t) => {
                    let text = t.xml10_content();
                    self.text(text, before)?;
                }
                Event::CData(c) => {
                    let text = c.xml10_content();
                    if self.stack.is_empty() {
                        return Err(self.err(XmlErrorKind::ContentOutsideRoot, before));
                    }
                    self.push_text(text);
                }
                Event::GeneralRef(r) => {
                    let resolved: Cow<'a, str> = if r.is_char_ref() {
                        match r.resolve_char_ref() {
                            Ok(Some(c)) => Cow::Owned(c.to_string()),
                            _ => return Err(self.err(XmlErrorKind::BadReference, before)),
                        }
                    } else {
                        match quick_xml::escape::resolve_predefined_entity(&r) {
                            Some(s) => Cow::Borrowed(s),
                            None => return Err(self.err(XmlErrorKind::UnknownEntity, before)),
                        }
                    };
                    self.text(resolved, before)?;
                }
                Event::DocType(_) => return Err(self.err(XmlErrorKind::DoctypeNotAllowed, before)),
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => break,
            }
        }
        if let Some(&(open, _)) = self.stack.last() {
            let pos = self.nodes[open as usize].start as usize;
            return Err(self.err(XmlErrorKind::UnclosedElement, pos));
        }
        if self.nodes.is_empty() {
            return Err(self.err(XmlErrorKind::NoRootElement, self.src.len()));
        }
        Ok(Doc {
            src: self.src,
            nodes: self.nodes,
            attrs: self.attrs,
        })
    }

    fn open(&mut self, e: &quick_xml::events::BytesStart<'_>, pos: usize) -> Result<(), XmlError> {
        // Borrow the tag from the source (after `<`) so names and values live as long as it.
        let src: &'a str = self.src;
        let tag = &src[pos + 1..pos + 1 + e.len()];
        let name_len = e.name().as_ref().len();
        let qname = &tag[..name_len];
        if self.stack.is_empty() && self.root_done {
            return Err(self.err(XmlErrorKind::ContentOutsideRoot, pos));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.err(XmlErrorKind::TooDeep { limit: MAX_DEPTH }, pos));
        }
        let first_attr = self.attrs.len() as u32;
        for a in Attributes::new(tag, name_len) {
            let a: Attribute<'a> = a.map_err(|_| self.err(XmlErrorKind::BadAttribute, pos))?;
            let aq: &'a str = a.key.into_inner();
            let value = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| self.err(XmlErrorKind::from_quick_xml(&e), pos))?;
            if self.attrs[first_attr as usize..]
                .iter()
                .any(|x| x.qname == aq)
            {
                return Err(self.err(XmlErrorKind::BadAttribute, pos));
            }
            self.attrs.push(Attr {
                qname: aq,
                name: local(aq),
                value,
                seen: Cell::new(false),
            });
        }
        let idx = self.nodes.len() as u32;
        self.nodes.push(Node {
            name: local(qname),
            start: pos as u32,
            end: pos as u32,
            text: Cow::Borrowed(""),
            attrs: (first_attr, self.attrs.len() as u32),
            first_child: NONE,
            next_sibling: NONE,
            seen: Cell::new(false),
            used: Cell::new(None),
            cursor: Cell::new(NONE),
        });
        if let Some(parent) = self.stack.last_mut() {
            if parent.1 == NONE {
                self.nodes[parent.0 as usize].first_child = idx;
                self.nodes[parent.0 as usize].cursor.set(idx);
            } else {
                self.nodes[parent.1 as usize].next_sibling = idx;
            }
            parent.1 = idx;
        }
        self.stack.push((idx, NONE));
        Ok(())
    }

    fn close(&mut self, end: usize) {
        // quick-xml checks end names, so the stack cannot be empty here.
        if let Some((idx, _)) = self.stack.pop() {
            self.nodes[idx as usize].end = end as u32;
            if self.stack.is_empty() {
                self.root_done = true;
            }
        }
    }

    fn text(&mut self, text: Cow<'a, str>, pos: usize) -> Result<(), XmlError> {
        if self.stack.is_empty() {
            if text.trim().is_empty() {
                return Ok(());
            }
            return Err(self.err(XmlErrorKind::ContentOutsideRoot, pos));
        }
        self.push_text(text);
        Ok(())
    }

    fn push_text(&mut self, text: Cow<'a, str>) {
        if let Some(&(idx, _)) = self.stack.last() {
            let node = &mut self.nodes[idx as usize];
            // Indentation between child elements is not content.
            if node.first_child != NONE && text.trim().is_empty() {
                return;
            }
            if node.text.is_empty() || (node.first_child != NONE && node.text.trim().is_empty()) {
                node.text = text;
            } else {
                node.text.to_mut().push_str(&text);
            }
        }
    }
}
