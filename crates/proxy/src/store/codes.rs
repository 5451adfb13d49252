//! Texts numbered as they are first seen, and the fast hash the store's
//! own integer keys use: millions of lines are grouped by a few short texts
//! each, and SipHash or a `String` per line cost more than the rest of a
//! line's work.

use std::collections::{HashMap, HashSet};

use foldhash::fast::RandomState;

/// Our own integer keys, hashed by foldhash.
pub(super) type FastMap<K, V> = HashMap<K, V, RandomState>;
pub(super) type FastSet<T> = HashSet<T, RandomState>;

/// A text column's values as first seen, each numbered once.
#[derive(Default)]
pub(super) struct Seen {
    codes: HashMap<Box<[u8]>, u32, RandomState>,
    texts: Vec<String>,
    /// The last value asked for: lines come a customer's at a time.
    last: Option<u32>,
}

impl Seen {
    pub(super) fn code(&mut self, text: &[u8]) -> u32 {
        if let Some(code) = self.last
            && self.texts[code as usize].as_bytes() == text
        {
            return code;
        }
        let code = self.code_of(text);
        self.last = Some(code);
        code
    }

    fn code_of(&mut self, text: &[u8]) -> u32 {
        if let Some(code) = self.codes.get(text) {
            return *code;
        }
        let code = self.texts.len() as u32;
        self.texts.push(String::from_utf8_lossy(text).into_owned());
        self.codes.insert(text.into(), code);
        code
    }

    pub(super) fn text(&self, code: u32) -> &str {
        self.texts.get(code as usize).map_or("", String::as_str)
    }

    /// Every text seen, in the order first seen (its code).
    pub(super) fn texts(&self) -> &[String] {
        &self.texts
    }
}
