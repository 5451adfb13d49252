//! Scheduled reports: each period's made once, from a sync that read the
//! whole period, and only when a rule asks for it; and the line items a
//! report's e-mail carries, made when it is sent (the outbox keeps text,
//! not files).

use chrono::{DateTime, NaiveDate, Utc};
use model::alerts::reports::{
    Cadence, customer_reports, last_period, partner_report, report_key, report_ready,
};
use model::alerts::rules::Rule;
use model::alerts::{Event, EventKind, Facts};
use model::api::CustomerSummary;
use model::export::write_record;

use super::AlertError;
use crate::api::exports::{LINE_ITEM_COLUMNS, file_name, line_item_row};
use crate::api::my::{OWN_LINE_COLUMNS, own_line_row};
use crate::state::AppState;
use crate::store::{PartnerId, Scope};

/// The largest CSV attached (7 MiB: under 10 MB once base64-encoded, what
/// most mail servers take); a larger one is left to the app's download.
pub const ATTACHMENT_LIMIT: usize = 7 * 1024 * 1024;

fn wanted(rules: &[Rule], kinds: &[EventKind]) -> bool {
    rules
        .iter()
        .any(|r| r.events.iter().any(|k| kinds.contains(k)))
}

/// Last month's and last week's reports, when they are ready and not made.
/// Ready: a sync succeeded, none is running (a first sync may not have read
/// the whole period yet), and usage of a day after the period is in.
pub(super) async fn due_reports(
    state: &AppState,
    partner: PartnerId,
    now: DateTime<Utc>,
    synced: bool,
    (customers, as_of): (&[CustomerSummary], Option<NaiveDate>),
    users: &[(String, String)],
) -> Result<Vec<Event>, AlertError> {
    if !synced || state.sync.syncer(partner).is_running() {
        return Ok(Vec::new());
    }
    let rules = state.store.alert_rules(partner).await?;
    let mut events = Vec::new();
    for (cadence, kinds) in [
        (
            Cadence::Month,
            &[EventKind::MonthlyReport, EventKind::CustomerReport][..],
        ),
        (Cadence::Week, &[EventKind::WeeklyReport][..]),
    ] {
        let (from, to) = last_period(cadence, now.date_naive());
        let key = report_key(cadence, from);
        if !wanted(&rules, kinds)
            || !report_ready(to, as_of)
            || state.store.event_recorded(partner, &key).await?
        {
            continue;
        }
        let scope = Scope {
            customer: None,
            from,
            to,
        };
        let margins = {
            let _turn = state.web.heavy_reads.turn(partner.0).await;
            crate::reports::margin_report(&state.store, partner, &scope).await?
        };
        events.push(partner_report(
            cadence,
            (from, to),
            &margins.customers,
            customers,
        ));
        if cadence == Cadence::Month {
            events.extend(customer_reports((from, to), &margins.customers, users));
        }
    }
    Ok(events)
}

/// A CSV file for an e-mail: its name, and its bytes unless larger than
/// [`ATTACHMENT_LIMIT`].
pub struct LineItemsFile {
    pub name: String,
    pub csv: Option<String>,
}

/// The line items a report's e-mail carries: the partner's of the period,
/// or one customer's at its price (the customer's own columns only).
pub(super) async fn line_items_file(
    state: &AppState,
    partner: PartnerId,
    facts: &Facts,
) -> Result<Option<LineItemsFile>, sqlx::Error> {
    let (scope, own) = match facts {
        Facts::Report { from, to, .. } => (
            Scope {
                customer: None,
                from: *from,
                to: *to,
            },
            false,
        ),
        Facts::CustomerReport {
            customer, from, to, ..
        } => (
            Scope {
                customer: Some(customer.id.clone()),
                from: *from,
                to: *to,
            },
            true,
        ),
        _ => return Ok(None),
    };
    let markups = state.store.markups(partner).await?;
    let mut csv = String::new();
    write_record(
        &mut csv,
        if own {
            OWN_LINE_COLUMNS
        } else {
            LINE_ITEM_COLUMNS
        },
    );
    let mut too_large = false;
    let _turn = state.web.heavy_reads.turn(partner.0).await;
    state
        .store
        .for_each_line(partner, &scope, |l, price| {
            if too_large {
                return;
            }
            let row = if own {
                own_line_row(&l, price, &markups)
            } else {
                line_item_row(&l, price, &markups)
            };
            write_record(&mut csv, &row);
            too_large = csv.len() > ATTACHMENT_LIMIT;
        })
        .await?;
    Ok(Some(LineItemsFile {
        name: file_name(if own { "costs" } else { "line-items" }, &scope),
        csv: (!too_large).then_some(csv),
    }))
}
