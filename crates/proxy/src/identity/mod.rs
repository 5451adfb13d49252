//! Signing people in and knowing who they are: Entra ID's authorization-code
//! flow with PKCE, the user's Partner Center roles (directory roles by
//! template id from the token's `wids`, agent roles by membership of the
//! agent groups' stored ids, never by a name), and the sessions that follow
//! (the browser holds only an HttpOnly cookie; the routes are in `api/auth.rs`).

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

mod roles;

use roles::read_roles;

/// What every partner person's sign-in asks: who they are and the ids of
/// their groups and roles (Graph's limited information is enough).
pub const SIGN_IN_SCOPES: &str =
    "openid profile offline_access https://graph.microsoft.com/User.Read";

/// What an admin grants when the wizard reaches the directory: the web app
/// and its keys, its billing permission and the consent to it, and reading
/// groups to find Partner Center's agent groups. Each needs an admin's consent.
pub const DIRECTORY_SCOPES: &str = "https://graph.microsoft.com/Application.ReadWrite.All https://graph.microsoft.com/AppRoleAssignment.ReadWrite.All https://graph.microsoft.com/GroupMember.Read.All";

/// Who is signing in, which decides what is asked of Entra.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInKind {
    /// A partner's person: who they are and their roles.
    Partner,
    /// A partner's admin granting the directory access the wizard needs.
    Directory,
    /// A customer's user, to see that customer's own costs.
    Customer,
}

/// A sign-in on its way through Entra: what to check when it comes back.
pub struct Pending {
    verifier: String,
    redirect_uri: String,
    pub return_to: String,
    pub kind: SignInKind,
    started: Instant,
    /// The hash of the binding cookie given to the browser that started
    /// the sign-in: only that browser may finish it (no login CSRF).
    binding: String,
}

impl Pending {
    /// Whether the callback came to the browser that started the sign-in.
    pub fn started_by(&self, binding_cookie: Option<&str>) -> bool {
        binding_cookie.is_some_and(|b| crypto::digest(b) == self.binding)
    }
}

/// A started sign-in: where to send the browser, and the value of the
/// cookie that binds the sign-in to it.
pub struct Started {
    pub url: String,
    pub binding: String,
}

/// A signed-in user's delegated Graph token, and whether it carries the
/// directory scopes.
#[derive(Clone)]
pub struct GraphToken {
    pub token: String,
    pub directory: bool,
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
    graph_tokens: Mutex<HashMap<String, (GraphToken, Instant)>>,
    /// The key made last in the wizard, by partner: (app, value, made at),
    /// memory only, for step 5's check; gone after an hour or a restart.
    fresh_keys: Mutex<HashMap<i64, (String, crate::secret::Secret, Instant)>>,
}

/// What the token endpoint says about the person who signed in.
#[derive(Debug, Clone, Deserialize)]
pub struct Claims {
    pub tid: String,
    #[serde(default)]
    pub preferred_username: String,
    #[serde(default)]
    pub name: String,
    /// Directory role template ids, when the sign-in app asks for them
    /// (`groupMembershipClaims`); `None` when the token has no such claim.
    #[serde(default)]
    pub wids: Option<Vec<String>>,
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
            fresh_keys: Mutex::new(HashMap::new()),
        }
    }

    pub fn keep_fresh_key(&self, partner: i64, app_id: &str, value: crate::secret::Secret) {
        self.fresh_keys.lock().expect("keys poisoned").insert(
            partner,
            (app_id.to_ascii_lowercase(), value, Instant::now()),
        );
    }

    /// The key made last for this app, if still held.
    pub fn fresh_key(&self, partner: i64, app_id: &str) -> Option<crate::secret::Secret> {
        let keys = self.fresh_keys.lock().expect("keys poisoned");
        keys.get(&partner)
            .filter(|(app, _, made)| {
                app.eq_ignore_ascii_case(app_id) && made.elapsed() < Duration::from_secs(3600)
            })
            .map(|(_, value, _)| value.clone())
    }

    /// Entra's admin-consent address for an app of the tenant.
    pub fn admin_consent_url(&self, tenant: &str, app_id: &str, redirect_uri: &str) -> String {
        reqwest::Url::parse_with_params(
            &format!("{}/{tenant}/adminconsent", self.login_url),
            &[
                ("client_id", app_id),
                ("state", "onboarding"),
                ("redirect_uri", redirect_uri),
            ],
        )
        .map(String::from)
        .unwrap_or_default()
    }

    /// The address people reach the proxy at, when the operator set one.
    pub fn public_url(&self) -> Option<&str> {
        self.public_url.as_deref()
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }

    pub fn graph_token(&self, session_hash: &str) -> Option<GraphToken> {
        let tokens = self.graph_tokens.lock().expect("tokens poisoned");
        tokens
            .get(session_hash)
            .filter(|(_, until)| *until > Instant::now())
            .map(|(t, _)| t.clone())
    }

    /// Every item of a Graph collection, following `@odata.nextLink` (only
    /// to Graph itself: the token goes nowhere else).
    pub async fn graph_all(&self, token: &str, path: &str) -> Result<Vec<Value>, GraphRefusal> {
        let mut items = Vec::new();
        let mut url = format!("{}/v1.0{path}", self.graph_url);
        for _ in 0..MAX_GRAPH_PAGES {
            let (status, body) = self.graph_url_get(token, &url).await?;
            if status != 200 {
                return Err(GraphRefusal::Status(status, body));
            }
            items.extend(body["value"].as_array().cloned().unwrap_or_default());
            match body["@odata.nextLink"].as_str() {
                None => return Ok(items),
                Some(next) if next.starts_with(&format!("{}/", self.graph_url)) => {
                    url = next.to_string();
                }
                Some(next) => {
                    return Err(GraphRefusal::Unreadable(format!(
                        "a next page outside Microsoft Graph ({})",
                        next.split('?').next().unwrap_or_default()
                    )));
                }
            }
        }
        Err(GraphRefusal::Unreadable(format!(
            "more than {MAX_GRAPH_PAGES} pages"
        )))
    }

    async fn graph_url_get(&self, token: &str, url: &str) -> Result<(u16, Value), GraphRefusal> {
        let res = self
            .http
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| GraphRefusal::Unreachable(e.without_url().to_string()))?;
        let status = res.status().as_u16();
        let body = res.json::<Value>().await.unwrap_or(Value::Null);
        Ok((status, body))
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
}

/// Pages of one Graph collection read at most (100 items each: 20,000).
const MAX_GRAPH_PAGES: usize = 200;

/// Why a Graph collection could not be read.
#[derive(Debug)]
pub enum GraphRefusal {
    Unreachable(String),
    Status(u16, Value),
    Unreadable(String),
}

impl GraphRefusal {
    /// As the API's error, saying what was being read.
    pub fn into_api(self, reading: &str) -> ApiError {
        match self {
            GraphRefusal::Unreachable(e) => ApiError::refused(
                ErrorCode::GraphUnavailable,
                format!("Microsoft Graph could not be reached to read {reading}: {e}"),
            ),
            GraphRefusal::Status(status, body) => ApiError::refused(
                ErrorCode::GraphRefused,
                format!(
                    "Microsoft Graph refused to list {reading} (HTTP {status}): {}",
                    body["error"]["message"]
                        .as_str()
                        .unwrap_or("no reason given")
                ),
            ),
            GraphRefusal::Unreadable(why) => ApiError::refused(
                ErrorCode::GraphRefused,
                format!("Microsoft Graph's list of {reading} could not be read: {why}"),
            ),
        }
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
    pub fn begin(
        &self,
        base: &str,
        return_to: String,
        kind: SignInKind,
    ) -> Result<Started, ApiError> {
        let redirect_uri = format!("{}/api/auth/callback", base.trim_end_matches('/'));
        let state_token = crypto::random_token();
        let binding = crypto::random_token();
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
                    kind,
                    started: Instant::now(),
                    binding: crypto::digest(&binding),
                },
            );
        }
        // Each asks only what it needs: a customer's user no more than who
        // they are; the directory scopes only when an admin connects it.
        let scope = match kind {
            SignInKind::Customer => "openid profile".to_string(),
            SignInKind::Partner => SIGN_IN_SCOPES.to_string(),
            SignInKind::Directory => format!("{SIGN_IN_SCOPES} {DIRECTORY_SCOPES}"),
        };
        reqwest::Url::parse_with_params(
            &format!("{}/organizations/oauth2/v2.0/authorize", self.login_url),
            &[
                ("client_id", self.client_id.as_str()),
                ("response_type", "code"),
                ("redirect_uri", redirect_uri.as_str()),
                ("response_mode", "query"),
                ("scope", scope.as_str()),
                ("state", state_token.as_str()),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ],
        )
        .map(|url| Started {
            url: url.into(),
            binding,
        })
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
    partner_center: &crate::pc::PartnerCenter,
    code: &str,
    pending: &Pending,
) -> Result<NewToken, ApiError> {
    let (claims, body) = redeem(id, code, pending).await?;
    let graph_token = body["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // Scopes come back short (`GroupMember.Read.All`) or whole.
    let directory = body["scope"].as_str().is_some_and(|granted| {
        granted
            .split_whitespace()
            .any(|s| s.ends_with("GroupMember.Read.All"))
    });
    let partner = store.partner(&claims.tid).await?;
    let roles = read_roles(id, store, partner, &graph_token, &claims, directory).await?;
    // Partner Center's App+User routes take a Partner Center token, not the
    // Graph one: the sign-in's refresh token is redeemed for it.
    let pc_token = match body["refresh_token"].as_str() {
        Some(refresh) => id.partner_center_token(refresh).await,
        None => None,
    };
    let profile = match &pc_token {
        Some(t) => partner_center
            .get_as_user::<Value>(
                &claims.tid,
                t,
                &model::pc::Link::get("/profiles/organization"),
            )
            .await
            .ok(),
        None => None,
    };
    // Kept for the routes Partner Center serves App+User only (the usage
    // summary): a person with a Partner Center role may read them.
    if let Some(t) = pc_token.filter(|_| !roles.is_empty()) {
        partner_center.keep_user_token(&claims.tid, t, Duration::from_secs(3600));
    }
    // Its `id` is not the Commerce ID (no document says so): only the name is kept.
    if let Some(name) = profile.as_ref().and_then(|p| p["companyName"].as_str()) {
        store.set_partner_name(partner, name).await?;
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
        (
            GraphToken {
                token: graph_token,
                directory,
            },
            Instant::now() + Duration::from_secs(3000),
        ),
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
