//! Elements built as a tree of calls, for the customer's own entry, which
//! draws its one page without Leptos (see `own`). Text is always set as
//! text (never markup), so names from the upstream cannot become elements.

use wasm_bindgen::JsCast;

const SVG: &str = "http://www.w3.org/2000/svg";

/// An element being built.
pub struct El(pub web_sys::Element);

fn document() -> web_sys::Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("a page has a document")
}

/// An HTML element.
pub fn el(tag: &str) -> El {
    El(document().create_element(tag).expect("a known tag name"))
}

/// An SVG element (created in SVG's namespace, or the browser would not draw it).
pub fn svg(tag: &str) -> El {
    El(document()
        .create_element_ns(Some(SVG), tag)
        .expect("a known tag name"))
}

impl El {
    pub fn attr(self, name: &str, value: &str) -> El {
        let _ = self.0.set_attribute(name, value);
        self
    }

    pub fn class(self, class: &str) -> El {
        self.attr("class", class)
    }

    /// Sets `name` only when `on` (a flag attribute: `selected`, `open`).
    pub fn flag(self, name: &str, on: bool) -> El {
        if on { self.attr(name, "") } else { self }
    }

    /// Appends `text` as a text node.
    pub fn text(self, text: &str) -> El {
        let _ = self.0.append_with_str_1(text);
        self
    }

    pub fn child(self, child: El) -> El {
        let _ = self.0.append_with_node_1(&child.0);
        self
    }

    pub fn maybe(self, child: Option<El>) -> El {
        match child {
            Some(c) => self.child(c),
            None => self,
        }
    }

    pub fn children(self, children: impl IntoIterator<Item = El>) -> El {
        children.into_iter().fold(self, El::child)
    }
}

/// Puts `children` in place of what `parent` holds, keeping the focus on
/// the element of the same id (a select that was just changed, say).
pub fn replace(parent: &web_sys::Element, children: Vec<El>) {
    let document = document();
    let focused = document
        .active_element()
        .map(|e| e.id())
        .filter(|id| !id.is_empty());
    parent.set_text_content(None);
    for child in children {
        let _ = parent.append_with_node_1(&child.0);
    }
    if let Some(element) = focused
        .and_then(|id| document.get_element_by_id(&id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = element.focus();
    }
}
