//! The Microsoft Graph routes the onboarding uses, for a signed-in user's
//! delegated token: who the user is and which roles they hold, and the
//! partner tenant's app registrations and their passwords (keys).

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use model::Guid;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Emulator;
use crate::world::{App, Audience, Key, Role};

pub fn routes() -> Router<Emulator> {
    Router::new()
        .route("/v1.0/me", get(me))
        .route("/v1.0/me/memberOf", get(member_of))
        .route("/v1.0/organization", get(organization))
        .route("/v1.0/applications", get(list_apps).post(create_app))
        .route("/v1.0/applications/{id}/addPassword", post(add_password))
        .route(
            "/v1.0/applications/{id}/removePassword",
            post(remove_password),
        )
        .route("/v1/profiles/organization", get(organization_profile))
}

/// Graph's error body.
pub struct GraphError(StatusCode, &'static str, String);

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        (
            self.0,
            Json(json!({ "error": { "code": self.1, "message": self.2 } })),
        )
            .into_response()
    }
}

fn denied() -> GraphError {
    GraphError(
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.".into(),
    )
}

fn bad(message: impl Into<String>) -> GraphError {
    GraphError(
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
        message.into(),
    )
}

/// The signed-in user a delegated token was issued to.
pub struct SignedIn {
    partner: usize,
    user: usize,
}

/// The (partner, user) of a delegated token for `audience`, from the request.
fn delegated(parts: &Parts, emulator: &Emulator, audience: Audience) -> Option<(usize, usize)> {
    let token = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|t| emulator.world.token(t.trim()))?;
    let user = token.user?;
    (token.audience == audience).then_some((token.partner, user))
}

impl FromRequestParts<Emulator> for SignedIn {
    type Rejection = GraphError;

    async fn from_request_parts(
        parts: &mut Parts,
        emulator: &Emulator,
    ) -> Result<Self, Self::Rejection> {
        match delegated(parts, emulator, Audience::Graph) {
            Some((partner, user)) => Ok(SignedIn { partner, user }),
            None => Err(GraphError(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                "Access token is empty, expired or not a user's Graph token.".into(),
            )),
        }
    }
}

/// A signed-in user's delegated token for Partner Center (App+User routes),
/// obtained from the sign-in's refresh token.
pub struct PartnerCenterUser {
    partner: usize,
}

impl FromRequestParts<Emulator> for PartnerCenterUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        emulator: &Emulator,
    ) -> Result<Self, Self::Rejection> {
        match delegated(parts, emulator, Audience::PartnerCenter) {
            Some((partner, _)) => Ok(PartnerCenterUser { partner }),
            None => Err((
                StatusCode::UNAUTHORIZED,
                Json(json!({
                    "code": 900410,
                    "description": "This route needs a signed-in user's Partner Center token.",
                    "errorName": "Unauthorized"
                })),
            )
                .into_response()),
        }
    }
}

impl SignedIn {
    fn roles<'e>(&self, emulator: &'e Emulator) -> &'e [Role] {
        &emulator.world.partners[self.partner].users[self.user].roles
    }

    fn is_global_admin(&self, emulator: &Emulator) -> bool {
        self.roles(emulator).contains(&Role::GlobalAdmin)
    }
}

/// An application by its object ID, as Graph addresses it.
fn app_by_object_id<'a>(apps: &'a mut [App], id: &str) -> Result<&'a mut App, GraphError> {
    apps.iter_mut()
        .find(|a| a.object_id.to_string().eq_ignore_ascii_case(id))
        .ok_or_else(|| {
            GraphError(
                StatusCode::NOT_FOUND,
                "Request_ResourceNotFound",
                format!("Resource '{id}' does not exist."),
            )
        })
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn key_json(k: &Key) -> Value {
    json!({
        "customKeyIdentifier": null,
        "displayName": k.display_name,
        "endDateTime": stamp(k.end),
        "hint": k.secret.chars().take(3).collect::<String>(),
        "keyId": k.key_id.to_string(),
        "secretText": null,
        "startDateTime": stamp(k.start)
    })
}

fn app_json(a: &App) -> Value {
    json!({
        "id": a.object_id.to_string(),
        "appId": a.app_id.to_string(),
        "displayName": a.display_name,
        "signInAudience": "AzureADMyOrg",
        "passwordCredentials": a.keys.iter().map(key_json).collect::<Vec<_>>()
    })
}

async fn me(State(emulator): State<Emulator>, who: SignedIn) -> Json<Value> {
    let u = &emulator.world.partners[who.partner].users[who.user];
    Json(json!({
        "id": Guid::from_seed(emulator.world.seed, 70_000 + who.user as u64 + 100 * who.partner as u64).to_string(),
        "displayName": u.display_name,
        "userPrincipalName": u.user_name,
        "mail": u.user_name
    }))
}

/// Partner Center roles as Entra shows them: Global admin and Billing admin
/// are directory roles; the agent roles are the AdminAgents and SalesAgents groups.
async fn member_of(State(emulator): State<Emulator>, who: SignedIn) -> Json<Value> {
    let value: Vec<Value> = who
        .roles(&emulator)
        .iter()
        .map(|r| match r {
            Role::GlobalAdmin => json!({ "@odata.type": "#microsoft.graph.directoryRole",
                "displayName": "Global Administrator", "roleTemplateId": "62e90394-69f5-4237-9190-012177145e10" }),
            Role::BillingAdmin => json!({ "@odata.type": "#microsoft.graph.directoryRole",
                "displayName": "Billing Administrator", "roleTemplateId": "b0f54661-2d74-4c50-afa3-1ec803f12efe" }),
            Role::AdminAgent => json!({ "@odata.type": "#microsoft.graph.group", "displayName": "AdminAgents" }),
            Role::SalesAgent => json!({ "@odata.type": "#microsoft.graph.group", "displayName": "SalesAgents" }),
        })
        .collect();
    Json(json!({ "value": value }))
}

async fn organization(State(emulator): State<Emulator>, who: SignedIn) -> Json<Value> {
    let p = &emulator.world.partners[who.partner];
    Json(json!({ "value": [ {
        "id": p.tenant_id.to_string(),
        "displayName": p.name,
        "verifiedDomains": [ { "name": p.domain, "isDefault": true } ]
    } ] }))
}

async fn list_apps(State(emulator): State<Emulator>, who: SignedIn) -> Json<Value> {
    let apps = emulator.world.partners[who.partner]
        .apps
        .read()
        .expect("apps poisoned");
    Json(json!({ "value": apps.iter().map(app_json).collect::<Vec<_>>() }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewApp {
    display_name: String,
}

async fn create_app(
    State(emulator): State<Emulator>,
    who: SignedIn,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), GraphError> {
    if !who.is_global_admin(&emulator) {
        return Err(denied());
    }
    let new: NewApp =
        serde_json::from_slice(&body).map_err(|e| bad(format!("Invalid request body: {e}")))?;
    if new.display_name.trim().is_empty() || new.display_name.len() > 120 {
        return Err(bad("displayName must be 1 to 120 characters."));
    }
    let app = App {
        object_id: Guid::from_bytes(*uuid::Uuid::new_v4().as_bytes()),
        app_id: Guid::from_bytes(*uuid::Uuid::new_v4().as_bytes()),
        display_name: new.display_name.trim().to_string(),
        keys: Vec::new(),
        partner_center: false,
    };
    let json = app_json(&app);
    emulator.world.partners[who.partner]
        .apps
        .write()
        .expect("apps poisoned")
        .push(app);
    Ok((StatusCode::CREATED, Json(json)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PasswordRequest {
    password_credential: PasswordCredential,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PasswordCredential {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    end_date_time: Option<DateTime<Utc>>,
}

async fn add_password(
    State(emulator): State<Emulator>,
    who: SignedIn,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, GraphError> {
    if !who.is_global_admin(&emulator) {
        return Err(denied());
    }
    let req: PasswordRequest =
        serde_json::from_slice(&body).map_err(|e| bad(format!("Invalid request body: {e}")))?;
    let now = Utc::now();
    let end = req
        .password_credential
        .end_date_time
        .unwrap_or(now + Duration::days(730));
    // Entra's default policy allows secrets of up to two years.
    if end <= now || end > now + Duration::days(731) {
        return Err(bad(
            "endDateTime must be in the future and at most two years away.",
        ));
    }
    let mut apps = emulator.world.partners[who.partner]
        .apps
        .write()
        .expect("apps poisoned");
    let app = app_by_object_id(&mut apps, &id)?;
    let secret = format!(
        "{}~{}{}",
        &uuid::Uuid::new_v4().simple().to_string()[..3],
        uuid::Uuid::new_v4().simple(),
        &uuid::Uuid::new_v4().simple().to_string()[..6]
    );
    let key = Key {
        key_id: Guid::from_bytes(*uuid::Uuid::new_v4().as_bytes()),
        display_name: req
            .password_credential
            .display_name
            .unwrap_or_else(|| "Password".into()),
        secret: secret.clone(),
        start: now,
        end,
    };
    let mut json = key_json(&key);
    // The one answer that carries the value.
    json["secretText"] = Value::String(secret);
    app.keys.push(key);
    Ok(Json(json))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RemovePassword {
    key_id: String,
}

async fn remove_password(
    State(emulator): State<Emulator>,
    who: SignedIn,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<StatusCode, GraphError> {
    if !who.is_global_admin(&emulator) {
        return Err(denied());
    }
    let req: RemovePassword =
        serde_json::from_slice(&body).map_err(|e| bad(format!("Invalid request body: {e}")))?;
    let mut apps = emulator.world.partners[who.partner]
        .apps
        .write()
        .expect("apps poisoned");
    let app = app_by_object_id(&mut apps, &id)?;
    let before = app.keys.len();
    app.keys
        .retain(|k| !k.key_id.to_string().eq_ignore_ascii_case(&req.key_id));
    if app.keys.len() == before {
        return Err(bad(format!(
            "No password credential with keyId {}.",
            req.key_id
        )));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Partner Center's organization profile (an App+User route): the signed-in
/// user's partner, with its Commerce ID as `id`.
pub async fn organization_profile(
    State(emulator): State<Emulator>,
    who: PartnerCenterUser,
) -> Json<Value> {
    let p = &emulator.world.partners[who.partner];
    Json(json!({
        "id": p.commerce_id.to_string(),
        "companyName": p.name,
        "tenantId": p.tenant_id.to_string(),
        "domain": p.domain,
        "email": format!("billing@{}", p.domain),
        "language": "en",
        "culture": "en-US",
        "profileType": "OrganizationProfile",
        "links": { "self": { "uri": "/profiles/organization", "method": "GET", "headers": [] } },
        "attributes": { "objectType": "OrganizationProfile" }
    }))
}
