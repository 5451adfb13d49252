//! CSV exports of a scope: line items, and FOCUS 1.2 rows.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use model::cube::Dim;
use model::export::{decimal, usage_cells, write_record};
use model::focus::{self, customer_unit_price};
use model::usage::LineItem;

use super::extract::{ApiQuery, Partner, ScopeQuery, scope};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{Markups, Pages, Scope, cube_row};
use futures_util::StreamExt;
use tokio::sync::OwnedSemaphorePermit;

/// A CSV file called `name`.
fn csv_response(name: String, body: Body) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

/// A scope's lines as a CSV file written while it is sent: the header row,
/// then one chunk per page of lines as the client reads them (memory holds
/// one page, whatever the scope's size). `turn` (the partner's heavy-read
/// turn) is held until the last chunk. A store error half way ends the
/// download broken, never as a file that looks whole.
pub(super) fn csv_stream(
    name: String,
    header_row: &[&str],
    pages: Pages,
    turn: OwnedSemaphorePermit,
    row: impl FnMut(&LineItem, i64, &mut String) + Send + 'static,
) -> Response {
    struct Walk<F> {
        pages: Pages,
        row: F,
        _turn: OwnedSemaphorePermit,
    }
    let mut head = String::new();
    write_record(&mut head, header_row);
    let walk = Walk {
        pages,
        row,
        _turn: turn,
    };
    let chunks = futures_util::stream::unfold(Some(walk), |walk| async move {
        let mut walk = walk?;
        match walk.pages.next().await {
            Ok(Some(page)) => {
                let mut out = String::with_capacity(page.len() * 256);
                for (line, price) in &page {
                    (walk.row)(line, *price, &mut out);
                }
                Some((Ok(out), Some(walk)))
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "an export broke off");
                Some((Err(std::io::Error::other(e.to_string())), None))
            }
        }
    });
    // Fused: the compression layer polls a finished body once more, and an
    // unfold polled after its end panics (the download then broke off at
    // its very end in every browser, which asks for gzip).
    let body = futures_util::stream::once(async move { Ok::<_, std::io::Error>(head) })
        .chain(chunks)
        .fuse();
    csv_response(name, Body::from_stream(body))
}

/// `line-items-<customer or all-customers>-<from>-<to>.csv`.
pub(crate) fn file_name(kind: &str, scope: &Scope) -> String {
    let who = scope
        .customer
        .as_deref()
        .map(|c| c.get(..8).unwrap_or(c))
        .unwrap_or("all-customers");
    format!("{kind}-{who}-{}-{}.csv", scope.from, scope.to)
}

/// The Explorer's filters in an export's query, `f.<dimension>=<value>`
/// as in the Explorer's own address: the file holds the lines it shows.
fn explorer_filters(q: &ScopeQuery) -> Result<Vec<(Dim, Vec<String>)>, ApiError> {
    q.rest
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("f.").map(|name| (name, v)))
        .map(|(name, v)| match Dim::parse(name) {
            Some(dim) => Ok((dim, vec![v.clone()])),
            None => Err(ApiError::BadRequest(format!(
                "f.{name} is not a filter: there is no dimension “{name}”."
            ))),
        })
        .collect()
}

/// `GET /api/exports/line-items.csv`: amounts in their billing currency
/// with six decimals; unit prices exact, each times the quantity the
/// amount beside it (customer price, list cost) to the millionth.
pub async fn line_items_csv(
    State(state): State<AppState>,
    partner: Partner,
    ApiQuery(q): ApiQuery<ScopeQuery>,
) -> Result<Response, ApiError> {
    let scope = scope(&state, partner.id(), &q).await?;
    let filters = explorer_filters(&q)?;
    let markups = state.store.markups(partner.id()).await?;
    let turn = state.web.heavy_reads.turn(partner.id().0).await;
    let pages = state.store.pages(partner.id(), &scope);
    Ok(csv_stream(
        file_name("line-items", &scope),
        LINE_ITEM_COLUMNS,
        pages,
        turn,
        move |l, price, out| {
            if !filters.is_empty() && !cube_row(l, price).matches(&filters) {
                return;
            }
            write_record(out, &line_item_row(l, price, &markups));
        },
    ))
}

/// The partner's line-items CSV columns (the export and the reports' attachment).
pub const LINE_ITEM_COLUMNS: &[&str] = &[
    "Date (UTC)",
    "Customer",
    "Customer ID",
    "Azure subscription",
    "Resource group",
    "Resource",
    "Meter category",
    "Meter subcategory",
    "Meter",
    "Region",
    "Unit",
    "Quantity",
    "Currency",
    "Partner cost",
    "Customer price",
    "Margin",
    "List cost",
    "PEC %",
    "Credit",
    "Invoice",
    "Customer unit price",
    "List unit price",
];

/// One line item as a row of [`LINE_ITEM_COLUMNS`].
pub fn line_item_row(l: &LineItem, price: i64, markups: &Markups) -> Vec<String> {
    let cost = l.billing_total.micros();
    let mut row = vec![
        l.usage_date.to_string(),
        l.customer_name.clone(),
        l.customer_id.clone(),
    ];
    row.extend(usage_cells(l));
    row.extend([
        l.billing_currency.code().to_string(),
        decimal(cost),
        decimal(price),
        decimal(price - cost),
        decimal(l.list_total().micros()),
        // Basis points as a percent: 1500 is 15.
        decimal(l.pec_basis_points as i64 * 10_000),
        l.credit_type.clone(),
        l.invoice_number.clone(),
        model::exact::text(customer_unit_price(
            l,
            price,
            markups.for_customer(&l.customer_id),
        )),
        model::exact::text(l.list_unit_price()),
    ]);
    row
}

/// `GET /api/exports/focus.csv`: FOCUS 1.2 rows (see `model::focus`), the
/// partner as provider and invoice issuer, the customer's price as billed
/// cost, list price as list cost.
pub async fn focus_csv(
    State(state): State<AppState>,
    partner: Partner,
    ApiQuery(q): ApiQuery<ScopeQuery>,
) -> Result<Response, ApiError> {
    let scope = scope(&state, partner.id(), &q).await?;
    let filters = explorer_filters(&q)?;
    let partner_name = state
        .store
        .partner_name(partner.id())
        .await?
        .unwrap_or_else(|| partner.0.credentials.tenant.clone());
    let markups = state.store.markups(partner.id()).await?;
    let turn = state.web.heavy_reads.turn(partner.id().0).await;
    let pages = state.store.pages(partner.id(), &scope);
    Ok(csv_stream(
        file_name("focus", &scope),
        focus::COLUMNS,
        pages,
        turn,
        move |l, price, out| {
            if !filters.is_empty() && !cube_row(l, price).matches(&filters) {
                return;
            }
            let party = focus::Party {
                partner_name: &partner_name,
            };
            let markup = markups.for_customer(&l.customer_id);
            write_record(out, &focus::row(l, price, markup, &party));
        },
    ))
}
