//! The Microsoft Graph routes the onboarding uses, for a signed-in user's
//! delegated token: who the user is and which roles they hold, and the
//! partner tenant's app registrations and their passwords (keys).

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use model::Guid;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Emulator;
use crate::world::{App, Audience, IssuedToken, Key, Role};

pub fn routes() -> Router<Emulator> {
    Router::new()
        .route("/v1.0/me", get(me))
        // memberOf and transitiveMemberOf, with or without a type cast.
        .route("/v1.0/me/{relation}", get(member_of))
        .route("/v1.0/me/{relation}/{cast}", get(member_of_cast))
        .route("/v1.0/groups", get(list_groups))
        .route("/v1.0/groups/{id}", get(get_group))
        .route("/v1.0/organization", get(organization))
        .route("/v1.0/applications", get(list_apps).post(create_app))
        .route("/v1.0/applications/{id}", get(get_app).patch(patch_app))
        .route("/v1.0/applications/{id}/addPassword", post(add_password))
        .route(
            "/v1.0/servicePrincipals",
            get(list_service_principals).post(create_service_principal),
        )
        // `servicePrincipals(appId='...')`: Graph's address by app ID.
        .route("/v1.0/{entity}", get(service_principal_by_app_id))
        .route(
            "/v1.0/servicePrincipals/{id}/appRoleAssignments",
            get(app_role_assignments),
        )
        .route(
            "/v1.0/servicePrincipals/{id}/appRoleAssignedTo",
            post(assign_app_role),
        )
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
    token: IssuedToken,
}

/// The (partner, user) of a delegated token for `audience`, from the request.
fn delegated(
    parts: &Parts,
    emulator: &Emulator,
    audience: Audience,
) -> Option<(usize, usize, IssuedToken)> {
    let token = emulator.world.bearer(&parts.headers)?;
    let user = token.user?;
    (token.audience == audience).then_some((token.partner, user, token))
}

impl FromRequestParts<Emulator> for SignedIn {
    type Rejection = GraphError;

    async fn from_request_parts(
        parts: &mut Parts,
        emulator: &Emulator,
    ) -> Result<Self, Self::Rejection> {
        match delegated(parts, emulator, Audience::Graph) {
            Some((partner, user, token)) => Ok(SignedIn {
                partner,
                user,
                token,
            }),
            None => Err(GraphError(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                "Access token is empty, expired or not a user's Graph token.".into(),
            )),
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

    /// A Global admin may change any app; others only apps they own.
    fn may_change(&self, emulator: &Emulator, app: &App) -> Result<(), GraphError> {
        if self.is_global_admin(emulator) || app.owner == Some(self.user) {
            Ok(())
        } else {
            Err(denied())
        }
    }

    /// Graph's answer when the token lacks every scope that would do.
    fn require(&self, any_of: &[&str]) -> Result<(), GraphError> {
        if self.token.has_scope(any_of) {
            Ok(())
        } else {
            Err(denied())
        }
    }
}

/// Scopes that let a delegated token read groups' properties.
const READ_GROUPS: [&str; 3] = [
    "GroupMember.Read.All",
    "Group.Read.All",
    "Directory.Read.All",
];
/// Scopes that let it read directory roles' properties.
const READ_ROLES: [&str; 2] = ["RoleManagement.Read.Directory", "Directory.Read.All"];
/// Scopes that let it read or change applications.
const READ_APPS: [&str; 3] = [
    "Application.Read.All",
    "Application.ReadWrite.All",
    "Directory.Read.All",
];
const WRITE_APPS: [&str; 1] = ["Application.ReadWrite.All"];

/// Graph's page size when `$top` is not given, and its largest.
const PAGE: usize = 100;
const MAX_PAGE: usize = 999;

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListQuery {
    #[serde(rename = "$top")]
    top: Option<usize>,
    #[serde(rename = "$skiptoken")]
    skiptoken: Option<String>,
    #[serde(rename = "$filter")]
    filter: Option<String>,
}

/// One page of `items` at the offset `$skiptoken` carries, with an absolute
/// `@odata.nextLink` while more remain, as Graph pages.
fn paged(
    headers: &HeaderMap,
    path: &str,
    q: &ListQuery,
    items: Vec<Value>,
) -> Result<Json<Value>, GraphError> {
    let size = q.top.unwrap_or(PAGE).clamp(1, MAX_PAGE);
    let offset = match &q.skiptoken {
        None => 0,
        Some(t) => t
            .strip_prefix("RFNwdAIAAQAAA")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| bad("The $skiptoken is not valid."))?,
    };
    let total = items.len();
    let end = (offset + size).min(total);
    let page: Vec<Value> = items
        .into_iter()
        .skip(offset)
        .take(end.saturating_sub(offset))
        .collect();
    let mut body = json!({ "value": page });
    if end < total {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        let mut next = format!("http://{host}{path}?$top={size}&$skiptoken=RFNwdAIAAQAAA{end}");
        if let Some(f) = &q.filter {
            next.push_str("&$filter=");
            next.push_str(&crate::world::percent_encode(f));
        }
        body["@odata.nextLink"] = Value::String(next);
    }
    Ok(Json(body))
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
        "requiredResourceAccess": a.required_resource_access,
        "web": { "redirectUris": a.redirect_uris, "implicitGrantSettings": { "enableIdTokenIssuance": false } },
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

/// The signed-in user's memberships as Graph lists them: directory roles
/// (a tenant-specific `id`; `roleTemplateId` and names only with a scope to
/// read roles) and groups (names only with a scope to read groups). With
/// only `User.Read`, each is its `@odata.type` and `id`, as Graph's limited
/// information is. `transitive` adds the groups that groups belong to.
fn memberships(
    emulator: &Emulator,
    who: &SignedIn,
    transitive: bool,
    cast: Option<&str>,
) -> Vec<Value> {
    let p = &emulator.world.partners[who.partner];
    let mut out = Vec::new();
    if cast.is_none_or(|c| c == "microsoft.graph.directoryRole") {
        for role in who.roles(emulator) {
            let Some(template) = role.template_id() else {
                continue;
            };
            let mut v = json!({
                "@odata.type": "#microsoft.graph.directoryRole",
                // Tenant-specific, unlike the template id.
                "id": Guid::from_seed(emulator.world.seed ^ who.partner as u64, 68_000 + u64::from(*role == Role::BillingAdmin)).to_string()
            });
            if who.token.has_scope(&READ_ROLES) {
                v["roleTemplateId"] = json!(template);
                v["displayName"] = json!(match role {
                    Role::GlobalAdmin => "Global Administrator",
                    _ => "Billing Administrator",
                });
            }
            out.push(v);
        }
    }
    if cast.is_none_or(|c| c == "microsoft.graph.group") {
        let mut groups: Vec<usize> = p
            .groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.members.contains(&who.user))
            .map(|(i, _)| i)
            .collect();
        if transitive {
            let mut i = 0;
            while i < groups.len() {
                for parent in &p.groups[groups[i]].parents {
                    if !groups.contains(parent) {
                        groups.push(*parent);
                    }
                }
                i += 1;
            }
            groups.sort_unstable();
        }
        for g in groups {
            let g = &p.groups[g];
            let mut v = json!({ "@odata.type": "#microsoft.graph.group", "id": g.id.to_string() });
            if who.token.has_scope(&READ_GROUPS) {
                v["displayName"] = json!(g.display_name);
                v["securityEnabled"] = json!(true);
                v["mailEnabled"] = json!(false);
            }
            out.push(v);
        }
    }
    out
}

fn cast_of(cast: &str) -> Result<&str, GraphError> {
    match cast {
        "microsoft.graph.group" | "microsoft.graph.directoryRole" => Ok(cast),
        other => Err(bad(format!("Unknown type cast '{other}'."))),
    }
}

/// `/me/memberOf` or `/me/transitiveMemberOf`, whichever `relation` names.
fn relation_of(relation: &str) -> Result<bool, GraphError> {
    match relation {
        "memberOf" => Ok(false),
        "transitiveMemberOf" => Ok(true),
        other => Err(GraphError(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("Resource not found for the segment '{other}'."),
        )),
    }
}

async fn member_of(
    State(emulator): State<Emulator>,
    headers: HeaderMap,
    who: SignedIn,
    Path(relation): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, GraphError> {
    let items = memberships(&emulator, &who, relation_of(&relation)?, None);
    paged(&headers, &format!("/v1.0/me/{relation}"), &q, items)
}

async fn member_of_cast(
    State(emulator): State<Emulator>,
    headers: HeaderMap,
    who: SignedIn,
    Path((relation, cast)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, GraphError> {
    let cast = cast_of(&cast)?;
    let items = memberships(&emulator, &who, relation_of(&relation)?, Some(cast));
    paged(&headers, &format!("/v1.0/me/{relation}/{cast}"), &q, items)
}

fn group_json(g: &crate::world::Group) -> Value {
    json!({
        "id": g.id.to_string(),
        "displayName": g.display_name,
        "securityEnabled": true,
        "mailEnabled": false,
        "groupTypes": []
    })
}

/// `GET /groups`, with the one `$filter` form the proxy needs
/// (`displayName eq '...'`); needs a scope to read groups.
async fn list_groups(
    State(emulator): State<Emulator>,
    headers: HeaderMap,
    who: SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, GraphError> {
    who.require(&READ_GROUPS)?;
    let p = &emulator.world.partners[who.partner];
    let wanted = match q.filter.as_deref() {
        None => None,
        Some(f) => Some(
            f.trim()
                .strip_prefix("displayName eq '")
                .and_then(|r| r.strip_suffix('\''))
                .map(|n| n.replace("''", "'"))
                .ok_or_else(|| bad(format!("Unsupported filter: {f}")))?,
        ),
    };
    let items = p
        .groups
        .iter()
        .filter(|g| wanted.as_deref().is_none_or(|n| g.display_name == n))
        .map(group_json)
        .collect();
    paged(&headers, "/v1.0/groups", &q, items)
}

async fn get_group(
    State(emulator): State<Emulator>,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<Json<Value>, GraphError> {
    who.require(&READ_GROUPS)?;
    emulator.world.partners[who.partner]
        .groups
        .iter()
        .find(|g| g.id.to_string().eq_ignore_ascii_case(&id))
        .map(|g| Json(group_json(g)))
        .ok_or_else(|| {
            GraphError(
                StatusCode::NOT_FOUND,
                "Request_ResourceNotFound",
                format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
            )
        })
}

async fn organization(State(emulator): State<Emulator>, who: SignedIn) -> Json<Value> {
    let p = &emulator.world.partners[who.partner];
    Json(json!({ "value": [ {
        "id": p.tenant_id.to_string(),
        "displayName": p.name,
        "verifiedDomains": [ { "name": p.domain, "isDefault": true } ]
    } ] }))
}

async fn list_apps(
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
struct NewApp {
    display_name: String,
}

async fn create_app(
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
struct RemovePassword {
    key_id: String,
}

async fn remove_password(
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

/// Partner Center's organization profile (an App+User route): the signed-in
/// user's partner. Its `id` is the profile's own, not the Commerce ID (the
/// reference documents none here; App management shows that one).
pub async fn organization_profile(
    State(emulator): State<Emulator>,
    crate::partner_center::AppUser(partner): crate::partner_center::AppUser,
) -> Json<Value> {
    let p = &emulator.world.partners[partner];
    Json(json!({
        "id": Guid::from_seed(emulator.world.seed, 80_000 + partner as u64).to_string(),
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

/// Microsoft Graph's own service principal in a partner's tenant.
pub fn graph_principal(emulator: &Emulator, partner: usize) -> Guid {
    Guid::from_seed(emulator.world.seed ^ partner as u64, 67_000)
}

async fn get_app(
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
async fn patch_app(
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

fn principal_json(app: &App, id: Guid) -> Value {
    json!({ "id": id.to_string(), "appId": app.app_id.to_string(), "displayName": app.display_name,
            "servicePrincipalType": "Application", "accountEnabled": true })
}

/// `GET /servicePrincipals?$filter=appId eq '...'`.
async fn list_service_principals(
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
async fn create_service_principal(
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
async fn service_principal_by_app_id(
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

fn assignment_json(principal: Guid, graph: Guid) -> Value {
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
async fn app_role_assignments(
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
async fn assign_app_role(
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
