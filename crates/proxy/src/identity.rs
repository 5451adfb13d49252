//! Signing people in and knowing who they are: Entra ID's authorization-code
//! flow with PKCE, the user's Partner Center roles from Graph, and the
//! sessions that follow (the browser holds only an HttpOnly cookie; the
//! routes are in `api/auth.rs`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use model::api::ErrorCode;
use model::onboarding::Role;
use serde::Deserialize;
use serde_json::Value;

use crate::config::Config;
use crate::crypto;
use crate::error::ApiError;
use crate::store::{NewSession, PartnerId, Store};

/// A sign-in on its way through Entra: what to check when it comes back.
pub struct Pending {
    verifier: String,
    redirect_uri: String,
    pub return_to: String,
    /// A customer's user signing in to see that customer's own costs.
    pub customer: bool,
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
    pub session_hours: i64,
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

    pub fn secure_cookies(&self) -> bool {
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
        let res = req.send().await.map_err(|e| {
            ApiError::refused(
                ErrorCode::GraphUnavailable,
                format!("Microsoft Graph could not be reached: {}", e.without_url()),
            )
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

impl Identity {
    /// Where the sign-in redirect comes back: the public address, else the
    /// address the request came to.
    pub fn base_url(&self, host: Option<&str>) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", host.unwrap_or("127.0.0.1:8080")))
    }

    /// Starts a sign-in: Entra's authorization address to send the browser
    /// to, with a fresh state and PKCE challenge kept until it comes back.
    /// `customer` signs in a customer's user: fewer permissions asked, and
    /// only an invitation lets them in.
    pub fn begin(&self, base: &str, return_to: String, customer: bool) -> Result<String, ApiError> {
        let redirect_uri = format!("{}/api/auth/callback", base.trim_end_matches('/'));
        let state_token = crypto::random_token();
        let verifier = crypto::random_token();
        let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
            &ring::digest::SHA256,
            verifier.as_bytes(),
        ));
        {
            let mut pending = self.pending.lock().expect("pending poisoned");
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
        reqwest::Url::parse_with_params(
            &format!("{}/organizations/oauth2/v2.0/authorize", self.login_url),
            &[
                ("client_id", self.client_id.as_str()),
                ("response_type", "code"),
                ("redirect_uri", redirect_uri.as_str()),
                ("response_mode", "query"),
                ("scope", scope),
                ("state", state_token.as_str()),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ],
        )
        .map(String::from)
        .map_err(|e| ApiError::Internal(format!("sign-in URL: {e}")))
    }

    /// The sign-in this `state` started, once: a second use finds nothing.
    pub fn take_pending(&self, state: &str) -> Option<Pending> {
        self.pending.lock().expect("pending poisoned").remove(state)
    }

    /// Forgets what this process holds for a session that ended.
    pub fn forget(&self, session_hash: &str) {
        self.graph_tokens
            .lock()
            .expect("tokens poisoned")
            .remove(session_hash);
    }
}

/// The code redeemed at the token endpoint: who signed in, and the tokens.
async fn redeem(id: &Identity, code: &str, pending: &Pending) -> Result<(Claims, Value), ApiError> {
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
    let unavailable = |e: reqwest::Error| {
        ApiError::refused(
            ErrorCode::SigninUnavailable,
            format!(
                "Entra ID could not be reached to finish the sign-in: {}",
                e.without_url()
            ),
        )
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
        return Err(ApiError::refused(
            ErrorCode::SigninRefused,
            format!(
                "The sign-in was refused: {}",
                body["error_description"]
                    .as_str()
                    .unwrap_or("no reason given")
            ),
        ));
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

/// A session token: its value for the cookie, and the hash it is kept by.
pub struct NewToken {
    pub token: String,
    pub hash: String,
}

/// Finishes a partner person's sign-in: the code redeemed, the roles read,
/// the partner's names kept, a session opened.
pub async fn finish_sign_in(
    id: &Identity,
    store: &Store,
    partner_center_url: &str,
    code: &str,
    pending: &Pending,
) -> Result<NewToken, ApiError> {
    let (claims, body) = redeem(id, code, pending).await?;
    let graph_token = body["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (status, member_of) = id
        .graph(&graph_token, reqwest::Method::GET, "/me/memberOf", None)
        .await?;
    if status != 200 {
        return Err(ApiError::refused(
            ErrorCode::GraphRefused,
            "Your roles could not be read from Microsoft Graph.",
        ));
    }
    let roles: Vec<Role> = member_of["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["displayName"].as_str().and_then(Role::from_directory))
        .collect();
    let partner = store.partner(&claims.tid).await?;
    // Partner Center's profile routes take a Partner Center token, not the
    // Graph one: the sign-in's refresh token is redeemed for it, used once and
    // dropped.
    let pc_token = match body["refresh_token"].as_str() {
        Some(refresh) => id.partner_center_token(refresh).await,
        None => None,
    };
    let profile = match &pc_token {
        Some(t) => id.organization_profile(partner_center_url, t).await,
        None => None,
    };
    if let Some(profile) = profile {
        if let Some(commerce) = profile["id"].as_str() {
            store.set_commerce_id(partner, commerce).await?;
        }
        if let Some(name) = profile["companyName"].as_str() {
            store.set_partner_name(partner, name).await?;
        }
    }
    let session = new_session(
        id,
        store,
        partner,
        &claims.preferred_username,
        &claims.name,
        &roles,
        None,
    )
    .await?;
    id.graph_tokens.lock().expect("tokens poisoned").insert(
        session.hash.clone(),
        (graph_token, Instant::now() + Duration::from_secs(3000)),
    );
    tracing::info!(user = %claims.preferred_username, tenant = %claims.tid, "signed in");
    Ok(session)
}

/// A customer's user: in only if a partner let this user of this tenant
/// in (the customer's ID is its tenant's ID), and then to that customer alone.
pub async fn finish_customer_sign_in(
    id: &Identity,
    store: &Store,
    code: &str,
    pending: &Pending,
) -> Result<NewToken, ApiError> {
    let (claims, _) = redeem(id, code, pending).await?;
    let customer = claims
        .tid
        .parse::<model::Guid>()
        .map(|g| g.to_string())
        .unwrap_or_default();
    let not_invited = || {
        ApiError::refused(
            ErrorCode::NotInvited,
            format!(
                "{} has not been given access to these costs. Ask your Microsoft partner to invite this address.",
                claims.preferred_username
            ),
        )
    };
    let mut partners = store
        .customer_access(&customer, &claims.preferred_username)
        .await?
        .into_iter();
    // The latest invitation of a partner that still has this customer.
    let partner = loop {
        let partner = partners.next().ok_or_else(not_invited)?;
        if store.has_customer(partner, &customer).await? {
            break partner;
        }
    };
    let session = new_session(
        id,
        store,
        partner,
        &claims.preferred_username,
        &claims.name,
        &[],
        Some(&customer),
    )
    .await?;
    tracing::info!(user = %claims.preferred_username, customer = %customer, "customer user signed in");
    Ok(session)
}

/// Stores a new session; returns its token (for the cookie) and the hash it is kept by.
async fn new_session(
    id: &Identity,
    store: &Store,
    partner: PartnerId,
    user_name: &str,
    display_name: &str,
    roles: &[Role],
    customer: Option<&str>,
) -> Result<NewToken, ApiError> {
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
    let expires = Utc::now() + chrono::Duration::hours(id.session_hours);
    store
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
    Ok(NewToken { token, hash })
}

/// Opens a session directly, for tools and tests that do not go through
/// Entra; returns the cookie value's token.
pub async fn open_session(
    id: &Identity,
    store: &Store,
    tenant: &str,
    user: &str,
    roles: &[Role],
) -> Result<String, ApiError> {
    let partner = store.partner(tenant).await?;
    Ok(new_session(id, store, partner, user, user, roles, None)
        .await?
        .token)
}

/// Opens a customer user's session directly (tools and tests).
pub async fn open_customer_session(
    id: &Identity,
    store: &Store,
    tenant: &str,
    customer: &str,
    user: &str,
) -> Result<String, ApiError> {
    let partner = store.partner(tenant).await?;
    Ok(
        new_session(id, store, partner, user, user, &[], Some(customer))
            .await?
            .token,
    )
}
