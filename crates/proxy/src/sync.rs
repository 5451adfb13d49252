//! The sync engine: reads a partner's customers, subscriptions, budgets and
//! daily rated usage from Partner Center into the store.
//!
//! Usage arrives in feeds: per billing currency, the unbilled current and
//! previous periods, and each invoice's billed lines. Every line is upserted
//! by its stable identity, page by page, so a sync that dies midway and runs
//! again ends with the same rows: nothing lost, nothing twice. A feed read to
//! its end removes the lines of its billing months that it no longer lists.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{SecondsFormat, Utc};
use model::api::{CustomerRow, SyncCounts, SyncProgress};
use model::pc::{
    AzureEntitlement, Collection, Customer, CustomerUsageSummary, DailyRatedUsageLineItem, Invoice,
    Link, SpendingBudget, Subscription,
};
use model::usage::LineItem;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::error::ApiError;
use crate::pc::PcError;
use crate::store::Budget;
use crate::{AppState, Connection};

/// Customers per page; Partner Center caps pages, larger means fewer calls.
const CUSTOMER_PAGE: usize = 500;
/// Line items per page, Partner Center's largest.
const LINE_ITEM_PAGE: usize = 2000;
/// Customers whose details are read at once; the client bounds requests too.
const CUSTOMER_CONCURRENCY: usize = 8;
/// Usage feeds read at once.
const FEED_CONCURRENCY: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncKind {
    /// Everything again, billed invoices included.
    Full,
    /// Skips invoices already read to the end (they never change).
    Incremental,
}

impl SyncKind {
    fn name(self) -> &'static str {
        match self {
            SyncKind::Full => "full",
            SyncKind::Incremental => "incremental",
        }
    }
}

/// The sync of one partner: at most one runs at a time, and its progress is
/// published to any number of watchers.
pub struct Syncer {
    running: tokio::sync::Mutex<()>,
    progress: watch::Sender<SyncProgress>,
}

impl Default for Syncer {
    fn default() -> Self {
        Syncer {
            running: tokio::sync::Mutex::new(()),
            progress: watch::Sender::new(SyncProgress {
                status: "idle".into(),
                ..Default::default()
            }),
        }
    }
}

impl Syncer {
    pub fn subscribe(&self) -> watch::Receiver<SyncProgress> {
        self.progress.subscribe()
    }

    pub fn current(&self) -> SyncProgress {
        self.progress.borrow().clone()
    }

    pub fn is_running(&self) -> bool {
        self.running.try_lock().is_err()
    }
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Shared by the tasks of one run.
struct Run {
    id: i64,
    state: AppState,
    syncer: Arc<Syncer>,
    connection: Connection,
    counts: Mutex<SyncCounts>,
    progress: SyncProgress,
    started: Instant,
}

impl Run {
    fn bump(&self, f: impl FnOnce(&mut SyncCounts)) -> SyncCounts {
        let mut counts = self.counts.lock().expect("counts poisoned");
        f(&mut counts);
        counts.clone()
    }

    /// Publishes the counters and an estimate of the time left, and keeps
    /// them in the store so a reload or a restart shows them.
    async fn report(&self, phase: &str) -> Result<(), ApiError> {
        let counts = self.counts.lock().expect("counts poisoned").clone();
        let done = fraction_done(&counts, phase);
        let elapsed = self.started.elapsed().as_secs_f64();
        let seconds_left = (done > 0.02).then(|| (elapsed / done * (1.0 - done)).round() as u64);
        self.syncer.progress.send_replace(SyncProgress {
            phase: phase.into(),
            counts: counts.clone(),
            seconds_left,
            ..self.progress.clone()
        });
        self.state.store.update_sync(self.id, &counts).await?;
        Ok(())
    }
}

/// Customers weigh a third of a sync, usage two thirds.
fn fraction_done(c: &SyncCounts, phase: &str) -> f64 {
    let customers = match c.customers_total {
        Some(0) => 1.0,
        Some(t) => c.customers_done as f64 / t as f64,
        None => 0.0,
    };
    let feeds = match (phase, c.feeds_total) {
        (_, Some(0)) => 1.0,
        (_, Some(t)) => c.feeds_done as f64 / t as f64,
        _ => 0.0,
    };
    customers / 3.0 + feeds * 2.0 / 3.0
}

/// Starts a sync of the partner in the background unless one is running.
pub fn spawn(state: AppState, connection: Connection, kind: SyncKind) {
    if state.syncer(connection.partner).is_running() {
        return;
    }
    tokio::spawn(async move {
        if let Err(e) = run(&state, &connection, kind).await {
            tracing::warn!(error = %e, "sync failed");
        }
    });
}

/// Runs one sync to its end; waits for a running one to finish first.
pub async fn run(
    state: &AppState,
    connection: &Connection,
    kind: SyncKind,
) -> Result<SyncCounts, ApiError> {
    let syncer = state.syncer(connection.partner);
    let _running = syncer.running.lock().await;
    let id = state
        .store
        .start_sync(connection.partner, kind.name())
        .await?;
    let progress = SyncProgress {
        run_id: Some(id),
        kind: kind.name().into(),
        status: "running".into(),
        phase: "customers".into(),
        started_at: Some(now()),
        ..Default::default()
    };
    syncer.progress.send_replace(progress.clone());
    let run = Arc::new(Run {
        id,
        state: state.clone(),
        syncer: syncer.clone(),
        connection: connection.clone(),
        counts: Mutex::new(SyncCounts::default()),
        progress,
        started: Instant::now(),
    });
    tracing::info!(run = id, kind = kind.name(), "sync started");
    let outcome = async {
        let customers = sync_customers(&run).await?;
        // Details and usage are independent: read together, the sync takes
        // about the longer of the two, not their sum.
        tokio::try_join!(
            sync_customer_details(&run, customers),
            sync_usage(&run, kind)
        )
        .map(|_| ())
    }
    .await;
    let counts = run.counts.lock().expect("counts poisoned").clone();
    let error = match (&outcome, counts.errors) {
        (Err(e), _) => Some(e.to_string()),
        (Ok(()), 0) => None,
        (Ok(()), n) => Some(format!(
            "{n} requests failed after retries; the rest was synced"
        )),
    };
    state
        .store
        .finish_sync(id, &counts, error.as_deref())
        .await?;
    // The summaries people open first are computed now, not on their first
    // request after the sync.
    if outcome.is_ok() {
        let store = state.store.clone();
        let partner = connection.partner;
        tokio::spawn(async move {
            let _ = crate::reports::kept_overview_json(&store, partner).await;
            let _ = crate::reports::kept_customer_list_json(&store, partner).await;
        });
    }
    syncer.progress.send_replace(SyncProgress {
        status: if error.is_some() {
            "failed"
        } else {
            "succeeded"
        }
        .into(),
        phase: "done".into(),
        counts: counts.clone(),
        finished_at: Some(now()),
        seconds_left: Some(0),
        error: error.clone(),
        ..run.progress.clone()
    });
    tracing::info!(
        run = id,
        customers = counts.customers_done,
        line_items = counts.line_items,
        errors = counts.errors,
        seconds = run.started.elapsed().as_secs_f64(),
        "sync finished"
    );
    outcome.map(|()| counts)
}

async fn sync_customers(run: &Run) -> Result<Vec<String>, ApiError> {
    let customers: Vec<Customer> = run
        .state
        .pc
        .get_all(
            &run.connection.credentials,
            Link::get(format!("/customers?size={CUSTOMER_PAGE}")),
        )
        .await?;
    let rows: Vec<CustomerRow> = customers
        .into_iter()
        .map(|c| CustomerRow {
            id: c.id.to_ascii_lowercase(),
            name: c.company_profile.company_name,
            domain: c.company_profile.domain,
            relationship: c.relationship_to_partner,
        })
        .collect();
    run.state
        .store
        .replace_customers(run.connection.partner, &rows)
        .await?;
    run.bump(|c| c.customers_total = Some(rows.len()));
    run.report("customers").await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Subscriptions, Azure subscriptions and the usage budget of each customer.
async fn sync_customer_details(run: &Arc<Run>, customers: Vec<String>) -> Result<(), ApiError> {
    let mut tasks = JoinSet::new();
    let mut queue = customers.into_iter();
    loop {
        while tasks.len() < CUSTOMER_CONCURRENCY {
            let Some(customer) = queue.next() else { break };
            let run = run.clone();
            tasks.spawn(async move {
                let result = customer_details(&run, &customer).await;
                (customer, result)
            });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        let (customer, result) = joined.map_err(|e| ApiError::Internal(e.to_string()))?;
        match result {
            Ok(()) => {}
            // A store failure ends the sync; an upstream one is counted and skipped.
            Err(ApiError::Upstream(e)) => {
                tracing::warn!(customer, error = %e, "customer details not synced");
                run.bump(|c| c.errors += 1);
            }
            Err(e) => return Err(e),
        }
        run.bump(|c| c.customers_done += 1);
        run.report("customers").await?;
    }
    Ok(())
}

async fn customer_details(run: &Run, customer: &str) -> Result<(), ApiError> {
    let pc = &run.state.pc;
    let creds = &run.connection.credentials;
    let subscriptions: Collection<Subscription> = pc
        .get(
            creds,
            &Link::get(format!("/customers/{customer}/subscriptions")),
        )
        .await?;
    let mut entitlements = Vec::new();
    for s in subscriptions
        .items
        .iter()
        .filter(|s| s.offer_name.eq_ignore_ascii_case("Azure plan"))
    {
        let list: Collection<AzureEntitlement> = pc
            .get(
                creds,
                &Link::get(format!(
                    "/customers/{customer}/subscriptions/{}/azureEntitlements",
                    s.id
                )),
            )
            .await?;
        entitlements.extend(list.items.into_iter().map(|e| {
            (
                e.id.to_ascii_lowercase(),
                e.subscription_id.to_ascii_lowercase(),
                e.friendly_name,
                e.status,
            )
        }));
    }
    let subscriptions: Vec<_> = subscriptions
        .items
        .into_iter()
        .map(|s| {
            (
                s.id.to_ascii_lowercase(),
                s.offer_name,
                s.friendly_name,
                s.status,
            )
        })
        .collect();
    run.state
        .store
        .replace_subscriptions(
            run.connection.partner,
            customer,
            &subscriptions,
            &entitlements,
        )
        .await?;
    let budget: SpendingBudget = pc
        .get(
            creds,
            &Link::get(format!("/customers/{customer}/usagebudget")),
        )
        .await?;
    run.state
        .store
        .set_budget(run.connection.partner, customer, Budget(budget.amount))
        .await?;
    // Partner Center documents the usage summary as App+User only: where it
    // refuses an app's token, the line items are the only figures, and that
    // is not an error of the sync.
    match pc
        .get::<CustomerUsageSummary>(
            creds,
            &Link::get(format!("/customers/{customer}/usagesummary")),
        )
        .await
    {
        Ok(summary) => {
            run.state
                .store
                .set_usage_summary(
                    run.connection.partner,
                    customer,
                    summary.total_cost,
                    &summary.currency_code,
                    summary.billing_start_date.get(..10).unwrap_or_default(),
                )
                .await?
        }
        Err(
            PcError::Unauthorized
            | PcError::Fault {
                status: 401 | 403, ..
            },
        ) => {
            tracing::debug!(customer, "usage summary needs App+User: skipped");
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// One stream of daily rated usage to read to its end.
#[derive(Debug, Clone)]
struct Feed {
    /// Names the feed in the store: `unbilled:current:USD`, `invoice:G000123`.
    id: String,
    currency: String,
    first: Link,
    /// Billed invoices never change: an incremental sync reads them once.
    immutable: bool,
}

fn usage_query(currency: &str) -> String {
    format!(
        "provider=onetime&invoicelineitemtype=usagelineitems&currencycode={}&size={LINE_ITEM_PAGE}",
        currency.to_ascii_lowercase()
    )
}

async fn sync_usage(run: &Arc<Run>, kind: SyncKind) -> Result<(), ApiError> {
    let creds = &run.connection.credentials;
    let invoices: Vec<Invoice> = run.state.pc.get_all(creds, Link::get("/invoices")).await?;
    let mut currencies: BTreeSet<String> = run.state.currencies.iter().cloned().collect();
    currencies.extend(
        invoices
            .iter()
            .map(|i| i.currency_code.to_ascii_uppercase()),
    );
    let mut feeds = Vec::new();
    for c in &currencies {
        for period in ["current", "previous"] {
            feeds.push(Feed {
                id: format!("unbilled:{period}:{c}"),
                currency: c.clone(),
                first: Link::get(format!(
                    "/invoices/unbilled/lineitems?{}&period={period}",
                    usage_query(c)
                )),
                immutable: false,
            });
        }
    }
    // Billed usage only goes back as far as the history kept (13 months).
    let oldest = (Utc::now().date_naive() - chrono::Months::new(run.state.history_months))
        .format("%Y-%m")
        .to_string();
    for invoice in invoices
        .iter()
        .filter(|i| i.billing_period_start_date.get(..7).unwrap_or_default() >= oldest.as_str())
    {
        feeds.push(Feed {
            id: format!("invoice:{}", invoice.id),
            currency: invoice.currency_code.to_ascii_uppercase(),
            first: Link::get(format!(
                "/invoices/{}/lineitems?{}",
                invoice.id,
                usage_query(&invoice.currency_code)
            )),
            immutable: true,
        });
    }
    if kind == SyncKind::Incremental {
        let done = run
            .state
            .store
            .completed_feeds(run.connection.partner)
            .await?;
        feeds.retain(|f| !(f.immutable && done.contains(&f.id)));
    }
    run.bump(|c| c.feeds_total = Some(feeds.len()));
    run.report("usage").await?;

    let mut tasks = JoinSet::new();
    let mut queue = feeds.into_iter();
    loop {
        while tasks.len() < FEED_CONCURRENCY {
            let Some(feed) = queue.next() else { break };
            let run = run.clone();
            tasks.spawn(async move {
                let result = read_feed(&run, &feed).await;
                (feed, result)
            });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        let (feed, result) = joined.map_err(|e| ApiError::Internal(e.to_string()))?;
        match result {
            Ok(()) => {}
            Err(ApiError::Upstream(e)) => {
                tracing::warn!(feed = feed.id, error = %e, "usage feed not synced");
                run.bump(|c| c.errors += 1);
            }
            Err(e) => return Err(e),
        }
        run.bump(|c| c.feeds_done += 1);
        run.report("usage").await?;
    }
    Ok(())
}

/// Reads a feed page by page into the store, then retires what it no
/// longer lists.
async fn read_feed(run: &Run, feed: &Feed) -> Result<(), ApiError> {
    let creds = &run.connection.credentials;
    let partner = run.connection.partner;
    let mut months = BTreeSet::new();
    let mut seen = std::collections::HashSet::new();
    let mut page: Collection<DailyRatedUsageLineItem> =
        run.state.pc.get(creds, &feed.first).await?;
    loop {
        if let Some(first) = page.items.first().filter(|i| !i.partner_name.is_empty()) {
            run.state
                .store
                .set_partner_name(partner, &first.partner_name)
                .await?;
        }
        let mut items = Vec::with_capacity(page.items.len());
        for raw in &page.items {
            match LineItem::try_from(raw) {
                Ok(item) => {
                    let month = billing_month(raw, &item);
                    months.insert(month.clone());
                    items.push((month, item));
                }
                Err(e) => {
                    tracing::warn!(feed = feed.id, error = %e, "line item skipped");
                    run.bump(|c| c.errors += 1);
                }
            }
        }
        let next = match page.links.next.take() {
            None => None,
            Some(next) => {
                let token = next
                    .headers
                    .iter()
                    .map(|h| h.value.clone())
                    .collect::<Vec<_>>()
                    .join(",");
                if !seen.insert((next.uri.clone(), token)) {
                    return Err(
                        PcError::BadResponse(format!("paging loops at {}", next.uri)).into(),
                    );
                }
                Some(next)
            }
        };
        let store = store_page(run, feed, items);
        match next {
            None => {
                store.await?;
                break;
            }
            // The next page is read while this one is written: the feed's
            // time is then the larger of the two, not their sum.
            Some(next) => {
                let (stored, fetched) = tokio::join!(store, run.state.pc.get(creds, &next));
                stored?;
                page = fetched?;
            }
        }
    }
    let sources: Vec<String> = months.iter().map(|m| source(&feed.currency, m)).collect();
    run.state
        .store
        .complete_feed(partner, &feed.id, &sources, run.id, &feed.currency)
        .await?;
    Ok(())
}

/// Writes one page's lines, per billing month, and reports the progress.
async fn store_page(
    run: &Run,
    feed: &Feed,
    items: Vec<(String, LineItem)>,
) -> Result<(), ApiError> {
    let mut by_month: std::collections::BTreeMap<String, Vec<LineItem>> = Default::default();
    let count = items.len();
    for (month, item) in items {
        by_month.entry(month).or_default().push(item);
    }
    for (month, lines) in by_month {
        run.state
            .store
            .upsert_line_items(
                run.connection.partner,
                &source(&feed.currency, &month),
                run.id,
                &lines,
            )
            .await?;
    }
    run.bump(|c| c.line_items += count);
    run.report("usage").await?;
    Ok(())
}

/// The billing month a line belongs to: its charge period's start.
fn billing_month(raw: &DailyRatedUsageLineItem, item: &LineItem) -> String {
    raw.charge_start_date
        .get(..7)
        .filter(|m| m.len() == 7)
        .map(str::to_string)
        .unwrap_or_else(|| item.usage_date.format("%Y-%m").to_string())
}

/// Line items are kept by currency and billing month, whichever feed
/// delivered them (unbilled first, then billed).
fn source(currency: &str, month: &str) -> String {
    format!("{currency}:{month}")
}

/// Waits until the customers of a first sync are in the store, so the first
/// page a new partner opens is not empty for want of a few seconds.
pub async fn wait_for_customers(state: &AppState, connection: &Connection) -> Result<(), ApiError> {
    let syncer = state.syncer(connection.partner);
    if state.store.latest_sync(connection.partner).await?.is_none() && !syncer.is_running() {
        spawn(state.clone(), connection.clone(), SyncKind::Full);
    }
    let mut progress = syncer.subscribe();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(run) = state.store.latest_sync(connection.partner).await?
            && (run.counts.customers_total.is_some() || run.status != "running")
        {
            return Ok(());
        }
        if tokio::time::timeout_at(deadline, progress.changed())
            .await
            .is_err()
        {
            return Ok(());
        }
    }
}

/// For every connected partner: a sync now (full the first time,
/// incremental after), then one every `every`.
pub fn schedule(state: AppState, every: std::time::Duration) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        loop {
            ticks.tick().await;
            for connection in state.all_connections() {
                let kind = match state.store.last_synced(connection.partner).await {
                    Ok(Some(_)) => SyncKind::Incremental,
                    _ => SyncKind::Full,
                };
                spawn(state.clone(), connection, kind);
            }
        }
    });
}
