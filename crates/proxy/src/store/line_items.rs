//! Writing daily rated usage: the lines, the meter and resource
//! dictionaries that keep them narrow, and the feeds read to their end.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};

use model::Amount;
use model::usage::LineItem;

use super::{PartnerId, Store, day_text, now};

/// Line items per INSERT statement (23 values each, well under SQLite's
/// limit on parameters).
const LINES_PER_INSERT: usize = 200;

/// The columns of a line as written, in the order they are bound.
const LINE_COLUMNS: usize = 23;

type MeterKey = (String, String, String, String, String, String);
type ResourceKey = (String, String, String, String, String, String);

/// Dictionary IDs already known, so a page of line items rarely queries them.
#[derive(Default)]
pub(super) struct Dictionaries {
    meters: Mutex<HashMap<MeterKey, i64>>,
    resources: Mutex<HashMap<(PartnerId, ResourceKey), i64>>,
}

fn meter_key(l: &LineItem) -> MeterKey {
    (
        l.meter_id.clone(),
        l.meter_name.clone(),
        l.meter_category.clone(),
        l.meter_subcategory.clone(),
        l.unit.clone(),
        l.publisher.clone(),
    )
}

fn resource_key(l: &LineItem) -> ResourceKey {
    (
        l.resource_uri.clone(),
        l.resource_group.clone(),
        l.region.clone(),
        l.tags.clone(),
        l.entitlement_id.clone(),
        l.entitlement_name.clone(),
    )
}

/// The upsert of `rows` line items: inserted, or updated in place when the
/// identity (partner, key) is already stored.
fn upsert_sql(rows: usize) -> String {
    let one = format!("({})", vec!["?"; LINE_COLUMNS].join(", "));
    format!(
        "INSERT INTO line_items (partner_id, key, customer_id, subscription_id, usage_date, meter, resource,
            charge_type, quantity_micros, unit_price_micros, effective_unit_price_micros,
            pricing_total_micros, pricing_currency, billing_total_micros, billing_currency,
            list_cost_micros, customer_price_micros, fx_micros,
            pec_basis_points, credit_type, invoice_number, source, run_id)
         VALUES {}
         ON CONFLICT (partner_id, key) DO UPDATE SET
            customer_id = excluded.customer_id, subscription_id = excluded.subscription_id,
            usage_date = excluded.usage_date, meter = excluded.meter, resource = excluded.resource,
            charge_type = excluded.charge_type, quantity_micros = excluded.quantity_micros,
            unit_price_micros = excluded.unit_price_micros,
            effective_unit_price_micros = excluded.effective_unit_price_micros,
            pricing_total_micros = excluded.pricing_total_micros,
            pricing_currency = excluded.pricing_currency,
            billing_total_micros = excluded.billing_total_micros,
            billing_currency = excluded.billing_currency, fx_micros = excluded.fx_micros,
            list_cost_micros = excluded.list_cost_micros,
            customer_price_micros = excluded.customer_price_micros,
            pec_basis_points = excluded.pec_basis_points, credit_type = excluded.credit_type,
            invoice_number = excluded.invoice_number, source = excluded.source, run_id = excluded.run_id",
        vec![one; rows].join(", ")
    )
}

/// The statement for a full chunk is the same every time: built once.
fn upsert_statement(rows: usize) -> std::borrow::Cow<'static, str> {
    static FULL: OnceLock<String> = OnceLock::new();
    if rows == LINES_PER_INSERT {
        FULL.get_or_init(|| upsert_sql(LINES_PER_INSERT))
            .as_str()
            .into()
    } else {
        upsert_sql(rows).into()
    }
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
    async fn meter_id(
        &self,
        tx: &mut sqlx::SqliteConnection,
        l: &LineItem,
    ) -> Result<i64, sqlx::Error> {
        let key = meter_key(l);
        if let Some(id) = self
            .dictionaries
            .meters
            .lock()
            .expect("cache poisoned")
            .get(&key)
        {
            return Ok(*id);
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO meters (meter_id, name, category, subcategory, unit, publisher) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (meter_id, name, category, subcategory, unit, publisher) DO UPDATE SET name = excluded.name
             RETURNING id",
        )
        .bind(&key.0)
        .bind(&key.1)
        .bind(&key.2)
        .bind(&key.3)
        .bind(&key.4)
        .bind(&key.5)
        .fetch_one(&mut *tx)
        .await?;
        self.dictionaries
            .meters
            .lock()
            .expect("cache poisoned")
            .insert(key, id);
        Ok(id)
    }

    async fn resource_id(
        &self,
        tx: &mut sqlx::SqliteConnection,
        partner: PartnerId,
        l: &LineItem,
    ) -> Result<i64, sqlx::Error> {
        let key = (partner, resource_key(l));
        if let Some(id) = self
            .dictionaries
            .resources
            .lock()
            .expect("cache poisoned")
            .get(&key)
        {
            return Ok(*id);
        }
        let r = &key.1;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO resources (partner_id, uri, resource_group, region, tags, entitlement_id, entitlement_name)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (partner_id, uri, region, tags, entitlement_name) DO UPDATE SET
             resource_group = excluded.resource_group, entitlement_id = excluded.entitlement_id
             RETURNING id",
        )
        .bind(partner)
        .bind(&r.0)
        .bind(&r.1)
        .bind(&r.2)
        .bind(&r.3)
        .bind(&r.4)
        .bind(&r.5)
        .fetch_one(&mut *tx)
        .await?;
        self.dictionaries
            .resources
            .lock()
            .expect("cache poisoned")
            .insert(key, id);
        Ok(id)
    }

    /// Writes a page of line items in one transaction: each one inserted,
    /// or updated in place when its identity is already stored.
    pub async fn upsert_line_items(
        &self,
        partner: PartnerId,
        source: &str,
        run: i64,
        items: &[LineItem],
    ) -> Result<(), sqlx::Error> {
        let markups = self.markups(partner).await?;
        let mut tx = self.write().await?;
        let mut ids = Vec::with_capacity(items.len());
        for l in items {
            ids.push((
                self.meter_id(&mut tx, l).await?,
                self.resource_id(&mut tx, partner, l).await?,
            ));
        }
        // Many rows per statement: each statement is a round trip to the
        // connection's thread, which costs more than the row itself.
        for (chunk, ids) in items
            .chunks(LINES_PER_INSERT)
            .zip(ids.chunks(LINES_PER_INSERT))
        {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(upsert_statement(chunk.len())));
            for (l, (meter, resource)) in chunk.iter().zip(ids) {
                let list_cost = l.list_total().micros();
                let price = markups
                    .for_customer(&l.customer_id)
                    .price(l.billing_total.micros(), list_cost);
                q = q
                    .bind(partner)
                    .bind(l.key)
                    .bind(l.customer_id.clone())
                    .bind(l.subscription_id.clone())
                    .bind(day_text(l.usage_date))
                    .bind(*meter)
                    .bind(*resource)
                    .bind(l.charge_type.clone())
                    .bind(l.quantity_micros)
                    .bind(l.unit_price.micros())
                    .bind(l.effective_unit_price.micros())
                    .bind(l.pricing_total.micros())
                    .bind(l.pricing_currency.code().to_string())
                    .bind(l.billing_total.micros())
                    .bind(l.billing_currency.code().to_string())
                    .bind(list_cost)
                    .bind(price)
                    .bind(l.fx_micros)
                    .bind(l.pec_basis_points)
                    .bind(l.credit_type.clone())
                    .bind(l.invoice_number.clone())
                    .bind(source.to_string())
                    .bind(run);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        self.lines_changed();
        Ok(())
    }

    /// A feed was read to its end in `run`. Lines of the billing months it
    /// covers (`sources`) that this run did not see are gone upstream, so
    /// they go here too; then the feed is recorded as complete.
    pub async fn complete_feed(
        &self,
        partner: PartnerId,
        feed: &str,
        sources: &[String],
        run: i64,
        currency: &str,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.write().await?;
        let mut line_items = 0i64;
        let mut total = 0i64;
        for source in sources {
            sqlx::query(
                "DELETE FROM line_items WHERE partner_id = ? AND source = ? AND run_id <> ?",
            )
            .bind(partner)
            .bind(source)
            .bind(run)
            .execute(&mut *tx)
            .await?;
            let (count, sum): (i64, i64) = sqlx::query_as(
                "SELECT COUNT(*), COALESCE(SUM(billing_total_micros), 0) FROM line_items
                 WHERE partner_id = ? AND source = ?",
            )
            .bind(partner)
            .bind(source)
            .fetch_one(&mut *tx)
            .await?;
            line_items += count;
            total += sum;
        }
        sqlx::query(
            "INSERT INTO feeds (partner_id, source, run_id, line_items, billing_total_micros, currency, completed_at)
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (partner_id, source) DO UPDATE SET
             run_id = excluded.run_id, line_items = excluded.line_items,
             billing_total_micros = excluded.billing_total_micros, completed_at = excluded.completed_at",
        )
        .bind(partner)
        .bind(feed)
        .bind(run)
        .bind(line_items)
        .bind(total)
        .bind(currency)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.lines_changed();
        Ok(())
    }

    /// Feeds read to the end before.
    pub async fn completed_feeds(
        &self,
        partner: PartnerId,
    ) -> Result<HashSet<String>, sqlx::Error> {
        let feeds: Vec<String> =
            sqlx::query_scalar("SELECT source FROM feeds WHERE partner_id = ?")
                .bind(partner)
                .fetch_all(&self.pool)
                .await?;
        Ok(feeds.into_iter().collect())
    }

    /// Line items and their billing total per customer and currency, for
    /// checks against the upstream.
    pub async fn totals_by_customer(
        &self,
        partner: PartnerId,
        from: &str,
        to: &str,
    ) -> Result<Vec<CustomerTotal>, sqlx::Error> {
        let rows: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(
            "SELECT customer_id, billing_currency, COUNT(*), SUM(billing_total_micros), SUM(key % 1000000007)
             FROM line_items WHERE partner_id = ? AND usage_date >= ? AND usage_date <= ?
             GROUP BY customer_id, billing_currency ORDER BY customer_id, billing_currency",
        )
        .bind(partner)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(customer_id, currency, n, total, key_checksum)| CustomerTotal {
                    customer_id,
                    currency,
                    line_items: n as usize,
                    billing_total: Amount::from_micros(total),
                    key_checksum,
                },
            )
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::{line, temporary};

    #[tokio::test]
    async fn reading_a_line_again_updates_it_in_place() {
        let (_dir, store) = temporary().await;
        let p = store.partner("tenant-a").await.unwrap();
        let first = line("c1", "2026-11-03", 1_500_000);
        store
            .upsert_line_items(p, "USD:2026-11", 1, std::slice::from_ref(&first))
            .await
            .unwrap();
        let mut rerated = first.clone();
        rerated.billing_total = Amount::from_micros(1_250_000);
        store
            .upsert_line_items(p, "USD:2026-11", 1, &[rerated])
            .await
            .unwrap();
        let totals = store
            .totals_by_customer(p, "2026-11-01", "2026-11-30")
            .await
            .unwrap();
        assert_eq!(totals.len(), 1);
        assert_eq!(
            (totals[0].line_items, totals[0].billing_total),
            (1, Amount::from_micros(1_250_000))
        );
    }

    #[tokio::test]
    async fn a_completed_feed_retires_what_its_run_did_not_see() {
        let (_dir, store) = temporary().await;
        let p = store.partner("tenant-a").await.unwrap();
        let (a, b) = (
            line("c1", "2026-11-03", 1_000_000),
            line("c1", "2026-11-04", 2_000_000),
        );
        store
            .upsert_line_items(p, "USD:2026-11", 1, &[a.clone(), b])
            .await
            .unwrap();
        // Run 2 sees only `a`: `b` is gone upstream.
        store
            .upsert_line_items(p, "USD:2026-11", 2, &[a])
            .await
            .unwrap();
        store
            .complete_feed(p, "unbilled:current:USD", &["USD:2026-11".into()], 2, "USD")
            .await
            .unwrap();
        let totals = store
            .totals_by_customer(p, "2026-11-01", "2026-11-30")
            .await
            .unwrap();
        assert_eq!(
            (totals[0].line_items, totals[0].billing_total),
            (1, Amount::from_micros(1_000_000))
        );
        assert!(
            store
                .completed_feeds(p)
                .await
                .unwrap()
                .contains("unbilled:current:USD")
        );
    }

    #[test]
    fn a_full_chunk_binds_as_many_values_as_it_names() {
        let sql = upsert_statement(LINES_PER_INSERT);
        assert_eq!(sql.matches('?').count(), LINES_PER_INSERT * LINE_COLUMNS);
        assert_eq!(upsert_statement(3).matches('?').count(), 3 * LINE_COLUMNS);
    }
}
