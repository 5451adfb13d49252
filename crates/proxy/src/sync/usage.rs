//! Daily rated usage, feed by feed: per billing currency the unbilled
//! current and previous periods, and each invoice's billed lines.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::Utc;
use model::api::{SyncKind, SyncPhase};
use model::pc::{Collection, DailyRatedUsageLineItem, Invoice, Link};
use model::usage::LineItem;
use tokio::task::JoinSet;

use super::{Run, SyncError};
use crate::pc::PcError;

/// Line items per page, Partner Center's largest.
const LINE_ITEM_PAGE: usize = 2000;
/// Usage feeds read at once.
const FEED_CONCURRENCY: usize = 4;

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

pub(super) async fn sync_usage(run: &Arc<Run>, kind: SyncKind) -> Result<(), SyncError> {
    let creds = &run.connection.credentials;
    let invoices: Vec<Invoice> = run.pc.get_all(creds, Link::get("/invoices")).await?;
    let mut currencies: BTreeSet<String> = run.settings.currencies.iter().cloned().collect();
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
    let oldest = (Utc::now().date_naive() - chrono::Months::new(run.settings.history_months))
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
        let done = run.store.completed_feeds(run.connection.partner).await?;
        feeds.retain(|f| !(f.immutable && done.contains(&f.id)));
    }
    run.bump(|c| c.feeds_total = Some(feeds.len()));
    run.report(SyncPhase::Usage).await?;

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
        let (feed, result) = joined.map_err(|e| SyncError::Internal(e.to_string()))?;
        match result {
            Ok(()) => {}
            Err(SyncError::Upstream(e)) => {
                tracing::warn!(feed = feed.id, error = %e, "usage feed not synced");
                run.bump(|c| c.errors += 1);
            }
            Err(e) => return Err(e),
        }
        run.bump(|c| c.feeds_done += 1);
        run.report(SyncPhase::Usage).await?;
    }
    Ok(())
}

/// Reads a feed page by page into the store, then retires what it no
/// longer lists.
async fn read_feed(run: &Run, feed: &Feed) -> Result<(), SyncError> {
    let creds = &run.connection.credentials;
    let partner = run.connection.partner;
    let mut months = BTreeSet::new();
    let mut seen = std::collections::HashSet::new();
    let mut page: Collection<DailyRatedUsageLineItem> = run.pc.get(creds, &feed.first).await?;
    loop {
        if let Some(first) = page.items.first().filter(|i| !i.partner_name.is_empty()) {
            run.store
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
                let (stored, fetched) = tokio::join!(store, run.pc.get(creds, &next));
                stored?;
                page = fetched?;
            }
        }
    }
    let sources: Vec<String> = months.iter().map(|m| source(&feed.currency, m)).collect();
    run.store
        .complete_feed(partner, &feed.id, &sources, run.id, &feed.currency)
        .await?;
    Ok(())
}

/// Writes one page's lines, per billing month, and reports the progress.
async fn store_page(
    run: &Run,
    feed: &Feed,
    items: Vec<(String, LineItem)>,
) -> Result<(), SyncError> {
    let mut by_month: std::collections::BTreeMap<String, Vec<LineItem>> = Default::default();
    let count = items.len();
    for (month, item) in items {
        by_month.entry(month).or_default().push(item);
    }
    for (month, lines) in by_month {
        run.store
            .upsert_line_items(
                run.connection.partner,
                &source(&feed.currency, &month),
                run.id,
                &lines,
            )
            .await?;
    }
    run.bump(|c| c.line_items += count);
    run.report(SyncPhase::Usage).await?;
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
