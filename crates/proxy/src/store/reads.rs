//! Reading usage back: daily totals, pages of line items, totals per
//! service, and the cube the browser pivots. Every read of whole lines goes
//! through one pager ([`Store::for_each_line`]).

use chrono::NaiveDate;
use model::report::DayCost;
use model::usage::LineItem;
use model::{Amount, Currency, cube, exact};

use super::{PartnerId, Scope, ScopeBinds, Store};

/// Lines per page when a read walks a whole scope: enough to keep round
/// trips few, few enough to keep one page's memory small.
const PAGE: i64 = 20_000;

/// A day as stored (`YYYY-MM-DD`); the store writes no other form.
fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_default()
}

#[derive(sqlx::FromRow)]
struct DayCostRow {
    customer_id: String,
    currency: String,
    usage_date: String,
    partner_cost: i64,
    customer_price: i64,
    list_cost: i64,
}

/// A stored line with its dictionaries joined back.
#[derive(sqlx::FromRow)]
struct LineRow {
    key: i64,
    customer_id: String,
    customer_name: String,
    subscription_id: String,
    entitlement_id: String,
    entitlement_name: String,
    usage_date: String,
    meter_id: String,
    meter_name: String,
    meter_category: String,
    meter_subcategory: String,
    unit: String,
    publisher: String,
    region: String,
    resource_group: String,
    resource_uri: String,
    tags: String,
    charge_type: String,
    quantity_micros: i64,
    unit_price: String,
    effective_unit_price: String,
    pricing_total_micros: i64,
    pricing_currency: String,
    billing_total_micros: i64,
    billing_currency: String,
    fx_micros: i64,
    /// Written from an i32: it fits.
    pec_basis_points: i64,
    credit_type: String,
    invoice_number: String,
    benefit_order_id: String,
    benefit_id: String,
    benefit_type: String,
    customer_price_micros: i64,
}

impl LineRow {
    /// The line, and what the customer pays for it.
    fn into_line(self) -> (LineItem, i64) {
        let currency = |text: &str| Currency::parse(text).unwrap_or(Currency::USD);
        (
            LineItem {
                key: self.key,
                customer_id: self.customer_id,
                customer_name: self.customer_name,
                subscription_id: self.subscription_id,
                entitlement_id: self.entitlement_id,
                entitlement_name: self.entitlement_name,
                usage_date: day(&self.usage_date),
                meter_id: self.meter_id,
                meter_name: self.meter_name,
                meter_category: self.meter_category,
                meter_subcategory: self.meter_subcategory,
                unit: self.unit,
                publisher: self.publisher,
                region: self.region,
                resource_group: self.resource_group,
                resource_uri: self.resource_uri,
                tags: self.tags,
                charge_type: self.charge_type,
                quantity_micros: self.quantity_micros,
                // Written by `exact::text`; anything else (a hand edit) as zero.
                unit_price: exact::parse(&self.unit_price).unwrap_or_default(),
                effective_unit_price: exact::parse(&self.effective_unit_price).unwrap_or_default(),
                pricing_total: Amount::from_micros(self.pricing_total_micros),
                pricing_currency: currency(&self.pricing_currency),
                billing_total: Amount::from_micros(self.billing_total_micros),
                billing_currency: currency(&self.billing_currency),
                fx_micros: self.fx_micros,
                pec_basis_points: self.pec_basis_points as i32,
                credit_type: self.credit_type,
                invoice_number: self.invoice_number,
                benefit_id: self.benefit_id,
                benefit_order_id: self.benefit_order_id,
                benefit_type: self.benefit_type,
            },
            self.customer_price_micros,
        )
    }
}

// The scope reads below write `{IN_SCOPE} AND {KEPT}` (store/mod.rs,
// line_items) out in full, as `sql!` takes literals, and bind its six
// values from `ScopeBinds` in their order.
impl Store {
    /// The last day with usage: the "today" of the data, in UTC days.
    pub async fn last_usage_day(
        &self,
        partner: PartnerId,
    ) -> Result<Option<NaiveDate>, sqlx::Error> {
        let last: Option<String> = sql!(
            query_scalar,
            self.reader().await?.on(),
            "SELECT MAX(usage_date) FROM line_items l WHERE partner_id = ?
             AND (l.version = 0 OR l.version IN (SELECT version FROM snapshots WHERE partner_id = ?))";
            .bind(partner)
            .bind(partner)
            .fetch_one
        )?;
        Ok(last.as_deref().map(day))
    }

    /// Costs per customer, currency and day.
    pub async fn daily_totals(
        &self,
        partner: PartnerId,
        scope: &Scope,
    ) -> Result<Vec<DayCost>, sqlx::Error> {
        let b = ScopeBinds::of(partner, scope);
        // PostgreSQL sums 64-bit integers as decimals: cast back (past 64
        // bits an error, as SQLite's).
        let rows: Vec<DayCostRow> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT customer_id, billing_currency AS currency, usage_date,
                    CAST(SUM(billing_total_micros) AS BIGINT) AS partner_cost,
                    CAST(SUM(customer_price_micros) AS BIGINT) AS customer_price,
                    CAST(SUM(list_cost_micros) AS BIGINT) AS list_cost
                 FROM line_items l WHERE l.partner_id = ? AND l.usage_date >= ? AND l.usage_date <= ?
         AND (? IS NULL OR l.customer_id = ?)
         AND (l.version = 0 OR l.version IN (SELECT version FROM snapshots WHERE partner_id = ?)) GROUP BY customer_id, billing_currency, usage_date";
            .bind(b.partner)
            .bind(&b.from)
            .bind(&b.to)
            .bind(b.customer.as_deref())
            .bind(b.customer.as_deref())
            .bind(b.partner)
            .fetch_all
        )?;
        Ok(rows
            .into_iter()
            .map(|r| DayCost {
                day: day(&r.usage_date),
                customer_id: r.customer_id,
                currency: r.currency,
                partner_cost: r.partner_cost,
                customer_price: r.customer_price,
                list_cost: r.list_cost,
            })
            .collect())
    }

    /// Line items of a scope, with what the customer pays for each, in a
    /// stable order; `limit` and `offset` page through them.
    pub async fn line_items(
        &self,
        partner: PartnerId,
        scope: &Scope,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<(LineItem, i64)>, sqlx::Error> {
        let b = ScopeBinds::of(partner, scope);
        let rows: Vec<LineRow> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT l.key, l.customer_id, COALESCE(c.name, '') AS customer_name, l.subscription_id,
                    r.entitlement_id, r.entitlement_name, l.usage_date, m.meter_id, m.name AS meter_name,
                    m.category AS meter_category, m.subcategory AS meter_subcategory, m.unit,
                    m.publisher, r.region, r.resource_group, r.uri AS resource_uri, r.tags,
                    l.charge_type, l.quantity_micros, l.unit_price, l.effective_unit_price,
                    l.pricing_total_micros, l.pricing_currency, l.billing_total_micros,
                    l.billing_currency, l.fx_micros, l.pec_basis_points, l.credit_type,
                    l.invoice_number, l.benefit_order_id, l.benefit_id, l.benefit_type,
                    l.customer_price_micros
             FROM line_items l
             JOIN meters m ON m.id = l.meter
             JOIN resources r ON r.id = l.resource
             LEFT JOIN customers c ON c.partner_id = l.partner_id AND c.id = l.customer_id
             WHERE l.partner_id = ? AND l.usage_date >= ? AND l.usage_date <= ?
         AND (? IS NULL OR l.customer_id = ?)
         AND (l.version = 0 OR l.version IN (SELECT version FROM snapshots WHERE partner_id = ?)) ORDER BY l.usage_date, l.customer_id, l.key, l.id
             LIMIT ? OFFSET ?";
            .bind(b.partner)
            .bind(&b.from)
            .bind(&b.to)
            .bind(b.customer.as_deref())
            .bind(b.customer.as_deref())
            .bind(b.partner)
            .bind(limit)
            .bind(offset)
            .fetch_all
        )?;
        Ok(rows.into_iter().map(LineRow::into_line).collect())
    }

    /// Every line of a scope, in the order of [`Store::line_items`], a page
    /// at a time: `each` sees a line and the customer's price of it.
    pub async fn for_each_line(
        &self,
        partner: PartnerId,
        scope: &Scope,
        mut each: impl FnMut(LineItem, i64),
    ) -> Result<usize, sqlx::Error> {
        let mut pages = self.pages(partner, scope);
        let mut n = 0;
        while let Some(page) = pages.next().await? {
            n += page.len();
            for (line, price) in page {
                each(line, price);
            }
        }
        Ok(n)
    }

    /// The lines of a scope as pages, in the order of [`Store::line_items`].
    pub fn pages(&self, partner: PartnerId, scope: &Scope) -> Pages {
        Pages {
            store: self.clone(),
            partner,
            customer: scope.customer.clone(),
            day: Some(scope.from),
            to: scope.to,
            offset: 0,
        }
    }

    /// Cost per meter category and currency in a scope, largest first:
    /// (category, currency, partner cost, customer price).
    pub async fn category_totals(
        &self,
        partner: PartnerId,
        scope: &Scope,
    ) -> Result<Vec<(String, String, i64, i64)>, sqlx::Error> {
        let b = ScopeBinds::of(partner, scope);
        sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT m.category, l.billing_currency, CAST(SUM(l.billing_total_micros) AS BIGINT),
                    CAST(SUM(l.customer_price_micros) AS BIGINT)
                 FROM line_items l JOIN meters m ON m.id = l.meter
                 WHERE l.partner_id = ? AND l.usage_date >= ? AND l.usage_date <= ?
         AND (? IS NULL OR l.customer_id = ?)
         AND (l.version = 0 OR l.version IN (SELECT version FROM snapshots WHERE partner_id = ?)) GROUP BY m.category, l.billing_currency ORDER BY 3 DESC";
            .bind(b.partner)
            .bind(&b.from)
            .bind(&b.to)
            .bind(b.customer.as_deref())
            .bind(b.customer.as_deref())
            .bind(b.partner)
            .fetch_all
        )
    }
}

/// A stored line as a row of the Explorer's cube: what it groups and
/// filters by, so that an export filters lines as the Explorer does.
pub fn cube_row(l: &LineItem, customer_price: i64) -> cube::CubeRow<'_> {
    let customer = if l.customer_name.is_empty() {
        &l.customer_id
    } else {
        &l.customer_name
    };
    cube::CubeRow {
        customer,
        subscription: &l.entitlement_name,
        meter_category: &l.meter_category,
        meter_subcategory: &l.meter_subcategory,
        meter: &l.meter_name,
        region: &l.region,
        resource_group: &l.resource_group,
        resource: l.resource_name(),
        tags: &l.tags,
        publisher: &l.publisher,
        charge_type: &l.charge_type,
        currency: l.billing_currency.code(),
        unit: &l.unit,
        day: l.usage_date,
        partner_cost: l.billing_total.micros(),
        customer_price,
        list_cost: l.list_total().micros(),
        quantity: l.quantity_micros,
        pec_basis_points: l.pec_basis_points.clamp(0, u16::MAX as i32) as u16,
    }
}

/// A walk through a scope's lines one day at a time, each day in pages:
/// memory holds one page, and no query sorts more than one day's lines
/// (paging a year of a large partner by offset would sort it all again for
/// every page). Nothing is held between pages, so a slow reader of an
/// export holds no connection of the store.
pub struct Pages {
    store: Store,
    partner: PartnerId,
    customer: Option<String>,
    day: Option<NaiveDate>,
    to: NaiveDate,
    offset: i64,
}

impl Pages {
    /// The next page; `None` once the scope's last day is read.
    pub async fn next(&mut self) -> Result<Option<Vec<(LineItem, i64)>>, sqlx::Error> {
        while let Some(day) = self.day.filter(|d| *d <= self.to) {
            let one = Scope {
                customer: self.customer.clone(),
                from: day,
                to: day,
            };
            let page = self
                .store
                .line_items(self.partner, &one, PAGE, self.offset)
                .await?;
            if (page.len() as i64) < PAGE {
                self.day = day.succ_opt();
                self.offset = 0;
            } else {
                self.offset += PAGE;
            }
            if !page.is_empty() {
                return Ok(Some(page));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::line;

    fn scope(customer: Option<&str>, from: &str, to: &str) -> Scope {
        Scope {
            customer: customer.map(str::to_string),
            from: from.parse().unwrap(),
            to: to.parse().unwrap(),
        }
    }

    on_both_stores! {
        async fn totals_pages_and_the_cube_agree_with_the_lines_written(store: Store) {
            let p = store.partner("tenant-a").await.unwrap();
            let lines = [
                line("c1", "2026-11-01", 1_000_000),
                line("c1", "2026-11-02", 2_500_000),
                line("c2", "2026-11-02", 4_000_000),
                line("c1", "2026-10-31", 9_000_000),
            ];
            store
                .add_line_items(p, "v1:invoice:G1", 1, &lines)
                .await
                .unwrap();
            assert_eq!(
                store.last_usage_day(p).await.unwrap(),
                Some("2026-11-02".parse().unwrap())
            );

            let november = scope(None, "2026-11-01", "2026-11-30");
            let mut days = store.daily_totals(p, &november).await.unwrap();
            days.sort_by(|a, b| (a.day, &a.customer_id).cmp(&(b.day, &b.customer_id)));
            let costs: Vec<_> = days
                .iter()
                .map(|d| (d.customer_id.as_str(), d.partner_cost))
                .collect();
            assert_eq!(
                costs,
                [("c1", 1_000_000), ("c1", 2_500_000), ("c2", 4_000_000)]
            );

            let c1 = scope(Some("c1"), "2026-10-01", "2026-11-30");
            let first_page = store.line_items(p, &c1, 2, 0).await.unwrap();
            let rest = store.line_items(p, &c1, 2, 2).await.unwrap();
            assert_eq!((first_page.len(), rest.len()), (2, 1));
            assert_eq!(
                first_page[0].0.usage_date.to_string(),
                "2026-10-31",
                "oldest first"
            );
            let mut walked = 0;
            let n = store
                .for_each_line(p, &c1, |l, _| walked += l.billing_total.micros())
                .await
                .unwrap();
            assert_eq!((n, walked), (3, 12_500_000));

            let cube = store.cube(p, &november, usize::MAX, &[]).await.unwrap();
            assert_eq!(cube.len(), 3);
            let categories = store.category_totals(p, &november).await.unwrap();
            assert_eq!(categories.iter().map(|c| c.2).sum::<i64>(), 7_500_000);
        }
    }
}
