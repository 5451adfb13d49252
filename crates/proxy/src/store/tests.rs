//! What the store's tests share: a store in a temporary directory or in
//! the test server's PostgreSQL, a suite run on both, and line items made
//! by hand.

use model::usage::LineItem;
use model::{Amount, Currency};

use super::Store;

/// A new, migrated store that lives as long as the directory it returns.
pub async fn temporary() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = Store::open(dir.path()).await.expect("the store opens");
    (dir, store)
}

/// A new, migrated store in PostgreSQL: a schema of its own on the run's
/// test server (see `store::postgres`).
pub async fn postgres() -> Store {
    let (url, schema) = super::postgres::tests::fresh_schema().await;
    Store::open_postgres(&url, Some(&schema))
        .await
        .expect("the PostgreSQL store opens")
}

/// Two stores on one new PostgreSQL schema: two replicas.
pub async fn postgres_twice() -> (Store, Store) {
    let (url, schema) = super::postgres::tests::fresh_schema().await;
    let open = || Store::open_postgres(&url, Some(&schema));
    let store = open().await.expect("the PostgreSQL store opens");
    (store, open().await.expect("opens again"))
}

/// Store tests run on both stores: each `async fn name(store: Store)`
/// becomes a module `name` with a test `sqlite` and a test `postgres`,
/// so that one suite holds both to the same answers; `(store: Store,
/// other: Store)` gets two stores on one database, as two replicas.
macro_rules! on_both_stores {
    ($(async fn $name:ident($store:ident: Store $(, $other:ident: Store)?) $body:block)*) => {
        $(on_both_stores!(@one $name($store $(, $other)?) $body);)*
    };
    // Two stores on one database: two replicas.
    (@one $name:ident($store:ident, $other:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($store: crate::store::Store, $other: crate::store::Store) $body

            #[tokio::test]
            async fn sqlite() {
                let (dir, store) = crate::store::tests::temporary().await;
                let other = crate::store::Store::open(dir.path()).await.expect("opens again");
                body(store, other).await
            }

            #[tokio::test]
            async fn postgres() {
                let (store, other) = crate::store::tests::postgres_twice().await;
                body(store, other).await
            }
        }
    };
    (@one $name:ident($store:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($store: crate::store::Store) $body

            #[tokio::test]
            async fn sqlite() {
                let (_dir, store) = crate::store::tests::temporary().await;
                body(store).await
            }

            #[tokio::test]
            async fn postgres() {
                body(crate::store::tests::postgres().await).await
            }
        }
    };
}

/// A line of `customer` on `day` (YYYY-MM-DD) costing the partner
/// `partner_cost` millionths of a US dollar: 10 hours of a D4s v5 at a list
/// price of 1.20 an hour, so its list cost is 12.00.
pub fn line(customer: &str, day: &str, partner_cost: i64) -> LineItem {
    let usage_date = day.parse().expect("a day");
    LineItem {
        key: model::usage::stable_hash(&[customer, day]),
        customer_id: customer.into(),
        customer_name: String::new(),
        subscription_id: "plan-1".into(),
        entitlement_id: "az-1".into(),
        entitlement_name: "Production".into(),
        usage_date,
        meter_id: "meter-d4s".into(),
        meter_name: "D4s v5".into(),
        meter_category: "Virtual Machines".into(),
        meter_subcategory: "Dv5 Series".into(),
        unit: "1 Hour".into(),
        publisher: "Microsoft".into(),
        region: "westeurope".into(),
        resource_group: "rg-prod".into(),
        resource_uri: "/subscriptions/az-1/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachines/vm1".into(),
        tags: String::new(),
        charge_type: "new".into(),
        quantity_micros: 10_000_000,
        unit_price: model::exact::from_micros(1_200_000),
        effective_unit_price: model::exact::from_micros(1_020_000),
        pricing_total: Amount::from_micros(partner_cost),
        pricing_currency: Currency::USD,
        billing_total: Amount::from_micros(partner_cost),
        billing_currency: Currency::USD,
        fx_micros: 1_000_000,
        pec_basis_points: 1500,
        credit_type: "Partner Earned Credit Applied".into(),
        invoice_number: String::new(),
        benefit_id: String::new(),
        benefit_order_id: String::new(),
        benefit_type: String::new(),
    }
}
