//! What the partner charges and how totals are shown: markups (per
//! customer and the default) with the customer's price kept per line, and
//! the reporting currency with the partner's exchange rates.

use std::collections::HashMap;

use model::Currency;
use model::overview::Rates;
use model::pricing::{Markup, MarkupBasis};

use super::line_items::bulk::{self, Connection};
use super::line_items::sums;
use super::{PartnerId, Store, now};

/// The customer ID under which the partner's default markup is kept.
const DEFAULT: &str = "*";

/// A partner's markups: its default and each customer's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Markups {
    pub default: Markup,
    pub customers: HashMap<String, Markup>,
}

impl Markups {
    pub fn for_customer(&self, customer: &str) -> Markup {
        self.customers
            .get(customer)
            .copied()
            .unwrap_or(self.default)
    }
}

fn basis_name(b: MarkupBasis) -> &'static str {
    match b {
        MarkupBasis::PartnerCost => "partnerCost",
        MarkupBasis::ListPrice => "listPrice",
    }
}

#[derive(sqlx::FromRow)]
struct MarkupRow {
    customer_id: String,
    basis: String,
    basis_points: i64,
}

impl Store {
    pub async fn markups(&self, partner: PartnerId) -> Result<Markups, sqlx::Error> {
        let rows: Vec<MarkupRow> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT customer_id, basis, basis_points FROM markups WHERE partner_id = ?";
            .bind(partner)
            .fetch_all
        )?;
        let mut markups = Markups::default();
        for r in rows {
            let basis = if r.basis == basis_name(MarkupBasis::PartnerCost) {
                MarkupBasis::PartnerCost
            } else {
                MarkupBasis::ListPrice
            };
            let markup = Markup {
                basis,
                // Written from an i32: it fits.
                basis_points: r.basis_points as i32,
            };
            if r.customer_id == DEFAULT {
                markups.default = markup;
            } else {
                markups.customers.insert(r.customer_id, markup);
            }
        }
        Ok(markups)
    }

    /// Sets (or with `None` removes) a customer's markup, or with
    /// `customer` `None` the partner's default, and reprices the stored
    /// line items it applies to.
    pub async fn set_markup(
        &self,
        partner: PartnerId,
        customer: Option<&str>,
        markup: Option<Markup>,
    ) -> Result<(), sqlx::Error> {
        let customer = customer.unwrap_or(DEFAULT);
        let mut tx = self.write().await?;
        match markup {
            Some(m) => {
                sql!(
                    execute,
                    tx.on(),
                    "INSERT INTO markups (partner_id, customer_id, basis, basis_points, updated_at) VALUES (?, ?, ?, ?, ?)
                     ON CONFLICT (partner_id, customer_id) DO UPDATE SET
                     basis = excluded.basis, basis_points = excluded.basis_points, updated_at = excluded.updated_at";
                    .bind(partner)
                    .bind(customer)
                    .bind(basis_name(m.basis))
                    .bind(i64::from(m.basis_points))
                    .bind(now())
                )?;
            }
            None => {
                sql!(
                    execute,
                    tx.on(),
                    "DELETE FROM markups WHERE partner_id = ? AND customer_id = ?";
                    .bind(partner)
                    .bind(customer)
                )?;
            }
        }
        // The same rounding as Markup::price: half away from zero.
        sql!(
            execute,
            tx.on(),
            "UPDATE line_items SET customer_price_micros = (
                SELECT CASE WHEN base >= 0 THEN (base * (10000 + bp) + 5000) / 10000
                            ELSE (base * (10000 + bp) - 5000) / 10000 END
                FROM (SELECT CASE COALESCE(own.basis, def.basis, 'listPrice')
                                  WHEN 'partnerCost' THEN line_items.billing_total_micros
                                  ELSE line_items.list_cost_micros END AS base,
                             COALESCE(own.basis_points, def.basis_points, 0) AS bp
                      FROM (SELECT 1) LEFT JOIN markups own
                        ON own.partner_id = line_items.partner_id AND own.customer_id = line_items.customer_id
                      LEFT JOIN markups def ON def.partner_id = line_items.partner_id AND def.customer_id = '*'))
             WHERE partner_id = ? AND (? = '*' OR customer_id = ?)",
            // The same, its one-row table named as PostgreSQL 15 asks.
            postgres: "UPDATE line_items SET customer_price_micros = (
                SELECT CASE WHEN base >= 0 THEN (base * (10000 + bp) + 5000) / 10000
                            ELSE (base * (10000 + bp) - 5000) / 10000 END
                FROM (SELECT CASE COALESCE(own.basis, def.basis, 'listPrice')
                                  WHEN 'partnerCost' THEN line_items.billing_total_micros
                                  ELSE line_items.list_cost_micros END AS base,
                             COALESCE(own.basis_points, def.basis_points, 0) AS bp
                      FROM (SELECT 1) AS one LEFT JOIN markups own
                        ON own.partner_id = line_items.partner_id AND own.customer_id = line_items.customer_id
                      LEFT JOIN markups def ON def.partner_id = line_items.partner_id AND def.customer_id = '*') AS priced)
             WHERE partner_id = $1 AND ($2 = '*' OR customer_id = $3)";
            .bind(partner)
            .bind(customer)
            .bind(customer)
        )?;
        // What customers pay is summed per line: the kept lines' sums are
        // written again, and those of scopes being read when they are kept.
        tx.repriced();
        let of = sums::Lines::Kept((customer != DEFAULT).then_some(customer));
        if let Some(conn) = tx.postgres() {
            super::line_items::rebuild_in_postgres(conn, partner.0, of).await?;
            return tx.commit().await;
        }
        let mut handle = tx.lite()?.lock_handle().await?;
        bulk::holding_the_thread(|| sums::rebuild(&Connection::of(&mut handle), partner.0, of))?;
        drop(handle);
        tx.commit().await?;
        Ok(())
    }

    pub async fn reporting(&self, partner: PartnerId) -> Result<Rates, sqlx::Error> {
        let settings: Option<(String, Option<String>)> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT reporting_currency, rates_of FROM settings WHERE partner_id = ?";
            .bind(partner)
            .fetch_optional
        )?;
        let (currency, of) = settings.unzip();
        let rates = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT currency, rate_micros FROM exchange_rates WHERE partner_id = ? ORDER BY currency";
            .bind(partner)
            .fetch_all
        )?;
        Ok(Rates {
            currency: currency.unwrap_or_else(|| Currency::USD.code().to_string()),
            rates,
            of: of.flatten().and_then(|d| d.parse().ok()),
        })
    }

    pub async fn set_reporting(
        &self,
        partner: PartnerId,
        rates: &Rates,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.write().await?;
        sql!(
            execute,
            tx.on(),
            "INSERT INTO settings (partner_id, reporting_currency, rates_of, updated_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (partner_id) DO UPDATE SET reporting_currency = excluded.reporting_currency,
             rates_of = excluded.rates_of, updated_at = excluded.updated_at";
            .bind(partner)
            .bind(&rates.currency)
            .bind(rates.of.map(|d| d.to_string()))
            .bind(now())
        )?;
        sql!(
            execute,
            tx.on(),
            "DELETE FROM exchange_rates WHERE partner_id = ?";
            .bind(partner)
        )?;
        for (currency, rate) in &rates.rates {
            sql!(
                execute,
                tx.on(),
                "INSERT INTO exchange_rates (partner_id, currency, rate_micros, updated_at) VALUES (?, ?, ?, ?)";
                .bind(partner)
                .bind(currency)
                .bind(rate)
                .bind(now())
            )?;
        }
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Scope;
    use crate::store::tests::line;

    async fn prices(store: &Store, p: PartnerId) -> Vec<(String, i64)> {
        let scope = Scope {
            customer: None,
            from: "2026-11-01".parse().unwrap(),
            to: "2026-11-30".parse().unwrap(),
        };
        let mut out = Vec::new();
        store
            .for_each_line(p, &scope, |l, price| out.push((l.customer_id, price)))
            .await
            .unwrap();
        out.sort();
        out
    }

    on_both_stores! {
        async fn a_markup_reprices_the_lines_it_applies_to(store: Store) {
                let p = store.partner("tenant-a").await.unwrap();
                // Partner cost 10.00 on each; no markup: the list cost (the line's
                // unit price times quantity) is the price.
                let (a, b) = (
                    line("c1", "2026-11-01", 10_000_000),
                    line("c2", "2026-11-01", 10_000_000),
                );
                let list = a.list_total().micros();
                store
                    .add_line_items(p, "v1:invoice:G1", 1, &[a, b])
                    .await
                    .unwrap();
                assert_eq!(
                    prices(&store, p).await,
                    [("c1".into(), list), ("c2".into(), list)]
                );

                let ten_over_cost = Markup::new(MarkupBasis::PartnerCost, 1000).unwrap();
                store
                    .set_markup(p, None, Some(ten_over_cost))
                    .await
                    .unwrap();
                assert_eq!(
                    prices(&store, p).await,
                    [("c1".into(), 11_000_000), ("c2".into(), 11_000_000)]
                );
                let own = Markup::new(MarkupBasis::PartnerCost, -500).unwrap();
                store.set_markup(p, Some("c2"), Some(own)).await.unwrap();
                assert_eq!(
                    prices(&store, p).await,
                    [("c1".into(), 11_000_000), ("c2".into(), 9_500_000)]
                );
                let markups = store.markups(p).await.unwrap();
                assert_eq!(
                    (
                        markups.default,
                        markups.for_customer("c2"),
                        markups.for_customer("c9")
                    ),
                    (ten_over_cost, own, ten_over_cost)
                );
                store.set_markup(p, Some("c2"), None).await.unwrap();
                assert_eq!(
                    prices(&store, p).await[1],
                    ("c2".into(), 11_000_000),
                    "back to the default"
                );
            }

        async fn the_reporting_currency_and_rates_are_replaced_together(store: Store) {
            let p = store.partner("tenant-a").await.unwrap();
            assert_eq!(
                store.reporting(p).await.unwrap(),
                Rates {
                    of: None,
                    currency: "USD".into(),
                    rates: vec![]
                }
            );
            let eur = Rates {
                currency: "EUR".into(),
                rates: vec![("GBP".into(), 1_170_000), ("USD".into(), 920_000)],
                of: "2026-11-30".parse().ok(),
            };
            store.set_reporting(p, &eur).await.unwrap();
            assert_eq!(store.reporting(p).await.unwrap(), eur);
            let fewer = Rates {
                of: None,
                currency: "EUR".into(),
                rates: vec![("USD".into(), 930_000)],
            };
            store.set_reporting(p, &fewer).await.unwrap();
            assert_eq!(store.reporting(p).await.unwrap(), fewer);
        }
    }
}
