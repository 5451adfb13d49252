//! The lines' sums at rest (`line_sums`): per day, customer, charge type
//! and currency, with the tag keys the lines' resources carry, for each
//! kept scope and version. A scope's read sums its lines in memory as they
//! are written and writes the sums in the transaction that keeps it
//! (lines kept outside any snapshot, with them); they go by the same
//! conditions as the lines, and are worked out again from the lines when
//! repricing changes what customers pay. The Explorer's view of a large
//! partner by customer reads a month's sums (~150,000 rows at 5,000
//! customers) where the lines are over a million.

use std::collections::BTreeMap;

use model::usage::LineItem;

use super::KEPT;
use super::bulk::{self, Connection, Statement, Value};
use crate::store::Store;
use crate::store::codes::{FastMap, Seen};

/// A sum's key: the codes of its scope, day, customer, charge type and
/// currency, and its version.
type Key = ([u32; 5], i64);

/// A line's or a sum's figures, in the columns' order.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) struct Sum {
    pub partner_cost: i64,
    pub customer_price: i64,
    pub list_cost: i64,
    pub quantity: i64,
    pub lines: i64,
}

impl Sum {
    /// Adds `other`; `false` (and nothing added) past 64 bits.
    pub(in crate::store) fn add(&mut self, other: &Sum) -> bool {
        let total = (|| {
            Some(Sum {
                partner_cost: self.partner_cost.checked_add(other.partner_cost)?,
                customer_price: self.customer_price.checked_add(other.customer_price)?,
                list_cost: self.list_cost.checked_add(other.list_cost)?,
                quantity: self.quantity.checked_add(other.quantity)?,
                lines: self.lines.checked_add(other.lines)?,
            })
        })();
        total.map(|t| *self = t).is_some()
    }
}

/// What names a line's sum, as the line has it.
pub(in crate::store) struct Named<'a> {
    pub scope: &'a [u8],
    pub version: i64,
    pub day: &'a [u8],
    pub customer: &'a [u8],
    pub charge_type: &'a [u8],
    pub currency: &'a [u8],
    /// Its resource's tags, as stored (a JSON object).
    pub tags: &'a [u8],
}

/// The tag keys of a resource's tags, as `line_sums` keeps them: a JSON
/// object of the keys, sorted, each with an empty value (what the
/// Explorer's cube reads tags from; SQLite's `json_patch` unites two).
pub(in crate::store) fn tag_keys(tags: &str) -> String {
    keys_text(model::cube::parse_tags(tags).into_iter().map(|(k, _)| k))
}

fn keys_text(keys: impl Iterator<Item = String>) -> String {
    let keys: BTreeMap<String, &str> = keys.map(|k| (k, "")).collect();
    serde_json::to_string(&keys).unwrap_or_else(|_| "{}".into())
}

/// Lines summed as `line_sums` keeps them, texts numbered once.
#[derive(Default)]
pub(in crate::store) struct LineSums {
    texts: [Seen; 5],
    tags: Seen,
    /// The code of each resource tags' keys, by the tags' code.
    keys_of_tags: Vec<u32>,
    /// Sets of tag keys as kept (`{"env":""}`).
    tag_keys: Seen,
    /// Two sets' union, by their codes.
    unions: FastMap<(u32, u32), u32>,
    /// Each sum, and the code of its lines' tag keys.
    sums: FastMap<Key, (Sum, u32)>,
    /// A sum went past 64 bits.
    overflow: bool,
    /// See [`LineSums::spoil`].
    spoiled: bool,
}

impl LineSums {
    /// Adds a batch of lines of one scope and version, each with its day
    /// as stored, its list cost and its price as worked out.
    pub(in crate::store) fn add_batch<'a>(
        &mut self,
        scope: &str,
        version: i64,
        lines: impl Iterator<Item = (&'a LineItem, &'a [u8; 10], i64, i64)>,
    ) {
        for (l, day, list_cost, price) in lines {
            let named = Named {
                scope: scope.as_bytes(),
                version,
                day,
                customer: l.customer_id.as_bytes(),
                charge_type: l.charge_type.as_bytes(),
                currency: l.billing_currency.code().as_bytes(),
                tags: l.tags.as_bytes(),
            };
            let figures = Sum {
                partner_cost: l.billing_total.micros(),
                customer_price: price,
                list_cost,
                quantity: l.quantity_micros,
                lines: 1,
            };
            self.add(&named, &figures);
        }
    }

    pub(in crate::store) fn add(&mut self, line: &Named<'_>, figures: &Sum) {
        let tags = self.tags.code(line.tags) as usize;
        while self.keys_of_tags.len() <= tags {
            let text = self.tags.text(self.keys_of_tags.len() as u32);
            let keys = tag_keys(text);
            self.keys_of_tags.push(self.tag_keys.code(keys.as_bytes()));
        }
        let [scope, day, customer, charge_type, currency] = &mut self.texts;
        let key = (
            [
                scope.code(line.scope),
                day.code(line.day),
                customer.code(line.customer),
                charge_type.code(line.charge_type),
                currency.code(line.currency),
            ],
            line.version,
        );
        let keys = self.keys_of_tags[tags];
        self.add_sum(key, figures, keys);
    }

    /// Adds a sum and its tag keys' code to the one of `key`.
    fn add_sum(&mut self, key: Key, figures: &Sum, keys: u32) {
        let (sum, kept) = self.sums.entry(key).or_insert((Sum::default(), keys));
        if !sum.add(figures) {
            self.overflow = true;
        }
        if *kept != keys {
            let pair = ((*kept).min(keys), (*kept).max(keys));
            *kept = match self.unions.get(&pair) {
                Some(union) => *union,
                None => {
                    let all = [pair.0, pair.1].into_iter().flat_map(|k| {
                        model::cube::parse_tags(self.tag_keys.text(k))
                            .into_iter()
                            .map(|(k, _)| k)
                    });
                    let union = self.tag_keys.code(keys_text(all).as_bytes());
                    self.unions.insert(pair, union);
                    union
                }
            };
        }
    }

    /// Lines were added that are not in the store (their write failed).
    pub(in crate::store) fn spoil(&mut self) {
        self.spoiled = true;
    }

    pub(in crate::store) fn spoiled(&self) -> bool {
        self.spoiled
    }

    /// The sums as `line_sums` rows, in the table's order (day,
    /// customer…: its B-tree is appended to rather than split all over);
    /// an error if one went past 64 bits.
    pub(in crate::store) fn rows(&self) -> Result<Vec<SumRow<'_>>, sqlx::Error> {
        if self.overflow {
            return Err(sqlx::Error::Protocol(
                "a day's sum of a customer's lines is past 64 bits".into(),
            ));
        }
        let [scope, day, customer, charge_type, currency] = &self.texts;
        let mut rows: Vec<SumRow<'_>> = self
            .sums
            .iter()
            .map(|(([s, d, c, t, cur], version), (sum, k))| SumRow {
                day: day.text(*d),
                customer: customer.text(*c),
                charge_type: charge_type.text(*t),
                currency: currency.text(*cur),
                scope: scope.text(*s),
                version: *version,
                tag_keys: self.tag_keys.text(*k),
                sum: *sum,
            })
            .collect();
        rows.sort_unstable_by(|a, b| {
            (
                a.day,
                a.customer,
                a.charge_type,
                a.currency,
                a.scope,
                a.version,
            )
                .cmp(&(
                    b.day,
                    b.customer,
                    b.charge_type,
                    b.currency,
                    b.scope,
                    b.version,
                ))
        });
        Ok(rows)
    }

    /// Adds the sums to `partner`'s in `line_sums`.
    pub(in crate::store) fn write(
        &self,
        db: &Connection<'_>,
        partner: i64,
    ) -> Result<(), sqlx::Error> {
        let rows = self.rows()?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut add = Statement::prepare(db, ADD)?;
        for r in rows {
            use Value::{Int, Text};
            add.run(&[
                Int(partner),
                Text(r.day),
                Text(r.customer),
                Text(r.charge_type),
                Text(r.currency),
                Text(r.scope),
                Int(r.version),
                Text(r.tag_keys),
                Int(r.sum.partner_cost),
                Int(r.sum.customer_price),
                Int(r.sum.list_cost),
                Int(r.sum.quantity),
                Int(r.sum.lines),
            ])?;
        }
        Ok(())
    }
}

/// One row of `line_sums` as written.
pub(in crate::store) struct SumRow<'a> {
    pub day: &'a str,
    pub customer: &'a str,
    pub charge_type: &'a str,
    pub currency: &'a str,
    pub scope: &'a str,
    pub version: i64,
    pub tag_keys: &'a str,
    pub sum: Sum,
}

/// Adds one sum to the stored one of its key (STRICT refuses a sum past
/// 64 bits, which SQLite would make a REAL).
const ADD: &str = "INSERT INTO line_sums (partner_id, usage_date, customer_id, charge_type,
        billing_currency, scope, version, tag_keys, billing_total_micros, customer_price_micros,
        list_cost_micros, quantity_micros, line_items)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (partner_id, usage_date, customer_id, charge_type, billing_currency, scope,
        version) DO UPDATE SET
        tag_keys = json_patch(tag_keys, excluded.tag_keys),
        billing_total_micros = billing_total_micros + excluded.billing_total_micros,
        customer_price_micros = customer_price_micros + excluded.customer_price_micros,
        list_cost_micros = list_cost_micros + excluded.list_cost_micros,
        quantity_micros = quantity_micros + excluded.quantity_micros,
        line_items = line_items + excluded.line_items";

/// Which lines' sums are written again from the lines.
pub(in crate::store) enum Lines<'a> {
    /// The kept lines, of one customer or (`None`) of all.
    Kept(Option<&'a str>),
    /// The lines of a scope's read (scope, version), as it is kept.
    Read(&'a str, i64),
}

/// Writes the sums of `partner`'s `lines` again from the lines, in the
/// caller's transaction: after repricing, for a scope's read that was
/// repriced, and for a store whose lines were kept before their sums were.
pub(in crate::store) fn rebuild(
    db: &Connection<'_>,
    partner: i64,
    lines: Lines<'_>,
) -> Result<(), sqlx::Error> {
    let mut binds = vec![Value::Int(partner)];
    let (only, order) = match lines {
        Lines::Kept(customer) => {
            binds.extend(customer.map(Value::Text));
            let only = if customer.is_some() {
                "AND l.customer_id = ?"
            } else {
                ""
            };
            // A day's lines at a time (the index by day), so the sums
            // held are one day's.
            (only, "ORDER BY l.usage_date")
        }
        Lines::Read(scope, version) => {
            binds.extend([Value::Text(scope), Value::Int(version)]);
            ("AND l.scope = ? AND l.version = ?", "")
        }
    };
    let mut clear = Statement::prepare(
        db,
        &format!("DELETE FROM line_sums AS l WHERE l.partner_id = ? {only}"),
    )?;
    clear.run(&binds)?;
    let kept = match lines {
        Lines::Kept(_) => {
            binds.push(Value::Int(partner));
            format!("AND {KEPT}")
        }
        Lines::Read(..) => String::new(),
    };
    let mut select = Statement::prepare(
        db,
        &format!(
            "SELECT l.scope, l.version, l.usage_date, l.customer_id, l.charge_type,
                l.billing_currency, COALESCE(r.tags, ''), l.billing_total_micros,
                l.customer_price_micros, l.list_cost_micros, l.quantity_micros
             FROM line_items l LEFT JOIN resources r ON r.id = l.resource
             WHERE l.partner_id = ? {only} {kept} {order}"
        ),
    )?;
    let mut sums = LineSums::default();
    let mut last_day: Vec<u8> = Vec::new();
    let mut failed = None;
    select.rows(&binds, |row| {
        if failed.is_some() {
            return;
        }
        if row.text(2) != last_day.as_slice() {
            if let Err(e) = sums.write(db, partner) {
                failed = Some(e);
                return;
            }
            sums = LineSums::default();
            last_day = row.text(2).to_vec();
        }
        let named = Named {
            scope: row.text(0),
            version: row.int(1),
            day: row.text(2),
            customer: row.text(3),
            charge_type: row.text(4),
            currency: row.text(5),
            tags: row.text(6),
        };
        let figures = Sum {
            partner_cost: row.int(7),
            customer_price: row.int(8),
            list_cost: row.int(9),
            quantity: row.int(10),
            lines: 1,
        };
        sums.add(&named, &figures);
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    sums.write(db, partner)
}

impl Store {
    /// Sums the lines of a store that kept them before it kept their sums
    /// (a store from before `line_sums`), once, when it is opened.
    pub(in crate::store) async fn sum_lines_kept_without_sums(&self) -> Result<(), sqlx::Error> {
        let (lines, sums): (bool, bool) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM line_items), EXISTS (SELECT 1 FROM line_sums)",
        )
        .fetch_one(&self.lite()?.pool)
        .await?;
        if !lines || sums {
            return Ok(());
        }
        let partners: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT partner_id FROM line_items")
            .fetch_all(&self.lite()?.pool)
            .await?;
        tracing::info!(
            partners = partners.len(),
            "summing the lines kept before their sums"
        );
        let mut tx = self.write().await?;
        let mut handle = tx.lite()?.lock_handle().await?;
        bulk::holding_the_thread(|| {
            let db = Connection::of(&mut handle);
            partners
                .iter()
                .try_for_each(|p| rebuild(&db, *p, Lines::Kept(None)))
        })?;
        drop(handle);
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_keys_are_the_sorted_keys_without_their_values() {
        assert_eq!(
            tag_keys(r#"{"owner":"ana","env":"prod"}"#),
            r#"{"env":"","owner":""}"#
        );
        assert_eq!(tag_keys(""), "{}");
        assert_eq!(tag_keys("{}"), "{}");
        assert_eq!(tag_keys("not json"), "{}");
        // What the cube reads tags from gives the same keys.
        let keys: Vec<String> = model::cube::parse_tags(&tag_keys(r#"{"b":1,"a":"x"}"#))
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, ["a", "b"]);
    }

    #[test]
    fn lines_that_name_alike_are_one_sum_with_their_tag_keys_united() {
        let line = |customer: &'static [u8], tags: &'static [u8]| Named {
            scope: b"v2:unbilled:USD:2026-11",
            version: 3,
            day: b"2026-11-02",
            customer,
            charge_type: b"new",
            currency: b"USD",
            tags,
        };
        let one = Sum {
            partner_cost: 5,
            customer_price: 6,
            list_cost: 7,
            quantity: 8,
            lines: 1,
        };
        let mut sums = LineSums::default();
        sums.add(&line(b"c1", br#"{"env":"a"}"#), &one);
        sums.add(&line(b"c1", br#"{"env":"b","owner":"x"}"#), &one);
        sums.add(&line(b"c1", b""), &one);
        sums.add(&line(b"c2", b""), &one);
        assert_eq!(sums.sums.len(), 2);
        let (c1, keys) = sums.sums.values().find(|(s, _)| s.lines == 3).unwrap();
        assert_eq!((c1.partner_cost, c1.quantity), (15, 24));
        assert_eq!(sums.tag_keys.text(*keys), r#"{"env":"","owner":""}"#);
        // A set already seen, and no keys, keep the union.
        sums.add(&line(b"c1", br#"{"owner":"y"}"#), &one);
        sums.add(&line(b"c1", b"{}"), &one);
        let (_, keys) = sums.sums.values().find(|(s, _)| s.lines == 5).unwrap();
        assert_eq!(sums.tag_keys.text(*keys), r#"{"env":"","owner":""}"#);
        assert!(!sums.overflow);
        sums.add(
            &line(b"c2", b""),
            &Sum {
                partner_cost: i64::MAX,
                ..one
            },
        );
        assert!(sums.overflow);
    }
}
