//! A line's tags as Partner Center sends them: JSON object text,
//! `{"env":"prod"}`. Read by hand rather than through `serde_json::Value`,
//! whose code was otherwise in the customer's own page only for this
//! (issue 23); a test holds it to serde_json for every text-valued object.

/// The pairs in the order written; a key written twice keeps its last
/// value. A value that is not text is kept as its JSON without spaces.
/// Anything but a JSON object reads as no tags.
pub fn parse_tags(text: &str) -> Vec<(String, String)> {
    let mut reader = Reader {
        b: text.as_bytes(),
        text,
        at: 0,
    };
    reader.object().unwrap_or_default()
}

struct Reader<'a> {
    b: &'a [u8],
    text: &'a str,
    at: usize,
}

impl Reader<'_> {
    fn space(&mut self) {
        while self
            .b
            .get(self.at)
            .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        self.space();
        (self.b.get(self.at) == Some(&c)).then(|| self.at += 1)
    }

    fn peek(&mut self) -> Option<u8> {
        self.space();
        self.b.get(self.at).copied()
    }

    /// The whole text as one object.
    fn object(&mut self) -> Option<Vec<(String, String)>> {
        self.eat(b'{')?;
        let mut pairs: Vec<(String, String)> = Vec::new();
        if self.eat(b'}').is_none() {
            loop {
                self.space();
                let key = self.string()?;
                self.eat(b':')?;
                let value = if self.peek()? == b'"' {
                    self.string()?
                } else {
                    let from = self.at;
                    self.value()?;
                    compact(&self.text[from..self.at])
                };
                match pairs.iter_mut().find(|(k, _)| *k == key) {
                    Some(pair) => pair.1 = value,
                    None => pairs.push((key, value)),
                }
                if self.eat(b',').is_none() {
                    self.eat(b'}')?;
                    break;
                }
            }
        }
        self.space();
        (self.at == self.b.len()).then_some(pairs)
    }

    /// Any JSON value, checked and skipped.
    fn value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' | b'[' => {
                let close = if self.b[self.at] == b'{' { b'}' } else { b']' };
                self.at += 1;
                if self.eat(close).is_some() {
                    return Some(());
                }
                loop {
                    if close == b'}' {
                        self.space();
                        self.string()?;
                        self.eat(b':')?;
                    }
                    self.value()?;
                    if self.eat(b',').is_none() {
                        return self.eat(close);
                    }
                }
            }
            b't' => self.word("true"),
            b'f' => self.word("false"),
            b'n' => self.word("null"),
            _ => self.number(),
        }
    }

    fn word(&mut self, word: &str) -> Option<()> {
        self.text[self.at..]
            .starts_with(word)
            .then(|| self.at += word.len())
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Option<()> {
        let digits = |r: &mut Self| {
            let from = r.at;
            while r.b.get(r.at).is_some_and(u8::is_ascii_digit) {
                r.at += 1;
            }
            r.at > from
        };
        if self.b.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        if self.b.get(self.at) == Some(&b'0') {
            self.at += 1;
        } else if !digits(self) {
            return None;
        }
        if self.b.get(self.at) == Some(&b'.') {
            self.at += 1;
            digits(self).then_some(())?;
        }
        if matches!(self.b.get(self.at), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.b.get(self.at), Some(b'+' | b'-')) {
                self.at += 1;
            }
            digits(self).then_some(())?;
        }
        Some(())
    }

    /// A string's text, its escapes read.
    fn string(&mut self) -> Option<String> {
        if self.b.get(self.at) != Some(&b'"') {
            return None;
        }
        self.at += 1;
        let mut out = String::new();
        loop {
            let rest = &self.text[self.at..];
            let plain = rest.find(['"', '\\']).unwrap_or(rest.len());
            if rest[..plain].bytes().any(|c| c < 0x20) {
                return None;
            }
            out.push_str(&rest[..plain]);
            self.at += plain;
            match self.b.get(self.at)? {
                b'"' => {
                    self.at += 1;
                    return Some(out);
                }
                _ => {
                    self.at += 1;
                    let escaped = *self.b.get(self.at)?;
                    self.at += 1;
                    out.push(match escaped {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode()?,
                        _ => return None,
                    });
                }
            }
        }
    }

    /// After `\u`: four hex digits, a surrogate pair as two.
    fn unicode(&mut self) -> Option<char> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first) {
            if !self.text[self.at..].starts_with("\\u") {
                return None;
            }
            self.at += 2;
            let second = self.hex4()?;
            if !(0xDC00..0xE000).contains(&second) {
                return None;
            }
            return char::from_u32(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00));
        }
        char::from_u32(first)
    }

    fn hex4(&mut self) -> Option<u32> {
        let hex = self.text.get(self.at..self.at + 4)?;
        if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        self.at += 4;
        u32::from_str_radix(hex, 16).ok()
    }
}

/// JSON without the spaces between its tokens (a checked value).
fn compact(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if !c.is_ascii_whitespace() {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn tags_are_read_in_order_with_their_escapes() {
        assert_eq!(
            parse_tags(r#" { "env" : "prod", "owner":"ana\"b\\c\u00e9\ud83d\ude00" } "#),
            pairs(&[("env", "prod"), ("owner", "ana\"b\\cé😀")])
        );
        assert_eq!(parse_tags("{}"), pairs(&[]));
        assert_eq!(parse_tags(r#"{"a":"1","a":"2"}"#), pairs(&[("a", "2")]));
        assert_eq!(
            parse_tags(r#"{"n": 1.50, "t": true, "x": null, "l": [1, {"k": "v w"}], "o": {}}"#),
            pairs(&[
                ("n", "1.50"),
                ("t", "true"),
                ("x", "null"),
                ("l", r#"[1,{"k":"v w"}]"#),
                ("o", "{}")
            ])
        );
    }

    #[test]
    fn anything_but_an_object_is_no_tags() {
        for bad in [
            "",
            "null",
            "[]",
            r#""env""#,
            "{",
            r#"{"a":"b""#,
            r#"{"a":"b"} x"#,
            r#"{"a":"b",}"#,
            r#"{"a" "b"}"#,
            r#"{a:"b"}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":-}"#,
            r#"{"a":"\x"}"#,
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\u12"}"#,
            "{\"a\":\"\u{1}\"}",
            r#"{"a":[1,]}"#,
            r#"{"a":tru}"#,
            r#"{"a":{"b"}}"#,
        ] {
            assert_eq!(parse_tags(bad), pairs(&[]), "{bad}");
            assert!(
                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(bad).is_err(),
                "{bad}"
            );
        }
    }

    proptest! {
        #[test]
        fn text_tags_read_as_serde_writes_them(map in proptest::collection::btree_map("\\PC{0,12}", "\\PC{0,12}", 0..6)) {
            let text = serde_json::to_string(&map).unwrap();
            let expected: Vec<(String, String)> = map.into_iter().collect();
            prop_assert_eq!(parse_tags(&text), expected);
        }

        #[test]
        fn any_text_serde_refuses_is_no_tags(text in "\\PC{0,40}") {
            if serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text).is_err() {
                prop_assert!(parse_tags(&text).is_empty());
            }
        }
    }
}
