//! Reading Partner Center's answers leniently: a page keeps the items it
//! can read and lists the others, each with why; a next link is cleaned
//! before it is followed.

use model::pc::{CONTINUATION_HEADER, Collection, Link};
use serde::de::DeserializeOwned;

use super::{PcError, Verdict};

pub(super) fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Verdict<T> {
    match serde_json::from_slice(bytes) {
        Ok(v) => Verdict::Done(v),
        // A body that ends early is a broken transfer, worth another try.
        Err(e) if e.is_eof() => {
            Verdict::Retry(PcError::BadResponse(format!("{what}: the body ends early")))
        }
        Err(e) => Verdict::Fail(PcError::BadResponse(format!("{what}: {e}"))),
    }
}

/// An item of a page that could not be read: where, and why (the field
/// and what was wrong with it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub index: usize,
    pub reason: String,
}

/// One page of a collection: the items read, those that could not be, and
/// the next page's link (its URI decoded).
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub unreadable: Vec<Unreadable>,
    pub next: Option<Link>,
}

/// Every item of a collection, across its pages.
#[derive(Debug)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub unreadable: Vec<Unreadable>,
}

/// A page read leniently: one item that cannot be read costs only itself.
/// The whole page is tried first (the common case, and the fast one); only
/// when that fails is each item read on its own, with its field path.
pub(super) fn read_page<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Verdict<Page<T>> {
    let links = |links: model::pc::Links| -> Result<Option<Link>, PcError> {
        links.next.map(clean_link).transpose()
    };
    match serde_json::from_slice::<Collection<T>>(bytes) {
        Ok(page) => match links(page.links) {
            Ok(next) => Verdict::Done(Page {
                items: page.items,
                unreadable: Vec::new(),
                next,
            }),
            Err(e) => Verdict::Fail(e),
        },
        Err(e) if e.is_eof() => {
            Verdict::Retry(PcError::BadResponse(format!("{what}: the body ends early")))
        }
        Err(whole) => match serde_json::from_slice::<Collection<serde_json::Value>>(bytes) {
            Err(_) => Verdict::Fail(PcError::BadResponse(format!(
                "{what}: not a collection ({whole})"
            ))),
            Ok(page) => {
                let mut items = Vec::with_capacity(page.items.len());
                let mut unreadable = Vec::new();
                for (index, item) in page.items.into_iter().enumerate() {
                    match serde_path_to_error::deserialize::<_, T>(item) {
                        Ok(item) => items.push(item),
                        Err(e) => unreadable.push(Unreadable {
                            index,
                            reason: format!("{}: {}", e.path(), e.inner()),
                        }),
                    }
                }
                match links(page.links) {
                    Ok(next) => Verdict::Done(Page {
                        items,
                        unreadable,
                        next,
                    }),
                    Err(e) => Verdict::Fail(e),
                }
            }
        },
    }
}

/// A link as the service writes it, made followable: its URI's HTML
/// entities decoded (`&amp;` between parameters).
pub(super) fn clean_link(mut link: Link) -> Result<Link, PcError> {
    if link.uri.trim().is_empty() {
        return Err(PcError::BadResponse("a next link has no uri".into()));
    }
    link.uri = model::lenient::decode_entities(link.uri.trim());
    Ok(link)
}

/// A next link's URI and continuation token: seeing one twice is a loop.
pub fn page_identity(next: &Link) -> (String, String) {
    let token = next
        .headers
        .iter()
        .filter(|h| h.key.eq_ignore_ascii_case(CONTINUATION_HEADER))
        .map(|h| h.value.clone())
        .collect::<Vec<_>>()
        .join(",");
    (next.uri.clone(), token)
}
