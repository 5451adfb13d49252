//! Writing daily rated usage: the lines, the meter and resource
//! dictionaries that keep them narrow, and the snapshots of the scopes
//! read to their end.
//!
//! A scope being read writes its lines straight into `line_items` under a
//! version of its own, which no query sees ([`KEPT`]) until the scope is
//! replaced: then its snapshot names the new version and the lines of any
//! other version of the scope go, in one transaction.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{Datelike, NaiveDate};

use model::Amount;
use model::usage::LineItem;

use super::{PartnerId, Store, now};
use bulk::{Connection, Statement, Value};
use readings::Reading;
pub(super) use readings::Readings;

// SQLite's C API, for the bulk of a sync and of the Explorer's sums (the
// proxy's other unsafe code: the store's versions read, the open-file limit).
#[allow(unsafe_code)]
pub(super) mod bulk;
mod postgres;
pub(super) use postgres::rebuild as rebuild_in_postgres;
mod readings;
mod scopes;
pub(super) mod sums;

/// The condition that a line (`l`) is kept, not a scope's read under way:
/// its version is the one its scope's snapshot names, or 0 (kept outside
/// any snapshot). Binds the partner once.
pub(crate) const KEPT: &str =
    "(l.version = 0 OR l.version IN (SELECT version FROM snapshots WHERE partner_id = ?))";

/// The columns of a line as written, in the order they are bound.
const LINE_COLUMNS: &str =
    "partner_id, key, customer_id, subscription_id, usage_date, meter, resource,
    charge_type, quantity_micros, unit_price, effective_unit_price,
    pricing_total_micros, pricing_currency, billing_total_micros, billing_currency,
    list_cost_micros, customer_price_micros, fx_micros, pec_basis_points, credit_type,
    invoice_number, benefit_order_id, benefit_id, benefit_type, scope, run_id, version";
const LINE_VALUES: usize = 27;

/// A dictionary entry's fields, as written.
type Fields = [String; 6];

/// Dictionary entries by the digest of their fields (several per digest
/// if two ever collide). The digest is already a hash: foldhash's, which
/// over a resource's long URI costs a fraction of the standard SipHash.
type Entries = HashMap<u64, Vec<(Fields, i64)>, foldhash::fast::FixedState>;

/// Dictionary IDs already known, so a page of line items rarely queries
/// them. Looked up by a digest of the line's own fields (no copies per
/// line), each hit checked field by field.
#[derive(Default)]
pub(super) struct Dictionaries {
    meters: Mutex<Entries>,
    resources: Mutex<Entries>,
}

fn meter_fields(l: &LineItem) -> [&str; 6] {
    [
        &l.meter_id,
        &l.meter_name,
        &l.meter_category,
        &l.meter_subcategory,
        &l.unit,
        &l.publisher,
    ]
}

fn resource_fields(l: &LineItem) -> [&str; 6] {
    [
        &l.resource_uri,
        &l.resource_group,
        &l.region,
        &l.tags,
        &l.entitlement_id,
        &l.entitlement_name,
    ]
}

fn digest(scope: i64, fields: &[&str; 6]) -> u64 {
    use std::hash::BuildHasher;
    // A `str` hashes with a terminator: field boundaries count.
    foldhash::fast::FixedState::default().hash_one((scope, fields))
}

fn known(entries: &Entries, at: u64, fields: &[&str; 6]) -> Option<i64> {
    entries
        .get(&at)?
        .iter()
        .find(|(f, _)| f.iter().zip(fields).all(|(a, b)| a == b))
        .map(|(_, id)| *id)
}

fn remember(cache: &Mutex<Entries>, at: u64, fields: &[&str; 6], id: i64) {
    cache
        .lock()
        .expect("cache poisoned")
        .entry(at)
        .or_default()
        .push((fields.map(str::to_string), id));
}

/// A dictionary entry's ID: known, or written now (`new`, its parameters
/// `lead` then `fields`) and remembered.
fn entry_id(
    cache: &Mutex<Entries>,
    at: u64,
    fields: &[&str; 6],
    new: &mut Statement<'_>,
    lead: &[Value<'_>],
) -> Result<i64, sqlx::Error> {
    if let Some(id) = known(&cache.lock().expect("cache poisoned"), at, fields) {
        return Ok(id);
    }
    let values: Vec<Value<'_>> = lead
        .iter()
        .copied()
        .chain(fields.map(Value::Text))
        .collect();
    let id = new.id(&values)?;
    remember(cache, at, fields, id);
    Ok(id)
}

/// A line's values that are worked out rather than copied.
struct Row {
    meter: Option<i64>,
    resource: Option<i64>,
    list_cost: i64,
    price: i64,
    unit_price: String,
    effective_unit_price: String,
    day: [u8; 10],
}

/// A meter's ID, written if it is new.
const NEW_METER: &str = "INSERT INTO meters (meter_id, name, category, subcategory, unit, publisher)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (meter_id, name, category, subcategory, unit, publisher) DO UPDATE SET name = excluded.name
     RETURNING id";

/// A resource's ID, written if it is new.
const NEW_RESOURCE: &str = "INSERT INTO resources (partner_id, uri, resource_group, region, tags, entitlement_id, entitlement_name)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (partner_id, entitlement_id, uri, resource_group, region, tags, entitlement_name)
     DO UPDATE SET uri = excluded.uri
     RETURNING id";

/// The INSERT of one line item, stepped once per line.
fn insert_sql() -> String {
    format!(
        "INSERT INTO line_items ({LINE_COLUMNS}) VALUES ({})",
        vec!["?"; LINE_VALUES].join(", ")
    )
}

/// A day as stored (`YYYY-MM-DD`), written without an allocation: one per
/// line adds up over millions of them.
fn day_digits(d: NaiveDate) -> [u8; 10] {
    let mut out = *b"0000-00-00";
    let (y, m, day) = (d.year().clamp(0, 9999) as u32, d.month(), d.day());
    for (i, digit) in [y / 1000, y / 100 % 10, y / 10 % 10, y % 10]
        .into_iter()
        .enumerate()
    {
        out[i] = b'0' + digit as u8;
    }
    out[5] = b'0' + (m / 10) as u8;
    out[6] = b'0' + (m % 10) as u8;
    out[8] = b'0' + (day / 10) as u8;
    out[9] = b'0' + (day % 10) as u8;
    out
}

/// A scope read to its end, as it is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// `v2:unbilled:USD:2026-11`, `v2:invoice:G000123`, `v1:…`.
    pub scope: String,
    /// `v1` (Partner Center's routes) or `v2` (Graph's export).
    pub api: String,
    pub billed: bool,
    pub currency: String,
    /// The billing month, `2026-11`.
    pub month: String,
    /// The export's data version (empty for v1 feeds).
    pub etag: String,
    /// Lines that could not be read (each one reported).
    pub unreadable: usize,
}

/// What replacing a scope did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replaced {
    /// The scope now holds these lines.
    Kept {
        line_items: usize,
        billing_total: Amount,
    },
    /// Unbilled usage of a month whose invoice is already kept: billed
    /// beats unbilled, so nothing was written.
    Superseded,
}

/// A stored snapshot's version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSnapshot {
    pub etag: String,
    pub unreadable: usize,
}

/// Line items and their billing total per customer and currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerTotal {
    pub customer_id: String,
    pub currency: String,
    pub line_items: usize,
    pub billing_total: Amount,
    /// A sum over the lines' identities: equal sets give equal sums.
    pub key_checksum: i64,
}

impl Store {
    /// Writes line items of `version` in one transaction and returns their
    /// billing total; adds them to `sums` first, which are written with them
    /// only outside any snapshot (version 0: a scope's are written when it
    /// is kept).
    async fn insert_lines(
        &self,
        partner: PartnerId,
        scope: &str,
        run: i64,
        version: i64,
        items: &[LineItem],
        sums: &mut sums::LineSums,
    ) -> Result<i64, sqlx::Error> {
        let markups = self.markups(partner).await?;
        // Everything a line needs that is not the database's, before the
        // write turn: one connection writes, and every moment it spends
        // holds up the whole sync, while this runs beside it. On this task's
        // own thread: in `block_in_place` (tried) the lines were freed on
        // other threads than made them, and the allocator's per-thread
        // arenas took the sync's peak memory from ~140 MB to 330–480 MB.
        let rows: Vec<Row> = {
            // Each dictionary locked once for the batch, not twice a line.
            let meters = self.dictionaries.meters.lock().expect("cache poisoned");
            let resources = self.dictionaries.resources.lock().expect("cache poisoned");
            items
                .iter()
                .map(|l| {
                    let list_cost = l.list_total().micros();
                    let (meter, resource) = (meter_fields(l), resource_fields(l));
                    Row {
                        meter: known(&meters, digest(0, &meter), &meter),
                        resource: known(&resources, digest(partner.0, &resource), &resource),
                        list_cost,
                        price: markups
                            .for_customer(&l.customer_id)
                            .price(l.billing_total.micros(), list_cost),
                        unit_price: model::exact::text(l.unit_price),
                        effective_unit_price: model::exact::text(l.effective_unit_price),
                        day: day_digits(l.usage_date),
                    }
                })
                .collect()
        };
        sums.add_batch(
            scope,
            version,
            items
                .iter()
                .zip(&rows)
                .map(|(l, row)| (l, &row.day, row.list_cost, row.price)),
        );
        let mut tx = self.write().await?;
        if let Some(conn) = tx.postgres() {
            let total = postgres::insert(
                conn,
                &self.dictionaries,
                partner.0,
                scope,
                run,
                version,
                items,
                &rows,
            )
            .await?;
            if version == 0 {
                postgres::write_sums(conn, sums, partner.0).await?;
                tx.lines_changed();
            }
            tx.commit().await?;
            return Ok(total);
        }
        let mut handle = tx.lite()?.lock_handle().await?;
        let write = || -> Result<i64, sqlx::Error> {
            let mut billing_total = 0i64;
            let db = Connection::of(&mut handle);
            let mut insert = Statement::prepare(&db, &insert_sql())?;
            let mut new_meter = Statement::prepare(&db, NEW_METER)?;
            let mut new_resource = Statement::prepare(&db, NEW_RESOURCE)?;
            let (meters, resources) = (&self.dictionaries.meters, &self.dictionaries.resources);
            for (l, row) in items.iter().zip(&rows) {
                // Meters and resources seen for the first time (or earlier
                // in this batch).
                let meter = match row.meter {
                    Some(id) => id,
                    None => {
                        let fields = meter_fields(l);
                        entry_id(meters, digest(0, &fields), &fields, &mut new_meter, &[])?
                    }
                };
                let resource = match row.resource {
                    Some(id) => id,
                    None => {
                        let fields = resource_fields(l);
                        let at = digest(partner.0, &fields);
                        let partner = [Value::Int(partner.0)];
                        entry_id(resources, at, &fields, &mut new_resource, &partner)?
                    }
                };
                billing_total += l.billing_total.micros();
                let day = std::str::from_utf8(&row.day).expect("digits and dashes");
                use Value::{Int, Text};
                // In the order of LINE_COLUMNS.
                insert.run(&[
                    Int(partner.0),
                    Int(l.key),
                    Text(&l.customer_id),
                    Text(&l.subscription_id),
                    Text(day),
                    Int(meter),
                    Int(resource),
                    Text(&l.charge_type),
                    Int(l.quantity_micros),
                    Text(&row.unit_price),
                    Text(&row.effective_unit_price),
                    Int(l.pricing_total.micros()),
                    Text(l.pricing_currency.code()),
                    Int(l.billing_total.micros()),
                    Text(l.billing_currency.code()),
                    Int(row.list_cost),
                    Int(row.price),
                    Int(l.fx_micros),
                    Int(l.pec_basis_points.into()),
                    Text(&l.credit_type),
                    Text(&l.invoice_number),
                    Text(&l.benefit_order_id),
                    Text(&l.benefit_id),
                    Text(&l.benefit_type),
                    Text(scope),
                    Int(run),
                    Int(version),
                ])?;
            }
            if version == 0 {
                sums.write(&db, partner.0)?;
            }
            Ok(billing_total)
        };
        // Thousands of lines take tens of milliseconds of this thread.
        let billing_total = bulk::holding_the_thread(write)?;
        drop(handle);
        if version == 0 {
            tx.lines_changed();
        }
        tx.commit().await?;
        // Full: one is asked for already.
        if let Ok(lite) = self.lite() {
            let _ = lite.checkpoint.try_send(());
        }
        Ok(billing_total)
    }

    /// Adds line items to the kept ones at once, outside any snapshot
    /// (version 0): for tests and tools that set up a store.
    pub async fn add_line_items(
        &self,
        partner: PartnerId,
        scope: &str,
        run: i64,
        items: &[LineItem],
    ) -> Result<(), sqlx::Error> {
        let mut sums = sums::LineSums::default();
        self.insert_lines(partner, scope, run, 0, items, &mut sums)
            .await?;
        Ok(())
    }

    /// A read of `scope` with nothing written yet, under a version never
    /// used before.
    async fn new_reading(
        &self,
        partner: PartnerId,
        scope: &str,
        run: i64,
    ) -> Result<Reading, sqlx::Error> {
        let mut conn = self.quiet_writer().await?;
        let version = sql!(
            query_scalar,
            conn.on(),
            "INSERT INTO line_versions (partner_id, scope, run_id, started_at) VALUES (?, ?, ?, ?)
             RETURNING id";
            .bind(partner)
            .bind(scope)
            .bind(run)
            .bind(now())
            .fetch_one
        )?;
        drop(conn);
        let priced = self.versions().await?.repricings;
        Ok(self.readings.new_reading(run, version, priced))
    }

    /// Writes lines of a scope being read in `run`; they are seen only once
    /// the scope is replaced ([`Store::replace_scope`]).
    pub async fn stage_lines(
        &self,
        partner: PartnerId,
        scope: &str,
        run: i64,
        items: &[LineItem],
    ) -> Result<(), sqlx::Error> {
        let mut reading = match self.readings.take(partner, scope).filter(|r| r.run == run) {
            Some(reading) => reading,
            None => self.new_reading(partner, scope, run).await?,
        };
        let written = self
            .insert_lines(
                partner,
                scope,
                run,
                reading.version,
                items,
                &mut reading.sums,
            )
            .await;
        match &written {
            Ok(total) => {
                reading.line_items += items.len();
                // Past 64 bits the sums refuse the scope when it is kept.
                reading.billing_total = reading.billing_total.saturating_add(*total);
            }
            // The batch is in the sums but not in the store: the scope's
            // sums are worked out from its lines when it is kept.
            Err(_) => reading.sums.spoil(),
        }
        self.readings.set(partner, scope, reading);
        written.map(|_| ())
    }

    /// Forgets what was written for a scope and not kept: left by a sync
    /// that died, or read from a data version that changed while it was
    /// read. The next lines staged start a new version.
    pub async fn clear_staged(&self, partner: PartnerId, scope: &str) -> Result<(), sqlx::Error> {
        self.readings.take(partner, scope);
        let mut tx = self.write().await?;
        sql!(
            execute,
            tx.on(),
            "DELETE FROM line_items WHERE partner_id = ? AND scope = ? AND version <> 0
               AND version NOT IN (SELECT version FROM snapshots WHERE partner_id = ? AND scope = ?)";
            .bind(partner)
            .bind(scope)
            .bind(partner)
            .bind(scope)
        )?;
        sql!(
            execute,
            tx.on(),
            "DELETE FROM line_sums WHERE partner_id = ? AND scope = ? AND version <> 0
               AND version NOT IN (SELECT version FROM snapshots WHERE partner_id = ? AND scope = ?)";
            .bind(partner)
            .bind(scope)
            .bind(partner)
            .bind(scope)
        )?;
        tx.commit().await
    }

    /// A scope was read to its end in `run`: the lines it staged replace
    /// the lines it held, in one transaction. An invoice also replaces the
    /// unbilled usage of its month and currency from the same API (billed
    /// beats unbilled), and unbilled usage of a month already invoiced is
    /// not kept.
    pub async fn replace_scope(
        &self,
        partner: PartnerId,
        snapshot: &Snapshot,
        run: i64,
    ) -> Result<Replaced, sqlx::Error> {
        let reading = match self
            .readings
            .take(partner, &snapshot.scope)
            .filter(|r| r.run == run)
        {
            Some(reading) => reading,
            // Nothing staged: the scope is kept empty.
            None => self.new_reading(partner, &snapshot.scope, run).await?,
        };
        let mut tx = self.write().await?;
        if !snapshot.billed {
            let invoiced: Option<i32> = sql!(
                query_scalar,
                tx.on(),
                "SELECT 1 FROM snapshots WHERE partner_id = ? AND api = ? AND billed = 1
                 AND currency = ? AND month = ? LIMIT 1";
                .bind(partner)
                .bind(&snapshot.api)
                .bind(&snapshot.currency)
                .bind(&snapshot.month)
                .fetch_optional
            )?;
            if invoiced.is_some() {
                // The lines, their sums and the snapshot of the scope.
                sql!(
                    execute,
                    tx.on(),
                    "DELETE FROM line_items WHERE partner_id = ? AND scope = ?";
                    .bind(partner)
                    .bind(&snapshot.scope)
                )?;
                sql!(
                    execute,
                    tx.on(),
                    "DELETE FROM line_sums WHERE partner_id = ? AND scope = ?";
                    .bind(partner)
                    .bind(&snapshot.scope)
                )?;
                sql!(
                    execute,
                    tx.on(),
                    "DELETE FROM snapshots WHERE partner_id = ? AND scope = ?";
                    .bind(partner)
                    .bind(&snapshot.scope)
                )?;
                tx.lines_changed();
                tx.commit().await?;
                return Ok(Replaced::Superseded);
            }
        } else {
            // The unbilled usage of the invoice's month: its lines, their
            // sums, and last its snapshots, which the first two look up.
            sql!(
                execute,
                tx.on(),
                "DELETE FROM line_items WHERE partner_id = ? AND scope IN (
                    SELECT scope FROM snapshots WHERE partner_id = ? AND api = ?
                    AND billed = 0 AND currency = ? AND month = ?)";
                .bind(partner)
                .bind(partner)
                .bind(&snapshot.api)
                .bind(&snapshot.currency)
                .bind(&snapshot.month)
            )?;
            sql!(
                execute,
                tx.on(),
                "DELETE FROM line_sums WHERE partner_id = ? AND scope IN (
                    SELECT scope FROM snapshots WHERE partner_id = ? AND api = ?
                    AND billed = 0 AND currency = ? AND month = ?)";
                .bind(partner)
                .bind(partner)
                .bind(&snapshot.api)
                .bind(&snapshot.currency)
                .bind(&snapshot.month)
            )?;
            sql!(
                execute,
                tx.on(),
                "DELETE FROM snapshots WHERE partner_id = ? AND scope IN (
                    SELECT scope FROM snapshots WHERE partner_id = ? AND api = ?
                    AND billed = 0 AND currency = ? AND month = ?)";
                .bind(partner)
                .bind(partner)
                .bind(&snapshot.api)
                .bind(&snapshot.currency)
                .bind(&snapshot.month)
            )?;
        }
        // Every other version of the scope: the lines it held, and any
        // left by a read that never finished.
        sql!(
            execute,
            tx.on(),
            "DELETE FROM line_items WHERE partner_id = ? AND scope = ? AND version <> ?";
            .bind(partner)
            .bind(&snapshot.scope)
            .bind(reading.version)
        )?;
        sql!(
            execute,
            tx.on(),
            "DELETE FROM line_sums WHERE partner_id = ? AND scope = ? AND version <> ?";
            .bind(partner)
            .bind(&snapshot.scope)
            .bind(reading.version)
        )?;
        sql!(
            execute,
            tx.on(),
            "INSERT INTO snapshots (partner_id, scope, api, billed, currency, month, etag,
                line_items, billing_total_micros, unreadable, run_id, completed_at, version)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (partner_id, scope) DO UPDATE SET api = excluded.api,
                billed = excluded.billed, currency = excluded.currency, month = excluded.month,
                etag = excluded.etag, line_items = excluded.line_items,
                billing_total_micros = excluded.billing_total_micros,
                unreadable = excluded.unreadable, run_id = excluded.run_id,
                completed_at = excluded.completed_at, version = excluded.version";
            .bind(partner)
            .bind(&snapshot.scope)
            .bind(&snapshot.api)
            .bind(i64::from(snapshot.billed))
            .bind(&snapshot.currency)
            .bind(&snapshot.month)
            .bind(&snapshot.etag)
            .bind(reading.line_items as i64)
            .bind(reading.billing_total)
            .bind(snapshot.unreadable as i64)
            .bind(run)
            .bind(now())
            .bind(reading.version)
        )?;
        // The kept lines' sums: as read, or from the lines if a markup
        // (through any replica) repriced them meanwhile.
        let priced: i64 = sql!(
            query_scalar,
            tx.on(),
            "SELECT repricings FROM store_versions WHERE id = 1";
            .fetch_one
        )?;
        let from_lines = priced != reading.priced || reading.sums.spoiled();
        if let Some(conn) = tx.postgres() {
            match from_lines {
                true => {
                    let lines = sums::Lines::Read(&snapshot.scope, reading.version);
                    postgres::rebuild(conn, partner.0, lines).await?
                }
                false => postgres::write_sums(conn, &reading.sums, partner.0).await?,
            }
            tx.lines_changed();
            tx.commit().await?;
            return Ok(Replaced::Kept {
                line_items: reading.line_items,
                billing_total: Amount::from_micros(reading.billing_total),
            });
        }
        let mut handle = tx.lite()?.lock_handle().await?;
        bulk::holding_the_thread(|| {
            let db = Connection::of(&mut handle);
            match from_lines {
                true => sums::rebuild(
                    &db,
                    partner.0,
                    sums::Lines::Read(&snapshot.scope, reading.version),
                ),
                false => reading.sums.write(&db, partner.0),
            }
        })?;
        drop(handle);
        tx.lines_changed();
        tx.commit().await?;
        Ok(Replaced::Kept {
            line_items: reading.line_items,
            billing_total: Amount::from_micros(reading.billing_total),
        })
    }
}

#[cfg(test)]
mod tests;
