//! The store: every query the proxy makes lives here, so another database
//! (PostgreSQL for scale-out) can be added without touching the callers.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use chrono::{SecondsFormat, Utc};
use model::Amount;
use model::api::{CustomerRow, SyncCounts};
use model::usage::LineItem;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
    /// Dictionary IDs already known, so a page of line items rarely queries them.
    meters: Arc<Mutex<HashMap<MeterKey, i64>>>,
    resources: Arc<Mutex<HashMap<(i64, ResourceKey), i64>>>,
}

type MeterKey = (String, String, String, String, String, String);
type ResourceKey = (String, String, String, String, String, String);

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

/// A budget as the store keeps it: `None` is "no budget set".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget(pub Option<Amount>);

/// A partner's row ID in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartnerId(pub i64);

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Store {
    /// Opens (creating if needed) the SQLite file in `data_dir` and migrates it.
    pub async fn open(data_dir: &Path) -> Result<Store, sqlx::Error> {
        std::fs::create_dir_all(data_dir).map_err(sqlx::Error::Io)?;
        let url = format!("sqlite://{}", data_dir.join("proxy.sqlite3").display());
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            // WAL lets readers proceed while the sync writes.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store {
            pool,
            meters: Arc::default(),
            resources: Arc::default(),
        })
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    /// The partner with this tenant, created on first sight.
    pub async fn partner(&self, tenant_id: &str) -> Result<PartnerId, sqlx::Error> {
        sqlx::query("INSERT INTO partners (tenant_id, created_at) VALUES (?, ?) ON CONFLICT (tenant_id) DO NOTHING")
            .bind(tenant_id)
            .bind(now())
            .execute(&self.pool)
            .await?;
        let row = sqlx::query("SELECT id FROM partners WHERE tenant_id = ?")
            .bind(tenant_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(PartnerId(row.get(0)))
    }

    /// Replaces a partner's customers with the list just read, in one
    /// transaction, so readers see the old list or the new one, never half.
    pub async fn replace_customers(
        &self,
        partner: PartnerId,
        customers: &[CustomerRow],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let stamp = now();
        for c in customers {
            sqlx::query(
                "INSERT INTO customers (partner_id, id, name, domain, relationship, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?)
                 ON CONFLICT (partner_id, id) DO UPDATE SET
                   name = excluded.name, domain = excluded.domain,
                   relationship = excluded.relationship, updated_at = excluded.updated_at",
            )
            .bind(partner.0)
            .bind(&c.id)
            .bind(&c.name)
            .bind(&c.domain)
            .bind(&c.relationship)
            .bind(&stamp)
            .execute(&mut *tx)
            .await?;
        }
        // Customers no longer in Partner Center are gone from the list.
        sqlx::query("DELETE FROM customers WHERE partner_id = ? AND updated_at <> ?")
            .bind(partner.0)
            .bind(&stamp)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    pub async fn customers(&self, partner: PartnerId) -> Result<Vec<CustomerRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, name, domain, relationship FROM customers WHERE partner_id = ? ORDER BY name COLLATE NOCASE, id",
        )
        .bind(partner.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| CustomerRow {
                id: r.get(0),
                name: r.get(1),
                domain: r.get(2),
                relationship: r.get(3),
            })
            .collect())
    }

    pub async fn start_sync(&self, partner: PartnerId, kind: &str) -> Result<i64, sqlx::Error> {
        let row = sqlx::query(
            "INSERT INTO sync_runs (partner_id, started_at, status, kind) VALUES (?, ?, 'running', ?) RETURNING id",
        )
        .bind(partner.0)
        .bind(now())
        .bind(kind)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get(0))
    }

    /// Records a sync's progress, so it can be shown after a restart.
    pub async fn update_sync(&self, run: i64, p: &SyncCounts) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE sync_runs SET customers_done = ?, customers_total = ?, line_items = ?,
                    feeds_done = ?, feeds_total = ?, errors = ? WHERE id = ?",
        )
        .bind(p.customers_done as i64)
        .bind(p.customers_total.map(|n| n as i64))
        .bind(p.line_items as i64)
        .bind(p.feeds_done as i64)
        .bind(p.feeds_total.map(|n| n as i64))
        .bind(p.errors as i64)
        .bind(run)
        .execute(&self.pool)
        .await
        .map(|_| ())
    }

    pub async fn finish_sync(
        &self,
        run: i64,
        p: &SyncCounts,
        error: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        self.update_sync(run, p).await?;
        sqlx::query("UPDATE sync_runs SET finished_at = ?, status = ?, error = ? WHERE id = ?")
            .bind(now())
            .bind(if error.is_some() {
                "failed"
            } else {
                "succeeded"
            })
            .bind(error)
            .bind(run)
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    /// Runs left `running` by a process that died: they are over.
    pub async fn abandon_running_syncs(&self) -> Result<u64, sqlx::Error> {
        sqlx::query(
            "UPDATE sync_runs SET status = 'interrupted', finished_at = ? WHERE status = 'running'",
        )
        .bind(now())
        .execute(&self.pool)
        .await
        .map(|r| r.rows_affected())
    }

    /// The partner's latest sync, whatever its state.
    pub async fn latest_sync(&self, partner: PartnerId) -> Result<Option<SyncRun>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT id, kind, started_at, finished_at, status, customers_done, customers_total,
                    line_items, feeds_done, feeds_total, errors, error
             FROM sync_runs WHERE partner_id = ? ORDER BY id DESC LIMIT 1",
        )
        .bind(partner.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| SyncRun {
            id: r.get(0),
            kind: r.get(1),
            started_at: r.get(2),
            finished_at: r.get(3),
            status: r.get(4),
            counts: SyncCounts {
                customers_done: r.get::<i64, _>(5) as usize,
                customers_total: r.get::<Option<i64>, _>(6).map(|n| n as usize),
                line_items: r.get::<i64, _>(7) as usize,
                feeds_done: r.get::<i64, _>(8) as usize,
                feeds_total: r.get::<Option<i64>, _>(9).map(|n| n as usize),
                errors: r.get::<i64, _>(10) as usize,
            },
            error: r.get(11),
        }))
    }

    pub async fn replace_subscriptions(
        &self,
        partner: PartnerId,
        customer: &str,
        subscriptions: &[(String, String, String, String)],
        entitlements: &[(String, String, String, String)],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM subscriptions WHERE partner_id = ? AND customer_id = ?")
            .bind(partner.0)
            .bind(customer)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM entitlements WHERE partner_id = ? AND customer_id = ?")
            .bind(partner.0)
            .bind(customer)
            .execute(&mut *tx)
            .await?;
        for (id, offer, name, status) in subscriptions {
            sqlx::query(
                "INSERT INTO subscriptions (partner_id, customer_id, id, offer_name, friendly_name, status)
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (partner_id, id) DO UPDATE SET
                 customer_id = excluded.customer_id, offer_name = excluded.offer_name,
                 friendly_name = excluded.friendly_name, status = excluded.status",
            )
            .bind(partner.0)
            .bind(customer)
            .bind(id)
            .bind(offer)
            .bind(name)
            .bind(status)
            .execute(&mut *tx)
            .await?;
        }
        for (id, subscription, name, status) in entitlements {
            sqlx::query(
                "INSERT INTO entitlements (partner_id, customer_id, subscription_id, id, friendly_name, status)
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (partner_id, id) DO UPDATE SET
                 customer_id = excluded.customer_id, subscription_id = excluded.subscription_id,
                 friendly_name = excluded.friendly_name, status = excluded.status",
            )
            .bind(partner.0)
            .bind(customer)
            .bind(subscription)
            .bind(id)
            .bind(name)
            .bind(status)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    pub async fn set_budget(
        &self,
        partner: PartnerId,
        customer: &str,
        budget: Budget,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO budgets (partner_id, customer_id, amount_micros, updated_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (partner_id, customer_id) DO UPDATE SET
             amount_micros = excluded.amount_micros, updated_at = excluded.updated_at",
        )
        .bind(partner.0)
        .bind(customer)
        .bind(budget.0.map(|a| a.micros()))
        .bind(now())
        .execute(&self.pool)
        .await
        .map(|_| ())
    }

    pub async fn budget(
        &self,
        partner: PartnerId,
        customer: &str,
    ) -> Result<Option<Budget>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT amount_micros FROM budgets WHERE partner_id = ? AND customer_id = ?",
        )
        .bind(partner.0)
        .bind(customer)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| Budget(r.get::<Option<i64>, _>(0).map(Amount::from_micros))))
    }

    async fn meter_id(
        &self,
        tx: &mut sqlx::SqliteConnection,
        l: &LineItem,
    ) -> Result<i64, sqlx::Error> {
        let key = meter_key(l);
        if let Some(id) = self.meters.lock().expect("cache poisoned").get(&key) {
            return Ok(*id);
        }
        let row = sqlx::query(
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
        let id: i64 = row.get(0);
        self.meters.lock().expect("cache poisoned").insert(key, id);
        Ok(id)
    }

    async fn resource_id(
        &self,
        tx: &mut sqlx::SqliteConnection,
        partner: PartnerId,
        l: &LineItem,
    ) -> Result<i64, sqlx::Error> {
        let key = (partner.0, resource_key(l));
        if let Some(id) = self.resources.lock().expect("cache poisoned").get(&key) {
            return Ok(*id);
        }
        let r = &key.1;
        let row = sqlx::query(
            "INSERT INTO resources (partner_id, uri, resource_group, region, tags, entitlement_id, entitlement_name)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (partner_id, uri, region, tags, entitlement_name) DO UPDATE SET
             resource_group = excluded.resource_group, entitlement_id = excluded.entitlement_id
             RETURNING id",
        )
        .bind(partner.0)
        .bind(&r.0)
        .bind(&r.1)
        .bind(&r.2)
        .bind(&r.3)
        .bind(&r.4)
        .bind(&r.5)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.get(0);
        self.resources
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
        let mut tx = self.pool.begin().await?;
        for l in items {
            let meter = self.meter_id(&mut tx, l).await?;
            let resource = self.resource_id(&mut tx, partner, l).await?;
            sqlx::query(
                "INSERT INTO line_items (partner_id, key, customer_id, subscription_id, usage_date, meter, resource,
                    charge_type, quantity_micros, unit_price_micros, effective_unit_price_micros,
                    pricing_total_micros, pricing_currency, billing_total_micros, billing_currency, fx_micros,
                    pec_basis_points, credit_type, invoice_number, source, run_id)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
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
                    pec_basis_points = excluded.pec_basis_points, credit_type = excluded.credit_type,
                    invoice_number = excluded.invoice_number, source = excluded.source, run_id = excluded.run_id",
            )
            .bind(partner.0)
            .bind(l.key)
            .bind(&l.customer_id)
            .bind(&l.subscription_id)
            .bind(l.usage_date.format("%Y-%m-%d").to_string())
            .bind(meter)
            .bind(resource)
            .bind(&l.charge_type)
            .bind(l.quantity_micros)
            .bind(l.unit_price.micros())
            .bind(l.effective_unit_price.micros())
            .bind(l.pricing_total.micros())
            .bind(l.pricing_currency.code())
            .bind(l.billing_total.micros())
            .bind(l.billing_currency.code())
            .bind(l.fx_micros)
            .bind(l.pec_basis_points)
            .bind(&l.credit_type)
            .bind(&l.invoice_number)
            .bind(source)
            .bind(run)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
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
        let mut tx = self.pool.begin().await?;
        let mut line_items = 0i64;
        let mut total = 0i64;
        for source in sources {
            sqlx::query(
                "DELETE FROM line_items WHERE partner_id = ? AND source = ? AND run_id <> ?",
            )
            .bind(partner.0)
            .bind(source)
            .bind(run)
            .execute(&mut *tx)
            .await?;
            let row = sqlx::query(
                "SELECT COUNT(*), COALESCE(SUM(billing_total_micros), 0) FROM line_items
                 WHERE partner_id = ? AND source = ?",
            )
            .bind(partner.0)
            .bind(source)
            .fetch_one(&mut *tx)
            .await?;
            line_items += row.get::<i64, _>(0);
            total += row.get::<i64, _>(1);
        }
        sqlx::query(
            "INSERT INTO feeds (partner_id, source, run_id, line_items, billing_total_micros, currency, completed_at)
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (partner_id, source) DO UPDATE SET
             run_id = excluded.run_id, line_items = excluded.line_items,
             billing_total_micros = excluded.billing_total_micros, completed_at = excluded.completed_at",
        )
        .bind(partner.0)
        .bind(feed)
        .bind(run)
        .bind(line_items)
        .bind(total)
        .bind(currency)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// Feeds read to the end before, by source.
    pub async fn completed_feeds(
        &self,
        partner: PartnerId,
    ) -> Result<HashSet<String>, sqlx::Error> {
        let rows = sqlx::query("SELECT source FROM feeds WHERE partner_id = ?")
            .bind(partner.0)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
    }

    /// Line items and their billing total per customer and currency, for
    /// checks against the upstream and for the customer list.
    pub async fn totals_by_customer(
        &self,
        partner: PartnerId,
        from: &str,
        to: &str,
    ) -> Result<Vec<CustomerTotal>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT customer_id, billing_currency, COUNT(*), SUM(billing_total_micros), SUM(key % 1000000007)
             FROM line_items WHERE partner_id = ? AND usage_date >= ? AND usage_date <= ?
             GROUP BY customer_id, billing_currency ORDER BY customer_id, billing_currency",
        )
        .bind(partner.0)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| CustomerTotal {
                customer_id: r.get(0),
                currency: r.get(1),
                line_items: r.get::<i64, _>(2) as usize,
                billing_total: Amount::from_micros(r.get(3)),
                key_checksum: r.get(4),
            })
            .collect())
    }

    /// When the partner's customer list was last read from Partner Center.
    pub async fn customers_read_at(
        &self,
        partner: PartnerId,
    ) -> Result<Option<String>, sqlx::Error> {
        let row = sqlx::query("SELECT MAX(updated_at) FROM customers WHERE partner_id = ?")
            .bind(partner.0)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get(0))
    }

    /// When the partner's last successful sync finished.
    pub async fn last_synced(&self, partner: PartnerId) -> Result<Option<String>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT MAX(finished_at) FROM sync_runs WHERE partner_id = ? AND status = 'succeeded'",
        )
        .bind(partner.0)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.get(0))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRun {
    pub id: i64,
    pub kind: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: String,
    pub counts: SyncCounts,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerTotal {
    pub customer_id: String,
    pub currency: String,
    pub line_items: usize,
    pub billing_total: Amount,
    /// A sum over the lines' identities: equal sets give equal sums.
    pub key_checksum: i64,
}
