//! The onboarding through the proxy's API, signing in on the emulator's
//! sign-in page as a person would: register the web app, add a key, fail in
//! each documented way, then start the trial and see data.

mod common;

use std::path::Path;

use common::{serve, sign_in, sign_in_directory, upstream};
use model::api::{AppInfo, ErrorBody, NewKey, OnboardingState, SessionInfo};
use model::onboarding::Step;
use proxy::{AppState, Config};
use serde_json::{Value, json};

fn no_connection(up: &common::Upstream, data: &Path) -> Config {
    let mut c = common::config(up, data);
    c.partner_tenant = None;
    c.app_id = None;
    c.app_secret = None;
    c
}

#[tokio::test]
async fn the_whole_onboarding_with_each_failure_on_the_way() {
    let up = upstream("2026-11-20").await;
    let demo = up.emulator.demo();
    let contoso = &demo.partners[0];
    let fabrikam_app = demo.partners[1].apps[0].app_id.clone();
    let admin = contoso
        .users
        .iter()
        .find(|u| u.user_name.starts_with("admin"))
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let state = AppState::new(&no_connection(&up, data.path()))
        .await
        .unwrap();
    let base = serve(state.clone(), data.path()).await;

    // Signed in for who they are only, the app steps wait for step 2.
    let plain = sign_in(&base, &admin.user_name, &admin.password).await;
    let session: SessionInfo = plain.json(reqwest::Method::GET, "/api/session", None).await;
    assert!(session.can_manage && !session.connected);
    let state_now: OnboardingState = plain
        .json(reqwest::Method::GET, "/api/onboarding", None)
        .await;
    assert_eq!(state_now.step, Step::SignIn);
    let (status, e) = plain
        .refused("/api/onboarding/app", json!({ "mode": "new" }))
        .await;
    assert_eq!((status, e.error.code.as_str()), (401, "sign_in_again"));

    let me = sign_in_directory(&base, &admin.user_name, &admin.password).await;
    let state_now: OnboardingState = me.json(reqwest::Method::GET, "/api/onboarding", None).await;
    assert_eq!(state_now.step, Step::RegisterApp);
    assert!(state_now.existing_apps.is_empty());
    // Data routes wait for the onboarding.
    let res = me.call(reqwest::Method::GET, "/api/customers", None).await;
    assert_eq!(res.status(), 409);

    let app: AppInfo = me
        .json(
            reqwest::Method::POST,
            "/api/onboarding/app",
            Some(json!({ "mode": "new" })),
        )
        .await;
    let after: OnboardingState = me.json(reqwest::Method::GET, "/api/onboarding", None).await;
    assert_eq!(after.step, Step::AddKey, "a reload resumes at the key step");
    assert_eq!(after.app.as_ref().unwrap().app_id, app.app_id);

    let (status, _) = me
        .refused("/api/onboarding/keys", json!({ "years": 3 }))
        .await;
    assert_eq!(status, 400);
    let first: NewKey = me
        .json(
            reqwest::Method::POST,
            "/api/onboarding/keys",
            Some(json!({ "years": 1 })),
        )
        .await;
    let key: NewKey = me
        .json(
            reqwest::Method::POST,
            "/api/onboarding/keys",
            Some(json!({ "years": 2 })),
        )
        .await;
    let listed: OnboardingState = me.json(reqwest::Method::GET, "/api/onboarding", None).await;
    assert_eq!(listed.keys.len(), 2);
    assert!(
        !serde_json::to_string(&listed).unwrap().contains(&key.value),
        "the list never shows a value"
    );
    // Revoke the first key.
    let res = me
        .call(
            reqwest::Method::DELETE,
            &format!("/api/onboarding/keys/{}", first.key.key_id),
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
    let res = me
        .call(reqwest::Method::POST, "/api/onboarding/continue", None)
        .await;
    assert_eq!(res.status(), 204);
    let at_billing: OnboardingState = me.json(reqwest::Method::GET, "/api/onboarding", None).await;
    assert_eq!(at_billing.step, Step::ReadBilling);
    let billing = at_billing.billing.expect("step 5's checks");
    assert!(!billing.declared && !billing.service_principal && !billing.consented);
    assert!(billing.consent_url.contains("/adminconsent?client_id="));

    // Step 5: an app made through Graph has no service principal, so Entra
    // gives it no token; the check says so (with the key kept from step 4).
    let (status, e) = me
        .refused("/api/onboarding/billing/verify", json!({}))
        .await;
    assert_eq!(
        (status, e.error.code.as_str()),
        (422, "no_service_principal"),
        "{}",
        e.error.message
    );
    assert!(e.error.message.contains("AADSTS7000229"));
    // A trial cannot start before it either.
    let (_, e) = me
        .refused(
            "/api/onboarding/trial",
            json!({ "appId": app.app_id, "key": key.value }),
        )
        .await;
    assert_eq!(e.error.code, "no_service_principal");
    let granted: model::api::BillingAccess = me
        .json(reqwest::Method::POST, "/api/onboarding/billing", None)
        .await;
    assert!(granted.declared && granted.service_principal && granted.consented);
    assert!(!granted.verified);
    // Granting again changes nothing and says the same.
    let again: model::api::BillingAccess = me
        .json(reqwest::Method::POST, "/api/onboarding/billing", None)
        .await;
    assert_eq!(again, granted);
    let verified: model::api::BillingAccess = me
        .json(
            reqwest::Method::POST,
            "/api/onboarding/billing/verify",
            Some(json!({})),
        )
        .await;
    assert!(verified.verified);
    let at_trial: OnboardingState = me.json(reqwest::Method::GET, "/api/onboarding", None).await;
    assert_eq!(at_trial.step, Step::StartTrial);

    let good = |over: Value| {
        let mut b = json!({ "appId": app.app_id, "key": key.value });
        for (k, v) in over.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    for (body, status, code, needle) in [
        (
            good(json!({ "appId": "12345" })),
            400,
            "bad_request",
            "The App ID must be a GUID",
        ),
        (
            good(json!({ "commerceId": contoso.commerce_id })),
            400,
            "bad_request",
            "commerceId",
        ),
        (
            good(json!({ "key": "not-the-right-key-value-at-all" })),
            422,
            "key_wrong",
            "not right for this App ID",
        ),
        (
            good(json!({ "key": first.value })),
            422,
            "key_revoked",
            "was revoked on",
        ),
        (
            good(json!({ "appId": fabrikam_app })),
            422,
            "app_not_found",
            "may belong to another partner",
        ),
        (good(json!({})), 422, "app_not_registered", "App management"),
    ] {
        let (got, e) = me.refused("/api/onboarding/trial", body.clone()).await;
        assert_eq!(
            (got, e.error.code.as_str()),
            (status, code),
            "{body}: {}",
            e.error.message
        );
        assert!(e.error.message.contains(needle), "{}", e.error.message);
    }

    // The one portal step, then the trial starts.
    let res = reqwest::Client::new()
        .post(format!("{}/emulator/portal/app-management", up.url))
        .form(&[
            ("tenant", contoso.tenant_id.as_str()),
            ("appId", app.app_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let started: SessionInfo = me
        .json(
            reqwest::Method::POST,
            "/api/onboarding/trial",
            Some(good(json!({}))),
        )
        .await;
    let trial = started.trial.expect("a trial");
    assert_eq!(trial.days_left, 30);
    assert!(started.connected);
    let done: OnboardingState = me.json(reqwest::Method::GET, "/api/onboarding", None).await;
    assert_eq!(done.step, Step::Done);

    // The first sync runs; customers arrive.
    let list: model::api::CustomerList =
        me.json(reqwest::Method::GET, "/api/customers", None).await;
    assert_eq!(list.customers.len(), contoso.customers);

    // The key is sealed in the store: its value is nowhere in the file.
    let bytes = common::store_bytes(data.path()).await;
    assert!(!bytes.is_empty());
    assert!(
        !bytes
            .windows(key.value.len())
            .any(|w| w == key.value.as_bytes())
    );

    // A restart opens the sealed key again: the partner stays connected.
    let restarted = AppState::new(&no_connection(&up, data.path()))
        .await
        .unwrap();
    let partner = restarted
        .store
        .find_partner(&contoso.tenant_id)
        .await
        .unwrap()
        .unwrap();
    let connection = restarted
        .connection_of(partner)
        .await
        .expect("connected after a restart");
    assert_eq!(connection.credentials.secret.expose(), key.value);

    // The operator ends, extends and activates trials.
    proxy::cli::operator(
        &restarted.store,
        &proxy::cli::PartnerAction::Extend {
            tenant: contoso.tenant_id.clone(),
            days: 5,
        },
    )
    .await
    .unwrap();
    let report = proxy::cli::operator(
        &restarted.store,
        &proxy::cli::PartnerAction::Show {
            tenant: contoso.tenant_id.clone(),
        },
    )
    .await
    .unwrap();
    assert!(report.contains("35 days left"), "{report}");
}

#[tokio::test]
async fn someone_without_the_roles_is_told_which_are_needed() {
    let up = upstream("2026-11-20").await;
    let demo = up.emulator.demo();
    let billing = demo.partners[0]
        .users
        .iter()
        .find(|u| u.user_name.starts_with("billing"))
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let state = AppState::new(&no_connection(&up, data.path()))
        .await
        .unwrap();
    let base = serve(state, data.path()).await;
    let me = sign_in(&base, &billing.user_name, &billing.password).await;
    let now: OnboardingState = me.json(reqwest::Method::GET, "/api/onboarding", None).await;
    assert_eq!(now.step, Step::BeforeYouBegin);
    let message = now.session.roles_message.unwrap();
    assert!(
        message.contains("Global admin or Admin agent") && message.contains("Billing admin"),
        "{message}"
    );
    let (status, e) = me
        .refused("/api/onboarding/app", json!({ "mode": "new" }))
        .await;
    assert_eq!(status, 403);
    assert_eq!(e.error.code, "forbidden");
}

#[tokio::test]
async fn an_ended_trial_closes_the_data_routes_until_activated() {
    let up = upstream("2026-11-20").await;
    let demo = up.emulator.demo();
    let fabrikam = &demo.partners[1];
    let admin = &fabrikam.users[0];
    let data = tempfile::tempdir().unwrap();
    let state = AppState::new(&no_connection(&up, data.path()))
        .await
        .unwrap();
    let base = serve(state.clone(), data.path()).await;
    // Fabrikam registered its app before: reuse it, with its existing key.
    let me = sign_in_directory(&base, &admin.user_name, &admin.password).await;
    let now: OnboardingState = me.json(reqwest::Method::GET, "/api/onboarding", None).await;
    assert_eq!(
        now.existing_apps.len(),
        1,
        "the app registered before is offered"
    );
    let app = &fabrikam.apps[0];
    let _: AppInfo = me
        .json(
            reqwest::Method::POST,
            "/api/onboarding/app",
            Some(json!({ "mode": "reuse", "appId": app.app_id })),
        )
        .await;
    assert_eq!(
        me.call(reqwest::Method::POST, "/api/onboarding/continue", None)
            .await
            .status(),
        204
    );
    // No key was made here: the check asks for the one the partner has.
    let (status, e) = me
        .refused("/api/onboarding/billing/verify", json!({}))
        .await;
    assert_eq!((status, e.error.code.as_str()), (422, "key_needed"));
    let billing: model::api::BillingAccess = me
        .json(
            reqwest::Method::POST,
            "/api/onboarding/billing/verify",
            Some(json!({ "key": app.keys[0].secret })),
        )
        .await;
    assert!(billing.declared && billing.service_principal && billing.consented && billing.verified);
    let _: SessionInfo = me
        .json(
            reqwest::Method::POST,
            "/api/onboarding/trial",
            Some(json!({ "appId": app.app_id, "key": app.keys[0].secret })),
        )
        .await;
    assert_eq!(
        me.call(reqwest::Method::GET, "/api/overview", None)
            .await
            .status(),
        200
    );

    // The trial ends.
    let partner = state
        .store
        .find_partner(&fabrikam.tenant_id)
        .await
        .unwrap()
        .unwrap();
    let mut row = state.store.onboarding(partner).await.unwrap().unwrap();
    row.trial_ends_at = Some(chrono::Utc::now() - chrono::Duration::hours(1));
    state.store.set_onboarding(partner, &row).await.unwrap();
    let res = me.call(reqwest::Method::GET, "/api/overview", None).await;
    assert_eq!(res.status(), 402);
    let e: ErrorBody = res.json().await.unwrap();
    assert_eq!(e.error.code, "trial_ended");
    let session: SessionInfo = me.json(reqwest::Method::GET, "/api/session", None).await;
    assert!(session.trial.unwrap().ended);

    proxy::cli::operator(
        &state.store,
        &proxy::cli::PartnerAction::Activate {
            tenant: fabrikam.tenant_id.clone(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        me.call(reqwest::Method::GET, "/api/overview", None)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn an_expired_key_and_an_unwell_upstream_have_their_own_messages() {
    let up = upstream("2026-11-20").await;
    let demo = up.emulator.demo();
    let fabrikam = &demo.partners[1];
    let app = &fabrikam.apps[0];
    let data = tempfile::tempdir().unwrap();
    let state = AppState::new(&no_connection(&up, data.path()))
        .await
        .unwrap();
    let base = serve(state, data.path()).await;
    let me = sign_in_directory(
        &base,
        &fabrikam.users[0].user_name,
        &fabrikam.users[0].password,
    )
    .await;
    let _: AppInfo = me
        .json(
            reqwest::Method::POST,
            "/api/onboarding/app",
            Some(json!({ "mode": "reuse", "appId": app.app_id })),
        )
        .await;
    let body = json!({ "appId": app.app_id, "key": app.keys[0].secret });

    up.emulator.set_faults(emulator::Faults {
        token_error_rate: 1.0,
        ..Default::default()
    });
    let (status, e) = me.refused("/api/onboarding/trial", body.clone()).await;
    assert_eq!(
        (status, e.error.code.as_str()),
        (502, "upstream_unavailable"),
        "{}",
        e.error.message
    );
    assert!(e.error.message.contains("Try again in a few minutes"));

    up.emulator.set_faults(emulator::Faults {
        throttle_requests: Some(0),
        throttle_interval_ms: 2_000,
        ..Default::default()
    });
    let (status, e) = me.refused("/api/onboarding/trial", body.clone()).await;
    assert_eq!(
        (status, e.error.code.as_str()),
        (503, "upstream_throttled"),
        "{}",
        e.error.message
    );
    assert!(e.error.message.contains("asks to wait"));

    up.emulator.set_faults(emulator::Faults::default());
    let res = reqwest::Client::new()
        .post(format!("{}/emulator/expire-keys", up.url))
        .json(&json!({ "appId": app.app_id }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let (status, e) = me.refused("/api/onboarding/trial", body).await;
    assert_eq!(
        (status, e.error.code.as_str()),
        (422, "key_expired"),
        "{}",
        e.error.message
    );
}

/// The partner the proxy is connected as from the start (Fabrikam).
fn fabrikam(up: &common::Upstream) -> emulator::DemoPartner {
    up.emulator
        .demo()
        .partners
        .into_iter()
        .find(|p| p.tenant_id == up.credentials.tenant)
        .unwrap()
}

/// The proxy connected from the start, and its partner's first admin
/// signed in with directory access (as the Connection page needs it).
async fn connected_admin(up: &common::Upstream, data: &Path) -> (AppState, String, common::Person) {
    let state = common::state(up, data).await;
    let base = serve(state.clone(), data).await;
    let admin = fabrikam(up).users[0].clone();
    let me = sign_in_directory(&base, &admin.user_name, &admin.password).await;
    (state, base, me)
}

/// The key's life after onboarding: the Connection page's routes tell
/// which key the sync signs in with and when it expires; a key that does
/// not work changes nothing; a new key is switched to only once Partner
/// Center has taken it, and then the old one can be revoked with the sync
/// still reading.
#[tokio::test]
async fn a_manager_switches_the_sync_to_a_new_key_and_revokes_the_old_one() {
    use model::onboarding::ConnectionInfo;
    use proxy::sync::SyncKind;
    use reqwest::Method;
    let up = upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    let (state, base, me) = connected_admin(&up, data.path()).await;
    let fabrikam = fabrikam(&up);

    let info: ConnectionInfo = me.json(Method::GET, "/api/connection", None).await;
    assert_eq!(info.app_id, up.credentials.app_id);
    assert_eq!(info.last_synced, None);
    let keys = info.keys.expect("listed with directory access");
    // The key given to the proxy at start, told by Graph's hint, with the
    // expiry the emulator gave it.
    let old = info.key_in_use.expect("the key in use");
    let listed = keys.iter().find(|k| k.key_id == old.key_id).unwrap();
    assert_eq!(listed.expires_at, old.expires_at);
    assert_eq!(old.warn, old.days_left <= 60);

    // A key of nothing: refused, and the connection is as it was.
    let res = me
        .call(
            Method::PUT,
            "/api/connection/key",
            Some(json!({ "key": "Zq8~".repeat(10) })),
        )
        .await;
    let status = res.status().as_u16();
    let e: ErrorBody = res.json().await.unwrap();
    assert!((400..500).contains(&status), "{status}");
    assert_eq!(e.error.code, model::api::ErrorCode::KeyWrong);
    let partner = state
        .store
        .find_partner(&up.credentials.tenant)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        state
            .connection_of(partner)
            .await
            .unwrap()
            .credentials
            .secret
            .expose(),
        up.credentials.secret.expose()
    );

    // A sync with the old key leaves its token in the cache.
    let before = state.connection_of(partner).await.unwrap();
    state.sync.run(&before, SyncKind::Usage).await.unwrap();

    // A new key, switched to; the old one revoked in Entra ID.
    let new: NewKey = me
        .json(
            Method::POST,
            "/api/onboarding/keys",
            Some(json!({ "years": 1 })),
        )
        .await;
    let res = me
        .call(
            Method::PUT,
            "/api/connection/key",
            Some(json!({ "key": new.value })),
        )
        .await;
    assert_eq!(res.status(), 204);
    let res = me
        .call(
            Method::DELETE,
            &format!("/api/onboarding/keys/{}", old.key_id),
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
    // The sync reads with the new key (the old one no longer gets a token).
    let connection = state.connection_of(partner).await.unwrap();
    assert_eq!(connection.credentials.secret.expose(), new.value);
    // No token got with the old key stands in for the new one: signing in
    // with the old key now fails, with the new one the sync reads.
    let stale = proxy::connections::Connection {
        partner,
        credentials: up.credentials.clone(),
    };
    assert!(
        state.sync.run(&stale, SyncKind::Usage).await.is_err(),
        "the old key still works"
    );
    let counts = state.sync.run(&connection, SyncKind::Usage).await.unwrap();
    assert!(counts.line_items > 0);
    let info: ConnectionInfo = me.json(Method::GET, "/api/connection", None).await;
    let now = info.key_in_use.unwrap();
    assert_eq!(now.key_id, new.key.key_id);
    assert!((364..=366).contains(&now.days_left), "{}", now.days_left);
    assert!(!now.warn);
    assert!(info.last_synced.is_some());
    assert!(!info.keys.unwrap().iter().any(|k| k.key_id == old.key_id));
    // A person who may not manage it is refused.
    let billing = fabrikam
        .users
        .iter()
        .find(|u| u.user_name.starts_with("billing"))
        .unwrap();
    let them = sign_in(&base, &billing.user_name, &billing.password).await;
    let res = them.call(Method::GET, "/api/connection", None).await;
    assert_eq!(res.status(), 403);
}

/// Graph not listing the app's keys costs the Connection page its key list
/// only: the key in use (known by its digest or not), the last sync and the
/// reason are still there. It failed whole before.
#[tokio::test]
async fn graph_refusing_the_key_list_leaves_the_rest_of_the_connection_page() {
    use model::onboarding::ConnectionInfo;
    use reqwest::Method;
    let up = upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    let (_state, _base, me) = connected_admin(&up, data.path()).await;
    let listed: ConnectionInfo = me.json(Method::GET, "/api/connection", None).await;
    assert!(listed.keys.is_some() && listed.keys_problem.is_none());

    let mut faults = up.emulator.faults();
    faults.refuse_paths = vec!["/v1.0/applications".into()];
    up.emulator.set_faults(faults);
    let res = me.call(Method::GET, "/api/connection", None).await;
    assert_eq!(res.status(), 200);
    let info: ConnectionInfo = res.json().await.unwrap();
    assert_eq!(info.app_id, up.credentials.app_id);
    assert_eq!(info.keys, None);
    let problem = info.keys_problem.expect("why the keys are missing");
    assert!(problem.contains("list your web apps"), "{problem}");
    assert_eq!(info.last_synced, listed.last_synced);
}
