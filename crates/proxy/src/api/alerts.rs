//! `/api/alerts`: the partner's alert rules, a test message for one, the
//! delivery log and the alert settings. A manager's alone: rules name
//! people's addresses and where the partner's figures go.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use model::alerts::rules::{
    AlertSettings, AlertSettingsUpdate, Channel, Delivery, MadeRule, NewRule, Rule, shown_target,
};
use model::alerts::{Event, Facts};

use super::extract::{ApiJson, Partner};
use crate::alerts::{message_for, signed, signing_key};
use crate::error::ApiError;
use crate::state::AppState;

/// Entries the delivery log shows.
const LOG: i64 = 200;
/// Rules one partner may keep.
const MAX_RULES: usize = 100;

/// A rule as answered: a webhook's address without its token.
fn shown(mut rule: Rule) -> Rule {
    rule.target = shown_target(rule.channel, &rule.target);
    rule
}

/// `GET /api/alerts`.
pub async fn settings(
    State(state): State<AppState>,
    partner: Partner,
) -> Result<Json<AlertSettings>, ApiError> {
    let partner = partner.manager()?;
    Ok(Json(AlertSettings {
        rules: state
            .store
            .alert_rules(partner.id())
            .await?
            .into_iter()
            .map(shown)
            .collect(),
        email: state.alerts.smtp.is_some(),
        sync_failing_hours: state.store.sync_failing_hours(partner.id()).await?,
    }))
}

/// `PUT /api/alerts/settings`.
pub async fn set_settings(
    State(state): State<AppState>,
    partner: Partner,
    ApiJson(update): ApiJson<AlertSettingsUpdate>,
) -> Result<Json<AlertSettingsUpdate>, ApiError> {
    let partner = partner.manager()?;
    if !(1..=168).contains(&update.sync_failing_hours) {
        return Err(ApiError::BadRequest(format!(
            "The hours of failed syncs before an alert must be from 1 to 168, not {}.",
            update.sync_failing_hours
        )));
    }
    state
        .store
        .set_sync_failing_hours(partner.id(), update.sync_failing_hours)
        .await?;
    Ok(Json(update))
}

/// `POST /api/alerts/rules`: a generic webhook's signing key is in the
/// answer, this once.
pub async fn add_rule(
    State(state): State<AppState>,
    partner: Partner,
    ApiJson(rule): ApiJson<NewRule>,
) -> Result<(StatusCode, Json<MadeRule>), ApiError> {
    let partner = partner.manager()?;
    let rule = rule.checked().map_err(ApiError::BadRequest)?;
    if rule.channel == Channel::Webhook
        && !state.alerts.local_webhooks
        && crate::alerts::local_address(&rule.target)
    {
        return Err(ApiError::BadRequest(
            "Webhooks to this machine or a private network are off on this proxy (its operator sets PROXY_ALERT_LOCAL_WEBHOOKS).".into(),
        ));
    }
    if rule.channel != Channel::Webhook && state.alerts.smtp.is_none() {
        return Err(ApiError::BadRequest(
            "E-mail cannot be sent: the proxy has no SMTP server (PROXY_SMTP_HOST). Use a webhook, or ask the operator to set one.".into(),
        ));
    }
    if let Some(customer) = &rule.customer_id {
        let kept = crate::reports::kept(&state.store, partner.id()).await?;
        if !kept
            .summaries
            .customers
            .customers
            .iter()
            .any(|c| c.id == *customer)
        {
            return Err(ApiError::BadRequest(format!(
                "There is no customer {}.",
                super::extract::clip(customer)
            )));
        }
    }
    if state.store.alert_rules(partner.id()).await?.len() >= MAX_RULES {
        return Err(ApiError::BadRequest(format!(
            "A partner keeps at most {MAX_RULES} alert rules: remove one first."
        )));
    }
    let key = signed(rule.shape, rule.channel).then(|| signing_key(&state, partner.id()));
    let made = state
        .store
        .add_alert_rule(
            partner.id(),
            &rule,
            key.as_ref().map(|(_, sealed)| sealed.as_str()),
            &partner.1.session.user_name,
        )
        .await?;
    tracing::info!(rule = made.id, by = %partner.1.session.user_name, "alert rule added");
    Ok((
        StatusCode::CREATED,
        Json(MadeRule {
            rule: shown(made),
            signing_secret: key.map(|(key, _)| key),
        }),
    ))
}

/// `DELETE /api/alerts/rules/{id}`.
pub async fn remove_rule(
    State(state): State<AppState>,
    partner: Partner,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let partner = partner.manager()?;
    if state.store.remove_alert_rule(partner.id(), id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("There is no alert rule {id}.")))
    }
}

/// `POST /api/alerts/rules/{id}/test`: a test message through the rule,
/// sent as any other (it shows in the log).
pub async fn test_rule(
    State(state): State<AppState>,
    partner: Partner,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let partner = partner.manager()?;
    let rule = state
        .store
        .alert_rules(partner.id())
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| ApiError::NotFound(format!("There is no alert rule {id}.")))?;
    let who = &partner.1.session;
    let event = Event {
        key: format!("test:{}", uuid::Uuid::new_v4()),
        facts: Facts::Test {
            asked_by: if who.display_name.is_empty() {
                who.user_name.clone()
            } else {
                who.display_name.clone()
            },
        },
    };
    let mut message = message_for(&event, &rule, &state.alerts.app_url);
    // Never a test to a customer's people: it goes to the one who asked.
    if rule.channel == model::alerts::rules::Channel::CustomerUsers {
        message.target = who.user_name.clone();
    }
    state.store.enqueue(partner.id(), &[message]).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `GET /api/alerts/deliveries`: the latest messages, newest first.
pub async fn deliveries(
    State(state): State<AppState>,
    partner: Partner,
) -> Result<Json<Vec<Delivery>>, ApiError> {
    let partner = partner.manager()?;
    let mut log = state.store.deliveries(partner.id(), LOG).await?;
    for d in &mut log {
        d.target = shown_target(d.channel, &d.target);
    }
    Ok(Json(log))
}
