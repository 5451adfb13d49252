//! Entra ID's v1 token endpoint, client-credentials grant, with Entra's
//! error codes for the mistakes the onboarding has to explain.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use crate::Emulator;
use crate::shapes::{LEGACY_GRAPH_RESOURCE, PARTNER_CENTER_RESOURCE};
use crate::world::{Audience, TOKEN_LIFETIME, unix_seconds};

pub fn routes() -> Router<Emulator> {
    Router::new().route("/{tenant}/oauth2/token", post(token))
}

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    resource: Option<String>,
}

pub fn entra_error(status: StatusCode, error: &str, code: i64, description: &str) -> Response {
    (
        status,
        Json(json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description}"),
            "error_codes": [code],
        })),
    )
        .into_response()
}

async fn token(
    State(emulator): State<Emulator>,
    Path(tenant): Path<String>,
    Form(req): Form<TokenRequest>,
) -> Response {
    if req.grant_type.as_deref() != Some("client_credentials") {
        return entra_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        );
    }
    let resource = req.resource.unwrap_or_default();
    if resource != PARTNER_CENTER_RESOURCE && resource != LEGACY_GRAPH_RESOURCE {
        return entra_error(
            StatusCode::BAD_REQUEST,
            "invalid_resource",
            500011,
            "The resource principal was not found in the tenant.",
        );
    }
    let audience = if resource == PARTNER_CENTER_RESOURCE {
        Audience::PartnerCenter
    } else {
        Audience::Graph
    };
    let (access_token, issued) = match app_token(
        &emulator,
        &tenant,
        &req.client_id.unwrap_or_default(),
        &req.client_secret.unwrap_or_default(),
        audience,
    ) {
        Ok(issued) => issued,
        Err(refused) => return *refused,
    };
    let lifetime = TOKEN_LIFETIME.as_secs().to_string();
    let expires_on = unix_seconds(issued.expires_at);
    // Entra's v1 endpoint writes its numbers as strings.
    Json(json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "expires_on": expires_on.to_string(),
        "not_before": expires_on.saturating_sub(TOKEN_LIFETIME.as_secs()).to_string(),
        "resource": resource,
        "access_token": access_token,
    }))
    .into_response()
}

/// A client-credentials token for an app of the tenant, or Entra's refusal
/// (unknown tenant or app, wrong or expired key). Both token endpoints
/// (v1 with `resource`, v2 with `scope`) issue through here.
pub fn app_token(
    emulator: &Emulator,
    tenant: &str,
    client_id: &str,
    secret: &str,
    audience: Audience,
) -> Result<(String, crate::world::IssuedToken), Box<Response>> {
    let world = &emulator.world;
    let Some(partner) = world.partner_by_tenant(tenant) else {
        return Err(Box::new(entra_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!("Tenant '{tenant}' not found."),
        )));
    };
    let apps = world.partners[partner].apps.read().expect("apps poisoned");
    let Some(app) = apps
        .iter()
        .find(|a| a.app_id.to_string().eq_ignore_ascii_case(client_id))
    else {
        return Err(Box::new(entra_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'."
            ),
        )));
    };
    let now = Utc::now();
    match app.keys.iter().find(|k| k.secret == secret) {
        None => Err(Box::new(entra_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
        ))),
        Some(k) if k.end <= now => Err(Box::new(entra_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000222,
            "The provided client secret keys for app are expired.",
        ))),
        // An app registered through Graph has no service principal until
        // one is made (or an admin consents): Entra issues it nothing.
        Some(_) if app.service_principal.is_none() => Err(Box::new(entra_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000229,
            &format!(
                "The client application {client_id} is missing service principal in the tenant {tenant}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119"
            ),
        ))),
        Some(_) => {
            let app_id = app.app_id;
            let roles = if app.billing_granted && audience == Audience::Graph {
                vec![model::onboarding::PARTNER_BILLING_READ_ALL_NAME.to_string()]
            } else {
                Vec::new()
            };
            drop(apps);
            Ok(world.issue_app_token(partner, app_id, audience, roles))
        }
    }
}
