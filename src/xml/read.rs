//! Reading the element tree into model types, tolerantly: names in any case, alternative
//! spellings, empty elements as `None`, and every element or attribute the mapping does
//! not take kept as an [`UnknownNode`] at its position.

use super::dom::{Doc, NONE};
use super::mapping::{FromXml, Leaf};
use crate::model::{UnknownContent, UnknownNode};

/// The canonical path segment of the `occurrence`-th element named `name`.
pub(crate) fn segment(name: &str, occurrence: u32) -> String {
    let mut s = String::with_capacity(name.len() + 4);
    push_segment(&mut s, name, occurrence);
    s
}

/// Appends [`segment`] to `out`.
pub(crate) fn push_segment(out: &mut String, name: &str, occurrence: u32) {
    out.push_str(name);
    if occurrence > 1 {
        use std::fmt::Write;
        let _ = write!(out, "[{occurrence}]");
    }
}

fn is_namespace_decl(qname: &str) -> bool {
    qname == "xmlns" || qname.starts_with("xmlns:")
}

/// Where the reader was before entering an element.
struct Mark {
    path_len: usize,
    unknown_len: usize,
}

/// How many children of each canonical name were used, per element being read: one
/// stack shared by all open elements (`frames` holds where each element's part starts).
#[derive(Default)]
struct Counts {
    entries: Vec<(&'static str, u32)>,
    frames: Vec<usize>,
}

impl Counts {
    fn current(&self) -> &[(&'static str, u32)] {
        let start = self.frames.last().copied().unwrap_or(0);
        &self.entries[start..]
    }
    fn count(&self, name: &str) -> u32 {
        self.current()
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, c)| *c)
    }
    fn bump(&mut self, name: &'static str) -> u32 {
        let start = self.frames.last().copied().unwrap_or(0);
        match self.entries[start..].iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => {
                *c += 1;
                *c
            }
            None => {
                self.entries.push((name, 1));
                1
            }
        }
    }
    fn push(&mut self) {
        self.frames.push(self.entries.len());
    }
    fn pop(&mut self) {
        if let Some(start) = self.frames.pop() {
            self.entries.truncate(start);
        }
    }
}

/// Maps a [`Doc`] to model values. See [`super::mapping::xml_struct`] for the lookups.
pub(crate) struct Reader<'d, 'a> {
    doc: &'d Doc<'a>,
    path: String,
    counts: Counts,
    /// Whether to keep unknown content (only documents that are written back need it).
    keep_unknown: bool,
    /// What the model did not take, in document order.
    pub unknown: Vec<UnknownNode>,
}

impl<'d, 'a> Reader<'d, 'a> {
    pub fn new(doc: &'d Doc<'a>, keep_unknown: bool) -> Self {
        Reader {
            doc,
            path: String::new(),
            counts: Counts::default(),
            keep_unknown,
            unknown: Vec::new(),
        }
    }

    /// Reads the root element as `T`, then collects what it left unknown.
    pub fn read_root<T: FromXml>(&mut self) -> T {
        let root = self.doc.root();
        self.doc.node(root).seen.set(true);
        let v = T::read(self, root);
        self.collect_unknown(root);
        v
    }

    /// The first child of `parent` not yet looked up, whose local name is one of `names`.
    fn find(&self, parent: u32, names: &[&str]) -> Option<u32> {
        let doc = self.doc;
        let p = doc.node(parent);
        // Skip the children already looked up at the front: the scan then gives the same
        // first match as one from the first child, and documents in schema order make
        // most lookups hit at once.
        let mut start = p.cursor.get();
        while start != NONE && doc.node(start).seen.get() {
            start = doc.node(start).next_sibling;
        }
        p.cursor.set(start);
        doc.children_from(start).find(|&c| {
            let n = doc.node(c);
            !n.seen.get() && names.iter().any(|x| n.name.eq_ignore_ascii_case(x))
        })
    }

    fn commit_used(&mut self, node: u32, canon: &'static str) {
        let occurrence = self.counts.bump(canon);
        self.doc.node(node).used.set(Some((canon, occurrence)));
    }

    /// A leaf's trimmed text; `None` if the element has children (then it is not a leaf
    /// and stays unknown).
    fn leaf_text(&self, node: u32) -> Option<&'d str> {
        let n = self.doc.node(node);
        (n.first_child == NONE).then(|| n.text.trim())
    }

    /// A child element's text.
    pub fn leaf<T: Leaf>(&mut self, parent: u32, names: &[&'static str]) -> Option<T> {
        let c = self.find(parent, names)?;
        let text = self.leaf_text(c)?;
        if text.is_empty() {
            self.doc.node(c).seen.set(true);
            return None;
        }
        let v = T::parse(text)?;
        self.doc.node(c).seen.set(true);
        self.commit_used(c, names[0]);
        Some(v)
    }

    /// An attribute of `node`.
    pub fn attr<T: Leaf>(&mut self, node: u32, names: &[&'static str]) -> Option<T> {
        let a = self
            .doc
            .attrs_of(node)
            .iter()
            .find(|a| !a.seen.get() && names.iter().any(|x| a.name.eq_ignore_ascii_case(x)))?;
        let text = a.value.trim();
        if text.is_empty() {
            a.seen.set(true);
            return None;
        }
        let v = T::parse(text)?;
        a.seen.set(true);
        Some(v)
    }

    /// The element's own text.
    pub fn text<T: Leaf>(&mut self, node: u32, _names: &[&'static str]) -> Option<T> {
        let text = self.doc.node(node).text.trim();
        if text.is_empty() {
            return None;
        }
        T::parse(text)
    }

    /// A v2 attribute, or else the v1 child element of the same name.
    pub fn attr_or_leaf<T: Leaf>(&mut self, node: u32, names: &[&'static str]) -> Option<T> {
        self.attr(node, names)
            .or_else(|| self.unanchored_leaf(node, names))
    }

    /// The element's text, or else the v1 child element `names[0]`.
    pub fn text_or_leaf<T: Leaf>(&mut self, node: u32, names: &[&'static str]) -> Option<T> {
        self.text(node, names)
            .or_else(|| self.unanchored_leaf(node, names))
    }

    /// A child's text that is written back as something else (an attribute or text), so
    /// unknown siblings must not be anchored on it.
    fn unanchored_leaf<T: Leaf>(&mut self, node: u32, names: &[&'static str]) -> Option<T> {
        let c = self.find(node, names)?;
        let v = self.leaf(node, names)?;
        self.doc.node(c).used.set(None);
        Some(v)
    }

    /// A child's text (`names[0]`), or the same child inside the wrapper `names[1]`.
    pub fn nested_leaf<T: Leaf>(&mut self, node: u32, names: &[&'static str]) -> Option<T> {
        if let Some(v) = self.leaf(node, &names[..1]) {
            return Some(v);
        }
        let w = self.find(node, &names[1..2])?;
        self.doc.node(w).seen.set(true);
        let len = self.enter(names[1]);
        let v = self.leaf(w, &names[..1]);
        let grew = self.leave(w, len);
        if v.is_some() || grew {
            // Written back as the canonical child, so siblings anchor on that name.
            self.commit_used(w, names[0]);
        }
        v
    }

    /// A nested element mapped by its own type.
    pub fn child<T: FromXml>(&mut self, parent: u32, names: &[&'static str]) -> Option<T> {
        let c = self.find(parent, names)?;
        self.element(c, names[0])
    }

    /// A wrapper element (`names[0]`) holding repeated items (`names[1]`).
    pub fn list<T: FromXml>(&mut self, parent: u32, names: &[&'static str]) -> Vec<T> {
        let Some(w) = self.find(parent, &names[..1]) else {
            return Vec::new();
        };
        self.doc.node(w).seen.set(true);
        let len = self.enter(names[0]);
        let mut items = Vec::new();
        let doc = self.doc;
        for c in doc.children(w) {
            let n = doc.node(c);
            if !n.seen.get() && n.name.eq_ignore_ascii_case(names[1]) {
                if let Some(v) = self.element(c, names[1]) {
                    items.push(v);
                }
            }
        }
        let grew = self.leave(w, len);
        if !items.is_empty() || grew {
            self.commit_used(w, names[0]);
        }
        items
    }

    /// Repeated children named `names[0]` directly under `parent` (no wrapper).
    pub fn many<T: FromXml>(&mut self, parent: u32, names: &[&'static str]) -> Vec<T> {
        let doc = self.doc;
        let mut items = Vec::new();
        for c in doc.children(parent) {
            let n = doc.node(c);
            if !n.seen.get() && names.iter().any(|x| n.name.eq_ignore_ascii_case(x)) {
                if let Some(v) = self.element(c, names[0]) {
                    items.push(v);
                }
            }
        }
        items
    }

    /// Reads element `c` as `T`; `None` (and not used) when it holds nothing at all.
    pub fn element<T: FromXml>(&mut self, c: u32, canon: &'static str) -> Option<T> {
        self.doc.node(c).seen.set(true);
        let len = self.enter(canon);
        let v = T::read(self, c);
        let grew = self.leave(c, len);
        if grew || v != T::default() {
            self.commit_used(c, canon);
            Some(v)
        } else {
            None
        }
    }

    /// Enters a child named `canon` of the current element: pushes its path segment (with
    /// the occurrence it will have if used) and a frame. Returns the path length to restore.
    fn enter(&mut self, canon: &'static str) -> Mark {
        let occurrence = self.counts.count(canon) + 1;
        let len = self.path.len();
        if self.keep_unknown {
            if !self.path.is_empty() {
                self.path.push('/');
            }
            push_segment(&mut self.path, canon, occurrence);
        }
        self.counts.push();
        Mark {
            path_len: len,
            unknown_len: self.unknown.len(),
        }
    }

    /// Leaves the element entered with [`Self::enter`]: collects its unknown content and
    /// reports whether it had any.
    fn leave(&mut self, node: u32, mark: Mark) -> bool {
        self.collect_unknown(node);
        self.counts.pop();
        self.path.truncate(mark.path_len);
        self.unknown.len() > mark.unknown_len
    }

    /// Records the children and attributes of `node` the mapping did not look up.
    fn collect_unknown(&mut self, node: u32) {
        if !self.keep_unknown {
            return;
        }
        let doc = self.doc;
        let mut last: Option<(&'static str, u32)> = None;
        for c in doc.children(node) {
            let n = doc.node(c);
            if let Some(used) = n.used.get() {
                last = Some(used);
            } else if !n.seen.get() {
                self.unknown.push(UnknownNode {
                    path: self.path.clone(),
                    after: last.map(|(name, occ)| segment(name, occ)),
                    content: UnknownContent::Element {
                        xml: doc.source_of(c).to_owned(),
                    },
                });
            }
        }
        for a in doc.attrs_of(node) {
            if !a.seen.get() && !is_namespace_decl(a.qname) {
                self.unknown.push(UnknownNode {
                    path: self.path.clone(),
                    after: None,
                    content: UnknownContent::Attribute {
                        name: a.qname.to_owned(),
                        value: a.value.clone().into_owned(),
                    },
                });
            }
        }
    }
}
