//! What the emulator's contract tests share: a client with an app's and a
//! signed-in admin's Partner Center tokens, and the shape check.

#![allow(dead_code)]

use serde_json::{Value, json};

pub mod documented;

pub struct Client {
    pub base: String,
    pub token: String,
    /// A signed-in admin's delegated Partner Center token (App+User routes).
    pub user_token: String,
    pub http: reqwest::Client,
    pub emulator: emulator::Emulator,
}

pub async fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (addr, emulator) = emulator::spawn(emulator::Config {
        customers: 12,
        months: 2,
        today: Some("2026-11-05".parse().unwrap()),
        ..Default::default()
    })
    .await
    .unwrap();
    let base = format!("http://{addr}");
    let demo = emulator.demo();
    let p = demo.partners.iter().find(|p| !p.apps.is_empty()).unwrap();
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{base}/{}/oauth2/token", p.tenant_id))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &p.apps[0].app_id),
            ("client_secret", &p.apps[0].keys[0].secret),
            ("resource", "https://api.partnercenter.microsoft.com"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_shape(
        &token,
        &json!({"token_type":"Bearer","expires_in":"3600","ext_expires_in":"3600","expires_on":"1546469802",
                "not_before":"1546465902","resource":"https://api.partnercenter.microsoft.com","access_token":"x"}),
        "token",
    );
    let user_token = delegated_token(
        &base,
        &p.tenant_id,
        &p.users[0].user_name,
        &p.users[0].password,
    )
    .await;
    Client {
        base,
        token: token["access_token"].as_str().unwrap().to_string(),
        user_token,
        http,
        emulator,
    }
}

/// Signs a partner's person in (authorization code) and redeems the refresh
/// token for a delegated Partner Center token, as the Secure Application
/// Model does.
async fn delegated_token(base: &str, tenant: &str, login: &str, password: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirect = "http://localhost/cb";
    let res = http
        .post(format!("{base}/{tenant}/oauth2/v2.0/authorize"))
        .form(&[
            ("client_id", "contract"),
            ("redirect_uri", redirect),
            ("response_type", "code"),
            ("state", "s"),
            (
                "scope",
                "openid offline_access https://graph.microsoft.com/User.Read",
            ),
            ("login", login),
            ("passwd", password),
        ])
        .send()
        .await
        .unwrap();
    let location = reqwest::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let signed: Value = http
        .post(format!("{base}/{tenant}/oauth2/v2.0/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "contract"),
            ("redirect_uri", redirect),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pc: Value = http
        .post(format!("{base}/{tenant}/oauth2/v2.0/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "contract"),
            ("refresh_token", signed["refresh_token"].as_str().unwrap()),
            (
                "scope",
                "https://api.partnercenter.microsoft.com/user_impersonation",
            ),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    pc["access_token"].as_str().unwrap().to_string()
}

impl Client {
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.get_with(&self.token, path).await
    }

    /// An App+User route, with the signed-in admin's token.
    pub async fn user_get(&self, path: &str) -> (u16, Value) {
        self.get_with(&self.user_token, path).await
    }

    /// A customer with a legacy (MS-AZR-0145P) subscription, and that
    /// subscription: (customer ID, subscription ID).
    pub async fn legacy_subscription(&self) -> Option<(String, String)> {
        let (_, list) = self.get("/customers?size=500").await;
        let mut legacy = None;
        for customer in list["items"].as_array().unwrap() {
            let id = customer["id"].as_str().unwrap();
            let (_, subs) = self.get(&format!("/customers/{id}/subscriptions")).await;
            for s in subs["items"].as_array().unwrap() {
                if s["offerId"] == "MS-AZR-0145P" {
                    legacy = Some((id.to_string(), s["id"].as_str().unwrap().to_string()));
                }
            }
        }
        legacy
    }

    pub async fn get_with(&self, token: &str, path: &str) -> (u16, Value) {
        let res = self
            .http
            .get(format!("{}/v1{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }
}

pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Fails naming the path of the first field that is missing or retyped.
pub fn assert_shape(actual: &Value, reference: &Value, path: &str) {
    match (actual, reference) {
        (Value::Object(a), Value::Object(r)) => {
            for (key, rv) in r {
                let av = a
                    .get(key)
                    .unwrap_or_else(|| panic!("{path}.{key} is missing; the reference has it"));
                assert_shape(av, rv, &format!("{path}.{key}"));
            }
        }
        (Value::Array(a), Value::Array(r)) => {
            if let (Some(af), Some(rf)) = (a.first(), r.first()) {
                assert_shape(af, rf, &format!("{path}[0]"));
            }
        }
        // `amount` may be null where no budget is set.
        (Value::Null, Value::Number(_)) if path.ends_with("amount") => {}
        (a, r) => assert_eq!(
            kind(a),
            kind(r),
            "{path}: {a} should be a {} like {r}",
            kind(r)
        ),
    }
}
