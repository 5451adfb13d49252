//! Daily rated usage, routed by period and commerce: per billing currency
//! the unbilled current and last periods, and each invoice's billed lines,
//! from Graph's billing export (new commerce from the cutover month on) or
//! Partner Center's v1 routes (legacy commerce, and older periods). Every
//! feed and export is a snapshot of its scope: its lines are staged while
//! it is read and replace the scope's lines at once when it ends.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use chrono::{Datelike, NaiveDate, Utc};
use model::api::{SyncKind, SyncPhase, SyncProblem, SyncProblemKind};
use model::pc::{DailyRatedUsageLineItem, Invoice, Link};
use model::usage::LineItem;
use tokio::task::JoinSet;

use super::exports::{Export, read_exports};
use super::{Run, SyncError};
use crate::graph_billing::{BillingPeriod, ExportRequest};
use crate::pc::{Page, PcError, page_identity};
use crate::store::{Replaced, Snapshot};

/// Line items per page, Partner Center's largest.
const LINE_ITEM_PAGE: usize = 2000;
/// Usage feeds read at once.
const FEED_CONCURRENCY: usize = 4;

/// Which API serves a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Api {
    /// Partner Center's synchronous v1 routes.
    V1,
    /// Microsoft Graph's billing export.
    V2,
}

impl Api {
    fn as_str(self) -> &'static str {
        match self {
            Api::V1 => "v1",
            Api::V2 => "v2",
        }
    }
}

/// A scope of usage kept as one snapshot: a period's unbilled usage in a
/// currency, or an invoice, from one API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct UsageScope {
    pub api: Api,
    /// The invoice, or none while unbilled.
    pub invoice: Option<String>,
    pub currency: String,
    /// The billing month's first day.
    pub month: NaiveDate,
}

impl UsageScope {
    /// The scope's name in the store: `v2:unbilled:USD:2026-11`, `v1:invoice:D2026100001`.
    pub fn id(&self) -> String {
        match &self.invoice {
            Some(invoice) => format!("{}:invoice:{invoice}", self.api.as_str()),
            None => format!(
                "{}:unbilled:{}:{}",
                self.api.as_str(),
                self.currency,
                self.month.format("%Y-%m")
            ),
        }
    }

    pub fn snapshot(&self, etag: &str, unreadable: usize) -> Snapshot {
        Snapshot {
            scope: self.id(),
            api: self.api.as_str().into(),
            billed: self.invoice.is_some(),
            currency: self.currency.clone(),
            month: self.month.format("%Y-%m").to_string(),
            etag: etag.into(),
            unreadable,
        }
    }
}

/// One of Partner Center's v1 feeds of daily rated usage, read page by page.
#[derive(Debug, Clone)]
struct Feed {
    scope: UsageScope,
    first: Link,
}

fn usage_query(currency: &str) -> String {
    format!(
        "provider=onetime&invoicelineitemtype=usagelineitems&currencycode={}&size={LINE_ITEM_PAGE}",
        currency.to_ascii_lowercase()
    )
}

/// Whether an invoice can carry daily rated usage: a one-time invoice, or
/// one that does not say. Recurring (licence) invoices, and those whose
/// details name no one-time billing, have none.
fn carries_usage(invoice: &Invoice) -> bool {
    let kind = invoice.invoice_type.to_ascii_lowercase();
    if kind.contains("recurring") {
        return false;
    }
    invoice.invoice_details.is_empty()
        || invoice.invoice_details.iter().any(|d| {
            let provider = d
                .billing_provider
                .to_ascii_lowercase()
                .replace(['_', '-'], "");
            provider.is_empty() || provider == "onetime"
        })
}

/// The first day of the month an invoice bills: its billing period's
/// start, or the month before it was issued when the period is not given.
fn billed_month(invoice: &Invoice) -> Option<NaiveDate> {
    if let Some(start) = model::lenient::day(&invoice.billing_period_start_date) {
        return start.with_day(1);
    }
    let issued = model::lenient::day(&invoice.invoice_date)?;
    issued
        .with_day(1)?
        .checked_sub_months(chrono::Months::new(1))
}

/// Whether an invoice bills new-commerce usage (an Azure plan's): Partner
/// Center's modern invoices are numbered `G…`; legacy ones (`D…`) stay on
/// v1 (an inference the reference records).
fn new_commerce(invoice: &Invoice) -> bool {
    invoice
        .id
        .trim()
        .chars()
        .next()
        .is_some_and(|c| c.eq_ignore_ascii_case(&'G'))
}

/// What a sync reads, and from where.
#[derive(Debug, Default)]
struct Plan {
    feeds: Vec<Feed>,
    exports: Vec<Export>,
}

/// Routes every period and invoice to its API. Unbilled usage: v1 for each
/// period (legacy commerce, and everything before the cutover), Graph's
/// export too for periods from the cutover month (`v2_from`). Billed usage:
/// Graph's export for new-commerce invoices from the cutover month, v1 for
/// the rest.
fn plan(
    currencies: &BTreeSet<String>,
    invoices: &[(Invoice, String, NaiveDate)],
    today: NaiveDate,
    v2_from: NaiveDate,
) -> Plan {
    let mut plan = Plan::default();
    let this_month = today.with_day(1).expect("the first is a day");
    let last_month = this_month
        .checked_sub_months(chrono::Months::new(1))
        .expect("in range");
    for currency in currencies {
        for (v1_period, period, month) in [
            ("current", BillingPeriod::Current, this_month),
            ("previous", BillingPeriod::Last, last_month),
        ] {
            plan.feeds.push(Feed {
                scope: UsageScope {
                    api: Api::V1,
                    invoice: None,
                    currency: currency.clone(),
                    month,
                },
                first: Link::get(format!(
                    "/invoices/unbilled/lineitems?{}&period={v1_period}",
                    usage_query(currency)
                )),
            });
            if month >= v2_from {
                plan.exports.push(Export {
                    scope: UsageScope {
                        api: Api::V2,
                        invoice: None,
                        currency: currency.clone(),
                        month,
                    },
                    request: ExportRequest::Unbilled {
                        currency: currency.clone(),
                        period,
                    },
                });
            }
        }
    }
    for (invoice, currency, month) in invoices {
        if new_commerce(invoice) && *month >= v2_from {
            plan.exports.push(Export {
                scope: UsageScope {
                    api: Api::V2,
                    invoice: Some(invoice.id.clone()),
                    currency: currency.clone(),
                    month: *month,
                },
                request: ExportRequest::Billed {
                    invoice_id: invoice.id.clone(),
                },
            });
        } else {
            plan.feeds.push(Feed {
                scope: UsageScope {
                    api: Api::V1,
                    invoice: Some(invoice.id.clone()),
                    currency: currency.clone(),
                    month: *month,
                },
                first: Link::get(format!(
                    "/invoices/{}/lineitems?{}",
                    invoice.id,
                    usage_query(currency)
                )),
            });
        }
    }
    plan
}

pub(super) async fn sync_usage(run: &Arc<Run>, kind: SyncKind) -> Result<(), SyncError> {
    let creds = &run.connection.credentials;
    // Without the invoice list, the unbilled usage is still read: in the
    // configured currencies and those read before.
    let invoices: Vec<Invoice> = match run.pc.get_all(creds, Link::get("/invoices")).await {
        Ok(listing) => {
            run.read();
            for u in &listing.unreadable {
                run.problem(SyncProblem {
                    kind: SyncProblemKind::Invoices,
                    subject: None,
                    name: None,
                    call: "GET /v1/invoices".into(),
                    reason: format!("invoice {}: {}", u.index + 1, u.reason),
                    retried: false,
                    next_sync: true,
                    code: None,
                });
            }
            listing.items
        }
        Err(e) => {
            run.failed(
                SyncProblemKind::Invoices,
                None,
                "GET /v1/invoices".into(),
                &e,
            );
            Vec::new()
        }
    };
    let mut currencies: BTreeSet<String> = run.settings.currencies.iter().cloned().collect();
    currencies.extend(run.store.feed_currencies(run.connection.partner).await?);
    currencies.extend(
        invoices
            .iter()
            .filter_map(|i| model::Currency::parse(&i.currency_code).ok())
            .map(|c| c.code().to_string()),
    );
    // Billed usage only goes back as far as the history kept (13 months).
    let today = Utc::now().date_naive();
    let oldest = today
        .with_day(1)
        .and_then(|d| d.checked_sub_months(chrono::Months::new(run.settings.history_months)));
    let mut billed = Vec::new();
    for invoice in invoices
        .iter()
        .filter(|i| !i.id.is_empty() && carries_usage(i))
    {
        let month = billed_month(invoice);
        if let (Some(month), Some(oldest)) = (month, oldest)
            && month < oldest
        {
            continue;
        }
        let (Ok(currency), Some(month)) = (model::Currency::parse(&invoice.currency_code), month)
        else {
            run.problem(SyncProblem {
                kind: SyncProblemKind::Invoices,
                subject: Some(format!("invoice:{}", invoice.id)),
                name: None,
                call: "GET /v1/invoices".into(),
                reason: format!("invoice {} names no currency or billing period", invoice.id),
                retried: false,
                next_sync: true,
                code: None,
            });
            continue;
        };
        billed.push((invoice.clone(), currency.code().to_string(), month));
    }
    let mut plan = plan(&currencies, &billed, today, run.settings.v2_from);
    if kind != SyncKind::Full {
        // Billed usage never changes: an invoice read whole is not read again.
        let done = run.store.complete_invoices(run.connection.partner).await?;
        plan.feeds.retain(|f| !done.contains(&f.scope.id()));
        plan.exports.retain(|e| !done.contains(&e.scope.id()));
    }
    run.bump(|c| c.feeds_total = Some(plan.feeds.len() + plan.exports.len()));
    run.report(SyncPhase::Usage).await?;
    // Graph's exports run on the service while v1's pages are read here.
    let (feeds, exports) =
        tokio::join!(read_feeds(run, plan.feeds), read_exports(run, plan.exports));
    feeds.and(exports)
}

async fn read_feeds(run: &Arc<Run>, feeds: Vec<Feed>) -> Result<(), SyncError> {
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
            // An upstream failure costs this feed (its previous snapshot
            // stays); a store failure ends the sync.
            Err(SyncError::Upstream(e)) => run.failed(
                SyncProblemKind::Feed,
                Some(&feed.scope.id()),
                format!("GET /v1{}", feed.first.uri),
                &e,
            ),
            Err(e) => return Err(e),
        }
        run.bump(|c| c.feeds_done += 1);
        run.report(SyncPhase::Usage).await?;
    }
    Ok(())
}

/// Reads a v1 feed page by page into the scope's staging, then replaces
/// the scope. A line that cannot be read costs only itself.
async fn read_feed(run: &Run, feed: &Feed) -> Result<(), SyncError> {
    let creds = &run.connection.credentials;
    let partner = run.connection.partner;
    let scope = feed.scope.id();
    run.store.clear_staged(partner, &scope).await?;
    let mut seen = HashSet::new();
    let mut unreadable = 0;
    let mut line = 0;
    let mut link = feed.first.clone();
    let mut page: Page<DailyRatedUsageLineItem> = run.pc.get_page(creds, &link).await?;
    run.read();
    loop {
        if let Some(first) = page.items.first().filter(|i| !i.partner_name.is_empty()) {
            run.store
                .set_partner_name(partner, &first.partner_name)
                .await?;
        }
        let call = format!("GET /v1{}", link.uri);
        let bad = |index: usize, reason: String| SyncProblem {
            kind: SyncProblemKind::LineItem,
            subject: Some(scope.clone()),
            name: None,
            call: call.clone(),
            reason: format!("line {}: {reason}", line + index + 1),
            retried: false,
            next_sync: true,
            code: None,
        };
        for u in &page.unreadable {
            run.problem(bad(u.index, u.reason.clone()));
        }
        unreadable += page.unreadable.len();
        let mut items = Vec::with_capacity(page.items.len());
        for (index, raw) in page.items.iter().enumerate() {
            match LineItem::try_from(raw) {
                Ok(item) => items.push(item),
                Err(e) => {
                    unreadable += 1;
                    run.problem(bad(index, e.problem));
                }
            }
        }
        line += page.items.len() + page.unreadable.len();
        let next = match page.next.take() {
            None => None,
            Some(next) => {
                if !seen.insert(page_identity(&next)) {
                    return Err(
                        PcError::BadResponse(format!("paging loops at {}", next.uri)).into(),
                    );
                }
                Some(next)
            }
        };
        let store = stage(run, &scope, items);
        match next {
            None => {
                store.await?;
                break;
            }
            // The next page is read while this one is written: the feed's
            // time is then the larger of the two, not their sum.
            Some(next) => {
                let (stored, fetched) = tokio::join!(store, run.pc.get_page(creds, &next));
                stored?;
                page = fetched?;
                link = next;
            }
        }
    }
    keep(run, &feed.scope, "", unreadable).await
}

/// Stages lines of a scope and reports the progress.
pub(super) async fn stage(run: &Run, scope: &str, items: Vec<LineItem>) -> Result<(), SyncError> {
    let count = items.len();
    run.store
        .stage_lines(run.connection.partner, scope, run.id, &items)
        .await?;
    run.bump(|c| c.line_items += count);
    run.report(SyncPhase::Usage).await?;
    Ok(())
}

/// A scope was read to its end: its staged lines replace what it held.
pub(super) async fn keep(
    run: &Run,
    scope: &UsageScope,
    etag: &str,
    unreadable: usize,
) -> Result<(), SyncError> {
    let replaced = run
        .store
        .replace_scope(
            run.connection.partner,
            &scope.snapshot(etag, unreadable),
            run.id,
        )
        .await?;
    if replaced == Replaced::Superseded {
        tracing::debug!(scope = %scope.id(), "unbilled usage of an invoiced month: not kept");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::pc::InvoiceDetail;

    fn invoice(kind: &str, providers: &[&str]) -> Invoice {
        Invoice {
            id: "G1".into(),
            invoice_type: kind.into(),
            invoice_details: providers
                .iter()
                .map(|p| InvoiceDetail {
                    billing_provider: p.to_string(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn each_period_and_invoice_goes_to_its_api() {
        let day = |d: &str| d.parse::<NaiveDate>().unwrap();
        let invoice = |id: &str| Invoice {
            id: id.into(),
            ..Default::default()
        };
        let billed = [
            (invoice("G2025030001"), "USD".to_string(), day("2025-03-01")),
            (invoice("G2025040001"), "USD".to_string(), day("2025-04-01")),
            (invoice("D2025040001"), "USD".to_string(), day("2025-04-01")),
        ];
        let currencies = BTreeSet::from(["USD".to_string()]);
        // Today is in the cutover month: last month is before it.
        let plan = plan(&currencies, &billed, day("2025-04-20"), day("2025-04-01"));
        let feeds: Vec<String> = plan.feeds.iter().map(|f| f.scope.id()).collect();
        let exports: Vec<String> = plan.exports.iter().map(|e| e.scope.id()).collect();
        assert_eq!(
            feeds,
            [
                "v1:unbilled:USD:2025-04",
                "v1:unbilled:USD:2025-03",
                "v1:invoice:G2025030001",
                "v1:invoice:D2025040001"
            ]
        );
        assert_eq!(
            exports,
            ["v2:unbilled:USD:2025-04", "v2:invoice:G2025040001"]
        );
        assert_eq!(
            plan.exports[0].request,
            ExportRequest::Unbilled {
                currency: "USD".into(),
                period: BillingPeriod::Current
            }
        );
        assert!(plan.feeds[1].first.uri.ends_with("&period=previous"));
    }

    #[test]
    fn only_invoices_that_can_carry_usage_are_read() {
        assert!(carries_usage(&invoice("OneTime", &["one_time"])));
        assert!(carries_usage(&invoice("", &[])), "one that does not say");
        assert!(!carries_usage(&invoice("Recurring", &["office"])));
        assert!(!carries_usage(&invoice("", &["office", "azure"])));
    }

    #[test]
    fn an_invoice_without_its_period_bills_the_month_before_it_was_issued() {
        let mut i = invoice("OneTime", &[]);
        i.invoice_date = "2026-11-08T22:40:37.5897767Z".into();
        assert_eq!(billed_month(&i), "2026-10-01".parse().ok());
        i.billing_period_start_date = "2026-09-01T00:00:00Z".into();
        assert_eq!(billed_month(&i), "2026-09-01".parse().ok());
        assert_eq!(billed_month(&Invoice::default()), None);
    }
}
