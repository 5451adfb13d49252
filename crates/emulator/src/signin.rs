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
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn form(q: &AuthorizeQuery, error: Option<&str>) -> Html<String> {
    let hidden = [
        ("client_id", &q.client_id),
        ("redirect_uri", &q.redirect_uri),
        ("response_type", &q.response_type),
        ("state", &q.state),
        ("code_challenge", &q.code_challenge),
        ("code_challenge_method", &q.code_challenge_method),
    ]
    .iter()
    .map(|(k, v)| format!(r#"<input type="hidden" name="{k}" value="{}">"#, escape(v)))
    .collect::<String>();
    let error = error
        .map(|e| format!(r#"<p id="error" role="alert">{}</p>"#, escape(e)))
        .unwrap_or_default();
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
    let code = format!("code.{}", uuid::Uuid::new_v4().simple());
    world.codes.lock().expect("codes poisoned").insert(
        code.clone(),
        PendingCode {
            partner,
            user,
            customer: customer.map(|(_, c)| c),
            client_id: f.query.client_id.clone(),
            redirect_uri: f.query.redirect_uri.clone(),
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
        url_encode(&f.query.state)
    );
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
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
    let (access_token, issued) =
        world.issue_token(pending.partner, None, Some(pending.user), Audience::Graph);
    let refresh_token = format!("emu-rt.{}", uuid::Uuid::new_v4().simple());
    world
        .refresh_tokens
        .lock()
        .expect("refresh tokens poisoned")
        .insert(refresh_token.clone(), (pending.partner, pending.user));
    let now = unix_seconds(SystemTime::now());
    let claims = serde_json::json!({
        "aud": r.client_id,
        "iss": format!("https://login.microsoftonline.com/{}/v2.0", p.tenant_id),
        "iat": now,
        "nbf": now,
        "exp": unix_seconds(issued.expires_at),
        "name": u.display_name,
        "oid": model::Guid::from_seed(world.seed, 70_000 + pending.user as u64 + 100 * pending.partner as u64).to_string(),
        "preferred_username": u.user_name,
        "tid": p.tenant_id.to_string(),
        "ver": "2.0"
    });
    let id_token = unsigned(&claims);
    Json(serde_json::json!({
        "token_type": "Bearer",
        "scope": "openid profile User.Read Application.ReadWrite.All",
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
    let Some(&(partner, user)) = world
        .refresh_tokens
        .lock()
        .expect("refresh tokens poisoned")
        .get(&r.refresh_token)
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
    let (access_token, _) = world.issue_token(partner, None, Some(user), audience);
    Json(serde_json::json!({
        "token_type": "Bearer",
        "scope": r.scope,
        "expires_in": TOKEN_LIFETIME.as_secs(),
        "access_token": access_token,
        "refresh_token": r.refresh_token
    }))
    .into_response()
}
