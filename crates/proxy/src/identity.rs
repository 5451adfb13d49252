//! Signing people in and knowing who they are: Entra ID's authorization-code
//! flow with PKCE, the user's Partner Center roles from Graph, and sessions
//! kept in an HttpOnly cookie (the browser never holds a token it can read).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use model::onboarding::{Role, can_manage, roles_needed_message};
use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::store::{NewSession, SessionRow};
use crate::{AppState, Config, crypto};

pub const SESSION_COOKIE: &str = "csp_session";

/// A sign-in on its way through Entra: what to check when it comes back.
struct Pending {
    verifier: String,
    redirect_uri: String,
    return_to: String,
    /// A customer's user signing in to see that customer's own costs.
    customer: bool,
    started: Instant,
}

pub struct Identity {
    http: reqwest::Client,
    login_url: String,
    graph_url: String,
    client_id: String,
    client_secret: Option<String>,
    public_url: Option<String>,
    pub app_management_url: String,
    session_hours: i64,
    pending: Mutex<HashMap<String, Pending>>,
    /// Signed-in users' Graph tokens, by session hash: memory only.
    graph_tokens: Mutex<HashMap<String, (String, Instant)>>,
}

/// What the token endpoint says about the person who signed in.
#[derive(Debug, Clone, Deserialize)]
pub struct Claims {
    pub tid: String,
    #[serde(default)]
    pub preferred_username: String,
    #[serde(default)]
    pub name: String,
}

impl Identity {
    pub fn new(config: &Config) -> Identity {
        Identity {
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .timeout(Duration::from_secs(30))
                .build()
                .expect("valid client settings"),
            login_url: config.login_url.trim_end_matches('/').to_string(),
            graph_url: config.graph_url.trim_end_matches('/').to_string(),
            client_id: config.signin_client_id.clone(),
            client_secret: std::env::var("PROXY_SIGNIN_SECRET")
                .ok()
                .filter(|s| !s.is_empty()),
            public_url: config.public_url.clone(),
            app_management_url: config.app_management_url.clone(),
            session_hours: config.session_hours,
            pending: Mutex::new(HashMap::new()),
            graph_tokens: Mutex::new(HashMap::new()),
        }
    }

    fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }

    pub fn graph_token(&self, session_hash: &str) -> Option<String> {
        let tokens = self.graph_tokens.lock().expect("tokens poisoned");
        tokens
            .get(session_hash)
            .filter(|(_, until)| *until > Instant::now())
            .map(|(t, _)| t.clone())
    }

    pub async fn graph(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), ApiError> {
        let mut req = self
            .http
            .request(method, format!("{}/v1.0{path}", self.graph_url))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await.map_err(|e| ApiError::Refused {
            status: StatusCode::BAD_GATEWAY,
            code: "graph_unavailable",
            message: format!("Microsoft Graph could not be reached: {}", e.without_url()),
        })?;
        let status = res.status().as_u16();
        let body = res.json::<Value>().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    /// A delegated Partner Center token for the signed-in user, from the
    /// sign-in's refresh token; `None` when the directory will not issue one.
    async fn partner_center_token(&self, refresh_token: &str) -> Option<String> {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", self.client_id.as_str()),
            (
                "scope",
                "https://api.partnercenter.microsoft.com/user_impersonation",
            ),
        ];
        if let Some(secret) = &self.client_secret {
            form.push(("client_secret", secret.as_str()));
        }
        let res = self
            .http
            .post(format!(
                "{}/organizations/oauth2/v2.0/token",
                self.login_url
            ))
            .form(&form)
            .send()
            .await
            .ok()?;
        res.status().is_success().then_some(())?;
        let body: Value = res.json().await.ok()?;
        body["access_token"].as_str().map(str::to_string)
    }

    /// The signed-in user's organization profile in Partner Center (its Commerce ID).
    async fn organization_profile(&self, upstream: &str, token: &str) -> Option<Value> {
        let res = self
            .http
            .get(format!(
                "{}/v1/profiles/organization",
                upstream.trim_end_matches('/')
            ))
            .bearer_auth(token)
            .send()
            .await
            .ok()?;
        res.status().is_success().then_some(())?;
        res.json().await.ok()
    }
}

/// `GET /api/auth/login?returnTo=/onboarding`: off to Entra's sign-in page.
/// `as=customer` signs in a customer's user: fewer permissions asked, and
/// only an invitation lets them in.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let id = &state.identity;
    let base = id.public_url.clone().unwrap_or_else(|| {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1:8080");
        format!("http://{host}")
    });
    let redirect_uri = format!("{}/api/auth/callback", base.trim_end_matches('/'));
    // Only this app's pages: here (as a path or an address), or on an origin
    // allowed by CORS (the same files on a static host). No open redirect.
    let return_to = q
        .get("returnTo")
        .filter(|r| state.web.may_return_to(r, &base))
        .cloned()
        .unwrap_or_else(|| "/".into());
    let customer = q.get("as").is_some_and(|a| a == "customer");
    let state_token = crypto::random_token();
    let verifier = crypto::random_token();
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ));
    {
        let mut pending = id.pending.lock().expect("pending poisoned");
        pending.retain(|_, p| p.started.elapsed() < Duration::from_secs(600));
        pending.insert(
            state_token.clone(),
            Pending {
                verifier,
                redirect_uri: redirect_uri.clone(),
                return_to,
                customer,
                started: Instant::now(),
            },
        );
    }
    // A customer's user needs no more than who they are.
    let scope = if customer {
        "openid profile"
    } else {
        "openid profile offline_access https://graph.microsoft.com/User.Read https://graph.microsoft.com/Application.ReadWrite.All"
    };
    let url = reqwest::Url::parse_with_params(
        &format!("{}/organizations/oauth2/v2.0/authorize", id.login_url),
        &[
            ("client_id", id.client_id.as_str()),
            ("response_type", "code"),
            ("redirect_uri", redirect_uri.as_str()),
            ("response_mode", "query"),
            ("scope", scope),
            ("state", state_token.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    );
    match url {
        Ok(url) => Redirect::to(url.as_str()).into_response(),
        Err(e) => ApiError::Internal(format!("sign-in URL: {e}")).into_response(),
    }
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error_description: Option<String>,
}

fn back_to_app(path: &str, problem: &str) -> Response {
    let mut url = format!("{path}?signInError=");
    url.push_str(&URL_SAFE_NO_PAD.encode(problem.as_bytes()));
    Redirect::to(&url).into_response()
}

/// `GET /api/auth/callback`: the code is redeemed, the user's roles read,
/// a session opened, and the browser sent back where it came from.
pub async fn callback(State(state): State<AppState>, Query(cb): Query<Callback>) -> Response {
    let id = &state.identity;
    let Some(pending) = cb
        .state
        .as_deref()
        .and_then(|s| id.pending.lock().expect("pending poisoned").remove(s))
    else {
        return back_to_app(
            "/onboarding",
            "The sign-in expired or was started elsewhere. Please sign in again.",
        );
    };
    let Some(code) = cb.code else {
        let why = cb
            .error_description
            .unwrap_or_else(|| "Sign-in was cancelled.".into());
        return back_to_app(&pending.return_to, &why);
    };
    let finished = if pending.customer {
        finish_customer_sign_in(&state, &code, &pending).await
    } else {
        finish_sign_in(&state, &code, &pending).await
    };
    match finished {
        Ok(cookie) => {
            let mut response = Redirect::to(&pending.return_to).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, v);
            }
            response
        }
        Err(e) => {
            tracing::warn!(error = %e, "sign-in failed");
            back_to_app(&pending.return_to, &e.to_string())
        }
    }
}

/// The code redeemed at the token endpoint: who signed in, and the tokens.
async fn redeem(
    state: &AppState,
    code: &str,
    pending: &Pending,
) -> Result<(Claims, Value), ApiError> {
    let id = &state.identity;
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", pending.redirect_uri.as_str()),
        ("client_id", id.client_id.as_str()),
        ("code_verifier", pending.verifier.as_str()),
    ];
    if let Some(secret) = &id.client_secret {
        form.push(("client_secret", secret.as_str()));
    }
    let unavailable = |e: reqwest::Error| ApiError::Refused {
        status: StatusCode::BAD_GATEWAY,
        code: "signin_unavailable",
        message: format!(
            "Entra ID could not be reached to finish the sign-in: {}",
            e.without_url()
        ),
    };
    let res = id
        .http
        .post(format!("{}/organizations/oauth2/v2.0/token", id.login_url))
        .form(&form)
        .send()
        .await
        .map_err(unavailable)?;
    let ok = res.status().is_success();
    let body: Value = res.json().await.map_err(unavailable)?;
    if !ok {
        return Err(ApiError::Refused {
            status: StatusCode::UNAUTHORIZED,
            code: "signin_refused",
            message: format!(
                "The sign-in was refused: {}",
                body["error_description"]
                    .as_str()
                    .unwrap_or("no reason given")
            ),
        });
    }
    // The ID token comes straight from the token endpoint over the back
    // channel, so its claims are read without checking a signature (OIDC 3.1.3.7).
    let claims: Claims = body["id_token"]
        .as_str()
        .and_then(|t| t.split('.').nth(1))
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| ApiError::Internal("the ID token could not be read".into()))?;
    Ok((claims, body))
}

async fn finish_sign_in(
    state: &AppState,
    code: &str,
    pending: &Pending,
) -> Result<String, ApiError> {
    let id = &state.identity;
    let (claims, body) = redeem(state, code, pending).await?;
    let graph_token = body["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (status, member_of) = id
        .graph(&graph_token, reqwest::Method::GET, "/me/memberOf", None)
        .await?;
    if status != 200 {
        return Err(ApiError::Refused {
            status: StatusCode::BAD_GATEWAY,
            code: "graph_refused",
            message: "Your roles could not be read from Microsoft Graph.".into(),
        });
    }
    let roles: Vec<Role> = member_of["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["displayName"].as_str().and_then(Role::from_directory))
        .collect();
    let partner = state.store.partner(&claims.tid).await?;
    // Partner Center's profile routes take a Partner Center token, not the
    // Graph one: the sign-in's refresh token is redeemed for it, used once and
    // dropped.
    let pc_token = match body["refresh_token"].as_str() {
        Some(refresh) => id.partner_center_token(refresh).await,
        None => None,
    };
    let profile = match &pc_token {
        Some(t) => id.organization_profile(&state.pc.endpoints().api, t).await,
        None => None,
    };
    if let Some(profile) = profile {
        if let Some(commerce) = profile["id"].as_str() {
            state.store.set_commerce_id(partner, commerce).await?;
        }
        if let Some(name) = profile["companyName"].as_str() {
            state.store.set_partner_name(partner, name).await?;
        }
    }
    let (token, hash) = new_session(
        state,
        partner,
        &claims.preferred_username,
        &claims.name,
        &roles,
        None,
    )
    .await?;
    id.graph_tokens.lock().expect("tokens poisoned").insert(
        hash,
        (graph_token, Instant::now() + Duration::from_secs(3000)),
    );
    tracing::info!(user = %claims.preferred_username, tenant = %claims.tid, "signed in");
    Ok(session_cookie(
        &token,
        id.session_hours * 3600,
        id.secure_cookies(),
    ))
}

/// A customer's user: in only if a partner let this user of this tenant
/// in (the customer's ID is its tenant's ID), and then to that customer alone.
async fn finish_customer_sign_in(
    state: &AppState,
    code: &str,
    pending: &Pending,
) -> Result<String, ApiError> {
    let id = &state.identity;
    let (claims, _) = redeem(state, code, pending).await?;
    let customer = claims
        .tid
        .parse::<model::Guid>()
        .map(|g| g.to_string())
        .unwrap_or_default();
    let not_invited = || ApiError::Refused {
        status: StatusCode::FORBIDDEN,
        code: "not_invited",
        message: format!(
            "{} has not been given access to these costs. Ask your Microsoft partner to invite this address.",
            claims.preferred_username
        ),
    };
    let mut partners = state
        .store
        .customer_access(&customer, &claims.preferred_username)
        .await?
        .into_iter();
    // The latest invitation of a partner that still has this customer.
    let partner = loop {
        let partner = partners.next().ok_or_else(not_invited)?;
        if state.store.has_customer(partner, &customer).await? {
            break partner;
        }
    };
    let (token, _) = new_session(
        state,
        partner,
        &claims.preferred_username,
        &claims.name,
        &[],
        Some(&customer),
    )
    .await?;
    tracing::info!(user = %claims.preferred_username, customer = %customer, "customer user signed in");
    Ok(session_cookie(
        &token,
        id.session_hours * 3600,
        id.secure_cookies(),
    ))
}

/// HttpOnly keeps it from scripts; SameSite=Lax keeps it off other sites'
/// requests; Secure whenever the proxy is reached over HTTPS.
fn session_cookie(token: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// Stores a new session; returns its token (for the cookie) and the hash it is kept by.
async fn new_session(
    state: &AppState,
    partner: crate::store::PartnerId,
    user_name: &str,
    display_name: &str,
    roles: &[Role],
    customer: Option<&str>,
) -> Result<(String, String), ApiError> {
    let token = crypto::random_token();
    let hash = crypto::digest(&token);
    // Stored as the roles' JSON names, `globalAdmin,adminAgent`.
    let names = roles
        .iter()
        .filter_map(|r| {
            serde_json::to_value(r)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
        })
        .collect::<Vec<_>>()
        .join(",");
    let expires = Utc::now() + chrono::Duration::hours(state.identity.session_hours);
    state
        .store
        .create_session(
            &hash,
            &NewSession {
                partner,
                user_name,
                display_name,
                roles: &names,
                customer,
                expires_at: expires,
            },
        )
        .await?;
    Ok((token, hash))
}

/// Opens a session directly, for tools and tests that do not go through
/// Entra; returns the cookie value's token.
pub async fn open_session(
    state: &AppState,
    tenant: &str,
    user: &str,
    roles: &[Role],
) -> Result<String, ApiError> {
    let partner = state.store.partner(tenant).await?;
    Ok(new_session(state, partner, user, user, roles, None)
        .await?
        .0)
}

/// Opens a customer user's session directly (tools and tests).
pub async fn open_customer_session(
    state: &AppState,
    tenant: &str,
    customer: &str,
    user: &str,
) -> Result<String, ApiError> {
    let partner = state.store.partner(tenant).await?;
    Ok(new_session(state, partner, user, user, &[], Some(customer))
        .await?
        .0)
}

/// `POST /api/auth/logout`: the session ends here and now.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = cookie(&headers) {
        let hash = crypto::digest(&token);
        state.store.revoke_session(&hash).await?;
        state
            .identity
            .graph_tokens
            .lock()
            .expect("tokens poisoned")
            .remove(&hash);
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&session_cookie("", 0, state.identity.secure_cookies()))
            .expect("valid cookie"),
    );
    Ok(response)
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// The person behind a request.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session: SessionRow,
    pub session_hash: String,
    pub roles: Vec<Role>,
}

impl SignedIn {
    pub fn can_manage(&self) -> bool {
        can_manage(&self.roles)
    }

    /// For routes that change the connection, budgets or markups.
    pub fn require_manager(&self) -> Result<(), ApiError> {
        if self.can_manage() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(roles_needed_message(&self.roles)))
        }
    }
}

/// One of the partner's people: a customer user's session is refused here,
/// so every route that takes this never shows them the partner's data.
impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let who = AnySession::from_request_parts(parts, state).await?.0;
        if who.session.customer.is_some() {
            return Err(ApiError::PartnerOnly);
        }
        Ok(who)
    }
}

/// Anyone signed in: the partner's people or a customer's user.
pub struct AnySession(pub SignedIn);

impl FromRequestParts<AppState> for AnySession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = cookie(&parts.headers).ok_or(ApiError::NotSignedIn)?;
        let hash = crypto::digest(&token);
        let session = state
            .store
            .session(&hash)
            .await?
            .ok_or(ApiError::NotSignedIn)?;
        let roles = session
            .roles
            .split(',')
            .filter_map(|r| serde_json::from_value(Value::String(r.to_string())).ok())
            .collect();
        Ok(AnySession(SignedIn {
            session,
            session_hash: hash,
            roles,
        }))
    }
}
