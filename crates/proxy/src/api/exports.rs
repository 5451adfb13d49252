//! CSV exports of a scope: line items, and FOCUS 1.2 rows.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use model::export::{FOCUS_COLUMNS, FocusParty, decimal, focus_row, usage_cells, write_record};
use model::usage::LineItem;

use super::extract::{ApiQuery, Partner, ScopeQuery, scope};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{PartnerId, Scope};

/// Every line item of the scope with the customer's price of it.
pub(super) async fn scope_lines(
    state: &AppState,
    partner: PartnerId,
    scope: &Scope,
) -> Result<Vec<(LineItem, i64)>, ApiError> {
    let mut all = Vec::new();
    state
        .store
        .for_each_line(partner, scope, |line, price| all.push((line, price)))
        .await?;
    Ok(all)
}

/// A CSV body, offered as a file.
pub(super) fn csv_file(name: String, body: String) -> Response {
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

/// `line-items-<customer or all-customers>-<from>-<to>.csv`.
pub(super) fn file_name(kind: &str, scope: &Scope) -> String {
    let who = scope
        .customer
        .as_deref()
        .map(|c| &c[..8])
        .unwrap_or("all-customers");
    format!("{kind}-{who}-{}-{}.csv", scope.from, scope.to)
}

/// `GET /api/exports/line-items.csv`: amounts in their billing currency
/// with six decimals.
pub async fn line_items_csv(
    State(state): State<AppState>,
    partner: Partner,
    ApiQuery(q): ApiQuery<ScopeQuery>,
) -> Result<Response, ApiError> {
    let scope = scope(&state, partner.id(), &q).await?;
    let mut out = String::new();
    write_record(
        &mut out,
        &[
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
        ],
    );
    state
        .store
        .for_each_line(partner.id(), &scope, |l, price| {
            let cost = l.billing_total.micros();
            let mut row = vec![
                l.usage_date.to_string(),
                l.customer_name.clone(),
                l.customer_id.clone(),
            ];
            row.extend(usage_cells(&l));
            row.extend([
                l.billing_currency.code().to_string(),
                decimal(cost),
                decimal(price),
                decimal(price - cost),
                decimal(l.list_total().micros()),
                decimal(l.pec_basis_points as i64 * 100),
                l.credit_type.clone(),
                l.invoice_number.clone(),
            ]);
            write_record(&mut out, &row);
        })
        .await?;
    Ok(csv_file(file_name("line-items", &scope), out))
}

/// `GET /api/exports/focus.csv`: FOCUS 1.2 rows, the partner as provider
/// and invoice issuer, the customer's price as billed cost, list price as
/// list cost.
pub async fn focus_csv(
    State(state): State<AppState>,
    partner: Partner,
    ApiQuery(q): ApiQuery<ScopeQuery>,
) -> Result<Response, ApiError> {
    let scope = scope(&state, partner.id(), &q).await?;
    let partner_name = state
        .store
        .partner_name(partner.id())
        .await?
        .unwrap_or_else(|| partner.0.credentials.tenant.clone());
    let party = FocusParty {
        partner_name: &partner_name,
    };
    let mut out = String::new();
    write_record(&mut out, FOCUS_COLUMNS);
    state
        .store
        .for_each_line(partner.id(), &scope, |l, price| {
            write_record(&mut out, &focus_row(&l, price, &party));
        })
        .await?;
    Ok(csv_file(file_name("focus", &scope), out))
}
