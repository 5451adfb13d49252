//! Roles and the app's billing access as Entra and Graph give them: a
//! directory role only by its template id, an agent role only by the
//! agent group's id (found once, even past Graph's first page), a group
//! named like a role granting nothing; and step 5's consent, refused and
//! granted, on the emulator's admin-consent page.

mod common;

use common::{Person, serve, sign_in, sign_in_directory, upstream};
use model::api::{AppInfo, BillingAccess, NewKey, OnboardingState, SessionInfo};
use model::onboarding::{Role, Step};
use proxy::AppState;
use serde_json::json;

const TAILSPIN: usize = 3;

async fn proxy_for(up: &common::Upstream) -> (tempfile::TempDir, String) {
    let data = tempfile::tempdir().unwrap();
    let mut config = common::config(up, data.path());
    config.partner_tenant = None;
    config.app_id = None;
    config.app_secret = None;
    let state = AppState::new(&config).await.unwrap();
    let base = serve(state, data.path()).await;
    (data, base)
}

fn user<'a>(demo: &'a emulator::DemoWorld, partner: usize, prefix: &str) -> &'a emulator::DemoUser {
    demo.partners[partner]
        .users
        .iter()
        .find(|u| u.user_name.starts_with(prefix))
        .unwrap()
}

#[tokio::test]
async fn roles_come_from_ids_and_a_group_named_like_a_role_grants_nothing() {
    let up = upstream("2026-11-20").await;
    let demo = up.emulator.demo();
    let (_data, base) = proxy_for(&up).await;
    let agent = user(&demo, TAILSPIN, "agent");

    // Before anyone could read groups, the agent group's id is unknown: an
    // agent is not recognised from a name it cannot see.
    let early = sign_in(&base, &agent.user_name, &agent.password).await;
    let session: SessionInfo = early.json(reqwest::Method::GET, "/api/session", None).await;
    assert!(session.roles.is_empty() && !session.can_manage);

    // Signed in with the right to read groups (the tenant's admin consented
    // for everyone), the ids are found; the agent's membership is on the
    // second page of 100.
    let me = sign_in_directory(&base, &agent.user_name, &agent.password).await;
    let session: SessionInfo = me.json(reqwest::Method::GET, "/api/session", None).await;
    assert_eq!(session.roles, [Role::AdminAgent]);
    assert!(session.can_manage);
    // Once stored, the id serves a plain sign-in too.
    let later = sign_in(&base, &agent.user_name, &agent.password).await;
    let session: SessionInfo = later.json(reqwest::Method::GET, "/api/session", None).await;
    assert_eq!(session.roles, [Role::AdminAgent]);

    // Eve made groups named "Global Administrator", "Company Administrator"
    // and "Billing Administrator" and joined them: no role, nothing to change.
    let eve = user(&demo, TAILSPIN, "eve");
    let eve = sign_in_directory(&base, &eve.user_name, &eve.password).await;
    let session: SessionInfo = eve.json(reqwest::Method::GET, "/api/session", None).await;
    assert!(session.roles.is_empty() && !session.can_manage);
    assert!(
        session
            .roles_message
            .unwrap()
            .contains("no Partner Center role")
    );
    let (status, e) = eve
        .refused("/api/onboarding/app", json!({ "mode": "new" }))
        .await;
    assert_eq!((status, e.error.code.as_str()), (403, "forbidden"));
    let res = eve
        .call(
            reqwest::Method::PUT,
            "/api/customers/x/budget",
            Some(json!({ "amount": 100 })),
        )
        .await;
    assert!(
        matches!(res.status().as_u16(), 403 | 409),
        "{}",
        res.status()
    );

    // A Global admin by the token's template id; the web apps past the
    // first page of 100 are all offered.
    let admin = user(&demo, TAILSPIN, "admin");
    let admin = sign_in_directory(&base, &admin.user_name, &admin.password).await;
    let session: SessionInfo = admin.json(reqwest::Method::GET, "/api/session", None).await;
    assert_eq!(session.roles, [Role::GlobalAdmin]);
    let now: OnboardingState = admin
        .json(reqwest::Method::GET, "/api/onboarding", None)
        .await;
    assert_eq!(now.existing_apps.len(), demo.partners[TAILSPIN].apps.len());
    assert!(now.existing_apps.len() > 100);
}

#[tokio::test]
async fn without_wids_directory_roles_come_only_from_what_graph_shows() {
    let up = upstream("2026-11-20").await;
    let demo = up.emulator.demo();
    let (_data, base) = proxy_for(&up).await;
    // The sign-in app's manifest leaves groupMembershipClaims unset.
    up.emulator.set_faults(emulator::Faults {
        no_wids: true,
        ..Default::default()
    });
    let admin = user(&demo, TAILSPIN, "admin");
    let agent = user(&demo, TAILSPIN, "agent");

    // Graph hides a directory role's template from a token that may not
    // read roles: the Global admin gets no role rather than a guessed one.
    for me in [
        sign_in(&base, &admin.user_name, &admin.password).await,
        sign_in_directory(&base, &admin.user_name, &admin.password).await,
    ] {
        let session: SessionInfo = me.json(reqwest::Method::GET, "/api/session", None).await;
        assert!(!session.roles.contains(&Role::GlobalAdmin), "{session:?}");
        assert!(!session.can_manage || session.roles.contains(&Role::AdminAgent));
    }
    // Agent roles do not depend on wids: the group's id is found and kept.
    let me = sign_in_directory(&base, &agent.user_name, &agent.password).await;
    let session: SessionInfo = me.json(reqwest::Method::GET, "/api/session", None).await;
    assert_eq!(session.roles, [Role::AdminAgent]);

    // The same admin, with wids again, is the Global admin.
    up.emulator.set_faults(emulator::Faults::default());
    let me = sign_in(&base, &admin.user_name, &admin.password).await;
    let session: SessionInfo = me.json(reqwest::Method::GET, "/api/session", None).await;
    assert!(session.roles.contains(&Role::GlobalAdmin), "{session:?}");
}

/// The wizard's app steps as the agent, up to step 5.
async fn app_with_key(me: &Person) -> (AppInfo, NewKey) {
    let app: AppInfo = me
        .json(
            reqwest::Method::POST,
            "/api/onboarding/app",
            Some(json!({ "mode": "new" })),
        )
        .await;
    let key: NewKey = me
        .json(
            reqwest::Method::POST,
            "/api/onboarding/keys",
            Some(json!({ "years": 2 })),
        )
        .await;
    let res = me
        .call(reqwest::Method::POST, "/api/onboarding/continue", None)
        .await;
    assert_eq!(res.status(), 204);
    (app, key)
}

/// Follows the admin-consent address as `login` would: Entra's page, the
/// form, and the redirect back to the proxy, whose answer is returned.
async fn consent_as(consent_url: &str, login: &str, password: &str) -> reqwest::Response {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = reqwest::Url::parse(consent_url).unwrap();
    let page = http.get(url.clone()).send().await.unwrap();
    assert_eq!(page.status(), 200, "{}", page.text().await.unwrap());
    let mut form: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    form.push(("login".into(), login.into()));
    form.push(("passwd".into(), password.into()));
    let mut post_to = url.clone();
    post_to.set_query(None);
    let res = http.post(post_to).form(&form).send().await.unwrap();
    assert_eq!(res.status(), 302);
    let back = res.headers()["location"].to_str().unwrap().to_string();
    http.get(back).send().await.unwrap()
}

#[tokio::test]
async fn an_agent_cannot_grant_the_permission_and_a_global_admin_consents_for_it() {
    let up = upstream("2026-11-20").await;
    let demo = up.emulator.demo();
    let (_data, base) = proxy_for(&up).await;
    let agent = user(&demo, TAILSPIN, "agent");
    let me = sign_in_directory(&base, &agent.user_name, &agent.password).await;
    let (_app, _key) = app_with_key(&me).await;

    let (status, e) = me.refused("/api/onboarding/billing", json!({})).await;
    assert_eq!(
        (status, e.error.code.as_str()),
        (403, "cannot_grant_consent"),
        "{}",
        e.error.message
    );
    // What it could do is done: the permission declared, the service principal made.
    let now: OnboardingState = me.json(reqwest::Method::GET, "/api/onboarding", None).await;
    assert_eq!(now.step, Step::ReadBilling);
    let billing = now.billing.unwrap();
    assert!(billing.declared && billing.service_principal && !billing.consented);
    let (_, e) = me
        .refused("/api/onboarding/billing/verify", json!({}))
        .await;
    assert_eq!(e.error.code, "consent_needed", "{}", e.error.message);

    // The consent page refuses the agent: back in the wizard with why.
    let res = consent_as(&billing.consent_url, &agent.user_name, &agent.password).await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("/onboarding?consentError=") && location.contains("AADSTS90094"),
        "{location}"
    );

    // A Global admin consents; the check passes and the wizard moves on.
    let admin = user(&demo, TAILSPIN, "admin");
    let res = consent_as(&billing.consent_url, &admin.user_name, &admin.password).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/onboarding");
    let verified: BillingAccess = me
        .json(
            reqwest::Method::POST,
            "/api/onboarding/billing/verify",
            Some(json!({})),
        )
        .await;
    assert!(verified.consented && verified.verified);
    let now: OnboardingState = me.json(reqwest::Method::GET, "/api/onboarding", None).await;
    assert_eq!(now.step, Step::StartTrial);
}

/// A delegated Graph token straight from the emulator's Entra, as an admin
/// working in the Entra admin center would hold.
async fn admin_center_token(
    up: &common::Upstream,
    tenant: &str,
    login: &str,
    password: &str,
) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirect = "http://localhost/admin-center";
    let res = http
        .post(format!("{}/{tenant}/oauth2/v2.0/authorize", up.url))
        .form(&[
            ("client_id", "admin-center"),
            ("redirect_uri", redirect),
            ("response_type", "code"),
            ("state", "s"),
            (
                "scope",
                "https://graph.microsoft.com/Application.ReadWrite.All",
            ),
            ("login", login),
            ("passwd", password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    let location = reqwest::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let token: serde_json::Value = http
        .post(format!("{}/{tenant}/oauth2/v2.0/token", up.url))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "admin-center"),
            ("redirect_uri", redirect),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    token["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn consent_without_the_declared_permission_grants_nothing() {
    let up = upstream("2026-11-20").await;
    let demo = up.emulator.demo();
    let (_data, base) = proxy_for(&up).await;
    let admin = user(&demo, TAILSPIN, "admin");
    let me = sign_in_directory(&base, &admin.user_name, &admin.password).await;
    let (app, _key) = app_with_key(&me).await;
    let now: OnboardingState = me.json(reqwest::Method::GET, "/api/onboarding", None).await;
    let consent_url = now.billing.unwrap().consent_url;
    let redirect = reqwest::Url::parse(&consent_url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .unwrap()
        .1
        .into_owned();

    // In the admin center, the admin sets the app's way back but declares no
    // permission, then consents: a service principal, and nothing granted.
    let tenant = &demo.partners[TAILSPIN].tenant_id;
    let token = admin_center_token(&up, tenant, &admin.user_name, &admin.password).await;
    let res = reqwest::Client::new()
        .patch(format!("{}/v1.0/applications/{}", up.url, app.object_id))
        .bearer_auth(&token)
        .json(&json!({ "web": { "redirectUris": [redirect] } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = consent_as(&consent_url, &admin.user_name, &admin.password).await;
    assert_eq!(res.headers()["location"], "/onboarding");
    let (status, e) = me
        .refused("/api/onboarding/billing/verify", json!({}))
        .await;
    assert_eq!(
        (status, e.error.code.as_str()),
        (422, "permission_missing"),
        "{}",
        e.error.message
    );
    assert!(e.error.message.contains("PartnerBilling.Read.All"));
}

#[tokio::test]
async fn only_an_admin_grants_the_directory_access_then_agents_have_it() {
    let up = upstream("2026-11-20").await;
    let demo = up.emulator.demo();
    let (_data, base) = proxy_for(&up).await;
    // Contoso's admin has not consented yet: its Admin agent may not grant
    // the directory scopes for the organization; Entra says so.
    let agent = user(&demo, 0, "agent");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = http
        .get(format!(
            "{base}/api/auth/login?returnTo=/onboarding&as=directory"
        ))
        .send()
        .await
        .unwrap();
    let authorize = reqwest::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    let scope = authorize
        .query_pairs()
        .find(|(k, _)| k == "scope")
        .unwrap()
        .1
        .into_owned();
    assert!(scope.contains("GroupMember.Read.All") && scope.contains("User.Read"));
    let mut form: Vec<(String, String)> = authorize
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    form.push(("login".into(), agent.user_name.clone()));
    form.push(("passwd".into(), agent.password.clone()));
    let mut post_to = authorize.clone();
    post_to.set_query(None);
    let page = http.post(post_to).form(&form).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("AADSTS90094"));

    // The plain sign-in asks only who they are.
    let res = http
        .get(format!("{base}/api/auth/login?returnTo=/"))
        .send()
        .await
        .unwrap();
    let plain = res.headers()["location"].to_str().unwrap().to_string();
    assert!(!plain.contains("GroupMember") && !plain.contains("Application.ReadWrite"));

    // The Global admin consents for everyone while connecting the directory;
    // the agent group's id is found, and the agent is an Admin agent.
    let admin = user(&demo, 0, "admin");
    let _ = sign_in_directory(&base, &admin.user_name, &admin.password).await;
    let me = sign_in(&base, &agent.user_name, &agent.password).await;
    let session: SessionInfo = me.json(reqwest::Method::GET, "/api/session", None).await;
    assert_eq!(session.roles, [Role::AdminAgent]);
    let sales = user(&demo, 0, "sales");
    let them = sign_in(&base, &sales.user_name, &sales.password).await;
    let session: SessionInfo = them.json(reqwest::Method::GET, "/api/session", None).await;
    assert_eq!(session.roles, [Role::SalesAgent]);
    assert!(!session.can_manage);
}

#[tokio::test]
async fn the_usage_summary_is_read_only_with_a_signed_in_persons_token() {
    use proxy::sync::SyncKind;
    let up = upstream("2026-11-20").await;
    let demo = up.emulator.demo();
    let data = tempfile::tempdir().unwrap();
    let state = common::state(&up, data.path()).await;
    let base = serve(state.clone(), data.path()).await;
    let connection = state.connection.clone().unwrap();
    let fabrikam = demo
        .partners
        .iter()
        .find(|p| p.tenant_id == up.credentials.tenant)
        .unwrap();
    let partner = state
        .store
        .find_partner(&fabrikam.tenant_id)
        .await
        .unwrap()
        .unwrap();

    // Nobody signed in: the App+User route is not called at all.
    state.sync.run(&connection, SyncKind::Full).await.unwrap();
    assert_eq!(up.emulator.stats().app_only_refusals, 0);
    let first = state.store.customers(partner).await.unwrap()[0].id.clone();
    assert_eq!(
        state.store.usage_estimate(partner, &first).await.unwrap(),
        None
    );

    // A signed-in admin's delegated token reads it.
    let admin = &fabrikam.users[0];
    let _ = sign_in(&base, &admin.user_name, &admin.password).await;
    state.sync.run(&connection, SyncKind::Full).await.unwrap();
    let estimate = state.store.usage_estimate(partner, &first).await.unwrap();
    assert!(estimate.is_some(), "read with the person's token");
    assert_eq!(up.emulator.stats().app_only_refusals, 0);

    // Without MFA, Partner Center refuses App+User calls with 900421: the
    // sync says so, and the app's own token keeps working.
    let _ = sign_in(&base, &admin.user_name, &admin.password).await;
    up.emulator.set_faults(emulator::Faults {
        mfa_missing: true,
        ..Default::default()
    });
    let counts = state.sync.run(&connection, SyncKind::Full).await.unwrap();
    assert!(counts.customers_done > 0);
    let run = state.store.latest_sync(partner).await.unwrap().unwrap();
    let mfa: Vec<_> = run
        .problems
        .iter()
        .filter(|p| p.reason.contains("900421"))
        .collect();
    assert_eq!(
        mfa.len(),
        1,
        "one problem, then no more calls: {:?}",
        run.problems
    );
    assert!(mfa[0].reason.contains("multi-factor"));
    assert_eq!(mfa[0].code, Some(model::api::ErrorCode::MfaRequired));
    assert_eq!(run.status, model::api::SyncStatus::Succeeded);
    assert_eq!(up.emulator.stats().app_only_refusals, 0);
}
