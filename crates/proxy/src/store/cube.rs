//! The Explorer's cube of a scope: its line items, or past a limit their
//! sums. Where the view's dimensions are columns of the store, the scope's
//! lines are read through SQLite's C API, a few integers and short texts
//! each, and summed here by the store's own ids (meter, resource, customer)
//! before any name is looked up: a large partner's month is over a million
//! lines, and SQLite's GROUP BY sorted every one of them first. A
//! resource's name or a tag's value is derived from text, so those are
//! summed as the lines are read.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use model::cube::{Cube, CubeBuilder, CubeRow, Dim};

use super::line_items::KEPT;
use super::line_items::bulk::{self, Value};
use super::reads::cube_row;
use super::{IN_SCOPE, PartnerId, Scope, Store, day_text};

/// The dimensions read from the meter a line names.
const OF_METER: [Dim; 5] = [
    Dim::MeterCategory,
    Dim::MeterSubcategory,
    Dim::Meter,
    Dim::Publisher,
    Dim::Unit,
];
/// The dimensions read from the resource a line names.
const OF_RESOURCE: [Dim; 3] = [Dim::Subscription, Dim::Region, Dim::ResourceGroup];
/// The dimensions summed from the store's columns: the others (a
/// resource's name, a tag's value) are derived from text line by line.
fn in_columns(dim: &Dim) -> bool {
    matches!(dim, Dim::Customer | Dim::ChargeType | Dim::Currency)
        || OF_METER.contains(dim)
        || OF_RESOURCE.contains(dim)
}

/// A group while the scope is read: the store's ids and codes of the kept
/// dimensions, 0 for the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct GroupKey {
    day: i32,
    customer: u32,
    meter: i64,
    resource: i64,
    charge_type: u32,
    currency: u32,
}

#[derive(Debug, Default, Clone, Copy)]
struct GroupSums {
    partner_cost: i64,
    customer_price: i64,
    list_cost: i64,
    quantity: i64,
    lines: u32,
}

/// A text column's values as first seen, each numbered once.
#[derive(Default)]
struct Seen {
    codes: HashMap<Box<[u8]>, u32>,
    texts: Vec<String>,
}

impl Seen {
    fn code(&mut self, text: &[u8]) -> u32 {
        if let Some(code) = self.codes.get(text) {
            return *code;
        }
        let code = self.texts.len() as u32;
        self.texts.push(String::from_utf8_lossy(text).into_owned());
        self.codes.insert(text.into(), code);
        code
    }

    fn text(&self, code: u32) -> &str {
        self.texts.get(code as usize).map_or("", String::as_str)
    }
}

/// A scope read and summed by the store's ids.
#[derive(Default)]
struct ScopeSums {
    groups: HashMap<GroupKey, GroupSums>,
    lines: u64,
    /// Every resource a line names: their tags are the keys offered.
    resources: HashSet<i64>,
    customers: Seen,
    charge_types: Seen,
    currencies: Seen,
}

impl Store {
    /// The scope's line items as a cube for the pivot: as they are up to
    /// `line_items` of them, past it summed to `keep`'s dimensions.
    pub async fn cube(
        &self,
        partner: PartnerId,
        scope: &Scope,
        line_items: usize,
        keep: &[Dim],
    ) -> Result<Cube, sqlx::Error> {
        if line_items != usize::MAX && keep.iter().all(in_columns) {
            let sums = self.scope_sums(partner, scope, keep).await?;
            if sums.lines > line_items as u64 {
                return self.summed_cube(partner, sums, keep).await;
            }
        }
        let mut builder = CubeBuilder::summing_above(line_items, keep);
        self.for_each_line(partner, scope, |l, price| {
            builder.push(&cube_row(&l, price));
        })
        .await?;
        Ok(builder.finish())
    }

    /// The scope's lines summed per day, currency and the store's ids of
    /// `keep`'s dimensions (each of them [`in_columns`]).
    async fn scope_sums(
        &self,
        partner: PartnerId,
        scope: &Scope,
        keep: &[Dim],
    ) -> Result<ScopeSums, sqlx::Error> {
        let by_customer = keep.contains(&Dim::Customer);
        let by_meter = keep.iter().any(|d| OF_METER.contains(d));
        let by_resource = keep.iter().any(|d| OF_RESOURCE.contains(d));
        let by_charge_type = keep.contains(&Dim::ChargeType);
        let sql = format!(
            "SELECT l.usage_date, l.customer_id, l.meter, l.resource, l.charge_type,
                    l.billing_currency, l.billing_total_micros, l.customer_price_micros,
                    l.list_cost_micros, l.quantity_micros
             FROM line_items l WHERE {IN_SCOPE} AND {KEPT}"
        );
        let (from, to) = (day_text(scope.from), day_text(scope.to));
        let customer = match &scope.customer {
            Some(c) => Value::Text(c),
            None => Value::Null,
        };
        let binds = [
            Value::Int(partner.0),
            Value::Text(&from),
            Value::Text(&to),
            customer,
            customer,
            Value::Int(partner.0),
        ];
        let mut connection = self.pool.acquire().await?;
        let mut handle = connection.lock_handle().await?;
        let read = || -> Result<ScopeSums, sqlx::Error> {
            let db = bulk::Connection::of(&mut handle);
            let mut select = bulk::Statement::prepare(&db, &sql)?;
            let mut sums = ScopeSums::default();
            let mut problem = None;
            // Lines come in day order (the date index): the day's text
            // is read once per day.
            let mut day: (Vec<u8>, i32) = (Vec::new(), 0);
            select.rows(&binds, |row| {
                let text = row.text(0);
                if text != day.0.as_slice() {
                    match std::str::from_utf8(text)
                        .ok()
                        .and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
                    {
                        Some(d) => day = (text.to_vec(), model::cube::day_number(d)),
                        None => {
                            problem.get_or_insert_with(|| {
                                format!("a line's day is {:?}", String::from_utf8_lossy(text))
                            });
                            return;
                        }
                    }
                }
                let resource = row.int(3);
                sums.resources.insert(resource);
                let key = GroupKey {
                    day: day.1,
                    customer: if by_customer {
                        sums.customers.code(row.text(1))
                    } else {
                        0
                    },
                    meter: if by_meter { row.int(2) } else { 0 },
                    resource: if by_resource { resource } else { 0 },
                    charge_type: if by_charge_type {
                        sums.charge_types.code(row.text(4))
                    } else {
                        0
                    },
                    currency: sums.currencies.code(row.text(5)),
                };
                let group = sums.groups.entry(key).or_default();
                let added = [
                    (&mut group.partner_cost, row.int(6)),
                    (&mut group.customer_price, row.int(7)),
                    (&mut group.list_cost, row.int(8)),
                    (&mut group.quantity, row.int(9)),
                ]
                .into_iter()
                .all(|(sum, n)| match sum.checked_add(n) {
                    Some(total) => {
                        *sum = total;
                        true
                    }
                    None => false,
                });
                if !added {
                    problem.get_or_insert_with(|| "a sum is past 64 bits".to_string());
                }
                group.lines = group.lines.saturating_add(1);
                sums.lines += 1;
            })?;
            match problem {
                Some(p) => Err(sqlx::Error::Protocol(format!("summing the scope: {p}"))),
                None => Ok(sums),
            }
        };
        // Hundreds of thousands of lines take a good part of a second.
        bulk::holding_the_thread(read)
    }

    /// The cube of a scope's sums: ids turned into the names the view
    /// shows (groups that name alike are one row), and the scope's tag keys.
    async fn summed_cube(
        &self,
        partner: PartnerId,
        sums: ScopeSums,
        keep: &[Dim],
    ) -> Result<Cube, sqlx::Error> {
        let mut groups: Vec<(GroupKey, GroupSums)> = sums.groups.into_iter().collect();
        // The same scope gives the same bytes.
        groups.sort_unstable_by_key(|(key, _)| *key);
        let customers: HashMap<String, String> = if keep.contains(&Dim::Customer) {
            sqlx::query_as("SELECT id, name FROM customers WHERE partner_id = ?")
                .bind(partner)
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .collect()
        } else {
            HashMap::new()
        };
        let ids = |ids: &mut dyn Iterator<Item = i64>| {
            let ids: Vec<String> = ids.map(|id| id.to_string()).collect();
            format!("[{}]", ids.join(","))
        };
        let meters: HashMap<i64, [String; 5]> = if keep.iter().any(|d| OF_METER.contains(d)) {
            let wanted: HashSet<i64> = groups.iter().map(|(k, _)| k.meter).collect();
            sqlx::query_as::<_, (i64, String, String, String, String, String)>(
                "SELECT id, category, subcategory, name, publisher, unit FROM meters
                 WHERE id IN (SELECT value FROM json_each(?))",
            )
            .bind(ids(&mut wanted.into_iter()))
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|(id, a, b, c, d, e)| (id, [a, b, c, d, e]))
            .collect()
        } else {
            HashMap::new()
        };
        let resources: HashMap<i64, [String; 4]> =
            sqlx::query_as::<_, (i64, String, String, String, String)>(
                "SELECT id, entitlement_name, region, resource_group, tags FROM resources
                 WHERE id IN (SELECT value FROM json_each(?))",
            )
            .bind(ids(&mut sums.resources.iter().copied()))
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|(id, a, b, c, d)| (id, [a, b, c, d]))
            .collect();

        let mut builder = CubeBuilder::summing_above(0, keep);
        for (key, group) in &groups {
            let id = sums.customers.text(key.customer);
            let customer = match customers.get(id) {
                Some(name) if !name.is_empty() => name,
                _ => id,
            };
            let meter = meters.get(&key.meter);
            let meter = |i: usize| meter.map_or("", |m| m[i].as_str());
            let resource = resources.get(&key.resource);
            let resource = |i: usize| resource.map_or("", |r| r[i].as_str());
            builder.push_sum(
                &CubeRow {
                    customer,
                    subscription: resource(0),
                    meter_category: meter(0),
                    meter_subcategory: meter(1),
                    meter: meter(2),
                    region: resource(1),
                    resource_group: resource(2),
                    resource: "",
                    publisher: meter(3),
                    charge_type: sums.charge_types.text(key.charge_type),
                    currency: sums.currencies.text(key.currency),
                    unit: meter(4),
                    tags: "",
                    day: model::cube::date_of(key.day),
                    partner_cost: group.partner_cost,
                    customer_price: group.customer_price,
                    list_cost: group.list_cost,
                    quantity: group.quantity,
                    pec_basis_points: 0,
                },
                group.lines,
            );
        }
        // The tag keys of the scope, which the view may offer to group by.
        let tags: HashSet<&str> = resources.values().map(|r| r[3].as_str()).collect();
        for t in tags {
            builder.see_tags(t);
        }
        Ok(builder.finish())
    }
}
