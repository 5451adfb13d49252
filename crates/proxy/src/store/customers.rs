//! Customers as last read from Partner Center, with their subscriptions,
//! Azure subscriptions, usage budgets, alert thresholds and Partner
//! Center's own estimate of their open period.

use std::collections::HashMap;

use model::Amount;
use model::api::CustomerRow;

use super::{PartnerId, Store, now};

/// An Azure plan (or other) subscription of a customer.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SubscriptionRow {
    pub id: String,
    pub offer_name: String,
    pub friendly_name: String,
    pub status: String,
}

/// An Azure subscription (entitlement) under an Azure plan.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AzureSubscriptionRow {
    pub id: String,
    /// The Azure plan subscription it belongs to.
    pub subscription_id: String,
    pub friendly_name: String,
    pub status: String,
}

/// A budget as the store keeps it: `None` is "no budget set".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget(pub Option<Amount>);

/// Partner Center's estimate of a customer's open period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageEstimate {
    pub total: Amount,
    pub currency: String,
    /// `YYYY-MM-DD`, the period's first day.
    pub billing_start: String,
}

impl Store {
    /// Replaces a partner's customers with the list just read, in one
    /// transaction, so readers see the old list or the new one, never half.
    pub async fn replace_customers(
        &self,
        partner: PartnerId,
        customers: &[CustomerRow],
    ) -> Result<(), sqlx::Error> {
        self.write_customers(partner, customers, true).await
    }

    /// Adds or updates these customers and keeps the others: for a list
    /// read only in part, which cannot say who is gone.
    pub async fn upsert_customers(
        &self,
        partner: PartnerId,
        customers: &[CustomerRow],
    ) -> Result<(), sqlx::Error> {
        self.write_customers(partner, customers, false).await
    }

    async fn write_customers(
        &self,
        partner: PartnerId,
        customers: &[CustomerRow],
        remove_others: bool,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.write().await?;
        let stamp = now();
        for c in customers {
            sql!(
                execute,
                tx.on(),
                "INSERT INTO customers (partner_id, id, name, domain, relationship, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?)
                 ON CONFLICT (partner_id, id) DO UPDATE SET
                   name = excluded.name, domain = excluded.domain,
                   relationship = excluded.relationship, updated_at = excluded.updated_at";
                .bind(partner)
                .bind(&c.id)
                .bind(&c.name)
                .bind(&c.domain)
                .bind(&c.relationship)
                .bind(&stamp)
            )?;
        }
        // Customers no longer in Partner Center are gone from the list (by
        // ID: two lists read within a millisecond share their time stamp).
        if remove_others {
            let ids = serde_json::to_string(&customers.iter().map(|c| &c.id).collect::<Vec<_>>())
                .unwrap_or_else(|_| "[]".into());
            sql!(
                execute,
                tx.on(),
                "DELETE FROM customers WHERE partner_id = ? AND id NOT IN (SELECT value FROM json_each(?))",
                postgres: "DELETE FROM customers WHERE partner_id = $1
                    AND id NOT IN (SELECT jsonb_array_elements_text($2::jsonb))";
                .bind(partner)
                .bind(ids)
            )?;
        }
        tx.commit().await
    }

    pub async fn customers(&self, partner: PartnerId) -> Result<Vec<CustomerRow>, sqlx::Error> {
        sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT id, name, domain, relationship FROM customers WHERE partner_id = ?
             ORDER BY name COLLATE NOCASE, id",
            postgres: "SELECT id, name, domain, relationship FROM customers WHERE partner_id = $1
             ORDER BY lower(name), id";
            .bind(partner)
            .fetch_all
        )
        .map(|rows| {
            rows.into_iter()
                .map(|(id, name, domain, relationship)| CustomerRow {
                    id,
                    name,
                    domain,
                    relationship,
                })
                .collect()
        })
    }

    pub async fn customer_name(
        &self,
        partner: PartnerId,
        customer: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        sql!(
            query_scalar,
            self.reader().await?.on(),
            "SELECT name FROM customers WHERE partner_id = ? AND id = ?";
            .bind(partner)
            .bind(customer)
            .fetch_optional
        )
    }

    pub async fn has_customer(
        &self,
        partner: PartnerId,
        customer: &str,
    ) -> Result<bool, sqlx::Error> {
        sql!(
            query_scalar,
            self.reader().await?.on(),
            "SELECT EXISTS (SELECT 1 FROM customers WHERE partner_id = ? AND id = ?)";
            .bind(partner)
            .bind(customer)
            .fetch_one
        )
    }

    /// When the partner's customer list was last read from Partner Center.
    pub async fn customers_read_at(
        &self,
        partner: PartnerId,
    ) -> Result<Option<String>, sqlx::Error> {
        sql!(
            query_scalar,
            self.reader().await?.on(),
            "SELECT MAX(updated_at) FROM customers WHERE partner_id = ?";
            .bind(partner)
            .fetch_one
        )
    }

    /// Replaces a customer's subscriptions and Azure subscriptions with
    /// those just read, together.
    pub async fn replace_subscriptions(
        &self,
        partner: PartnerId,
        customer: &str,
        subscriptions: &[SubscriptionRow],
        azure_subscriptions: &[AzureSubscriptionRow],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.write().await?;
        sql!(
            execute,
            tx.on(),
            "DELETE FROM subscriptions WHERE partner_id = ? AND customer_id = ?";
            .bind(partner)
            .bind(customer)
        )?;
        sql!(
            execute,
            tx.on(),
            "DELETE FROM entitlements WHERE partner_id = ? AND customer_id = ?";
            .bind(partner)
            .bind(customer)
        )?;
        for s in subscriptions {
            sql!(
                execute,
                tx.on(),
                "INSERT INTO subscriptions (partner_id, customer_id, id, offer_name, friendly_name, status)
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (partner_id, id) DO UPDATE SET
                 customer_id = excluded.customer_id, offer_name = excluded.offer_name,
                 friendly_name = excluded.friendly_name, status = excluded.status";
                .bind(partner)
                .bind(customer)
                .bind(&s.id)
                .bind(&s.offer_name)
                .bind(&s.friendly_name)
                .bind(&s.status)
            )?;
        }
        for a in azure_subscriptions {
            sql!(
                execute,
                tx.on(),
                "INSERT INTO entitlements (partner_id, customer_id, subscription_id, id, friendly_name, status)
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (partner_id, id) DO UPDATE SET
                 customer_id = excluded.customer_id, subscription_id = excluded.subscription_id,
                 friendly_name = excluded.friendly_name, status = excluded.status";
                .bind(partner)
                .bind(customer)
                .bind(&a.subscription_id)
                .bind(&a.id)
                .bind(&a.friendly_name)
                .bind(&a.status)
            )?;
        }
        tx.commit().await
    }

    /// The Azure subscriptions of a customer, by name.
    pub async fn azure_subscriptions(
        &self,
        partner: PartnerId,
        customer: &str,
    ) -> Result<Vec<AzureSubscriptionRow>, sqlx::Error> {
        sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT id, subscription_id, friendly_name, status FROM entitlements
             WHERE partner_id = ? AND customer_id = ? ORDER BY friendly_name, id";
            .bind(partner)
            .bind(customer)
            .fetch_all
        )
    }

    /// Subscriptions and Azure subscriptions per customer.
    pub async fn subscription_counts(
        &self,
        partner: PartnerId,
    ) -> Result<HashMap<String, (u32, u32)>, sqlx::Error> {
        let mut out: HashMap<String, (u32, u32)> = HashMap::new();
        // The literal 1 and 0 are 32-bit integers in PostgreSQL.
        let rows: Vec<(i32, String, i64)> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT 1, customer_id, COUNT(*) FROM subscriptions WHERE partner_id = ? GROUP BY customer_id
             UNION ALL
             SELECT 0, customer_id, COUNT(*) FROM entitlements WHERE partner_id = ? GROUP BY customer_id";
            .bind(partner)
            .bind(partner)
            .fetch_all
        )?;
        for (plans, customer, n) in rows {
            let entry = out.entry(customer).or_default();
            if plans == 1 {
                entry.0 = n as u32;
            } else {
                entry.1 = n as u32;
            }
        }
        Ok(out)
    }

    pub async fn set_budget(
        &self,
        partner: PartnerId,
        customer: &str,
        budget: Budget,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.write().await?;
        sql!(
            execute,
            tx.on(),
            "INSERT INTO budgets (partner_id, customer_id, amount_micros, updated_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (partner_id, customer_id) DO UPDATE SET
             amount_micros = excluded.amount_micros, updated_at = excluded.updated_at";
            .bind(partner)
            .bind(customer)
            .bind(budget.0.map(|a| a.micros()))
            .bind(now())
        )?;
        tx.commit().await
    }

    /// A customer's budget; `None` when it was never read.
    pub async fn budget(
        &self,
        partner: PartnerId,
        customer: &str,
    ) -> Result<Option<Budget>, sqlx::Error> {
        let amount: Option<Option<i64>> = sql!(
            query_scalar,
            self.reader().await?.on(),
            "SELECT amount_micros FROM budgets WHERE partner_id = ? AND customer_id = ?";
            .bind(partner)
            .bind(customer)
            .fetch_optional
        )?;
        Ok(amount.map(|a| Budget(a.map(Amount::from_micros))))
    }

    /// Every customer's budget.
    pub async fn budgets(
        &self,
        partner: PartnerId,
    ) -> Result<HashMap<String, Option<Amount>>, sqlx::Error> {
        let rows: Vec<(String, Option<i64>)> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT customer_id, amount_micros FROM budgets WHERE partner_id = ?";
            .bind(partner)
            .fetch_all
        )?;
        Ok(rows
            .into_iter()
            .map(|(c, a)| (c, a.map(Amount::from_micros)))
            .collect())
    }

    /// Alert thresholds per customer, in percent of the budget.
    pub async fn thresholds(
        &self,
        partner: PartnerId,
    ) -> Result<HashMap<String, Vec<u32>>, sqlx::Error> {
        let rows: Vec<(String, String)> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT customer_id, percents FROM budget_thresholds WHERE partner_id = ?";
            .bind(partner)
            .fetch_all
        )?;
        Ok(rows
            .into_iter()
            .map(|(customer, text)| {
                let percents = text
                    .split(',')
                    .filter_map(|p| p.trim().parse().ok())
                    .collect();
                (customer, percents)
            })
            .collect())
    }

    pub async fn set_thresholds(
        &self,
        partner: PartnerId,
        customer: &str,
        percents: &[u32],
    ) -> Result<(), sqlx::Error> {
        let text = percents
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let mut tx = self.write().await?;
        sql!(
            execute,
            tx.on(),
            "INSERT INTO budget_thresholds (partner_id, customer_id, percents) VALUES (?, ?, ?)
             ON CONFLICT (partner_id, customer_id) DO UPDATE SET percents = excluded.percents";
            .bind(partner)
            .bind(customer)
            .bind(text)
        )?;
        tx.commit().await
    }

    pub async fn set_usage_estimate(
        &self,
        partner: PartnerId,
        customer: &str,
        estimate: &UsageEstimate,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.write().await?;
        sql!(
            execute,
            tx.on(),
            "INSERT INTO usage_summaries (partner_id, customer_id, total_micros, currency, billing_start, updated_at)
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (partner_id, customer_id) DO UPDATE SET
             total_micros = excluded.total_micros, currency = excluded.currency,
             billing_start = excluded.billing_start, updated_at = excluded.updated_at";
            .bind(partner)
            .bind(customer)
            .bind(estimate.total.micros())
            .bind(&estimate.currency)
            .bind(&estimate.billing_start)
            .bind(now())
        )?;
        tx.commit().await
    }

    /// Partner Center's estimate of a customer's open period, if it gave one.
    pub async fn usage_estimate(
        &self,
        partner: PartnerId,
        customer: &str,
    ) -> Result<Option<UsageEstimate>, sqlx::Error> {
        let row: Option<(i64, String, String)> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT total_micros, currency, billing_start FROM usage_summaries
             WHERE partner_id = ? AND customer_id = ?";
            .bind(partner)
            .bind(customer)
            .fetch_optional
        )?;
        Ok(row.map(|(total, currency, billing_start)| UsageEstimate {
            total: Amount::from_micros(total),
            currency,
            billing_start,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(id: &str, name: &str) -> CustomerRow {
        CustomerRow {
            id: id.into(),
            name: name.into(),
            domain: format!("{name}.example").to_lowercase(),
            relationship: "reseller".into(),
        }
    }

    on_both_stores! {
        async fn the_customer_list_is_replaced_whole(store: Store) {
            let p = store.partner("tenant-a").await.unwrap();
            let other = store.partner("tenant-b").await.unwrap();
            store
                .replace_customers(p, &[customer("c2", "beta"), customer("c1", "Alpha")])
                .await
                .unwrap();
            store
                .replace_customers(other, &[customer("c9", "Zed")])
                .await
                .unwrap();
            let names: Vec<_> = store
                .customers(p)
                .await
                .unwrap()
                .into_iter()
                .map(|c| c.name)
                .collect();
            assert_eq!(names, ["Alpha", "beta"], "by name, whatever the case");
            store
                .replace_customers(p, &[customer("c2", "Beta")])
                .await
                .unwrap();
            assert_eq!(store.customers(p).await.unwrap(), [customer("c2", "Beta")]);
            assert!(store.has_customer(p, "c2").await.unwrap());
            assert!(
                !store.has_customer(p, "c1").await.unwrap(),
                "gone upstream, gone here"
            );
            assert!(
                !store.has_customer(p, "c9").await.unwrap(),
                "another partner's"
            );
            assert_eq!(
                store.customer_name(p, "c2").await.unwrap().as_deref(),
                Some("Beta")
            );
            assert!(store.customers_read_at(p).await.unwrap().is_some());
        }

        async fn subscriptions_are_named_and_counted(store: Store) {
            let p = store.partner("tenant-a").await.unwrap();
            let plan = SubscriptionRow {
                id: "plan-1".into(),
                offer_name: "Azure plan".into(),
                friendly_name: "Azure plan".into(),
                status: "active".into(),
            };
            let azure = |id: &str, name: &str| AzureSubscriptionRow {
                id: id.into(),
                subscription_id: "plan-1".into(),
                friendly_name: name.into(),
                status: "active".into(),
            };
            store
                .replace_subscriptions(
                    p,
                    "c1",
                    std::slice::from_ref(&plan),
                    &[azure("az-2", "Prod"), azure("az-1", "Dev")],
                )
                .await
                .unwrap();
            let listed = store.azure_subscriptions(p, "c1").await.unwrap();
            assert_eq!(listed, [azure("az-1", "Dev"), azure("az-2", "Prod")]);
            assert_eq!(store.subscription_counts(p).await.unwrap()["c1"], (1, 2));
            store
                .replace_subscriptions(p, "c1", &[plan], &[])
                .await
                .unwrap();
            assert!(store.azure_subscriptions(p, "c1").await.unwrap().is_empty());
        }

        async fn budgets_thresholds_and_estimates_round_trip(store: Store) {
            let p = store.partner("tenant-a").await.unwrap();
            assert_eq!(store.budget(p, "c1").await.unwrap(), None, "never read");
            store.set_budget(p, "c1", Budget(None)).await.unwrap();
            assert_eq!(
                store.budget(p, "c1").await.unwrap(),
                Some(Budget(None)),
                "read: none set"
            );
            let amount = Amount::parse_decimal("1500.25").unwrap();
            store
                .set_budget(p, "c1", Budget(Some(amount)))
                .await
                .unwrap();
            assert_eq!(store.budgets(p).await.unwrap()["c1"], Some(amount));
            store.set_thresholds(p, "c1", &[50, 80, 100]).await.unwrap();
            assert_eq!(store.thresholds(p).await.unwrap()["c1"], [50, 80, 100]);
            let estimate = UsageEstimate {
                total: Amount::from_micros(28_828_607),
                currency: "GBP".into(),
                billing_start: "2026-11-01".into(),
            };
            store.set_usage_estimate(p, "c1", &estimate).await.unwrap();
            assert_eq!(store.usage_estimate(p, "c1").await.unwrap(), Some(estimate));
            assert_eq!(store.usage_estimate(p, "c2").await.unwrap(), None);
        }
    }
}
