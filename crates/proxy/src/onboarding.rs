//! The partner's connection and trial, apart from HTTP: what a sealed key
//! is bound to, the trial's days and its check on every data request, and
//! the partner's names shown on every page. The wizard's routes are in
//! `api/onboarding.rs`.

use chrono::{DateTime, Duration, Utc};
use model::api::TrialInfo;
use model::onboarding::Step;

use crate::error::ApiError;
use crate::store::{OnboardingRow, PartnerId, Store};

/// What a sealed key is bound to: its partner tenant and app.
pub fn seal_context(tenant: &str, app_id: &str) -> String {
    format!(
        "{}/{}",
        tenant.to_ascii_lowercase(),
        app_id.to_ascii_lowercase()
    )
}

/// Partners connected by configuration are past the wizard and not on a trial.
pub async fn mark_configured(store: &Store, partner: PartnerId) -> Result<(), sqlx::Error> {
    let mut row = store.onboarding(partner).await?.unwrap_or_default();
    row.step = Step::Done;
    row.activated = true;
    store.set_onboarding(partner, &row).await
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn trial_info(row: &OnboardingRow) -> Option<TrialInfo> {
    let (start, end) = (row.trial_started_at?, row.trial_ends_at?);
    let left = end - Utc::now();
    Some(TrialInfo {
        started_at: stamp(start),
        ends_at: stamp(end),
        // Whole days, rounding up: "1 day left" until the last moment.
        days_left: ((left.num_seconds() + 86_399) / 86_400).max(0),
        ended: left <= Duration::zero(),
        activated: row.activated,
    })
}

/// Data routes answer `trial_ended` once a trial is over and no
/// subscription was activated.
pub async fn check_trial(store: &Store, partner: PartnerId) -> Result<(), ApiError> {
    if let Some(row) = store.onboarding_for_check(partner).await?
        && !row.activated
        && let Some(end) = row.trial_ends_at
        && end <= Utc::now()
    {
        return Err(ApiError::TrialEnded(end.format("%Y-%m-%d").to_string()));
    }
    Ok(())
}

/// The partner's name, asked on every page load: kept until the store is
/// written.
pub async fn partner_name(
    store: &Store,
    partner: PartnerId,
) -> Result<Option<String>, sqlx::Error> {
    let name = store
        .memo(partner, "partner name", || async {
            store.partner_name(partner).await
        })
        .await?;
    Ok((*name).clone())
}
