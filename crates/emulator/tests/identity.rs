//! Sign-in, Graph and the App management stand-in, driven as the proxy's
//! onboarding drives them: sign in, create an app and a key, register the
//! app in Partner Center, then read Partner Center with the new key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

struct Env {
    base: String,
    http: reqwest::Client,
    demo: emulator::DemoWorld,
}

async fn env() -> Env {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (addr, emu) = emulator::spawn(emulator::Config {
        customers: 3,
        months: 1,
        ..Default::default()
    })
    .await
    .unwrap();
    Env {
        base: format!("http://{addr}"),
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        demo: emu.demo(),
    }
}

const VERIFIER: &str = "a-very-long-code-verifier-of-more-than-forty-three-characters-0123";
const REDIRECT: &str = "http://127.0.0.1:9999/api/auth/callback";

impl Env {
    fn user(&self, partner: usize, role: &str) -> (String, String) {
        let u = self.demo.partners[partner]
            .users
            .iter()
            .find(|u| {
                serde_json::to_value(&u.roles)
                    .unwrap()
                    .to_string()
                    .contains(role)
            })
            .unwrap();
        (u.user_name.clone(), u.password.clone())
    }

    /// The whole sign-in asking only `User.Read`; the token endpoint's answer.
    async fn sign_in(&self, login: &str, password: &str) -> Result<Value, String> {
        self.sign_in_asking(
            login,
            password,
            "openid profile offline_access https://graph.microsoft.com/User.Read",
        )
        .await
    }

    /// The whole sign-in asking `scope`.
    async fn sign_in_asking(
        &self,
        login: &str,
        password: &str,
        scope: &str,
    ) -> Result<Value, String> {
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
        let query = [
            ("scope", scope),
            ("client_id", "signin-app"),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("state", "xyz"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        let url = format!("{}/organizations/oauth2/v2.0/authorize", self.base);
        let page = self.http.get(&url).query(&query).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("Sign in"));
        let mut form: Vec<(&str, &str)> = query.to_vec();
        form.push(("login", login));
        form.push(("passwd", password));
        let res = self.http.post(&url).form(&form).send().await.unwrap();
        if res.status() != 302 {
            return Err(res.text().await.unwrap());
        }
        let location = res.headers()["location"].to_str().unwrap().to_string();
        assert!(
            location.starts_with(REDIRECT) && location.contains("state=xyz"),
            "{location}"
        );
        let code = location
            .split("code=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .to_string();
        let token = self
            .http
            .post(format!("{}/organizations/oauth2/v2.0/token", self.base))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT),
                ("client_id", "signin-app"),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(token.status(), 200);
        Ok(token.json().await.unwrap())
    }

    async fn graph(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}/v1.0{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn app_token(&self, tenant: &str, app_id: &str, secret: &str) -> Result<String, Value> {
        let res = self
            .http
            .post(format!("{}/{tenant}/oauth2/token", self.base))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", app_id),
                ("client_secret", secret),
                ("resource", "https://api.partnercenter.microsoft.com"),
            ])
            .send()
            .await
            .unwrap();
        let ok = res.status() == 200;
        let body: Value = res.json().await.unwrap();
        if ok {
            Ok(body["access_token"].as_str().unwrap().into())
        } else {
            Err(body)
        }
    }

    async fn customers_status(&self, token: &str) -> u16 {
        self.http
            .get(format!("{}/v1/customers?size=1", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

fn claims(id_token: &str) -> Value {
    let payload = id_token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn a_wrong_password_is_refused_on_the_sign_in_page() {
    let env = env().await;
    let (login, _) = env.user(0, "Global admin");
    let page = env.sign_in(&login, "wrong").await.unwrap_err();
    assert!(page.contains("Your account or password is incorrect."));
}

#[tokio::test]
async fn sign_in_gives_an_id_token_and_graph_names_the_roles() {
    let env = env().await;
    let (login, password) = env.user(0, "Admin agent");
    let token = env.sign_in(&login, &password).await.unwrap();
    let c = claims(token["id_token"].as_str().unwrap());
    assert_eq!(c["preferred_username"], login);
    assert_eq!(c["tid"], env.demo.partners[0].tenant_id);
    // Directory roles come as template ids in `wids` (here only "User").
    assert_eq!(c["wids"], json!(["b79fbf4d-3ef9-4689-8143-76b194e85509"]));
    let access = token["access_token"].as_str().unwrap();
    // With User.Read only, Graph gives a group's type and id, not its name.
    let (_, member_of) = env
        .graph(reqwest::Method::GET, "/me/memberOf", access, None)
        .await;
    let group = &member_of["value"][0];
    assert_eq!(group["@odata.type"], "#microsoft.graph.group");
    assert!(
        group["id"].is_string() && group.get("displayName").is_none(),
        "{group}"
    );
    let (status, _) = env
        .graph(reqwest::Method::GET, "/groups", access, None)
        .await;
    assert_eq!(status, 403, "listing groups needs a scope to read them");
    let admin_center = env
        .sign_in_asking(
            &login,
            &password,
            "https://graph.microsoft.com/GroupMember.Read.All",
        )
        .await;
    assert!(
        admin_center.unwrap_err().contains("AADSTS90094"),
        "only an admin may consent to reading groups"
    );
    let (admin, admin_password) = env.user(0, "Global admin");
    let admin_token = env
        .sign_in_asking(
            &admin,
            &admin_password,
            "https://graph.microsoft.com/GroupMember.Read.All",
        )
        .await
        .unwrap();
    let admin_claims = claims(admin_token["id_token"].as_str().unwrap());
    assert!(
        admin_claims["wids"]
            .as_array()
            .unwrap()
            .contains(&json!("62e90394-69f5-4237-9190-012177145e10"))
    );
    // Consented for the organization now: the agent's token reads names.
    let named = env
        .sign_in_asking(
            &login,
            &password,
            "https://graph.microsoft.com/GroupMember.Read.All",
        )
        .await
        .unwrap();
    let (_, member_of) = env
        .graph(
            reqwest::Method::GET,
            "/me/transitiveMemberOf/microsoft.graph.group",
            named["access_token"].as_str().unwrap(),
            None,
        )
        .await;
    assert_eq!(member_of["value"][0]["displayName"], "AdminAgents");
    assert_eq!(member_of["value"][0]["id"], group["id"]);
    let (_, org) = env
        .graph(reqwest::Method::GET, "/organization", access, None)
        .await;
    assert_eq!(org["value"][0]["displayName"], env.demo.partners[0].name);
    // Registering apps needs Application.ReadWrite.All.
    let (status, e) = env
        .graph(
            reqwest::Method::POST,
            "/applications",
            access,
            Some(json!({ "displayName": "x" })),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(e["error"]["code"], "Authorization_RequestDenied");
    // A code is good for one redemption only, and an app token is not a user's.
    let app = &env.demo.partners[1].apps[0];
    let app_token = env
        .app_token(
            &env.demo.partners[1].tenant_id,
            &app.app_id,
            &app.keys[0].secret,
        )
        .await
        .unwrap();
    assert_eq!(
        env.graph(reqwest::Method::GET, "/me", &app_token, None)
            .await
            .0,
        401
    );
}

#[tokio::test]
async fn the_organization_profile_takes_a_partner_center_token_from_the_refresh_token() {
    let env = env().await;
    let (login, password) = env.user(0, "Global admin");
    let token = env.sign_in(&login, &password).await.unwrap();
    let profile = |t: String| {
        let req = env
            .http
            .get(format!("{}/v1/profiles/organization", env.base))
            .bearer_auth(t);
        async move {
            let res = req.send().await.unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    // The sign-in's Graph token is refused, as Partner Center refuses it.
    let graph = token["access_token"].as_str().unwrap().to_string();
    assert_eq!(profile(graph.clone()).await.0, 401);
    let exchange = |scope: &'static str, refresh: String| {
        env.http
            .post(format!("{}/organizations/oauth2/v2.0/token", env.base))
            .form(&[
                ("grant_type", "refresh_token".to_string()),
                ("refresh_token", refresh),
                ("client_id", "signin-app".into()),
                ("scope", scope.into()),
            ])
            .send()
    };
    let refresh = token["refresh_token"].as_str().unwrap().to_string();
    let res = exchange(
        "https://api.partnercenter.microsoft.com/user_impersonation",
        refresh.clone(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let pc: Value = res.json().await.unwrap();
    let pc = pc["access_token"].as_str().unwrap().to_string();
    let (status, body) = profile(pc.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(body["companyName"], env.demo.partners[0].name);
    // Its id is the profile's, not the Commerce ID App management shows.
    assert_ne!(body["id"], env.demo.partners[0].commerce_id);
    // ...and the Partner Center token does not open Graph.
    assert_eq!(
        env.graph(reqwest::Method::GET, "/me", &pc, None).await.0,
        401
    );
    let bad = exchange(
        "https://api.partnercenter.microsoft.com/user_impersonation",
        "nope".into(),
    )
    .await
    .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn a_global_admin_registers_an_app_and_a_key_that_then_opens_partner_center() {
    let env = env().await;
    let p = &env.demo.partners[0];
    assert!(p.apps.is_empty(), "the demo partner starts without an app");
    let (login, password) = env.user(0, "Global admin");
    let access = env
        .sign_in_asking(
            &login,
            &password,
            "https://graph.microsoft.com/Application.ReadWrite.All",
        )
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();

    let (status, app) = env
        .graph(
            reqwest::Method::POST,
            "/applications",
            &access,
            Some(json!({ "displayName": "CSP Cost Tracker" })),
        )
        .await;
    assert_eq!(status, 201);
    let object_id = app["id"].as_str().unwrap().to_string();
    let app_id = app["appId"].as_str().unwrap().to_string();
    let one_year = (chrono::Utc::now() + chrono::Duration::days(365)).to_rfc3339();
    let (status, key) = env
        .graph(
            reqwest::Method::POST,
            &format!("/applications/{object_id}/addPassword"),
            &access,
            Some(json!({ "passwordCredential": { "displayName": "cost tracker", "endDateTime": one_year } })),
        )
        .await;
    assert_eq!(status, 200);
    let secret = key["secretText"].as_str().unwrap().to_string();
    // Listing the app shows the key's dates, never its value.
    let (_, apps) = env
        .graph(reqwest::Method::GET, "/applications", &access, None)
        .await;
    assert!(apps["value"][0]["passwordCredentials"][0]["secretText"].is_null());
    assert!(!apps.to_string().contains(&secret));

    // No service principal yet: Entra issues the app no token.
    let refused = env
        .app_token(&p.tenant_id, &app_id, &secret)
        .await
        .unwrap_err();
    assert_eq!(refused["error_codes"][0], 7000229);
    let (status, principal) = env
        .graph(
            reqwest::Method::POST,
            "/servicePrincipals",
            &access,
            Some(json!({ "appId": app_id })),
        )
        .await;
    assert_eq!(status, 201);
    assert!(principal["id"].is_string());
    // A token, but Partner Center refuses the app until App management registers it.
    let token = env.app_token(&p.tenant_id, &app_id, &secret).await.unwrap();
    assert_eq!(env.customers_status(&token).await, 401);
    let res = env
        .http
        .post(format!("{}/emulator/portal/app-management", env.base))
        .form(&[("tenant", p.tenant_id.as_str()), ("appId", app_id.as_str())])
        .send()
        .await
        .unwrap();
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("is registered in Partner Center")
    );
    assert_eq!(env.customers_status(&token).await, 200);

    // Removing the key: its value no longer signs in.
    let (status, _) = env
        .graph(
            reqwest::Method::POST,
            &format!("/applications/{object_id}/removePassword"),
            &access,
            Some(json!({ "keyId": key["keyId"] })),
        )
        .await;
    assert_eq!(status, 204);
    let refused = env
        .app_token(&p.tenant_id, &app_id, &secret)
        .await
        .unwrap_err();
    assert_eq!(refused["error_codes"][0], 7000215);

    // Keys last at most two years.
    let three_years = (chrono::Utc::now() + chrono::Duration::days(3 * 365)).to_rfc3339();
    let (status, _) = env
        .graph(
            reqwest::Method::POST,
            &format!("/applications/{object_id}/addPassword"),
            &access,
            Some(json!({ "passwordCredential": { "endDateTime": three_years } })),
        )
        .await;
    assert_eq!(status, 400);
}
