//! The Explorer's cube of a scope: its line items, or past a limit their
//! sums. Where the view's dimensions are columns of the store, SQLite
//! groups the lines and the proxy reads a row per group, not per line (a
//! large partner's month is over a million lines); a resource's name or a
//! tag's value is derived from text, so those are summed as the lines are
//! read.

use chrono::NaiveDate;
use futures_util::TryStreamExt;
use model::cube::{Cube, CubeBuilder, CubeRow, Dim, STORED};
use sqlx::Row;

use super::line_items::KEPT;
use super::reads::cube_row;
use super::{IN_SCOPE, PartnerId, Scope, Store, scope_arguments};

/// Each stored dimension's value as the store's columns give it, in
/// [`STORED`]'s order, as [`cube_row`] reads it from a line; `None` where
/// it is derived in Rust (the resource's name, from its URI).
const COLUMNS: [Option<&str>; 12] = [
    Some("CASE WHEN COALESCE(c.name, '') = '' THEN l.customer_id ELSE c.name END"),
    Some("r.entitlement_name"),
    Some("m.category"),
    Some("m.subcategory"),
    Some("m.name"),
    Some("r.region"),
    Some("r.resource_group"),
    None,
    Some("m.publisher"),
    Some("l.charge_type"),
    Some("l.billing_currency"),
    Some("m.unit"),
];

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
        let in_columns = keep.iter().all(|d| {
            STORED
                .iter()
                .position(|s| s == d)
                .is_some_and(|c| COLUMNS[c].is_some())
        });
        if line_items != usize::MAX
            && in_columns
            && self.count_lines(partner, scope).await? > line_items as i64
        {
            return self.summed_by_store(partner, scope, keep).await;
        }
        let mut builder = CubeBuilder::summing_above(line_items, keep);
        self.for_each_line(partner, scope, |l, price| {
            builder.push(&cube_row(&l, price));
        })
        .await?;
        Ok(builder.finish())
    }

    async fn count_lines(&self, partner: PartnerId, scope: &Scope) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar_with(
            sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM line_items l WHERE {IN_SCOPE} AND {KEPT}"
            )),
            scope_arguments(partner, scope)?,
        )
        .fetch_one(&self.pool)
        .await
    }

    /// The scope summed by SQLite to a row per day, currency and value of
    /// `keep`'s dimensions (each a column of the store).
    async fn summed_by_store(
        &self,
        partner: PartnerId,
        scope: &Scope,
        keep: &[Dim],
    ) -> Result<Cube, sqlx::Error> {
        let texts: Vec<String> = STORED
            .iter()
            .zip(COLUMNS)
            .map(|(dim, column)| match column {
                Some(c) if *dim == Dim::Currency || keep.contains(dim) => {
                    format!("COALESCE({c}, '')")
                }
                _ => "''".to_string(),
            })
            .collect();
        let group: Vec<String> = (1..=texts.len() + 1).map(|i| i.to_string()).collect();
        let sql = format!(
            "SELECT l.usage_date, {},
                    SUM(l.billing_total_micros), SUM(l.customer_price_micros),
                    SUM(l.list_cost_micros), SUM(l.quantity_micros), COUNT(*)
             FROM line_items l
             JOIN meters m ON m.id = l.meter
             JOIN resources r ON r.id = l.resource
             LEFT JOIN customers c ON c.partner_id = l.partner_id AND c.id = l.customer_id
             WHERE {IN_SCOPE} AND {KEPT}
             GROUP BY {}",
            texts.join(", "),
            group.join(", ")
        );
        let mut builder = CubeBuilder::summing_above(0, keep);
        {
            let mut rows =
                sqlx::query_with(sqlx::AssertSqlSafe(sql), scope_arguments(partner, scope)?)
                    .fetch(&self.pool);
            while let Some(row) = rows.try_next().await? {
                let day: &str = row.try_get(0)?;
                let day = NaiveDate::parse_from_str(day, "%Y-%m-%d")
                    .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
                let text = |i: usize| row.try_get::<&str, _>(i + 1);
                let sum = |i: usize| row.try_get::<i64, _>(i);
                let lines: i64 = row.try_get(17)?;
                builder.push_sum(
                    &CubeRow {
                        customer: text(0)?,
                        subscription: text(1)?,
                        meter_category: text(2)?,
                        meter_subcategory: text(3)?,
                        meter: text(4)?,
                        region: text(5)?,
                        resource_group: text(6)?,
                        resource: text(7)?,
                        publisher: text(8)?,
                        charge_type: text(9)?,
                        currency: text(10)?,
                        unit: text(11)?,
                        tags: "",
                        day,
                        partner_cost: sum(13)?,
                        customer_price: sum(14)?,
                        list_cost: sum(15)?,
                        quantity: sum(16)?,
                        pec_basis_points: 0,
                    },
                    u32::try_from(lines).unwrap_or(u32::MAX),
                );
            }
        }
        // The tag keys of the scope, which the view may offer to group by.
        let tags: Vec<String> = sqlx::query_scalar_with(
            sqlx::AssertSqlSafe(format!(
                "SELECT DISTINCT r.tags FROM line_items l JOIN resources r ON r.id = l.resource
                 WHERE {IN_SCOPE} AND {KEPT}"
            )),
            scope_arguments(partner, scope)?,
        )
        .fetch_all(&self.pool)
        .await?;
        for t in &tags {
            builder.see_tags(t);
        }
        Ok(builder.finish())
    }
}
