//! The lines' sums at rest (`line_sums`): per day, customer, charge type,
//! currency and the set of tag keys the lines' resources carry, for each
//! scope and version. Written in the transaction that writes the lines,
//! deleted by the same conditions, and written again from the lines when
//! repricing changes what customers pay. The Explorer's view of a large
//! partner by customer reads a month's sums (~150,000 rows at 5,000
//! customers) where the lines are over a million.

use std::collections::BTreeMap;

use model::usage::LineItem;

use super::bulk::{self, Connection, Statement, Value};
use crate::store::Store;
use crate::store::codes::{FastMap, Seen};

/// A sum's key: the codes of its scope, day, customer, charge type,
/// currency and tag keys, and its version.
type Key = ([u32; 6], i64);

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
/// Explorer's cube reads tags from), or empty for none.
pub(in crate::store) fn tag_keys(tags: &str) -> String {
    let keys: BTreeMap<String, &str> = model::cube::parse_tags(tags)
        .into_iter()
        .map(|(k, _)| (k, ""))
        .collect();
    if keys.is_empty() {
        return String::new();
    }
    serde_json::to_string(&keys).unwrap_or_default()
}

/// Lines summed as `line_sums` keeps them, texts numbered once.
#[derive(Default)]
pub(in crate::store) struct LineSums {
    texts: [Seen; 5],
    tags: Seen,
    /// The code of each resource tags' keys, by the tags' code.
    keys_of_tags: Vec<u32>,
    tag_keys: Seen,
    sums: FastMap<Key, Sum>,
    /// A sum went past 64 bits.
    overflow: bool,
}

impl LineSums {
    /// The sums of a batch of lines of one scope and version, each with
    /// its day as stored, its list cost and its price as worked out.
    pub(in crate::store) fn of_batch<'a>(
        scope: &str,
        version: i64,
        lines: impl Iterator<Item = (&'a LineItem, &'a [u8; 10], i64, i64)>,
    ) -> LineSums {
        let mut sums = LineSums::default();
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
            sums.add(&named, &figures);
        }
        sums
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
                self.keys_of_tags[tags],
            ],
            line.version,
        );
        if !self.sums.entry(key).or_default().add(figures) {
            self.overflow = true;
        }
    }

    fn is_empty(&self) -> bool {
        self.sums.is_empty()
    }

    /// Adds the sums to `partner`'s in `line_sums`.
    pub(in crate::store) fn write(
        &self,
        db: &Connection<'_>,
        partner: i64,
    ) -> Result<(), sqlx::Error> {
        if self.overflow {
            return Err(sqlx::Error::Protocol(
                "a day's sum of a customer's lines is past 64 bits".into(),
            ));
        }
        if self.is_empty() {
            return Ok(());
        }
        let mut add = Statement::prepare(db, ADD)?;
        let [scope, day, customer, charge_type, currency] = &self.texts;
        for (([s, d, c, t, cur, k], version), sum) in &self.sums {
            use Value::{Int, Text};
            add.run(&[
                Int(partner),
                Text(day.text(*d)),
                Text(customer.text(*c)),
                Text(charge_type.text(*t)),
                Text(currency.text(*cur)),
                Text(self.tag_keys.text(*k)),
                Text(scope.text(*s)),
                Int(*version),
                Int(sum.partner_cost),
                Int(sum.customer_price),
                Int(sum.list_cost),
                Int(sum.quantity),
                Int(sum.lines),
            ])?;
        }
        Ok(())
    }
}

/// Adds one sum to the stored one of its key (STRICT refuses a sum past
/// 64 bits, which SQLite would make a REAL).
const ADD: &str = "INSERT INTO line_sums (partner_id, usage_date, customer_id, charge_type,
        billing_currency, tag_keys, scope, version, billing_total_micros, customer_price_micros,
        list_cost_micros, quantity_micros, line_items)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (partner_id, usage_date, customer_id, charge_type, billing_currency, tag_keys,
        scope, version) DO UPDATE SET
        billing_total_micros = billing_total_micros + excluded.billing_total_micros,
        customer_price_micros = customer_price_micros + excluded.customer_price_micros,
        list_cost_micros = list_cost_micros + excluded.list_cost_micros,
        quantity_micros = quantity_micros + excluded.quantity_micros,
        line_items = line_items + excluded.line_items";

/// Writes the sums of `partner`'s lines again from the lines (of one
/// customer, or of all), in the caller's transaction: after repricing, and
/// for a store whose lines were kept before their sums were.
pub(in crate::store) fn rebuild(
    db: &Connection<'_>,
    partner: i64,
    customer: Option<&str>,
) -> Result<(), sqlx::Error> {
    let of_customer = if customer.is_some() {
        "AND customer_id = ?"
    } else {
        ""
    };
    let mut clear = Statement::prepare(
        db,
        &format!("DELETE FROM line_sums WHERE partner_id = ? {of_customer}"),
    )?;
    let mut binds = vec![Value::Int(partner)];
    binds.extend(customer.map(Value::Text));
    clear.run(&binds)?;
    // A customer's lines at a time (the index by customer), so the sums
    // held are one customer's.
    let mut select = Statement::prepare(
        db,
        &format!(
            "SELECT l.scope, l.version, l.usage_date, l.customer_id, l.charge_type,
                l.billing_currency, COALESCE(r.tags, ''), l.billing_total_micros,
                l.customer_price_micros, l.list_cost_micros, l.quantity_micros
             FROM line_items l LEFT JOIN resources r ON r.id = l.resource
             WHERE l.partner_id = ? {} ORDER BY l.customer_id",
            of_customer.replace("customer_id", "l.customer_id")
        ),
    )?;
    let mut sums = LineSums::default();
    let mut last_customer: Vec<u8> = Vec::new();
    let mut failed = None;
    select.rows(&binds, |row| {
        if failed.is_some() {
            return;
        }
        if row.text(3) != last_customer.as_slice() {
            if let Err(e) = sums.write(db, partner) {
                failed = Some(e);
                return;
            }
            sums = LineSums::default();
            last_customer = row.text(3).to_vec();
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
        .fetch_one(&self.pool)
        .await?;
        if !lines || sums {
            return Ok(());
        }
        let partners: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT partner_id FROM line_items")
            .fetch_all(&self.pool)
            .await?;
        tracing::info!(
            partners = partners.len(),
            "summing the lines kept before their sums"
        );
        let mut tx = self.write().await?;
        let mut handle = tx.lock_handle().await?;
        bulk::holding_the_thread(|| {
            let db = Connection::of(&mut handle);
            partners.iter().try_for_each(|p| rebuild(&db, *p, None))
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
        assert_eq!(tag_keys(""), "");
        assert_eq!(tag_keys("{}"), "");
        assert_eq!(tag_keys("not json"), "");
        // What the cube reads tags from gives the same keys.
        let keys: Vec<String> = model::cube::parse_tags(&tag_keys(r#"{"b":1,"a":"x"}"#))
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, ["a", "b"]);
    }

    #[test]
    fn lines_that_name_alike_are_one_sum_and_an_overflow_is_told() {
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
        // Other values of the same keys: the same sum.
        sums.add(&line(b"c1", br#"{"env":"b"}"#), &one);
        sums.add(&line(b"c2", b""), &one);
        assert_eq!(sums.sums.len(), 2);
        let c1 = sums.sums.values().find(|s| s.lines == 2).unwrap();
        assert_eq!((c1.partner_cost, c1.quantity), (10, 16));
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
