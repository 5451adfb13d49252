//! Partner Center's answers as its documentation shows them, and failures
//! of one item at a time: the sync keeps everything it can read, says what
//! it could not, and reads it again next time.

mod common;

use std::collections::BTreeMap;

use common::{admin_client, as_map, config, serve, state, stored, upstream_totals, upstream_with};
use model::api::{ErrorBody, Overview, SyncProblemKind, SyncStatus};
use proxy::AppState;
use proxy::sync::SyncKind;

fn emulator(today: &str, sparse: bool) -> emulator::Config {
    let mut c = common::emulator_config(today);
    c.faults.sparse = sparse;
    c
}

/// Everything a sync keeps of a partner, but what the sparse shapes leave
/// out (Partner Center's estimate, which the legacy usage summary does not
/// give; an Azure subscription's status): customers, their subscriptions,
/// Azure subscriptions and budgets, and the line items by customer and
/// currency with a checksum of their identities.
async fn kept(state: &AppState) -> String {
    let partner = state.connection.as_ref().unwrap().partner;
    let store = &state.store;
    let mut out = String::new();
    for c in store.customers(partner).await.unwrap() {
        let azure: Vec<_> = store
            .azure_subscriptions(partner, &c.id)
            .await
            .unwrap()
            .into_iter()
            .map(|a| (a.id, a.subscription_id, a.friendly_name))
            .collect();
        let budget = store.budget(partner, &c.id).await.unwrap();
        out.push_str(&format!("{c:?} {azure:?} {budget:?}\n"));
    }
    out.push_str(&format!(
        "{:?}\n",
        store
            .subscription_counts(partner)
            .await
            .unwrap()
            .into_iter()
            .collect::<BTreeMap<_, _>>()
    ));
    out.push_str(&format!("{:?}", stored(state).await));
    out
}

#[tokio::test]
async fn a_sync_of_the_documented_sparse_shapes_keeps_everything() {
    let full = upstream_with(emulator("2026-11-20", false)).await;
    let sparse = upstream_with(emulator("2026-11-20", true)).await;
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let from_full = state(&full, a.path()).await;
    let from_sparse = state(&sparse, b.path()).await;
    from_full
        .sync
        .run(from_full.connection.as_ref().unwrap(), SyncKind::Full)
        .await
        .unwrap();
    let counts = from_sparse
        .sync
        .run(from_sparse.connection.as_ref().unwrap(), SyncKind::Full)
        .await
        .unwrap();
    let progress = from_sparse
        .sync
        .progress(from_sparse.connection.as_ref().unwrap().partner)
        .await
        .unwrap();
    assert_eq!(progress.status, SyncStatus::Succeeded);
    assert!(progress.problems.is_empty(), "{:?}", progress.problems);
    assert_eq!(counts.errors, 0);
    assert!(counts.line_items > 1000);
    // The same partner, read from either shape, is kept the same, line
    // identities included (dates written with and without a zone).
    assert_eq!(kept(&from_sparse).await, kept(&from_full).await);
    assert_eq!(
        as_map(&stored(&from_sparse).await),
        upstream_totals(&full).await
    );
    // Escaped links (`&amp;`) are followed page by page to the same list.
    let page_by_page = |state: AppState| async move {
        let creds = state.connection.as_ref().unwrap().credentials.clone();
        state
            .pc
            .get_all::<model::pc::Customer>(&creds, model::pc::Link::get("/customers?size=2"))
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|c| c.id)
            .collect::<Vec<_>>()
    };
    let escaped = page_by_page(from_sparse.clone()).await;
    assert_eq!(escaped.len(), 6);
    assert_eq!(escaped, page_by_page(from_full.clone()).await);
}

#[tokio::test]
async fn the_invoice_list_refused_costs_only_the_billed_usage_until_it_works_again() {
    let up = upstream_with(emulator("2026-11-20", false)).await;
    let totals = upstream_totals(&up).await;
    let mut refused = up.emulator.faults();
    refused.refuse_paths = vec!["/v1/invoices".into()];
    up.emulator.set_faults(refused);
    let data = tempfile::tempdir().unwrap();
    let mut c = config(&up, data.path());
    // Without invoices, these are the billing currencies whose unbilled usage is read.
    let mut currencies: Vec<String> = totals.keys().map(|(_, c)| c.clone()).collect();
    currencies.dedup();
    c.currencies = currencies;
    let state = AppState::new(&c).await.unwrap();
    let connection = state.connection.clone().unwrap();
    let partner = connection.partner;
    let counts = state.sync.run(&connection, SyncKind::Full).await.unwrap();
    let progress = state.sync.progress(partner).await.unwrap();
    assert_eq!(progress.status, SyncStatus::Succeeded, "{progress:?}");
    assert_eq!(progress.problems.len(), 1, "{:?}", progress.problems);
    let problem = &progress.problems[0];
    assert_eq!(problem.kind, SyncProblemKind::Invoices);
    assert_eq!(problem.call, "GET /v1/invoices");
    assert!(
        problem.reason.contains("800002") && problem.reason.contains("isn't valid"),
        "{problem:?}"
    );
    assert!(!problem.retried, "a refusal is not retried");
    assert!(problem.next_sync);
    assert!(
        progress
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("the invoice list")
    );
    assert_eq!(counts.errors, 1);

    // Customers, subscriptions, budgets and the unbilled usage are all in.
    let customers = state.store.customers(partner).await.unwrap();
    assert_eq!(
        customers.len(),
        up.emulator
            .demo()
            .partners
            .iter()
            .find(|p| p.tenant_id == up.credentials.tenant)
            .unwrap()
            .customers
    );
    for c in &customers {
        assert!(
            !state
                .store
                .azure_subscriptions(partner, &c.id)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(state.store.budget(partner, &c.id).await.unwrap().is_some());
    }
    let november = state
        .store
        .totals_by_customer(partner, "2026-11-01", "2026-11-30")
        .await
        .unwrap();
    assert_eq!(
        november
            .iter()
            .map(|t| t.customer_id.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        customers.len()
    );
    let october = state
        .store
        .totals_by_customer(partner, "2026-10-01", "2026-10-31")
        .await
        .unwrap();
    assert!(
        october.is_empty(),
        "October is billed: its invoice could not be listed"
    );

    // The next sync reads the invoices once they can be listed.
    up.emulator.set_faults(Default::default());
    state
        .sync
        .run(&connection, SyncKind::Incremental)
        .await
        .unwrap();
    let progress = state.sync.progress(partner).await.unwrap();
    assert!(progress.problems.is_empty());
    assert_eq!(as_map(&stored(&state).await), totals);
}

#[tokio::test]
async fn a_refusal_reaches_the_browser_as_a_refusal_with_its_code_and_reason() {
    let up = upstream_with(emulator("2026-11-20", false)).await;
    let data = tempfile::tempdir().unwrap();
    let state = state(&up, data.path()).await;
    let connection = state.connection.clone().unwrap();
    state.sync.run(&connection, SyncKind::Full).await.unwrap();
    let customer = state.store.customers(connection.partner).await.unwrap()[0]
        .id
        .clone();
    let mut faults = up.emulator.faults();
    faults.refuse_paths = vec![format!("/v1/customers/{customer}/usagebudget")];
    up.emulator.set_faults(faults);
    let base = serve(state.clone(), data.path()).await;
    let res = admin_client(&state)
        .await
        .put(format!("{base}/api/customers/{customer}/budget"))
        .json(&serde_json::json!({"amount": "1500"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 502);
    let e: ErrorBody = res.json().await.unwrap();
    assert_eq!(e.error.code, "upstream_refused");
    assert!(e.error.message.contains("800002"), "{}", e.error.message);
    assert!(
        e.error.message.contains("isn't valid") && !e.error.message.contains("&#39;"),
        "the reason decoded: {}",
        e.error.message
    );
    assert!(!e.error.message.contains("could not be reached"));
}

#[tokio::test]
async fn the_overview_names_the_customers_whose_details_could_not_be_read() {
    let up = upstream_with(emulator("2026-11-20", false)).await;
    let data = tempfile::tempdir().unwrap();
    let state = state(&up, data.path()).await;
    let connection = state.connection.clone().unwrap();
    state.sync.run(&connection, SyncKind::Full).await.unwrap();
    let victim = state.store.customers(connection.partner).await.unwrap()[1].clone();
    let mut faults = up.emulator.faults();
    faults.refuse_paths = vec![format!("/v1/customers/{}/subscriptions", victim.id)];
    up.emulator.set_faults(faults);
    state
        .sync
        .run(&connection, SyncKind::Incremental)
        .await
        .unwrap();
    let base = serve(state.clone(), data.path()).await;
    let overview: Overview = admin_client(&state)
        .await
        .get(format!("{base}/api/overview"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(overview.incomplete.len(), 1, "{:?}", overview.incomplete);
    let p = &overview.incomplete[0];
    assert_eq!(p.kind, SyncProblemKind::Customer);
    assert_eq!(p.subject.as_deref(), Some(victim.id.as_str()));
    assert_eq!(p.name.as_deref(), Some(victim.name.as_str()));
    assert_eq!(
        p.call,
        format!("GET /v1/customers/{}/subscriptions", victim.id)
    );
    // What was read before stays: its Azure subscriptions are still listed.
    assert!(
        !state
            .store
            .azure_subscriptions(connection.partner, &victim.id)
            .await
            .unwrap()
            .is_empty()
    );
}
