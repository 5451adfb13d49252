//! An RFC 4180 reader for the exports in tests: quoted fields may hold
//! commas, quotes (doubled) and line breaks. An empty unquoted field is a
//! null; `""` is an empty string (the export writes neither for a value).

/// The records of a CSV text; a field is `None` when it is empty and
/// unquoted (FOCUS's null).
pub fn records(text: &str) -> Vec<Vec<Option<String>>> {
    let mut out = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let (mut quoted, mut in_quotes, mut at_start) = (false, false, true);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if at_start => {
                quoted = true;
                in_quotes = true;
                at_start = false;
            }
            ',' | '\n' => {
                let value = std::mem::take(&mut field);
                record.push((quoted || !value.is_empty()).then_some(value));
                quoted = false;
                at_start = true;
                if c == '\n' {
                    out.push(std::mem::take(&mut record));
                }
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            c => {
                field.push(c);
                at_start = false;
            }
        }
    }
    if !at_start || !record.is_empty() {
        record.push((quoted || !field.is_empty()).then_some(field));
        out.push(record);
    }
    out
}

#[test]
fn quoted_fields_keep_their_commas_quotes_and_nulls() {
    let rows = records("a,b,c\r\n1,\"x, \"\"y\"\"\",\r\n\"\",2,\"line\nbreak\"\r\n");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1], [Some("1".into()), Some("x, \"y\"".into()), None]);
    assert_eq!(
        rows[2],
        [
            Some(String::new()),
            Some("2".into()),
            Some("line\nbreak".into())
        ]
    );
}
