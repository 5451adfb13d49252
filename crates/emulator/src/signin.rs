//! Signing in a partner's user, as Entra ID's authorization-code flow with
//! PKCE does it: a sign-in page, a code sent back to the redirect URI, and
//! the code redeemed for an ID token and a delegated (Graph) access token.

use std::time::{Duration, SystemTime};

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::Emulator;
use crate::world::{Audience, PendingCode, TOKEN_LIFETIME, unix_seconds};

pub fn routes() -> Router<Emulator> {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/authorize", get(page).post(submit))
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route(
            "/{tenant}/adminconsent",
            get(consent_page).post(consent_submit),
        )
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
struct ConsentQuery {
    client_id: String,
    state: String,
    redirect_uri: String,
}

fn consent_form(q: &ConsentQuery, app_name: &str, error: Option<&str>) -> Html<String> {
    let (hidden, error) = form_parts(
        &[
            ("client_id", &q.client_id),
            ("state", &q.state),
            ("redirect_uri", &q.redirect_uri),
        ],
        error,
    );
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Permissions requested</title></head>
<body><h1>Permissions requested</h1><p>{} asks, for your whole organization: read all billing data for your partner tenant (PartnerBilling.Read.All).</p>{error}
<form method="post">{hidden}
<label for="login">Admin email</label><input id="login" name="login" type="email" required>
<label for="passwd">Password</label><input id="passwd" name="passwd" type="password" required>
<button type="submit">Accept</button></form></body></html>"#,
        escape(app_name)
    ))
}

/// The app a consent request names, in the tenant: its name and redirect URIs.
fn consent_app(
    emulator: &Emulator,
    tenant: &str,
    client_id: &str,
) -> Option<(usize, String, Vec<String>)> {
    let partner = emulator.world.partner_by_tenant(tenant)?;
    let apps = emulator.world.partners[partner]
        .apps
        .read()
        .expect("apps poisoned");
    apps.iter()
        .find(|a| a.app_id.to_string().eq_ignore_ascii_case(client_id))
        .map(|a| (partner, a.display_name.clone(), a.redirect_uris.clone()))
}

/// Entra's admin-consent page (`/{tenant}/adminconsent`): an admin signs in
/// and accepts the application permissions the app declares.
async fn consent_page(
    State(emulator): State<Emulator>,
    Path(tenant): Path<String>,
    Query(q): Query<ConsentQuery>,
) -> Response {
    match consent_app(&emulator, &tenant, &q.client_id) {
        None => (
            StatusCode::BAD_REQUEST,
            Html(format!("<p>AADSTS700016: Application with identifier '{}' was not found in the directory '{}'.</p>", escape(&q.client_id), escape(&tenant))),
        )
            .into_response(),
        Some((_, _, uris)) if !uris.contains(&q.redirect_uri) => (
            StatusCode::BAD_REQUEST,
            Html(format!("<p>AADSTS50011: The redirect URI '{}' specified in the request does not match the redirect URIs configured for the application.</p>", escape(&q.redirect_uri))),
        )
            .into_response(),
        Some((_, name, _)) => consent_form(&q, &name, None).into_response(),
    }
}

#[derive(Deserialize)]
struct ConsentSubmitted {
    login: String,
    passwd: String,
    #[serde(flatten)]
    query: ConsentQuery,
}

async fn consent_submit(
    State(emulator): State<Emulator>,
    Path(tenant): Path<String>,
    Form(f): Form<ConsentSubmitted>,
) -> Response {
    let Some((partner, name, uris)) = consent_app(&emulator, &tenant, &f.query.client_id) else {
        return (
            StatusCode::BAD_REQUEST,
            "AADSTS700016: unknown application.",
        )
            .into_response();
    };
    if !uris.contains(&f.query.redirect_uri) {
        return (
            StatusCode::BAD_REQUEST,
            "AADSTS50011: redirect URI mismatch.",
        )
            .into_response();
    }
    let p = &emulator.world.partners[partner];
    let Some(user) = p
        .users
        .iter()
        .find(|u| u.user_name.eq_ignore_ascii_case(f.login.trim()) && u.password == f.passwd)
    else {
        return consent_form(
            &f.query,
            &name,
            Some("Your account or password is incorrect."),
        )
        .into_response();
    };
    let back = |params: String| {
        let separator = if f.query.redirect_uri.contains('?') {
            '&'
        } else {
            '?'
        };
        let location = format!(
            "{}{separator}{params}&state={}",
            f.query.redirect_uri,
            crate::world::percent_encode(&f.query.state)
        );
        (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
    };
    if !user.roles.contains(&crate::world::Role::GlobalAdmin) {
        return back(format!(
            "error=access_denied&error_description={}",
            crate::world::percent_encode(
                "AADSTS90094: Granting application permissions requires an administrator. Ask an admin of your organization to consent."
            )
        ));
    }
    // Consent makes the service principal when it is missing, and grants
    // the application permissions the app declares.
    {
        let mut apps = p.apps.write().expect("apps poisoned");
        if let Some(app) = apps.iter_mut().find(|a| {
            a.app_id
                .to_string()
                .eq_ignore_ascii_case(&f.query.client_id)
        }) {
            if app.service_principal.is_none() {
                app.service_principal =
                    Some(model::Guid::from_bytes(*uuid::Uuid::new_v4().as_bytes()));
            }
            if app.declares_billing() {
                app.billing_granted = true;
            }
        }
    }
    back(format!("admin_consent=True&tenant={}", p.tenant_id))
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
struct AuthorizeQuery {
    client_id: String,
    redirect_uri: String,
    response_type: String,
    state: String,
    code_challenge: String,
    code_challenge_method: String,
    login_hint: String,
    scope: String,
}

/// Delegated Graph scopes only an admin may grant (for the whole tenant).
const ADMIN_SCOPES: [&str; 6] = [
    "GroupMember.Read.All",
    "Group.Read.All",
    "Directory.Read.All",
    "RoleManagement.Read.Directory",
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
];

/// The Graph scopes a `scope` parameter asks for, short form
/// (`https://graph.microsoft.com/User.Read` is `User.Read`); `User.Read`
/// when it names none, as Entra's default.
pub fn graph_scopes(scope: &str) -> Vec<String> {
    let mut out: Vec<String> = scope
        .split_whitespace()
        .filter_map(|s| {
            let short = s.strip_prefix("https://graph.microsoft.com/").unwrap_or(s);
            let openid = ["openid", "profile", "email", "offline_access"];
            (!openid.contains(&short) && !short.contains("://") && !short.is_empty())
                .then(|| short.to_string())
        })
        .collect();
    if out.is_empty() {
        out.push("User.Read".into());
    }
    out
}

/// A page form's hidden fields (what the request carried) and its error line.
fn form_parts(fields: &[(&str, &String)], error: Option<&str>) -> (String, String) {
    let hidden = fields
        .iter()
        .map(|(k, v)| format!(r#"<input type="hidden" name="{k}" value="{}">"#, escape(v)))
        .collect();
    let error = error
        .map(|e| format!(r#"<p id="error" role="alert">{}</p>"#, escape(e)))
        .unwrap_or_default();
    (hidden, error)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn form(q: &AuthorizeQuery, error: Option<&str>) -> Html<String> {
    let (hidden, error) = form_parts(
        &[
            ("client_id", &q.client_id),
            ("redirect_uri", &q.redirect_uri),
            ("response_type", &q.response_type),
            ("state", &q.state),
            ("code_challenge", &q.code_challenge),
            ("code_challenge_method", &q.code_challenge_method),
            ("scope", &q.scope),
        ],
        error,
    );
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in to your account</title>
<style>body{{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}}
label,input,button{{display:block;width:100%;margin:.4rem 0}}input{{padding:.5rem}}button{{padding:.6rem}}
#error{{color:#b42318}}.note{{color:#57606a;font-size:.85rem}}</style></head>
<body><h1>Sign in</h1><p class="note">Partner Center emulator: the demo users are listed at /emulator/demo.</p>{error}
<form method="post">{hidden}
<label for="login">Email</label><input id="login" name="login" type="email" autocomplete="username" value="{}" required autofocus>
<label for="passwd">Password</label><input id="passwd" name="passwd" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form></body></html>"#,
        escape(&q.login_hint)
    ))
}

async fn page(Query(q): Query<AuthorizeQuery>) -> Response {
    if q.response_type != "code" || q.redirect_uri.is_empty() || q.client_id.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            "AADSTS900144: The request must include client_id, redirect_uri and response_type=code.",
        )
            .into_response();
    }
    form(&q, None).into_response()
}

#[derive(Deserialize)]
struct Submitted {
    login: String,
    passwd: String,
    #[serde(flatten)]
    query: AuthorizeQuery,
}

async fn submit(
    State(emulator): State<Emulator>,
    Path(_tenant): Path<String>,
    Form(f): Form<Submitted>,
) -> Response {
    let world = &emulator.world;
    let found = world.partners.iter().enumerate().find_map(|(pi, p)| {
        p.users
            .iter()
            .position(|u| {
                u.user_name.eq_ignore_ascii_case(f.login.trim()) && u.password == f.passwd
            })
            .map(|ui| (pi, ui))
    });
    // Not one of a partner's people: perhaps a user of a customer's tenant.
    let customer = found
        .is_none()
        .then(|| world.customer_user(&f.login, &f.passwd))
        .flatten();
    let found = found.or(customer.map(|(partner, _)| (partner, 0)));
    let Some((partner, user)) = found else {
        return form(
            &AuthorizeQuery {
                login_hint: f.login.clone(),
                ..f.query
            },
            Some("Your account or password is incorrect."),
        )
        .into_response();
    };
    let scopes = graph_scopes(&f.query.scope);
    if customer.is_none() {
        let p = &world.partners[partner];
        let admin_only = scopes
            .iter()
            .any(|s| ADMIN_SCOPES.iter().any(|a| a.eq_ignore_ascii_case(s)));
        let mut consent = p.signin_consent.lock().expect("consent poisoned");
        if admin_only && !*consent {
            if p.users[user]
                .roles
                .contains(&crate::world::Role::GlobalAdmin)
            {
                // A Global admin consents for the whole organization.
                *consent = true;
            } else {
                return form(
                    &AuthorizeQuery {
                        login_hint: f.login.clone(),
                        ..f.query
                    },
                    Some("AADSTS90094: Need admin approval. This app needs permission to access resources in your organization that only an admin can grant. Ask an admin to grant permission to this app before you can use it."),
                )
                .into_response();
            }
        }
    }
    let code = format!("code.{}", uuid::Uuid::new_v4().simple());
    world.codes.lock().expect("codes poisoned").insert(
        code.clone(),
        PendingCode {
            partner,
            user,
            customer: customer.map(|(_, c)| c),
            client_id: f.query.client_id.clone(),
            redirect_uri: f.query.redirect_uri.clone(),
            scopes,
            code_challenge: (!f.query.code_challenge.is_empty())
                .then(|| f.query.code_challenge.clone()),
            expires_at: SystemTime::now() + Duration::from_secs(300),
        },
    );
    let separator = if f.query.redirect_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    let location = format!(
        "{}{separator}code={code}&state={}",
        f.query.redirect_uri,
        crate::world::percent_encode(&f.query.state)
    );
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CodeRedemption {
    grant_type: String,
    client_secret: String,
    code: String,
    refresh_token: String,
    scope: String,
    redirect_uri: String,
    client_id: String,
    code_verifier: String,
}

fn refuse(description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({
            "error": "invalid_grant",
            "error_description": format!("AADSTS70008: {description}"),
            "error_codes": [70008]
        })),
    )
        .into_response()
}

async fn token(
    State(emulator): State<Emulator>,
    Path(tenant): Path<String>,
    Form(r): Form<CodeRedemption>,
) -> Response {
    let world = &emulator.world;
    if r.grant_type == "client_credentials" {
        return app_token_v2(&emulator, &tenant, &r);
    }
    if r.grant_type == "refresh_token" {
        return refresh(&emulator, &r);
    }
    if r.grant_type != "authorization_code" {
        return refuse("Only the authorization_code and refresh_token grants are supported here.");
    }
    let Some(pending) = world.codes.lock().expect("codes poisoned").remove(&r.code) else {
        return refuse("The code is unknown, already used, or expired.");
    };
    if pending.expires_at < SystemTime::now()
        || pending.redirect_uri != r.redirect_uri
        || pending.client_id != r.client_id
    {
        return refuse("The code was issued for another client or redirect URI, or has expired.");
    }
    if let Some(challenge) = &pending.code_challenge {
        let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(r.code_verifier.as_bytes()));
        if &computed != challenge {
            return refuse("The code verifier does not match the code challenge.");
        }
    }
    if let Some(customer) = pending.customer {
        return customer_tokens(&emulator, &pending, customer, &r.client_id);
    }
    let p = &world.partners[pending.partner];
    let u = &p.users[pending.user];
    let (access_token, issued) = world.issue_token_with(
        pending.partner,
        None,
        Some(pending.user),
        Audience::Graph,
        pending.scopes.clone(),
    );
    let refresh_token = format!("emu-rt.{}", uuid::Uuid::new_v4().simple());
    world
        .refresh_tokens
        .lock()
        .expect("refresh tokens poisoned")
        .insert(
            refresh_token.clone(),
            (pending.partner, pending.user, pending.scopes.clone()),
        );
    // Directory role template ids, as `groupMembershipClaims: DirectoryRole` puts them.
    let wids: Vec<&str> = std::iter::once(crate::world::USER_TEMPLATE)
        .chain(u.roles.iter().filter_map(|r| r.template_id()))
        .collect();
    let now = unix_seconds(SystemTime::now());
    let mut claims = serde_json::json!({
        "aud": r.client_id,
        "iss": format!("https://login.microsoftonline.com/{}/v2.0", p.tenant_id),
        "iat": now,
        "nbf": now,
        "exp": unix_seconds(issued.expires_at),
        "name": u.display_name,
        "oid": u.id.to_string(),
        "preferred_username": u.user_name,
        "tid": p.tenant_id.to_string(),
        "wids": wids,
        "ver": "2.0"
    });
    if emulator.faults().no_wids {
        claims.as_object_mut().expect("an object").remove("wids");
    }
    let id_token = unsigned(&claims);
    Json(serde_json::json!({
        "token_type": "Bearer",
        "scope": format!("{} openid profile", pending.scopes.join(" ")),
        "expires_in": TOKEN_LIFETIME.as_secs(),
        "access_token": access_token,
        "refresh_token": refresh_token,
        "id_token": id_token
    }))
    .into_response()
}

/// The v2 endpoint's client-credentials grant: `scope` names the resource
/// (`https://graph.microsoft.com/.default`); the answer's numbers are numbers.
fn app_token_v2(emulator: &Emulator, tenant: &str, r: &CodeRedemption) -> Response {
    let audience = if r.scope.trim() == "https://graph.microsoft.com/.default" {
        Audience::Graph
    } else if r.scope.trim() == "https://api.partnercenter.microsoft.com/.default" {
        Audience::PartnerCenter
    } else {
        return crate::entra::entra_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            70011,
            &format!(
                "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {} is not valid.",
                r.scope
            ),
        );
    };
    match crate::entra::app_token(emulator, tenant, &r.client_id, &r.client_secret, audience) {
        Err(refused) => *refused,
        Ok((access_token, _)) => Json(serde_json::json!({
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME.as_secs() - 1,
            "ext_expires_in": TOKEN_LIFETIME.as_secs() - 1,
            "access_token": access_token
        }))
        .into_response(),
    }
}

/// Unsigned: the client receives it straight from the token endpoint.
fn unsigned(claims: &serde_json::Value) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// A customer's user: an ID token from the customer's own tenant, and no
/// token that opens anything of the partner's.
fn customer_tokens(
    emulator: &Emulator,
    pending: &PendingCode,
    customer: usize,
    client_id: &str,
) -> Response {
    let world = &emulator.world;
    let c = &world.partners[pending.partner].customers[customer];
    let now = unix_seconds(SystemTime::now());
    let claims = serde_json::json!({
        "aud": client_id,
        "iss": format!("https://login.microsoftonline.com/{}/v2.0", c.id),
        "iat": now,
        "nbf": now,
        "exp": now + TOKEN_LIFETIME.as_secs(),
        "name": format!("{} IT", c.company_name),
        "oid": model::Guid::from_seed(c.key, 71_000).to_string(),
        "preferred_username": format!("it@{}", c.domain),
        "tid": c.id.to_string(),
        "ver": "2.0"
    });
    Json(serde_json::json!({
        "token_type": "Bearer",
        "scope": "openid profile",
        "expires_in": TOKEN_LIFETIME.as_secs(),
        "id_token": unsigned(&claims)
    }))
    .into_response()
}

/// The refresh-token grant: a delegated token for another resource, as
/// Partner Center's App+User routes need (its scope names the resource).
fn refresh(emulator: &Emulator, r: &CodeRedemption) -> Response {
    let world = &emulator.world;
    let Some((partner, user, granted)) = world
        .refresh_tokens
        .lock()
        .expect("refresh tokens poisoned")
        .get(&r.refresh_token)
        .cloned()
    else {
        return refuse("The refresh token is unknown or was revoked.");
    };
    let audience = if r.scope.contains("api.partnercenter.microsoft.com") {
        Audience::PartnerCenter
    } else if r.scope.contains("graph.microsoft.com") {
        Audience::Graph
    } else {
        return refuse("The scope names no resource this tenant knows.");
    };
    let scopes = if audience == Audience::Graph {
        granted
    } else {
        vec!["user_impersonation".to_string()]
    };
    let (access_token, _) = world.issue_token_with(partner, None, Some(user), audience, scopes);
    Json(serde_json::json!({
        "token_type": "Bearer",
        "scope": r.scope,
        "expires_in": TOKEN_LIFETIME.as_secs(),
        "access_token": access_token,
        "refresh_token": r.refresh_token
    }))
    .into_response()
}
