//! The partner's settings: the reporting currency and exchange rates, and
//! the default markup.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use model::api::{MarkupUpdate, ReportingSettings};
use model::overview::Rates;
use model::pricing::Markup;
use model::{Amount, Currency};

use super::customers::markup_of;
use super::extract::{ApiJson, Partner, clip};
use crate::error::ApiError;
use crate::state::AppState;

/// `GET /api/settings/reporting`.
pub async fn reporting(
    State(state): State<AppState>,
    partner: Partner,
) -> Result<Json<ReportingSettings>, ApiError> {
    Ok(Json(state.store.reporting(partner.id()).await?.settings()))
}

/// `PUT /api/settings/reporting`: the currency and every rate to it, at once.
pub async fn set_reporting(
    State(state): State<AppState>,
    partner: Partner,
    ApiJson(settings): ApiJson<ReportingSettings>,
) -> Result<Json<ReportingSettings>, ApiError> {
    let partner = partner.manager()?;
    let currency =
        Currency::parse(&settings.currency).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let mut rates: BTreeMap<String, i64> = BTreeMap::new();
    for r in &settings.rates {
        let c = Currency::parse(&r.currency).map_err(|e| ApiError::BadRequest(e.to_string()))?;
        let rate = Amount::parse_decimal(&r.rate)
            .filter(|a| model::report::RATE_MICROS.contains(&a.micros()))
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "The rate for {c} must be a number from 0.000001 to 1000000 with at most six decimals, not “{}”.",
                    clip(&r.rate)
                ))
            })?;
        if c != currency {
            rates.insert(c.code().to_string(), rate.micros());
        }
    }
    // The day the rates are of: one to come is not a rate anyone has.
    let today = chrono::Utc::now().date_naive();
    let of = settings.rates_of.unwrap_or(today);
    if of > today + chrono::Days::new(1) {
        return Err(ApiError::BadRequest(format!(
            "The rates can be of today or an earlier day, not {of}."
        )));
    }
    let rates = Rates {
        currency: currency.code().to_string(),
        rates: rates.into_iter().collect(),
        of: Some(of),
    };
    state.store.set_reporting(partner.id(), &rates).await?;
    Ok(Json(rates.settings()))
}

/// `GET /api/markup`: the markup of customers without their own.
pub async fn default_markup(
    State(state): State<AppState>,
    partner: Partner,
) -> Result<Json<Markup>, ApiError> {
    Ok(Json(state.store.markups(partner.id()).await?.default))
}

/// `PUT /api/markup`.
pub async fn set_default_markup(
    State(state): State<AppState>,
    partner: Partner,
    ApiJson(update): ApiJson<MarkupUpdate>,
) -> Result<Json<Markup>, ApiError> {
    let partner = partner.manager()?;
    let markup = markup_of(&update)?;
    state
        .store
        .set_markup(partner.id(), None, Some(markup))
        .await?;
    Ok(Json(markup))
}
