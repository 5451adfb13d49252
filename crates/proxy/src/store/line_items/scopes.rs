//! What the kept scopes hold: their snapshots, the lines staged and not
//! kept, and the totals per customer the sync's checks compare.

use std::collections::HashSet;

use model::Amount;

use super::CustomerTotal;
use crate::store::{PartnerId, Store, StoredSnapshot};

impl Store {
    /// Lines written and not kept: scopes being read (or left by a sync
    /// that died before the next one cleared them).
    pub async fn staged_count(&self, partner: PartnerId) -> Result<i64, sqlx::Error> {
        // NOT KEPT.
        sql!(
            query_scalar,
            self.reader().await?.on(),
            "SELECT COUNT(*) FROM line_items l WHERE l.partner_id = ? AND NOT
                (l.version = 0 OR l.version IN (SELECT version FROM snapshots WHERE partner_id = ?))";
            .bind(partner)
            .bind(partner)
            .fetch_one
        )
    }

    /// The scopes kept, with where they came from: `(scope, api, billed)`.
    pub async fn snapshots(
        &self,
        partner: PartnerId,
    ) -> Result<Vec<(String, String, bool)>, sqlx::Error> {
        let rows: Vec<(String, String, i64)> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT scope, api, billed FROM snapshots WHERE partner_id = ? ORDER BY scope";
            .bind(partner)
            .fetch_all
        )?;
        Ok(rows
            .into_iter()
            .map(|(scope, api, billed)| (scope, api, billed != 0))
            .collect())
    }

    /// The data version a scope holds, if it was read before.
    pub async fn snapshot(
        &self,
        partner: PartnerId,
        scope: &str,
    ) -> Result<Option<StoredSnapshot>, sqlx::Error> {
        let row: Option<(String, i64)> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT etag, unreadable FROM snapshots WHERE partner_id = ? AND scope = ?";
            .bind(partner)
            .bind(scope)
            .fetch_optional
        )?;
        Ok(row.map(|(etag, unreadable)| StoredSnapshot {
            etag,
            unreadable: unreadable as usize,
        }))
    }

    /// The billing currencies of the usage read before: the unbilled usage
    /// is read in them even when the invoice list cannot be.
    pub async fn feed_currencies(&self, partner: PartnerId) -> Result<Vec<String>, sqlx::Error> {
        sql!(
            query_scalar,
            self.reader().await?.on(),
            "SELECT DISTINCT currency FROM snapshots WHERE partner_id = ? ORDER BY currency";
            .bind(partner)
            .fetch_all
        )
    }

    /// Invoices read to their end with every line: billed usage never
    /// changes, so an incremental sync does not read them again.
    pub async fn complete_invoices(
        &self,
        partner: PartnerId,
    ) -> Result<HashSet<String>, sqlx::Error> {
        let scopes: Vec<String> = sql!(
            query_scalar,
            self.reader().await?.on(),
            "SELECT scope FROM snapshots WHERE partner_id = ? AND billed = 1 AND unreadable = 0";
            .bind(partner)
            .fetch_all
        )?;
        Ok(scopes.into_iter().collect())
    }

    /// Line items and their billing total per customer and currency, for
    /// checks against the upstream.
    pub async fn totals_by_customer(
        &self,
        partner: PartnerId,
        from: &str,
        to: &str,
    ) -> Result<Vec<CustomerTotal>, sqlx::Error> {
        // AND KEPT; PostgreSQL sums 64-bit integers as decimals: cast back
        // (a sum past 64 bits is then an error, as in SQLite).
        let rows: Vec<(String, String, i64, i64, i64)> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT customer_id, billing_currency, COUNT(*), SUM(billing_total_micros), SUM(key % 1000000007)
             FROM line_items l WHERE partner_id = ? AND usage_date >= ? AND usage_date <= ?
             AND (l.version = 0 OR l.version IN (SELECT version FROM snapshots WHERE partner_id = ?))
             GROUP BY customer_id, billing_currency ORDER BY customer_id, billing_currency",
            postgres: "SELECT customer_id, billing_currency, COUNT(*),
                SUM(billing_total_micros)::bigint, SUM(key % 1000000007)::bigint
             FROM line_items l WHERE partner_id = $1 AND usage_date >= $2 AND usage_date <= $3
             AND (l.version = 0 OR l.version IN (SELECT version FROM snapshots WHERE partner_id = $4))
             GROUP BY customer_id, billing_currency ORDER BY customer_id, billing_currency";
            .bind(partner)
            .bind(from)
            .bind(to)
            .bind(partner)
            .fetch_all
        )?;
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
