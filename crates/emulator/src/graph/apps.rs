//! The partner's app registrations as Graph keeps them: applications and
//! their passwords (keys), `requiredResourceAccess` and redirect URIs,
//! service principals, and Graph's app role assignments (the consent).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use model::Guid;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{GraphError, ListQuery, READ_APPS, SignedIn, WRITE_APPS, bad, denied, paged};
use crate::Emulator;
use crate::world::{App, Key};

/// An application by its object ID, as Graph addresses it.
pub(super) fn app_by_object_id<'a>(
    apps: &'a mut [App],
    id: &str,
) -> Result<&'a mut App, GraphError> {
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

pub(super) fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub(super) fn key_json(k: &Key) -> Value {
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

pub(super) fn app_json(a: &App) -> Value {
    json!({
        "id": a.object_id.to_string(),
        "appId": a.app_id.to_string(),
        "displayName": a.display_name,
        "signInAudience": "AzureADMyOrg",
        "requiredResourceAccess": a.required_resource_access,
        "web": { "redirectUris": a.redirect_uris, "implicitGrantSettings": { "enableIdTokenIssuance": false } },
        "passwordCredentials": a.keys.iter().map(key_json).collect::<Vec<_>>()
    })
}

pub(super) async fn list_apps(
    State(emulator): State<Emulator>,
    headers: HeaderMap,
    who: SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, GraphError> {
    who.require(&READ_APPS)?;
    let items = emulator.world.partners[who.partner]
        .apps
        .read()
        .expect("apps poisoned")
        .iter()
        .map(app_json)
        .collect();
    paged(&headers, "/v1.0/applications", &q, items)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct NewApp {
    display_name: String,
}

pub(super) async fn create_app(
    State(emulator): State<Emulator>,
    who: SignedIn,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), GraphError> {
    // Entra's default lets any member register an app; the app is theirs.
    who.require(&WRITE_APPS)?;
    let new: NewApp =
        serde_json::from_slice(&body).map_err(|e| bad(format!("Invalid request body: {e}")))?;
    if new.display_name.trim().is_empty() || new.display_name.len() > 120 {
        return Err(bad("displayName must be 1 to 120 characters."));
    }
    let mut app = App::new(
        Guid::from_bytes(*uuid::Uuid::new_v4().as_bytes()),
        Guid::from_bytes(*uuid::Uuid::new_v4().as_bytes()),
        new.display_name.trim().to_string(),
        Vec::new(),
    );
    app.owner = Some(who.user);
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
pub(super) struct PasswordRequest {
    password_credential: PasswordCredential,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PasswordCredential {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    end_date_time: Option<DateTime<Utc>>,
}

pub(super) async fn add_password(
    State(emulator): State<Emulator>,
    who: SignedIn,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, GraphError> {
    who.require(&WRITE_APPS)?;
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
    who.may_change(&emulator, app)?;
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
pub(super) struct RemovePassword {
    key_id: String,
}

pub(super) async fn remove_password(
    State(emulator): State<Emulator>,
    who: SignedIn,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<StatusCode, GraphError> {
    who.require(&WRITE_APPS)?;
    let req: RemovePassword =
        serde_json::from_slice(&body).map_err(|e| bad(format!("Invalid request body: {e}")))?;
    let mut apps = emulator.world.partners[who.partner]
        .apps
        .write()
        .expect("apps poisoned");
    let app = app_by_object_id(&mut apps, &id)?;
    who.may_change(&emulator, app)?;
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

/// Microsoft Graph's own service principal in a partner's tenant.
pub fn graph_principal(emulator: &Emulator, partner: usize) -> Guid {
    Guid::from_seed(emulator.world.seed ^ partner as u64, 67_000)
}

pub(super) async fn get_app(
    State(emulator): State<Emulator>,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<Json<Value>, GraphError> {
    who.require(&READ_APPS)?;
    let mut apps = emulator.world.partners[who.partner]
        .apps
        .write()
        .expect("apps poisoned");
    Ok(Json(app_json(app_by_object_id(&mut apps, &id)?)))
}

/// `PATCH /applications/{id}`: each property given replaces the old one
/// whole (`requiredResourceAccess`, `web.redirectUris`), as Graph does.
pub(super) async fn patch_app(
    State(emulator): State<Emulator>,
    who: SignedIn,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<StatusCode, GraphError> {
    who.require(&WRITE_APPS)?;
    let patch: Value =
        serde_json::from_slice(&body).map_err(|e| bad(format!("Invalid request body: {e}")))?;
    let mut apps = emulator.world.partners[who.partner]
        .apps
        .write()
        .expect("apps poisoned");
    let app = app_by_object_id(&mut apps, &id)?;
    who.may_change(&emulator, app)?;
    if let Some(rra) = patch.get("requiredResourceAccess") {
        if !rra.is_array() {
            return Err(bad("requiredResourceAccess must be a collection."));
        }
        app.required_resource_access = rra.clone();
    }
    if let Some(uris) = patch.get("web").and_then(|w| w.get("redirectUris")) {
        app.redirect_uris = uris
            .as_array()
            .ok_or_else(|| bad("web.redirectUris must be a collection."))?
            .iter()
            .filter_map(|u| u.as_str().map(str::to_string))
            .collect();
    }
    Ok(StatusCode::NO_CONTENT)
}

pub(super) fn principal_json(app: &App, id: Guid) -> Value {
    json!({ "id": id.to_string(), "appId": app.app_id.to_string(), "displayName": app.display_name,
            "servicePrincipalType": "Application", "accountEnabled": true })
}

/// `GET /servicePrincipals?$filter=appId eq '...'`.
pub(super) async fn list_service_principals(
    State(emulator): State<Emulator>,
    headers: HeaderMap,
    who: SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, GraphError> {
    who.require(&READ_APPS)?;
    let wanted = match q.filter.as_deref() {
        None => None,
        Some(f) => Some(
            f.trim()
                .strip_prefix("appId eq '")
                .and_then(|r| r.strip_suffix('\''))
                .ok_or_else(|| bad(format!("Unsupported filter: {f}")))?
                .to_string(),
        ),
    };
    let items = emulator.world.partners[who.partner]
        .apps
        .read()
        .expect("apps poisoned")
        .iter()
        .filter(|a| {
            wanted
                .as_deref()
                .is_none_or(|w| a.app_id.to_string().eq_ignore_ascii_case(w))
        })
        .filter_map(|a| a.service_principal.map(|sp| principal_json(a, sp)))
        .collect();
    paged(&headers, "/v1.0/servicePrincipals", &q, items)
}

/// `POST /servicePrincipals` `{"appId": ...}`: one per app and tenant.
pub(super) async fn create_service_principal(
    State(emulator): State<Emulator>,
    who: SignedIn,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), GraphError> {
    who.require(&WRITE_APPS)?;
    let req: Value =
        serde_json::from_slice(&body).map_err(|e| bad(format!("Invalid request body: {e}")))?;
    let app_id = req["appId"].as_str().unwrap_or_default();
    let mut apps = emulator.world.partners[who.partner]
        .apps
        .write()
        .expect("apps poisoned");
    let app = apps
        .iter_mut()
        .find(|a| a.app_id.to_string().eq_ignore_ascii_case(app_id))
        .ok_or_else(|| bad(format!("The appId '{app_id}' of the service principal does not reference a valid application object.")))?;
    if app.service_principal.is_some() {
        return Err(GraphError(
            StatusCode::CONFLICT,
            "Request_MultipleObjectsWithSameKeyValue",
            "Another object with the same value for property appId already exists.".into(),
        ));
    }
    let id = Guid::from_bytes(*uuid::Uuid::new_v4().as_bytes());
    app.service_principal = Some(id);
    Ok((StatusCode::CREATED, Json(principal_json(app, id))))
}

/// `GET /servicePrincipals(appId='...')`, Graph's own included.
pub(super) async fn service_principal_by_app_id(
    State(emulator): State<Emulator>,
    who: SignedIn,
    Path(entity): Path<String>,
) -> Result<Json<Value>, GraphError> {
    let not_found = || {
        GraphError(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!("Resource '{entity}' does not exist."),
        )
    };
    let app_id = entity
        .strip_prefix("servicePrincipals(appId='")
        .and_then(|r| r.strip_suffix("')"))
        .ok_or_else(not_found)?;
    if app_id.eq_ignore_ascii_case(model::onboarding::GRAPH_APP_ID) {
        return Ok(Json(
            json!({ "id": graph_principal(&emulator, who.partner).to_string(),
            "appId": model::onboarding::GRAPH_APP_ID, "displayName": "Microsoft Graph" }),
        ));
    }
    who.require(&READ_APPS)?;
    let apps = emulator.world.partners[who.partner]
        .apps
        .read()
        .expect("apps poisoned");
    apps.iter()
        .find(|a| a.app_id.to_string().eq_ignore_ascii_case(app_id))
        .and_then(|a| a.service_principal.map(|sp| Json(principal_json(a, sp))))
        .ok_or_else(not_found)
}

pub(super) fn assignment_json(principal: Guid, graph: Guid) -> Value {
    json!({
        "id": format!("{principal}").replace('-', "").chars().take(22).collect::<String>(),
        "appRoleId": model::onboarding::PARTNER_BILLING_READ_ALL,
        "principalId": principal.to_string(),
        "principalType": "ServicePrincipal",
        "resourceId": graph.to_string(),
        "resourceDisplayName": "Microsoft Graph"
    })
}

/// `GET /servicePrincipals/{id}/appRoleAssignments`: what the app was granted.
pub(super) async fn app_role_assignments(
    State(emulator): State<Emulator>,
    headers: HeaderMap,
    who: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, GraphError> {
    who.require(&READ_APPS)?;
    let graph = graph_principal(&emulator, who.partner);
    let apps = emulator.world.partners[who.partner]
        .apps
        .read()
        .expect("apps poisoned");
    let app = apps
        .iter()
        .find(|a| {
            a.service_principal
                .is_some_and(|sp| sp.to_string().eq_ignore_ascii_case(&id))
        })
        .ok_or_else(|| {
            GraphError(
                StatusCode::NOT_FOUND,
                "Request_ResourceNotFound",
                format!("Resource '{id}' does not exist."),
            )
        })?;
    let items = if app.billing_granted {
        vec![assignment_json(
            app.service_principal.unwrap_or(graph),
            graph,
        )]
    } else {
        Vec::new()
    };
    paged(
        &headers,
        &format!("/v1.0/servicePrincipals/{id}/appRoleAssignments"),
        &q,
        items,
    )
}

/// `POST /servicePrincipals/{graph}/appRoleAssignedTo`: grants an app a
/// Graph application permission. Only a privileged admin may (here: a
/// Global admin), with `AppRoleAssignment.ReadWrite.All`.
pub(super) async fn assign_app_role(
    State(emulator): State<Emulator>,
    who: SignedIn,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), GraphError> {
    who.require(&["AppRoleAssignment.ReadWrite.All"])?;
    if !who.is_global_admin(&emulator) {
        return Err(denied());
    }
    let graph = graph_principal(&emulator, who.partner);
    if !graph.to_string().eq_ignore_ascii_case(&id) {
        return Err(bad(format!(
            "'{id}' is not a resource service principal with app roles here."
        )));
    }
    let req: Value =
        serde_json::from_slice(&body).map_err(|e| bad(format!("Invalid request body: {e}")))?;
    if !req["appRoleId"]
        .as_str()
        .is_some_and(|r| r.eq_ignore_ascii_case(model::onboarding::PARTNER_BILLING_READ_ALL))
    {
        return Err(bad(
            "Permission being assigned was not found on application.",
        ));
    }
    if !req["resourceId"]
        .as_str()
        .is_some_and(|r| r.eq_ignore_ascii_case(&id))
    {
        return Err(bad(
            "resourceId must be the service principal in the address.",
        ));
    }
    let principal = req["principalId"].as_str().unwrap_or_default();
    let mut apps = emulator.world.partners[who.partner]
        .apps
        .write()
        .expect("apps poisoned");
    let app = apps
        .iter_mut()
        .find(|a| {
            a.service_principal
                .is_some_and(|sp| sp.to_string().eq_ignore_ascii_case(principal))
        })
        .ok_or_else(|| bad(format!("The principal '{principal}' does not exist.")))?;
    app.billing_granted = true;
    let sp = app.service_principal.unwrap_or(graph);
    Ok((StatusCode::CREATED, Json(assignment_json(sp, graph))))
}
