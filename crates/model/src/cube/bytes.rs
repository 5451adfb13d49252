//! A cube as compact bytes for the wire (`application/vnd.csp-costs.cube`),
//! what the browser asks for instead of JSON: each column a dictionary and
//! its codes in the fewest bytes that hold them, days as offsets from the
//! first, money and quantities as integer millionths in as few bytes as
//! each needs (zigzag LEB128: a line of $12.34 takes 4). Little-endian
//! throughout. Decoding reads whole columns, never a row at a time, and
//! refuses anything malformed with the reason instead of panicking.
//!
//! ```text
//! "CSPCUBE" version(u8 = 2)  rows(u32)  columns(u8)
//! per column:  values(u32) { len(u32) utf-8 }…  width(u8: 1, 2, 4)  codes[rows]
//! days:        first(i32) width(u8: 2, 4) offsets[rows]
//! partner cost, customer price, list cost, quantity: count(u32) varint[count]
//! partner-earned credit: count(u32) width(u8: 1, 2) values[count]
//! (a count is the rows, or 0 for a column left out: a customer's own
//! cube has no partner cost, list cost or credit)
//! summed:      0 (line items), or 1 then kept(u8) { len(u32) name }…
//!              tag keys(u32) { len(u32) key }…  width(u8: 1, 2, 4) lines[rows]
//! ```
//!
//! Version 2 added the summed section; a version 1 body is refused (the
//! app and its proxy are released together).

use super::{Column, Cube, Dim, Summed};

/// The media type of the encoding.
pub const CUBE_MEDIA_TYPE: &str = "application/vnd.csp-costs.cube";

const MAGIC: &[u8; 7] = b"CSPCUBE";
const VERSION: u8 = 2;

fn width_for(largest: u64) -> u8 {
    if largest <= u8::MAX as u64 {
        1
    } else if largest <= u16::MAX as u64 {
        2
    } else {
        4
    }
}

/// Zigzag (small magnitudes, either sign, in few bytes), then LEB128.
fn put_varint(out: &mut Vec<u8>, v: i64) {
    let mut n = ((v << 1) ^ (v >> 63)) as u64;
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_uint(out: &mut Vec<u8>, width: u8, n: u32) {
    match width {
        1 => out.push(n as u8),
        2 => out.extend_from_slice(&(n as u16).to_le_bytes()),
        _ => out.extend_from_slice(&n.to_le_bytes()),
    }
}

impl Cube {
    /// The cube as bytes; [`Cube::from_bytes`] reads them back equal.
    pub fn to_bytes(&self) -> Vec<u8> {
        let rows = self.day.len();
        let mut out = Vec::with_capacity(16 + rows * (self.columns.len() + 36));
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&(rows as u32).to_le_bytes());
        out.push(self.columns.len() as u8);
        for column in &self.columns {
            out.extend_from_slice(&(column.values.len() as u32).to_le_bytes());
            for v in &column.values {
                out.extend_from_slice(&(v.len() as u32).to_le_bytes());
                out.extend_from_slice(v.as_bytes());
            }
            let width = width_for(column.values.len().saturating_sub(1) as u64);
            out.push(width);
            for code in &column.codes {
                put_uint(&mut out, width, *code);
            }
        }
        let first = self.day.iter().copied().min().unwrap_or(0);
        let offset = |d: i32| (i64::from(d) - i64::from(first)) as u32;
        let span = self.day.iter().map(|d| offset(*d)).max().unwrap_or(0);
        let width = width_for(u64::from(span)).max(2);
        out.extend_from_slice(&first.to_le_bytes());
        out.push(width);
        for d in &self.day {
            put_uint(&mut out, width, offset(*d));
        }
        for measure in [
            &self.partner_cost,
            &self.customer_price,
            &self.list_cost,
            &self.quantity,
        ] {
            out.extend_from_slice(&(measure.len() as u32).to_le_bytes());
            for v in measure {
                put_varint(&mut out, *v);
            }
        }
        out.extend_from_slice(&(self.pec_basis_points.len() as u32).to_le_bytes());
        let largest = self.pec_basis_points.iter().copied().max().unwrap_or(0);
        let width = width_for(u64::from(largest));
        out.push(width);
        for p in &self.pec_basis_points {
            put_uint(&mut out, width, u32::from(*p));
        }
        match &self.summed {
            None => out.push(0),
            Some(summed) => {
                out.push(1);
                out.push(summed.kept.len() as u8);
                let text = |out: &mut Vec<u8>, t: &str| {
                    out.extend_from_slice(&(t.len() as u32).to_le_bytes());
                    out.extend_from_slice(t.as_bytes());
                };
                for dim in &summed.kept {
                    text(&mut out, &dim.name());
                }
                out.extend_from_slice(&(summed.tag_keys.len() as u32).to_le_bytes());
                for key in &summed.tag_keys {
                    text(&mut out, key);
                }
                let largest = summed.lines.iter().copied().max().unwrap_or(0);
                let width = width_for(u64::from(largest));
                out.push(width);
                for n in &summed.lines {
                    put_uint(&mut out, width, *n);
                }
            }
        }
        out
    }

    /// Reads [`Cube::to_bytes`]'s encoding; a malformed body is an error
    /// that says where.
    pub fn from_bytes(bytes: &[u8]) -> Result<Cube, String> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(MAGIC.len(), "the header")? != MAGIC {
            return Err("not a cube (no CSPCUBE header)".into());
        }
        let version = r.u8("the version")?;
        if version != VERSION {
            return Err(format!("a cube of version {version}; this reads {VERSION}"));
        }
        let rows = r.u32("the row count")? as usize;
        // Every row takes 2 bytes at least (its day): a count the body
        // cannot hold is refused before anything is allocated for it.
        if rows > bytes.len() / 2 + 1 {
            return Err(format!("{rows} rows do not fit in {} bytes", bytes.len()));
        }
        let count = r.u8("the column count")? as usize;
        let mut columns = Vec::with_capacity(count);
        for c in 0..count {
            let values = r.u32("a dictionary's size")? as usize;
            if values > r.left() / 4 {
                return Err(format!("column {c}: {values} values do not fit"));
            }
            let mut column = Column {
                values: Vec::with_capacity(values),
                codes: Vec::new(),
            };
            for _ in 0..values {
                let len = r.u32("a value's length")? as usize;
                let text = r.take(len, "a value")?;
                let text = std::str::from_utf8(text)
                    .map_err(|_| format!("column {c}: a value is not UTF-8"))?;
                column.values.push(text.into());
            }
            let width = r.u8("a column's code width")?;
            column.codes = r.uints(width, rows, "a column's codes")?;
            if column.codes.iter().any(|code| *code as usize >= values) {
                return Err(format!("column {c}: a code names no value"));
            }
            columns.push(column);
        }
        let first = r.i32("the first day")?;
        let width = r.u8("the days' width")?;
        let day = r
            .uints(width, rows, "the days")?
            .into_iter()
            .map(|offset| (i64::from(first) + i64::from(offset)) as i32)
            .collect();
        let mut measure = |what: &str| -> Result<Vec<i64>, String> {
            let count = r.count(rows, what)?;
            r.varints(count, what)
        };
        let partner_cost = measure("the partner costs")?;
        let customer_price = measure("the customer prices")?;
        let list_cost = measure("the list costs")?;
        let quantity = measure("the quantities")?;
        let count = r.count(rows, "the credits")?;
        let width = r.u8("the credits' width")?;
        if width > 2 {
            return Err(format!("the credits: a width of {width} bytes"));
        }
        let pec_basis_points = r
            .uints(width, count, "the credits")?
            .into_iter()
            .map(|p| p as u16)
            .collect();
        let summed = match r.u8("the summed flag")? {
            0 => None,
            1 => {
                let kept = (0..r.u8("the kept dimensions")?)
                    .map(|_| {
                        let name = r.text("a kept dimension")?;
                        Dim::parse(&name).ok_or_else(|| format!("an unknown dimension “{name}”"))
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                let keys = r.u32("the tag keys")? as usize;
                if keys > r.left() / 4 {
                    return Err(format!("{keys} tag keys do not fit"));
                }
                let tag_keys = (0..keys)
                    .map(|_| r.text("a tag key"))
                    .collect::<Result<Vec<_>, String>>()?;
                let width = r.u8("the line counts' width")?;
                let lines = r.uints(width, rows, "the line counts")?;
                Some(Summed {
                    kept,
                    tag_keys,
                    lines,
                })
            }
            other => return Err(format!("a summed flag of {other}")),
        };
        if r.left() != 0 {
            return Err(format!("{} bytes after the cube", r.left()));
        }
        Ok(Cube {
            columns,
            day,
            partner_cost,
            customer_price,
            list_cost,
            quantity,
            pec_basis_points,
            summed,
        })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        if n > self.left() {
            return Err(format!("the body ends in {what} (byte {})", self.at));
        }
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(out)
    }

    /// A length-prefixed UTF-8 text.
    fn text(&mut self, what: &str) -> Result<String, String> {
        let len = self.u32(what)? as usize;
        let bytes = self.take(len, what)?;
        std::str::from_utf8(bytes)
            .map(str::to_string)
            .map_err(|_| format!("{what} is not UTF-8"))
    }

    fn u8(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.take(1, what)?[0])
    }

    fn u32(&mut self, what: &str) -> Result<u32, String> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i32(&mut self, what: &str) -> Result<i32, String> {
        let b = self.take(4, what)?;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A measure's count: the rows, or 0 for a column left out.
    fn count(&mut self, rows: usize, what: &str) -> Result<usize, String> {
        match self.u32(what)? as usize {
            0 => Ok(0),
            n if n == rows => Ok(n),
            n => Err(format!("{what}: {n} values for {rows} rows")),
        }
    }

    /// `n` zigzag LEB128 numbers. The bytes are read from a local slice
    /// (no `Result` per byte): a large cube's measures are most of its body.
    fn varints(&mut self, n: usize, what: &str) -> Result<Vec<i64>, String> {
        let bytes = &self.bytes[self.at..];
        let mut out = Vec::with_capacity(n.min(bytes.len()));
        let mut at = 0;
        for _ in 0..n {
            let (mut value, mut shift) = (0u64, 0u32);
            loop {
                let Some(&byte) = bytes.get(at) else {
                    return Err(format!("the body ends in {what} (byte {})", self.at + at));
                };
                at += 1;
                if shift > 63 {
                    return Err(format!("{what}: a number too long (byte {})", self.at + at));
                }
                value |= u64::from(byte & 0x7F) << shift;
                if byte < 0x80 {
                    break;
                }
                shift += 7;
            }
            out.push(((value >> 1) as i64) ^ -((value & 1) as i64));
        }
        self.at += at;
        Ok(out)
    }

    fn uints(&mut self, width: u8, n: usize, what: &str) -> Result<Vec<u32>, String> {
        let raw = self.take(n * width as usize, what)?;
        Ok(match width {
            1 => raw.iter().map(|b| *b as u32).collect(),
            2 => raw
                .chunks_exact(2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]) as u32)
                .collect(),
            4 => raw
                .chunks_exact(4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            other => return Err(format!("{what}: a width of {other} bytes")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cube::{CubeBuilder, CubeRow};

    fn cube(rows: usize, spread: u32) -> Cube {
        let mut b = CubeBuilder::new();
        for i in 0..rows {
            let customer = format!("customer {}", i as u32 % spread);
            let meter = format!("meter ✓ {}", i % 7);
            b.push(&CubeRow {
                customer: &customer,
                subscription: "s",
                meter: &meter,
                tags: r#"{"env":"prod"}"#,
                currency: "USD",
                day: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
                    + chrono::Days::new((i % 400) as u64),
                partner_cost: i as i64 * 1_234_567 - 99,
                customer_price: -(i as i64),
                list_cost: i64::MAX - i as i64,
                quantity: i64::MIN + i as i64,
                pec_basis_points: (i % 1600) as u16,
                ..Default::default()
            });
        }
        b.finish()
    }

    #[test]
    fn a_cube_reads_back_equal_whatever_its_dictionaries_widths() {
        // One, two and four bytes a code; an empty cube too.
        for (rows, spread) in [(0, 1), (1, 1), (300, 200), (1000, 300), (70_000, 70_000)] {
            let c = cube(rows, spread);
            let bytes = c.to_bytes();
            assert_eq!(Cube::from_bytes(&bytes).unwrap(), c, "{rows} rows");
        }
        // A customer's own cube: the partner's columns are left out.
        let own = cube(300, 20).without_partner_figures();
        assert_eq!(Cube::from_bytes(&own.to_bytes()).unwrap(), own);
        assert!(own.to_bytes().len() < cube(300, 20).to_bytes().len());
    }

    #[test]
    fn the_bytes_are_smaller_than_the_json() {
        // Amounts of a usual line: cents to hundreds, in millionths.
        let mut b = CubeBuilder::new();
        for i in 0..20_000u32 {
            let customer = format!("customer {}", i % 150);
            b.push(&CubeRow {
                customer: &customer,
                currency: "USD",
                day: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
                    + chrono::Days::new(u64::from(i % 30)),
                partner_cost: i64::from(i) * 12_345 % 300_000_000,
                customer_price: i64::from(i) * 13_579 % 330_000_000,
                list_cost: i64::from(i) * 14_321 % 360_000_000,
                quantity: i64::from(i) * 1_000 % 24_000_000,
                ..Default::default()
            });
        }
        let c = b.finish();
        let json = serde_json::to_vec(&c).unwrap();
        let bytes = c.to_bytes();
        assert!(
            bytes.len() * 10 < json.len() * 6,
            "{} against {}",
            bytes.len(),
            json.len()
        );
    }

    #[test]
    fn a_malformed_body_is_an_error_never_a_panic() {
        let good = cube(50, 20).to_bytes();
        assert!(
            Cube::from_bytes(b"{\"columns\":[]}")
                .unwrap_err()
                .contains("CSPCUBE")
        );
        // Every shorter body, and every body with one byte changed.
        for end in 0..good.len() {
            assert!(Cube::from_bytes(&good[..end]).is_err(), "cut at {end}");
        }
        for at in 0..good.len() {
            let mut bad = good.clone();
            bad[at] ^= 0xA5;
            let _ = Cube::from_bytes(&bad);
        }
        let mut longer = good.clone();
        longer.push(0);
        assert!(
            Cube::from_bytes(&longer)
                .unwrap_err()
                .contains("after the cube")
        );
        let mut huge = good.clone();
        huge[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Cube::from_bytes(&huge).unwrap_err().contains("do not fit"));
    }
}
