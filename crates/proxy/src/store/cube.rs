//! The Explorer's cube of a scope: its line items, or past a limit their
//! sums. The scope's lines are read through SQLite's C API, a few integers
//! and short texts each (the store's ids of the meter, the resource and the
//! customer), and names are looked up once per id after: through sqlx with
//! its joins a month of 82,000 lines took ~3.4 s to answer (~40 µs a
//! line, the whole request), and SQLite's GROUP BY sorted every line
//! before summing. Past the limit, where the view's dimensions are columns
//! of the store, the lines are summed here by those ids as they are read;
//! a resource's name or a tag's value is derived from text, so a view of
//! those past the limit is summed line by line. A view of no more than the
//! customer, the charge type and the currency (the Explorer's first) reads
//! the sums kept at rest instead (`line_items::sums`): ~1 µs a line of
//! SQLite's own work put a month of 1.35 M lines past a second and a half.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use model::cube::{Cube, CubeBuilder, CubeRow, Dim, Figures, RowCodes};

use super::codes::{FastMap, FastSet, Seen};
use super::line_items::KEPT;
use super::line_items::bulk;
use super::line_items::sums::Sum;
use super::reads::cube_row;
use super::{Connection, IN_SCOPE, PartnerId, Scope, ScopeBinds, Store};

/// A row of a scope's read, from either database: SQLite's through its C
/// API, or PostgreSQL's as it arrives.
enum Columns<'a, 'r> {
    Sqlite(&'a bulk::Row<'r>),
    Postgres(&'a sqlx::postgres::PgRow),
}

impl Columns<'_, '_> {
    /// Column `i` as an integer (0 for NULL).
    fn int(&self, i: usize) -> i64 {
        match self {
            Columns::Sqlite(row) => row.int(i),
            Columns::Postgres(row) => {
                use sqlx::Row as _;
                row.try_get::<Option<i64>, _>(i).ok().flatten().unwrap_or(0)
            }
        }
    }

    /// Column `i` as text bytes (empty for NULL).
    fn text(&self, i: usize) -> &[u8] {
        match self {
            Columns::Sqlite(row) => row.text(i),
            Columns::Postgres(row) => {
                use sqlx::Row as _;
                row.try_get::<Option<&str>, _>(i)
                    .ok()
                    .flatten()
                    .map_or(&[][..], str::as_bytes)
            }
        }
    }
}

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

/// The dimensions the sums at rest keep (`line_sums`).
fn at_rest(dim: &Dim) -> bool {
    matches!(dim, Dim::Customer | Dim::ChargeType | Dim::Currency)
}

/// A text code that names no value (the empty text).
const NONE: u32 = u32::MAX;

/// What a line names, by the store's ids and the scope's text codes; as a
/// group, only the kept dimensions, the others 0 (no meter or resource has
/// it) or [`NONE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Named {
    customer: u32,
    meter: i64,
    resource: i64,
    charge_type: u32,
    currency: u32,
}

/// A line's or a group's day and what it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct GroupKey {
    day: i32,
    named: Named,
}

/// Which namings a group keeps; the others are 0 (no meter or resource
/// has it) or [`NONE`]. The currency is always kept.
struct Kept {
    customer: bool,
    meter: bool,
    resource: bool,
    charge_type: bool,
}

impl Kept {
    fn of(keep: &[Dim]) -> Kept {
        Kept {
            customer: keep.contains(&Dim::Customer),
            meter: keep.iter().any(|d| OF_METER.contains(d)),
            resource: keep.iter().any(|d| OF_RESOURCE.contains(d)),
            charge_type: keep.contains(&Dim::ChargeType),
        }
    }

    /// The group of what a line or a sum names on `day`.
    fn group(&self, day: i32, named: Named) -> GroupKey {
        GroupKey {
            day,
            named: Named {
                customer: if self.customer { named.customer } else { NONE },
                meter: if self.meter { named.meter } else { 0 },
                resource: if self.resource { named.resource } else { 0 },
                charge_type: if self.charge_type {
                    named.charge_type
                } else {
                    NONE
                },
                currency: named.currency,
            },
        }
    }
}

/// Days as the store writes them (`YYYY-MM-DD`), turned into the cube's
/// day numbers. Rows come in day order (the date index, the sums' key), so
/// the last day's text is kept and each day parsed once.
#[derive(Default)]
struct Days {
    last: (Vec<u8>, i32),
}

impl Days {
    fn number(&mut self, text: &[u8]) -> Result<i32, String> {
        if text != self.last.0.as_slice() {
            let day = std::str::from_utf8(text)
                .ok()
                .and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
                .ok_or_else(|| format!("a day is {:?}", String::from_utf8_lossy(text)))?;
            self.last = (text.to_vec(), model::cube::day_number(day));
        }
        Ok(self.last.1)
    }
}

/// A line as read, kept while the scope is within the limit.
#[derive(Debug, Clone, Copy)]
struct RawLine {
    named: Named,
    /// Its day and figures, as the cube takes them.
    figures: Figures,
    /// The line's identity and row, for the order lines are read in
    /// everywhere else (day, customer, key, row).
    key: i64,
    id: i64,
}

/// A scope as read: its lines while within the limit, and their sums by
/// the store's ids when the view can be summed so.
#[derive(Default)]
struct ScopeSums {
    groups: FastMap<GroupKey, Sum>,
    /// The lines, while there are no more than the limit.
    kept: Vec<RawLine>,
    lines: u64,
    /// Every resource a line names: their tags are the keys offered.
    resources: FastSet<i64>,
    meters: FastSet<i64>,
    customers: Seen,
    charge_types: Seen,
    currencies: Seen,
    /// The tag keys of the lines summed at rest (`{"env":""}`).
    tag_keys: Seen,
}

impl ScopeSums {
    /// Adds `sum` to its group's.
    fn add_to(&mut self, group: GroupKey, sum: &Sum) -> Result<(), String> {
        match self.groups.entry(group).or_default().add(sum) {
            true => Ok(()),
            false => Err("a sum is past 64 bits".into()),
        }
    }
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
        let summable = line_items != usize::MAX && keep.iter().all(in_columns);
        if summable && keep.iter().all(at_rest) {
            let sums = self.sums_at_rest(partner, scope, keep).await?;
            if sums.lines > line_items as u64 {
                return self.summed_cube(partner, sums, keep).await;
            }
        }
        let sums = self
            .scope_sums(partner, scope, keep, line_items, summable)
            .await?;
        if sums.lines <= line_items as u64 {
            return self.line_cube(partner, sums).await;
        }
        if summable {
            return self.summed_cube(partner, sums, keep).await;
        }
        // Past the limit by a resource or a tag: summed from whole lines.
        let mut builder = CubeBuilder::summing_above(line_items, keep);
        self.for_each_line(partner, scope, |l, price| {
            builder.push(&cube_row(&l, price));
        })
        .await?;
        Ok(builder.finish())
    }

    /// The scope's lines as read, up to `limit` of them, and when
    /// `summable` their sums per day, currency and the store's ids of
    /// `keep`'s dimensions (each of them [`in_columns`]).
    async fn scope_sums(
        &self,
        partner: PartnerId,
        scope: &Scope,
        keep: &[Dim],
        limit: usize,
        summable: bool,
    ) -> Result<ScopeSums, sqlx::Error> {
        let kept = Kept::of(keep);
        let sql = format!(
            "SELECT l.usage_date, l.customer_id, l.meter, l.resource, l.charge_type,
                    l.billing_currency, l.billing_total_micros, l.customer_price_micros,
                    l.list_cost_micros, l.quantity_micros, l.pec_basis_points, l.key, l.id
             FROM line_items l WHERE {IN_SCOPE} AND {KEPT}"
        );
        let mut days = Days::default();
        self.fold_scope(partner, scope, &sql, |sums, row| {
            sums.lines += 1;
            let within = sums.lines <= limit as u64;
            if !within {
                if !sums.kept.is_empty() {
                    sums.kept = Vec::new();
                }
                // Past the limit by a resource or a tag: the lines are
                // read again whole, so these are only counted.
                if !summable {
                    return Ok(());
                }
            }
            let day = days.number(row.text(0))?;
            let (meter, resource) = (row.int(2), row.int(3));
            sums.resources.insert(resource);
            sums.meters.insert(meter);
            let named = Named {
                customer: sums.customers.code(row.text(1)),
                meter,
                resource,
                charge_type: sums.charge_types.code(row.text(4)),
                currency: sums.currencies.code(row.text(5)),
            };
            let (partner_cost, customer_price) = (row.int(6), row.int(7));
            let (list_cost, quantity) = (row.int(8), row.int(9));
            if within {
                sums.kept.push(RawLine {
                    named,
                    figures: Figures {
                        day,
                        partner_cost,
                        customer_price,
                        list_cost,
                        quantity,
                        pec_basis_points: row.int(10).clamp(0, u16::MAX.into()) as u16,
                    },
                    key: row.int(11),
                    id: row.int(12),
                });
            }
            if !summable {
                return Ok(());
            }
            let key = kept.group(day, named);
            let line = Sum {
                partner_cost,
                customer_price,
                list_cost,
                quantity,
                lines: 1,
            };
            sums.add_to(key, &line)
        })
        .await
    }

    /// The scope's sums at rest, summed again to `keep`'s dimensions (each
    /// of them [`at_rest`]).
    async fn sums_at_rest(
        &self,
        partner: PartnerId,
        scope: &Scope,
        keep: &[Dim],
    ) -> Result<ScopeSums, sqlx::Error> {
        let kept = Kept::of(keep);
        // The same conditions as the lines': `l` is a sum here.
        let sql = format!(
            "SELECT l.usage_date, l.customer_id, l.charge_type, l.billing_currency, l.tag_keys,
                    l.billing_total_micros, l.customer_price_micros, l.list_cost_micros,
                    l.quantity_micros, l.line_items
             FROM line_sums l WHERE {IN_SCOPE} AND {KEPT}"
        );
        let mut days = Days::default();
        self.fold_scope(partner, scope, &sql, |sums, row| {
            let day = days.number(row.text(0))?;
            sums.tag_keys.code(row.text(4));
            let named = Named {
                customer: sums.customers.code(row.text(1)),
                meter: 0,
                resource: 0,
                charge_type: sums.charge_types.code(row.text(2)),
                currency: sums.currencies.code(row.text(3)),
            };
            let key = kept.group(day, named);
            let sum = Sum {
                partner_cost: row.int(5),
                customer_price: row.int(6),
                list_cost: row.int(7),
                quantity: row.int(8),
                lines: row.int(9),
            };
            sums.lines += u64::try_from(sum.lines).unwrap_or(0);
            sums.add_to(key, &sum)
        })
        .await
    }

    /// Reads `sql` (whose condition is `{IN_SCOPE} AND {KEPT}`) row by row
    /// into a [`ScopeSums`] through the C API, holding the thread:
    /// hundreds of thousands of rows take a good part of a second. `each`
    /// may tell what is wrong with a row; the first such fails the read.
    async fn fold_scope(
        &self,
        partner: PartnerId,
        scope: &Scope,
        sql: &str,
        mut each: impl FnMut(&mut ScopeSums, &Columns<'_, '_>) -> Result<(), String>,
    ) -> Result<ScopeSums, sqlx::Error> {
        let binds = ScopeBinds::of(partner, scope);
        let mut sums = ScopeSums::default();
        let mut problem = None;
        let connection = self.reader().await?;
        match connection {
            Connection::Sqlite(mut connection) => {
                let binds = binds.values();
                let mut handle = connection.lock_handle().await?;
                bulk::holding_the_thread(|| {
                    let db = bulk::Connection::of(&mut handle);
                    let mut select = bulk::Statement::prepare(&db, sql)?;
                    select.rows(&binds, |row| {
                        if let Err(p) = each(&mut sums, &Columns::Sqlite(row)) {
                            problem.get_or_insert(p);
                        }
                    })
                })?;
            }
            Connection::Postgres(mut connection) => {
                use futures_util::TryStreamExt;
                // Our own text: `sql` is one of this file's statements.
                let numbered = sqlx::AssertSqlSafe(super::sql::numbered(sql));
                let mut rows = sqlx::query(numbered)
                    .bind(binds.partner)
                    .bind(&binds.from)
                    .bind(&binds.to)
                    .bind(binds.customer.as_deref())
                    .bind(binds.customer.as_deref())
                    .bind(binds.partner)
                    .fetch(&mut *connection);
                // Row by row as they arrive: a large partner's month is
                // over a million lines.
                while let Some(row) = rows.try_next().await? {
                    if let Err(p) = each(&mut sums, &Columns::Postgres(&row)) {
                        problem.get_or_insert(p);
                    }
                }
            }
        }
        match problem {
            Some(p) => Err(sqlx::Error::Protocol(format!("summing the scope: {p}"))),
            None => Ok(sums),
        }
    }

    /// The names of what the scope's lines name, by the store's ids.
    async fn names(&self, partner: PartnerId, sums: &ScopeSums) -> Result<Names, sqlx::Error> {
        let customers: Vec<(String, String)> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT id, name FROM customers WHERE partner_id = ?";
            .bind(partner)
            .fetch_all
        )?;
        let customers = customers.into_iter().collect();
        let meters = self
            .five_texts(
                "SELECT id, category, subcategory, name, publisher, unit FROM meters",
                &sums.meters,
            )
            .await?;
        let resources = self
            .five_texts(
                "SELECT id, entitlement_name, region, resource_group, tags, uri FROM resources",
                &sums.resources,
            )
            .await?;
        Ok(Names {
            customers,
            meters,
            resources,
        })
    }

    /// Five texts of each row of `select` (an ID and five columns) whose ID
    /// is one of `ids`.
    async fn five_texts(
        &self,
        select: &str,
        ids: &FastSet<i64>,
    ) -> Result<HashMap<i64, [String; 5]>, sqlx::Error> {
        type Texts = (i64, String, String, String, String, String);
        // `select` is one of this file's statements.
        let rows: Vec<Texts> = match self.reader().await? {
            Connection::Sqlite(mut c) => {
                let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{select} WHERE id IN (SELECT value FROM json_each(?))"
                )))
                .bind(format!("[{}]", ids.join(",")))
                .fetch_all(&mut *c)
                .await?
            }
            Connection::Postgres(mut c) => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!("{select} WHERE id = ANY($1)")))
                    .bind(ids.iter().copied().collect::<Vec<i64>>())
                    .fetch_all(&mut *c)
                    .await?
            }
        };
        Ok(rows
            .into_iter()
            .map(|(id, a, b, c, d, e)| (id, [a, b, c, d, e]))
            .collect())
    }

    /// The cube of a scope within the limit: every line as it is, in the
    /// order the store's other reads give them.
    async fn line_cube(
        &self,
        partner: PartnerId,
        mut sums: ScopeSums,
    ) -> Result<Cube, sqlx::Error> {
        let names = self.names(partner, &sums).await?;
        // Customers ranked by their ID's text, as the other reads order them.
        let mut ranked: Vec<u32> = (0..sums.customers.texts().len() as u32).collect();
        ranked.sort_by(|a, b| sums.customers.text(*a).cmp(sums.customers.text(*b)));
        let mut rank = vec![0u32; ranked.len()];
        for (r, code) in ranked.into_iter().enumerate() {
            rank[code as usize] = r as u32;
        }
        let mut lines = std::mem::take(&mut sums.kept);
        lines.sort_unstable_by_key(|l| {
            (l.figures.day, rank[l.named.customer as usize], l.key, l.id)
        });
        let mut builder = CubeBuilder::new();
        // Texts are looked up once for all the lines that name alike.
        let mut coded: FastMap<Named, RowCodes> = FastMap::default();
        for l in &lines {
            let codes = *coded
                .entry(l.named)
                .or_insert_with(|| builder.codes(&names.row(&sums, &l.named)));
            builder.push_coded(&codes, &l.figures, 1);
        }
        Ok(builder.finish())
    }

    /// The cube of a scope's sums: ids turned into the names the view
    /// shows (groups that name alike are one row), and the scope's tag keys.
    async fn summed_cube(
        &self,
        partner: PartnerId,
        sums: ScopeSums,
        keep: &[Dim],
    ) -> Result<Cube, sqlx::Error> {
        let names = self.names(partner, &sums).await?;
        let mut groups: Vec<(&GroupKey, &Sum)> = sums.groups.iter().collect();
        // The same scope gives the same bytes.
        groups.sort_unstable_by_key(|(key, _)| **key);
        let mut builder = CubeBuilder::summing_above(0, keep);
        let mut coded: FastMap<Named, RowCodes> = FastMap::default();
        for (k, group) in groups {
            let codes = *coded.entry(k.named).or_insert_with(|| {
                builder.codes(&CubeRow {
                    tags: "",
                    resource: "",
                    ..names.row(&sums, &k.named)
                })
            });
            let figures = Figures {
                day: k.day,
                partner_cost: group.partner_cost,
                customer_price: group.customer_price,
                list_cost: group.list_cost,
                quantity: group.quantity,
                pec_basis_points: 0,
            };
            let lines = u32::try_from(group.lines).unwrap_or(u32::MAX);
            builder.push_coded(&codes, &figures, lines);
        }
        // The tag keys of the scope, which the view may offer to group by:
        // of the resources its lines name, or as the sums at rest keep them.
        let mut tags: HashSet<&str> = names.resources.values().map(|r| r[3].as_str()).collect();
        tags.extend(sums.tag_keys.texts().iter().map(String::as_str));
        for t in tags {
            builder.see_tags(t);
        }
        Ok(builder.finish())
    }
}

/// What the store's ids in a scope's lines name.
struct Names {
    /// Customers' names by ID (a customer without one shows its ID).
    customers: HashMap<String, String>,
    /// Category, subcategory, name, publisher, unit.
    meters: HashMap<i64, [String; 5]>,
    /// Subscription name, region, resource group, tags, URI.
    resources: HashMap<i64, [String; 5]>,
}

impl Names {
    /// A cube row of what a line or group names, without its day and
    /// figures.
    fn row<'a>(&'a self, sums: &'a ScopeSums, of: &Named) -> CubeRow<'a> {
        let id = sums.customers.text(of.customer);
        let customer = match self.customers.get(id) {
            Some(name) if !name.is_empty() => name,
            _ => id,
        };
        let meter = self.meters.get(&of.meter);
        let meter = |i: usize| meter.map_or("", |m| m[i].as_str());
        let resource = self.resources.get(&of.resource);
        let resource = |i: usize| resource.map_or("", |r| r[i].as_str());
        CubeRow {
            customer,
            subscription: resource(0),
            meter_category: meter(0),
            meter_subcategory: meter(1),
            meter: meter(2),
            region: resource(1),
            resource_group: resource(2),
            resource: model::usage::resource_name(resource(4)),
            publisher: meter(3),
            charge_type: sums.charge_types.text(of.charge_type),
            currency: sums.currencies.text(of.currency),
            unit: meter(4),
            tags: resource(3),
            ..CubeRow::default()
        }
    }
}
