//! `/api/customers`: the list, one customer, and what a manager sets on
//! one (its budget in Partner Center, its markup).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use model::Amount;
use model::api::{AzureSubscription, BudgetUpdate, CustomerDetail, CustomerSummary, MarkupUpdate};
use model::pc::SpendingBudget;
use model::pricing::Markup;

use super::extract::{ApiJson, Partner, clip, own_customer};
use crate::error::ApiError;
use crate::reports;
use crate::state::AppState;
use crate::store::{Budget, PartnerId};

/// A kept JSON body, sent as it is.
pub(super) fn json_body(body: axum::body::Bytes) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// `GET /api/customers`: every customer with this month's figures.
pub async fn list(State(state): State<AppState>, partner: Partner) -> Result<Response, ApiError> {
    state.sync.wait_for_customers(&partner.0).await?;
    let kept = reports::kept(&state.store, partner.id()).await?;
    Ok(json_body(kept.customers_json.clone()))
}

/// One customer's figures of this month (from the kept list), the last day
/// with data, and its Azure subscriptions.
pub(super) async fn one_customer(
    state: &AppState,
    partner: PartnerId,
    id: &str,
) -> Result<(CustomerSummary, Option<NaiveDate>, Vec<AzureSubscription>), ApiError> {
    let kept = reports::kept(&state.store, partner).await?;
    let list = &kept.summaries.customers;
    let summary = list
        .customers
        .iter()
        .find(|c| c.id == id)
        .cloned()
        .ok_or_else(|| ApiError::NotFound(format!("There is no customer {id}.")))?;
    let azure_subscriptions = state
        .store
        .azure_subscriptions(partner, id)
        .await?
        .into_iter()
        .map(|a| AzureSubscription {
            id: a.id,
            name: a.friendly_name,
            status: a.status,
        })
        .collect();
    Ok((summary, list.as_of, azure_subscriptions))
}

/// `GET /api/customers/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    partner: Partner,
    Path(id): Path<String>,
) -> Result<Json<CustomerDetail>, ApiError> {
    let id = own_customer(&state, partner.id(), &id).await?;
    let (summary, as_of, azure_subscriptions) = one_customer(&state, partner.id(), &id).await?;
    // Partner Center's estimate is of its current billing period; beside the
    // figures of another month (on the 1st, before the new month's first
    // day of data) it would read as that month's.
    let partner_center_estimate = state
        .store
        .usage_estimate(partner.id(), &id)
        .await?
        .filter(|e| as_of.is_some_and(|day| same_month(&e.billing_start, day)))
        .map(|e| (e.total.micros(), e.currency));
    Ok(Json(CustomerDetail {
        summary,
        azure_subscriptions,
        as_of,
        partner_center_estimate,
    }))
}

/// Whether a billing period that starts at `start` (Partner Center's
/// date-time text) is the month of `day`.
fn same_month(start: &str, day: chrono::NaiveDate) -> bool {
    use chrono::Datelike;
    start
        .get(..10)
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .is_some_and(|s| (s.year(), s.month()) == (day.year(), day.month()))
}

/// `PUT /api/customers/{id}/budget`: written to Partner Center first; the
/// store follows only if Partner Center took it.
pub async fn set_budget(
    State(state): State<AppState>,
    partner: Partner,
    Path(id): Path<String>,
    ApiJson(update): ApiJson<BudgetUpdate>,
) -> Result<Json<SpendingBudget>, ApiError> {
    let partner = partner.manager()?;
    let id = own_customer(&state, partner.id(), &id).await?;
    let amount = match update.amount.as_deref() {
        None => None,
        Some(text) => Some(
            Amount::parse_decimal(text)
                .filter(|a| *a >= Amount::ZERO && *a <= Amount::from_micros(1_000_000_000_000_000_000))
                .ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "The budget must be an amount of zero or more, like 1500 or 99.50, not “{}”.",
                        clip(text)
                    ))
                })?,
        ),
    };
    if let Some(t) = &update.thresholds
        && (t.len() > 10 || t.iter().any(|p| !(1..=1000).contains(p)))
    {
        return Err(ApiError::BadRequest(
            "Thresholds are up to ten percents between 1 and 1000, like [50, 80, 100].".into(),
        ));
    }
    let body = serde_json::json!({
        "Amount": amount.map(|a| a.to_f64()),
        "Attributes": { "ObjectType": "SpendingBudget" }
    });
    let saved: SpendingBudget = state
        .pc
        .patch(
            &partner.0.credentials,
            &format!("/customers/{id}/usagebudget"),
            &body,
        )
        .await?;
    state
        .store
        .set_budget(partner.id(), &id, Budget(saved.amount))
        .await?;
    if let Some(t) = &update.thresholds {
        let mut t = t.clone();
        t.sort_unstable();
        t.dedup();
        state.store.set_thresholds(partner.id(), &id, &t).await?;
    }
    Ok(Json(saved))
}

/// A markup from the percent text people type (`12.5`, `-5`).
pub(super) fn markup_of(update: &MarkupUpdate) -> Result<Markup, ApiError> {
    let bad = || {
        ApiError::BadRequest(format!(
            "The markup must be a percent with at most two decimals, like 12.5 or -5, not “{}”.",
            clip(&update.percent)
        ))
    };
    let micros = Amount::parse_decimal(&update.percent)
        .ok_or_else(bad)?
        .micros();
    if micros % 10_000 != 0 {
        return Err(bad());
    }
    let basis_points = i32::try_from(micros / 10_000).map_err(|_| bad())?;
    Markup::new(update.basis, basis_points).map_err(|e| ApiError::BadRequest(e.to_string()))
}

/// `PUT /api/customers/{id}/markup`.
pub async fn set_markup(
    State(state): State<AppState>,
    partner: Partner,
    Path(id): Path<String>,
    ApiJson(update): ApiJson<MarkupUpdate>,
) -> Result<Json<Markup>, ApiError> {
    let partner = partner.manager()?;
    let id = own_customer(&state, partner.id(), &id).await?;
    let markup = markup_of(&update)?;
    state
        .store
        .set_markup(partner.id(), Some(&id), Some(markup))
        .await?;
    Ok(Json(markup))
}

/// `DELETE /api/customers/{id}/markup`: back to the partner's default.
pub async fn remove_markup(
    State(state): State<AppState>,
    partner: Partner,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let partner = partner.manager()?;
    let id = own_customer(&state, partner.id(), &id).await?;
    state
        .store
        .set_markup(partner.id(), Some(&id), None)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::same_month;
    use chrono::NaiveDate;

    #[test]
    fn an_estimate_belongs_to_the_month_its_billing_period_starts_in() {
        let nov_30 = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let dec_1 = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        // On 1 December the last day with data is 30 November: December's
        // estimate is not November's.
        assert!(!same_month("2026-12-01T00:00:00+00:00", nov_30));
        assert!(same_month("2026-12-01T00:00:00+00:00", dec_1));
        assert!(same_month("2026-11-01", nov_30));
        assert!(!same_month("2025-11-01T00:00:00Z", nov_30));
        assert!(!same_month("", nov_30));
        assert!(!same_month("01/11/2026", nov_30));
    }
}
