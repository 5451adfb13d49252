//! Saved views: a person's named Explorer views. A view is its page and
//! its URL query (grouping, filters, period, chart), so opening one, or
//! the link it shares, shows the same figures; what one may hold is
//! checked here, for the proxy and the browser alike.

use serde::{Deserialize, Serialize};

/// Pages whose whole state is in their URL, and so can be saved.
pub const PAGES: [&str; 1] = ["/explorer"];

/// Views one person may keep.
pub const MAX_VIEWS: usize = 100;

const MAX_NAME: usize = 80;
const MAX_QUERY: usize = 2000;

/// `GET /api/views`: one of the signed-in person's views.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedView {
    pub id: i64,
    pub name: String,
    pub path: String,
    /// The URL query without its `?`.
    pub query: String,
}

impl SavedView {
    /// The view's link inside the app.
    pub fn link(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }
}

/// `POST /api/views`: saved under its name, replacing the person's view of
/// that name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewSavedView {
    pub name: String,
    pub path: String,
    pub query: String,
}

impl NewSavedView {
    /// The view as it is kept (name trimmed, no leading `?`), or why it
    /// cannot be.
    pub fn checked(&self) -> Result<NewSavedView, String> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err("Give the view a name.".into());
        }
        if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
            return Err(format!(
                "A view's name is up to {MAX_NAME} characters on one line."
            ));
        }
        if !PAGES.contains(&self.path.as_str()) {
            return Err(format!(
                "Only these pages can be saved as views: {}; not “{}”.",
                PAGES.join(", "),
                self.path.chars().take(40).collect::<String>()
            ));
        }
        let query = self.query.strip_prefix('?').unwrap_or(&self.query);
        // A URL query as the app writes it: percent-encoded pairs.
        let well_formed = query.len() <= MAX_QUERY
            && query
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~%&=+".contains(&b));
        if !well_formed {
            return Err(format!(
                "A view's query is a URL query of up to {MAX_QUERY} characters, percent-encoded."
            ));
        }
        Ok(NewSavedView {
            name: name.to_string(),
            path: self.path.clone(),
            query: query.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(name: &str, path: &str, query: &str) -> NewSavedView {
        NewSavedView {
            name: name.into(),
            path: path.into(),
            query: query.into(),
        }
    }

    #[test]
    fn a_view_is_kept_trimmed_and_without_its_question_mark() {
        let v = view(
            "  Contoso by service ",
            "/explorer",
            "?g1=service&f.customer=Contoso%20Ltd",
        )
        .checked()
        .unwrap();
        assert_eq!(v.name, "Contoso by service");
        assert_eq!(v.query, "g1=service&f.customer=Contoso%20Ltd");
        let saved = SavedView {
            id: 1,
            name: v.name,
            path: v.path,
            query: v.query,
        };
        assert_eq!(
            saved.link(),
            "/explorer?g1=service&f.customer=Contoso%20Ltd"
        );
    }

    #[test]
    fn what_a_view_cannot_hold_is_refused_with_why() {
        for (v, says) in [
            (view(" ", "/explorer", ""), "name"),
            (view(&"x".repeat(81), "/explorer", ""), "80"),
            (view("a\nb", "/explorer", ""), "one line"),
            (view("a", "/settings", ""), "/explorer"),
            (view("a", "https://evil.example/explorer", ""), "Only"),
            (view("a", "/explorer", "g1=<script>"), "percent-encoded"),
            (view("a", "/explorer", &"a".repeat(2001)), "2000"),
        ] {
            let e = v.checked().unwrap_err();
            assert!(e.contains(says), "{e}");
        }
    }
}
