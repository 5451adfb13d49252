//! Tokens: the app's own (client credentials, one per audience, renewed
//! before they expire), and a signed-in person's delegated Partner Center
//! token for the routes Partner Center serves App+User only.

use std::time::{Duration, Instant};

use model::pc::{Link, PARTNER_CENTER_RESOURCE, TokenError, TokenResponse};
use serde::de::DeserializeOwned;

use super::{
    Audience, CachedToken, Credentials, PartnerCenter, PcError, RetryPolicy, Service, TOKEN_MARGIN,
    Verdict, decode,
};

impl PartnerCenter {
    /// An access token for Partner Center, from the cache while it is fresh.
    pub async fn token(&self, creds: &Credentials) -> Result<String, PcError> {
        self.token_with(creds, &self.retry, Audience::PartnerCenter)
            .await
    }

    fn token_key(creds: &Credentials, audience: Audience) -> (String, String, Audience) {
        (
            creds.tenant.to_ascii_lowercase(),
            creds.app_id.to_ascii_lowercase(),
            audience,
        )
    }

    /// An app-only token for `audience`: Partner Center's through Entra's v1
    /// endpoint, Graph's through v2 (the export takes only that). One token
    /// type reads both answers (`expires_in` as text or as a number).
    pub(crate) async fn token_with(
        &self,
        creds: &Credentials,
        policy: &RetryPolicy,
        audience: Audience,
    ) -> Result<String, PcError> {
        let key = Self::token_key(creds, audience);
        let mut tokens = self.tokens.lock().await;
        if let Some(t) = tokens.get(&key)
            && t.renew_at > Instant::now()
        {
            return Ok(t.access_token.clone());
        }
        let login = self.endpoints.login.trim_end_matches('/');
        let (url, target) = match audience {
            Audience::PartnerCenter => (
                format!("{login}/{}/oauth2/token", creds.tenant),
                ("resource", PARTNER_CENTER_RESOURCE),
            ),
            Audience::Graph => (
                format!("{login}/{}/oauth2/v2.0/token", creds.tenant),
                ("scope", model::graph::GRAPH_DEFAULT_SCOPE),
            ),
        };
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", creds.app_id.as_str()),
            ("client_secret", creds.secret.expose()),
            target,
        ];
        let token: TokenResponse = self
            .execute(
                policy,
                &creds.tenant,
                Service::Entra,
                || self.http.post(&url).form(&form),
                |status, _, body| {
                    if status.is_success() {
                        decode(body, "token response")
                    } else {
                        // Entra's refusals are final: a wrong key stays wrong.
                        Verdict::Fail(match serde_json::from_slice::<TokenError>(body) {
                            Ok(e) => PcError::Auth {
                                code: e
                                    .error_codes
                                    .first()
                                    .map(|c| format!("AADSTS{c}"))
                                    .unwrap_or(e.error),
                                description: e.error_description,
                            },
                            Err(_) => PcError::BadResponse(format!(
                                "token endpoint answered HTTP {status}"
                            )),
                        })
                    }
                },
            )
            .await?;
        let lifetime = token.expires_in.trim().parse::<u64>().unwrap_or(3600);
        let renew_at = Instant::now() + Duration::from_secs(lifetime).saturating_sub(TOKEN_MARGIN);
        tokens.insert(
            key,
            CachedToken {
                access_token: token.access_token.clone(),
                renew_at,
            },
        );
        Ok(token.access_token)
    }

    /// Forgets a token the upstream no longer accepts.
    pub(crate) async fn drop_token(&self, creds: &Credentials, audience: Audience) {
        self.tokens
            .lock()
            .await
            .remove(&Self::token_key(creds, audience));
    }

    /// A fresh app-only Graph token for these credentials, asked once (no
    /// cached token stands in for it): to check what the app may do.
    pub async fn check_graph_token(&self, creds: &Credentials) -> Result<String, PcError> {
        self.drop_token(creds, Audience::Graph).await;
        self.token_with(creds, &RetryPolicy::quick(), Audience::Graph)
            .await
    }

    /// Keeps a signed-in person's delegated Partner Center token for the
    /// App+User routes of their tenant, until shortly before it expires.
    pub fn keep_user_token(&self, tenant: &str, token: String, lifetime: Duration) {
        self.user_tokens
            .lock()
            .expect("user tokens poisoned")
            .insert(
                tenant.to_ascii_lowercase(),
                (
                    token,
                    Instant::now() + lifetime.saturating_sub(TOKEN_MARGIN),
                ),
            );
    }

    /// The tenant's delegated token, while one is at hand.
    pub fn user_token(&self, tenant: &str) -> Option<String> {
        let tokens = self.user_tokens.lock().expect("user tokens poisoned");
        tokens
            .get(&tenant.to_ascii_lowercase())
            .filter(|(_, until)| *until > Instant::now())
            .map(|(t, _)| t.clone())
    }

    /// Forgets the app's cached tokens, so that the next call signs in
    /// with the key it is given now (after a switch to a new key).
    pub async fn drop_app_tokens(&self, creds: &Credentials) {
        let mut tokens = self.tokens.lock().await;
        for audience in [Audience::PartnerCenter, Audience::Graph] {
            tokens.remove(&Self::token_key(creds, audience));
        }
    }

    /// Forgets a delegated token Partner Center refused; the app's own
    /// tokens are not touched.
    pub fn drop_user_token(&self, tenant: &str) {
        self.user_tokens
            .lock()
            .expect("user tokens poisoned")
            .remove(&tenant.to_ascii_lowercase());
    }

    /// GET an App+User route with a person's delegated token: retried like
    /// any call, but a refusal is final and never drops the app's token.
    pub async fn get_as_user<T: DeserializeOwned>(
        &self,
        tenant: &str,
        token: &str,
        link: &Link,
    ) -> Result<T, PcError> {
        let url = self.url_of(&link.uri)?;
        // The same request ID on each retry of this call, as Partner Center documents.
        let correlation = uuid::Uuid::new_v4().to_string();
        let request_id = uuid::Uuid::new_v4().to_string();
        self.execute(
            &self.retry,
            tenant,
            Service::PartnerCenter,
            || {
                self.http
                    .get(&url)
                    .bearer_auth(token)
                    .header("Accept", "application/json")
                    .header("MS-RequestId", &request_id)
                    .header("MS-CorrelationId", &correlation)
            },
            |status, _, bytes| {
                if status.is_success() {
                    decode(bytes, &link.uri)
                } else {
                    // The code may come as a number or a string (900421).
                    let body: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
                    let code = match &body["code"] {
                        serde_json::Value::Number(n) => n.to_string(),
                        serde_json::Value::String(s) => s.clone(),
                        _ => String::new(),
                    };
                    Verdict::Fail(PcError::Fault {
                        service: Service::PartnerCenter,
                        status: status.as_u16(),
                        code,
                        description: model::lenient::decode_entities(
                            body["description"].as_str().unwrap_or_default(),
                        ),
                    })
                }
            },
        )
        .await
    }
}
