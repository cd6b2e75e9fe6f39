//! The summary feed's order: every live traveler, sorted by (last-modified, login), kept in
//! one compact sorted vector. A page of the unfiltered feed is a binary search and a slice;
//! a filtered page scans the compact entries from the date bound on. Mutations move an
//! entry (remove, re-insert near the end); bulk changes rebuild with one sort.

use std::cmp::Ordering;

/// What the feed needs to know about one traveler, packed for scanning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Last-modified time, seconds since the epoch.
    pub modified: i64,
    /// Position of the traveler in the world's table.
    pub idx: u32,
    /// Interned travel config id.
    pub config: u16,
    /// Active (or inactive) traveler.
    pub active: bool,
}

/// A filter on the feed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    /// Only these interned travel configs (`None`: all).
    pub configs: Option<Vec<u16>>,
    /// Only active (`Some(true)`) or inactive (`Some(false)`) travelers.
    pub active: Option<bool>,
}

impl Filter {
    fn accepts(&self, e: &Entry) -> bool {
        self.active.is_none_or(|a| a == e.active)
            && self.configs.as_ref().is_none_or(|c| c.contains(&e.config))
    }

    fn is_empty(&self) -> bool {
        self.configs.is_none() && self.active.is_none()
    }
}

/// The sorted feed. Every method takes a `login(idx)` function for the tie-break.
#[derive(Debug, Default)]
pub(crate) struct SummaryIndex {
    entries: Vec<Entry>,
}

fn order<'a>(login: &impl Fn(u32) -> &'a str, a: &Entry, b_modified: i64, b_idx: u32) -> Ordering {
    a.modified
        .cmp(&b_modified)
        .then_with(|| login(a.idx).cmp(login(b_idx)))
}

impl SummaryIndex {
    /// Builds the index from unsorted entries.
    pub fn build<'a>(mut entries: Vec<Entry>, login: impl Fn(u32) -> &'a str) -> Self {
        entries.sort_unstable_by(|a, b| order(&login, a, b.modified, b.idx));
        SummaryIndex { entries }
    }

    /// Number of travelers in the feed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The entries, in feed order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    fn find<'a>(&self, login: &impl Fn(u32) -> &'a str, modified: i64, idx: u32) -> Option<usize> {
        self.entries
            .binary_search_by(|e| order(login, e, modified, idx))
            .ok()
            .filter(|&i| self.entries[i].idx == idx)
    }

    /// Removes the traveler `idx` whose current time is `modified`; returns its entry.
    pub fn remove<'a>(
        &mut self,
        login: impl Fn(u32) -> &'a str,
        modified: i64,
        idx: u32,
    ) -> Option<Entry> {
        let at = self.find(&login, modified, idx)?;
        Some(self.entries.remove(at))
    }

    /// Inserts an entry at its place.
    pub fn insert<'a>(&mut self, login: impl Fn(u32) -> &'a str, entry: Entry) {
        let at = self
            .entries
            .partition_point(|e| order(&login, e, entry.modified, entry.idx) == Ordering::Less);
        self.entries.insert(at, entry);
    }

    /// Changes the active flag of an entry in place (its position does not depend on it).
    pub fn set_active<'a>(
        &mut self,
        login: impl Fn(u32) -> &'a str,
        modified: i64,
        idx: u32,
        active: bool,
    ) {
        if let Some(at) = self.find(&login, modified, idx) {
            self.entries[at].active = active;
        }
    }

    /// One page of the feed: the travelers modified at or after (`inclusive`) or strictly
    /// after `from`, passing `filter`, skipping `offset` and taking at most `limit`.
    /// Returns the total number of matching travelers and the page's table positions.
    pub fn page(
        &self,
        from: i64,
        inclusive: bool,
        filter: &Filter,
        offset: usize,
        limit: usize,
    ) -> (usize, Vec<u32>) {
        let start = self.entries.partition_point(|e| {
            if inclusive {
                e.modified < from
            } else {
                e.modified <= from
            }
        });
        let tail = &self.entries[start..];
        if filter.is_empty() {
            let page = tail
                .iter()
                .skip(offset)
                .take(limit)
                .map(|e| e.idx)
                .collect();
            return (tail.len(), page);
        }
        let mut total = 0;
        let mut page = Vec::with_capacity(limit.min(256));
        for e in tail.iter().filter(|e| filter.accepts(e)) {
            if total >= offset && page.len() < limit {
                page.push(e.idx);
            }
            total += 1;
        }
        (total, page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logins() -> Vec<String> {
        (0..10).map(|i| format!("u{i}")).collect()
    }

    fn entry(idx: u32, modified: i64) -> Entry {
        Entry {
            modified,
            idx,
            config: (idx % 2) as u16,
            active: idx != 3,
        }
    }

    #[test]
    fn pages_follow_time_then_login_and_survive_moves() {
        let names = logins();
        let login = |i: u32| names[i as usize].as_str();
        let mut ix = SummaryIndex::build(
            (0..10).map(|i| entry(i, 100 - (i as i64 / 2))).collect(),
            login,
        );
        let order: Vec<u32> = ix.entries().iter().map(|e| e.idx).collect();
        assert_eq!(order, [8, 9, 6, 7, 4, 5, 2, 3, 0, 1]);
        assert_eq!(
            ix.page(0, true, &Filter::default(), 2, 3),
            (10, vec![6, 7, 4])
        );
        assert_eq!(
            ix.page(99, true, &Filter::default(), 0, 10),
            (4, vec![2, 3, 0, 1])
        );
        assert_eq!(
            ix.page(99, false, &Filter::default(), 0, 10),
            (2, vec![0, 1])
        );
        // Move traveler 8 to the end.
        let e = ix.remove(login, 96, 8).unwrap();
        ix.insert(login, Entry { modified: 200, ..e });
        assert_eq!(ix.page(0, true, &Filter::default(), 8, 5), (10, vec![1, 8]));
        assert!(ix.remove(login, 96, 8).is_none(), "old position is gone");
        let f = Filter {
            configs: Some(vec![1]),
            active: Some(true),
        };
        assert_eq!(ix.page(0, true, &f, 0, 10), (4, vec![9, 7, 5, 1]));
        ix.set_active(login, 99, 3, true);
        assert_eq!(ix.page(0, true, &f, 1, 2), (5, vec![7, 5]));
        assert_eq!(ix.page(0, true, &f, 10, 2), (5, vec![]));
    }
}
