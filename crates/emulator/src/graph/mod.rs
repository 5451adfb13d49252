//! The Microsoft Graph routes the onboarding uses, for a signed-in user's
//! delegated token: who the user is and which roles they hold, and the
//! partner tenant's app registrations and their passwords (keys).

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use model::Guid;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Emulator;
use crate::world::{App, Audience, IssuedToken, Role};

mod apps;
mod directory;

use apps::*;
use directory::*;

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

async fn me(State(emulator): State<Emulator>, who: SignedIn) -> Json<Value> {
    let u = &emulator.world.partners[who.partner].users[who.user];
    Json(json!({
        "id": Guid::from_seed(emulator.world.seed, 70_000 + who.user as u64 + 100 * who.partner as u64).to_string(),
        "displayName": u.display_name,
        "userPrincipalName": u.user_name,
        "mail": u.user_name
    }))
}

async fn organization(State(emulator): State<Emulator>, who: SignedIn) -> Json<Value> {
    let p = &emulator.world.partners[who.partner];
    Json(json!({ "value": [ {
        "id": p.tenant_id.to_string(),
        "displayName": p.name,
        "verifiedDomains": [ { "name": p.domain, "isDefault": true } ]
    } ] }))
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
