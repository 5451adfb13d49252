//! Step 5: the web app gets Microsoft Graph's `PartnerBilling.Read.All`, a
//! service principal and an admin's consent, each checked before the next,
//! then a check with the app's own key (an app-only token's `roles`, and one
//! export Graph accepts).

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use model::api::{BillingAccess, ErrorCode, VerifyRequest};
use model::i18n::EN;
use model::onboarding::{
    self, GRAPH_APP_ID, PARTNER_BILLING_READ_ALL, PARTNER_BILLING_READ_ALL_NAME, Step,
};
use serde_json::{Value, json};

use super::super::extract::{ApiJson, SignedIn};
use super::{chosen_app, credential_refusal, graph_failure, graph_token, refused};
use crate::error::ApiError;
use crate::graph_billing::{BillingPeriod, ExportRequest};
use crate::pc::{Credentials, PcError};
use crate::secret::Secret;
use crate::state::AppState;
use crate::store::OnboardingRow;

pub(super) fn no_service_principal() -> ApiError {
    refused(
        ErrorCode::NoServicePrincipal,
        "The app has no service principal in your organization's directory (AADSTS7000229), so Entra ID \
         issues it no token. Let the app read billing in step 5: it creates the service principal."
            .into(),
    )
}

/// Where the chosen app stands with Graph's billing permission, read from
/// the directory with the admin's token.
pub(super) async fn billing_access(
    state: &AppState,
    token: &str,
    app: &Value,
    row: &OnboardingRow,
    who: &SignedIn,
    headers: &HeaderMap,
) -> Result<BillingAccess, ApiError> {
    let app_id = app["appId"].as_str().unwrap_or_default();
    let declared = onboarding::with_billing_permission(&app["requiredResourceAccess"]).is_none();
    let principal = service_principal(state, token, app_id).await?;
    let consented = match &principal {
        Some(sp) => billing_assigned(state, token, sp).await?,
        None => false,
    };
    Ok(BillingAccess {
        declared,
        service_principal: principal.is_some(),
        consented,
        verified: row.step >= Step::StartTrial,
        consent_url: state.identity.admin_consent_url(
            &who.session.tenant_id,
            app_id,
            &consent_redirect(state, headers),
        ),
    })
}

/// Where Entra sends the admin back after the admin-consent page: this
/// proxy's public address, else the one the request came to.
fn consent_redirect(state: &AppState, headers: &HeaderMap) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok());
    format!(
        "{}/api/onboarding/consent",
        state.identity.base_url(host).trim_end_matches('/')
    )
}

/// The app's service principal's object id in the tenant, if it has one.
async fn service_principal(
    state: &AppState,
    token: &str,
    app_id: &str,
) -> Result<Option<String>, ApiError> {
    let found = state
        .identity
        .graph_all(
            token,
            &format!("/servicePrincipals?$filter=appId%20eq%20'{app_id}'&$select=id,appId"),
        )
        .await
        .map_err(|e| e.into_api("the service principals"))?;
    Ok(found
        .iter()
        .find_map(|sp| sp["id"].as_str().map(str::to_string)))
}

/// Whether Graph's billing permission is assigned to the service principal.
async fn billing_assigned(
    state: &AppState,
    token: &str,
    principal: &str,
) -> Result<bool, ApiError> {
    let assigned = state
        .identity
        .graph_all(
            token,
            &format!("/servicePrincipals/{principal}/appRoleAssignments"),
        )
        .await
        .map_err(|e| e.into_api("the app's permissions"))?;
    Ok(assigned.iter().any(|a| {
        a["appRoleId"]
            .as_str()
            .is_some_and(|id| id.eq_ignore_ascii_case(PARTNER_BILLING_READ_ALL))
    }))
}

/// The chosen app as Graph has it now.
async fn chosen_app_in_graph(
    state: &AppState,
    token: &str,
    row: &OnboardingRow,
) -> Result<Value, ApiError> {
    let object_id = row.app_object_id.clone().unwrap_or_default();
    let (status, app) = state
        .identity
        .graph(
            token,
            reqwest::Method::GET,
            &format!("/applications/{object_id}"),
            None,
        )
        .await?;
    if status != 200 {
        return Err(graph_failure(status, &app, "read the web app"));
    }
    Ok(app)
}

/// `POST /api/onboarding/billing`: declares the permission (merged into what
/// the app has), creates the service principal when missing, and grants the
/// admin's consent, each checked before the next.
pub async fn grant_billing(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: SignedIn,
) -> Result<Json<BillingAccess>, ApiError> {
    who.require_manager()?;
    let partner = who.session.partner;
    let row = chosen_app(&state, partner).await?;
    let token = graph_token(&state, &who)?;
    let app = chosen_app_in_graph(&state, &token, &row).await?;
    let app_id = app["appId"].as_str().unwrap_or_default().to_string();
    let object_id = row.app_object_id.clone().unwrap_or_default();

    // 1. The permission, and the consent page's way back, merged in: Graph's
    //    PATCH replaces each collection whole.
    let redirect = consent_redirect(&state, &headers);
    let mut patch = serde_json::Map::new();
    if let Some(merged) = onboarding::with_billing_permission(&app["requiredResourceAccess"]) {
        patch.insert("requiredResourceAccess".into(), merged);
    }
    let mut uris: Vec<Value> = app["web"]["redirectUris"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !uris.iter().any(|u| u.as_str() == Some(redirect.as_str())) {
        uris.push(Value::String(redirect));
        patch.insert("web".into(), json!({ "redirectUris": uris }));
    }
    if !patch.is_empty() {
        let (status, body) = state
            .identity
            .graph(
                &token,
                reqwest::Method::PATCH,
                &format!("/applications/{object_id}"),
                Some(&Value::Object(patch)),
            )
            .await?;
        if status != 204 && status != 200 {
            return Err(graph_failure(
                status,
                &body,
                "add the billing permission to the web app",
            ));
        }
    }

    // 2. The service principal: `POST /applications` makes none.
    let principal = match service_principal(&state, &token, &app_id).await? {
        Some(sp) => sp,
        None => {
            let (status, body) = state
                .identity
                .graph(
                    &token,
                    reqwest::Method::POST,
                    "/servicePrincipals",
                    Some(&json!({ "appId": app_id })),
                )
                .await?;
            if status != 201 && status != 200 {
                return Err(graph_failure(
                    status,
                    &body,
                    "create the app's service principal",
                ));
            }
            body["id"].as_str().unwrap_or_default().to_string()
        }
    };

    // 3. The consent: the permission assigned to the app, on Graph's own
    //    service principal, with the signed-in admin's token.
    if !billing_assigned(&state, &token, &principal).await? {
        let (status, graph_sp) = state
            .identity
            .graph(
                &token,
                reqwest::Method::GET,
                &format!("/servicePrincipals(appId='{GRAPH_APP_ID}')?$select=id"),
                None,
            )
            .await?;
        let graph_sp = graph_sp["id"].as_str().unwrap_or_default().to_string();
        if status != 200 || graph_sp.is_empty() {
            return Err(ApiError::refused(
                ErrorCode::GraphRefused,
                "Microsoft Graph's own service principal could not be found in your directory.",
            ));
        }
        let (status, body) = state
            .identity
            .graph(
                &token,
                reqwest::Method::POST,
                &format!("/servicePrincipals/{graph_sp}/appRoleAssignedTo"),
                Some(&json!({
                    "principalId": principal,
                    "resourceId": graph_sp,
                    "appRoleId": PARTNER_BILLING_READ_ALL
                })),
            )
            .await?;
        match status {
            200 | 201 => {}
            403 => {
                return Err(refused(
                    ErrorCode::CannotGrantConsent,
                    format!(
                        "Your account may not grant an application permission ({PARTNER_BILLING_READ_ALL_NAME}). \
                         Ask a Global admin to open the consent link in this step, or sign in as one."
                    ),
                ));
            }
            _ => return Err(graph_failure(status, &body, "grant the billing permission")),
        }
    }
    let app = chosen_app_in_graph(&state, &token, &row).await?;
    Ok(Json(
        billing_access(&state, &token, &app, &row, &who, &headers).await?,
    ))
}

/// The `roles` claim of an access token (a JWT; read, not verified: it came
/// straight from Entra over TLS).
fn token_roles(token: &str) -> Vec<String> {
    use base64::Engine;
    token
        .split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p.trim_end_matches('='))
                .ok()
        })
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|claims| {
            claims["roles"].as_array().map(|roles| {
                roles
                    .iter()
                    .filter_map(|r| r.as_str().map(str::to_string))
                    .collect()
            })
        })
        .unwrap_or_default()
}

/// Checks the app may read billing as Graph's export needs: an app-only
/// token whose `roles` lists the permission, and one real export accepted.
/// `declared` (when known) tells a permission never declared from one
/// declared but not consented to.
pub(super) async fn check_billing(
    state: &AppState,
    credentials: &Credentials,
    declared: Option<bool>,
) -> Result<(), ApiError> {
    let token = match state.pc.check_graph_token(credentials).await {
        Ok(token) => token,
        Err(e) => {
            let partner = state.store.partner(&credentials.tenant).await?;
            return Err(credential_refusal(
                state,
                partner,
                &credentials.app_id,
                credentials.secret.expose(),
                e,
            )
            .await?);
        }
    };
    let listed = token_roles(&token)
        .iter()
        .any(|r| r.eq_ignore_ascii_case(PARTNER_BILLING_READ_ALL_NAME));
    if !listed && declared == Some(false) {
        return Err(missing_permission());
    }
    if !listed {
        return Err(refused(
            ErrorCode::ConsentNeeded,
            format!(
                "The app's token does not list {PARTNER_BILLING_READ_ALL_NAME} yet: nobody has consented to it. \
                 Grant the permission in step 5 (or have a Global admin open its consent link), then check again."
            ),
        ));
    }
    let probe = ExportRequest::Unbilled {
        currency: "USD".into(),
        period: BillingPeriod::Current,
    };
    match state.pc.start_export(credentials, &probe).await {
        Ok(_) => Ok(()),
        Err(PcError::Fault {
            status: 401 | 403, ..
        })
        | Err(PcError::Unauthorized) => Err(missing_permission()),
        Err(e) => Err(ApiError::refused(
            ErrorCode::UpstreamUnavailable,
            format!(
                "Microsoft Graph could not be reached to check the billing export ({e}). Try again in a few minutes."
            ),
        )),
    }
}

fn missing_permission() -> ApiError {
    refused(
        ErrorCode::PermissionMissing,
        format!(
            "The app does not have Microsoft Graph's {PARTNER_BILLING_READ_ALL_NAME} permission, which the billing \
             export needs. Let the app read billing in step 5 (it adds the permission), then check again."
        ),
    )
}

/// `POST /api/onboarding/billing/verify`: the check above with the key made
/// in step 4 (or the one typed), then on to the trial.
pub async fn verify_billing(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: SignedIn,
    ApiJson(req): ApiJson<VerifyRequest>,
) -> Result<Json<BillingAccess>, ApiError> {
    who.require_manager()?;
    let partner = who.session.partner;
    let mut row = chosen_app(&state, partner).await?;
    let app_id = row.app_id.clone().unwrap_or_default();
    let secret = match req.key.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        Some(key) => {
            onboarding::check_key(&EN, key).map_err(ApiError::BadRequest)?;
            Secret::new(key)
        }
        None => state.identity.fresh_key(partner.0, &app_id).ok_or_else(|| {
            refused(
                ErrorCode::KeyNeeded,
                "Paste the key's value to check the app with it: this proxy no longer holds the one made in step 4."
                    .into(),
            )
        })?,
    };
    let credentials = Credentials {
        tenant: who.session.tenant_id.clone(),
        app_id,
        secret,
    };
    let token = graph_token(&state, &who)?;
    let app = chosen_app_in_graph(&state, &token, &row).await?;
    let declared = onboarding::with_billing_permission(&app["requiredResourceAccess"]).is_none();
    check_billing(&state, &credentials, Some(declared)).await?;
    if row.step < Step::StartTrial {
        row.step = Step::StartTrial;
        state.store.set_onboarding(partner, &row).await?;
    }
    Ok(Json(
        billing_access(&state, &token, &app, &row, &who, &headers).await?,
    ))
}

#[derive(serde::Deserialize)]
pub struct ConsentCallback {
    admin_consent: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /api/onboarding/consent`: where Entra's admin-consent page sends the
/// admin back; the wizard reads the outcome from the directory itself.
pub async fn consent_returned(
    axum::extract::Query(cb): axum::extract::Query<ConsentCallback>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let granted = cb
        .admin_consent
        .as_deref()
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if granted && cb.error.is_none() {
        return axum::response::Redirect::to("/onboarding").into_response();
    }
    let why = format!(
        "Consent was not given: {}",
        cb.error_description
            .or(cb.error)
            .unwrap_or_else(|| "no reason given".into())
    );
    // Its own key: the wizard says the consent was refused, not that a
    // sign-in failed.
    super::super::auth::back_with("/onboarding", "consentError", &why)
}
