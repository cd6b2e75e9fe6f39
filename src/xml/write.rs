//! Writing model values as XML in the schema's element order, putting every
//! [`UnknownNode`] back where it was read.

use super::mapping::{Leaf, ToXml};
use super::read::segment;
use crate::model::{UnknownContent, UnknownNode};
use quick_xml::escape::escape;

struct Frame {
    name: &'static str,
    /// The element's segment in its parent's path.
    segment: String,
    path_len: usize,
    counts: Vec<(&'static str, u32)>,
    tag_open: bool,
    /// Whether a child element was written (for indentation of the end tag).
    has_children: bool,
}

impl Frame {
    fn next(&mut self, name: &'static str) -> u32 {
        match self.counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => {
                *c += 1;
                *c
            }
            None => {
                self.counts.push((name, 1));
                1
            }
        }
    }
    fn peek(&self, name: &str) -> u32 {
        self.counts
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(1, |(_, c)| c + 1)
    }
}

/// An XML writer that knows the path of the element being written.
pub(crate) struct XmlOut<'u> {
    buf: String,
    unknown: &'u [UnknownNode],
    emitted: Vec<bool>,
    path: String,
    frames: Vec<Frame>,
    pretty: bool,
}

impl<'u> XmlOut<'u> {
    /// A writer that re-inserts `unknown` content. Starts with the XML declaration.
    pub fn new(unknown: &'u [UnknownNode], capacity: usize) -> Self {
        let mut buf = String::with_capacity(capacity);
        buf.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
        XmlOut {
            buf,
            unknown,
            emitted: vec![false; unknown.len()],
            path: String::new(),
            frames: Vec::new(),
            pretty: false,
        }
    }

    /// Indents the output the way the real API does (two spaces per level).
    pub fn pretty(mut self) -> Self {
        self.pretty = true;
        self
    }

    /// Before a child element: marks the parent and indents.
    fn child_break(&mut self) {
        if let Some(f) = self.frames.last_mut() {
            f.has_children = true;
        }
        if self.pretty {
            self.buf.push('\n');
            for _ in 0..self.frames.len() {
                self.buf.push_str("  ");
            }
        }
    }

    /// Finishes the document.
    pub fn finish(self) -> String {
        self.buf
    }

    /// Writes a whole document whose root element is `root`, with extra raw attributes.
    pub fn document<T: ToXml>(mut self, root: &'static str, raw_attrs: &str, value: &T) -> String {
        self.buf.push('<');
        self.buf.push_str(root);
        self.buf.push_str(raw_attrs);
        self.frames.push(Frame {
            name: root,
            segment: String::new(),
            path_len: 0,
            counts: Vec::new(),
            tag_open: true,
            has_children: false,
        });
        value.write(&mut self);
        self.end();
        self.finish()
    }

    fn begin(&mut self, name: &'static str) {
        self.close_tag();
        let occurrence = self.frames.last_mut().map_or(1, |f| f.next(name));
        let segment = segment(name, occurrence);
        self.child_break();
        let path_len = self.path.len();
        if !self.frames.is_empty() && !self.path.is_empty() {
            self.path.push('/');
        }
        self.path.push_str(&segment);
        self.buf.push('<');
        self.buf.push_str(name);
        self.frames.push(Frame {
            name,
            segment,
            path_len,
            counts: Vec::new(),
            tag_open: true,
            has_children: false,
        });
    }

    fn close_tag(&mut self) {
        let Some(frame) = self.frames.last_mut() else {
            return;
        };
        if !frame.tag_open {
            return;
        }
        frame.tag_open = false;
        for (i, u) in self.unknown.iter().enumerate() {
            if let UnknownContent::Attribute { name, value } = &u.content {
                if !self.emitted[i] && u.path == self.path {
                    self.emitted[i] = true;
                    push_attr(&mut self.buf, name, value);
                }
            }
        }
        self.buf.push('>');
        self.flush(|u| u.after.is_none());
    }

    fn end(&mut self) {
        self.close_tag();
        // Whatever was anchored on a sibling not written, or lives under a path no longer
        // written, comes out here rather than being lost.
        self.flush_orphans();
        self.flush(|_| true);
        let Some(frame) = self.frames.pop() else {
            return;
        };
        if self.pretty && frame.has_children {
            self.buf.push('\n');
            for _ in 0..self.frames.len() {
                self.buf.push_str("  ");
            }
        }
        self.buf.push_str("</");
        self.buf.push_str(frame.name);
        self.buf.push('>');
        self.path.truncate(frame.path_len);
        self.flush_after(&frame.segment);
    }

    /// Writes the unknown elements of the current path that `pick` selects.
    fn flush(&mut self, pick: impl Fn(&UnknownNode) -> bool) {
        let unknown = self.unknown;
        for (i, u) in unknown.iter().enumerate() {
            if let UnknownContent::Element { xml } = &u.content {
                if !self.emitted[i] && u.path == self.path && pick(u) {
                    self.emitted[i] = true;
                    self.raw(xml);
                }
            }
        }
    }

    /// Writes unknown elements whose path lies below the current element but was not
    /// written (its element had no other content left).
    fn flush_orphans(&mut self) {
        let unknown = self.unknown;
        for (i, u) in unknown.iter().enumerate() {
            if let UnknownContent::Element { xml } = &u.content {
                if !self.emitted[i] && is_below(&u.path, &self.path) {
                    self.emitted[i] = true;
                    self.raw(xml);
                }
            }
        }
    }

    /// Writes an unknown element's XML as received.
    fn raw(&mut self, xml: &str) {
        self.child_break();
        self.buf.push_str(xml);
    }

    fn flush_after(&mut self, seg: &str) {
        if self.unknown.is_empty() {
            return;
        }
        self.flush(|u| u.after.as_deref() == Some(seg));
    }

    fn has_unknown_under(&self, name: &str) -> bool {
        if self.unknown.is_empty() {
            return false;
        }
        let occurrence = self.frames.last().map_or(1, |f| f.peek(name));
        let seg = segment(name, occurrence);
        let mut prefix = self.path.clone();
        if !prefix.is_empty() {
            prefix.push('/');
        }
        prefix.push_str(&seg);
        self.unknown
            .iter()
            .any(|u| u.path == prefix || is_below(&u.path, &prefix))
    }

    /// A child element's text.
    pub fn leaf<T: Leaf>(&mut self, names: &[&'static str], value: &Option<T>) {
        let Some(v) = value else { return };
        self.close_tag();
        let name = names[0];
        let occurrence = self.frames.last_mut().map_or(1, |f| f.next(name));
        self.child_break();
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push('>');
        self.buf.push_str(&escape(v.render().as_ref()));
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
        self.flush_after(&segment(name, occurrence));
    }

    /// An attribute of the element being written (before any child).
    pub fn attr<T: Leaf>(&mut self, names: &[&'static str], value: &Option<T>) {
        if let Some(v) = value {
            push_attr(&mut self.buf, names[0], v.render().as_ref());
        }
    }

    /// The element's own text.
    pub fn text<T: Leaf>(&mut self, _names: &[&'static str], value: &Option<T>) {
        if let Some(v) = value {
            self.close_tag();
            self.buf.push_str(&escape(v.render().as_ref()));
        }
    }

    /// Written as the v2 attribute.
    pub fn attr_or_leaf<T: Leaf>(&mut self, names: &[&'static str], value: &Option<T>) {
        self.attr(names, value);
    }

    /// Written as the v2 text.
    pub fn text_or_leaf<T: Leaf>(&mut self, names: &[&'static str], value: &Option<T>) {
        self.text(names, value);
    }

    /// Written as the canonical child `names[0]`.
    pub fn nested_leaf<T: Leaf>(&mut self, names: &[&'static str], value: &Option<T>) {
        self.leaf(&names[..1], value);
    }

    /// A nested element.
    pub fn child<T: ToXml>(&mut self, names: &[&'static str], value: &Option<T>) {
        if let Some(v) = value {
            self.begin(names[0]);
            v.write(self);
            self.end();
        }
    }

    /// Repeated children directly under the current element.
    pub fn many<T: ToXml>(&mut self, names: &[&'static str], items: &[T]) {
        for item in items {
            self.begin(names[0]);
            item.write(self);
            self.end();
        }
    }

    /// A wrapper element holding repeated items; written when there are items or unknown
    /// content that was inside it.
    pub fn list<T: ToXml>(&mut self, names: &[&'static str], items: &[T]) {
        if items.is_empty() && !self.has_unknown_under(names[0]) {
            return;
        }
        self.begin(names[0]);
        for item in items {
            self.begin(names[1]);
            item.write(self);
            self.end();
        }
        self.end();
    }
}

fn push_attr(buf: &mut String, name: &str, value: &str) {
    buf.push(' ');
    buf.push_str(name);
    buf.push_str("=\"");
    buf.push_str(&escape(value));
    buf.push('"');
}

/// Whether `path` lies strictly below `ancestor`.
fn is_below(path: &str, ancestor: &str) -> bool {
    if ancestor.is_empty() {
        return !path.is_empty();
    }
    path.len() > ancestor.len()
        && path.starts_with(ancestor)
        && path.as_bytes()[ancestor.len()] == b'/'
}
