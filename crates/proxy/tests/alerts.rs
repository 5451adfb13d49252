//! Alerts end to end with real parts: a real SMTP server (aiosmtpd, which
//! `cargo xtask test` installs) receives what the proxy mails, and a webhook
//! receiver on loopback checks each body's signature. Events come from the
//! emulator's data and the store; each message arrives once, restarts in
//! between.

mod common;
#[path = "alerts/parts.rs"]
mod parts;

use std::time::Duration;

use chrono::Utc;
use model::alerts::rules::{AlertSettings, Delivery};
use parts::*;
use proxy::AppState;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_that_expires_in_7_days_is_mailed_and_posted_once_across_a_restart() {
    let a = Alerting::start(common::emulator_config("2026-11-20"), &[500, 500, 500]).await;
    let (state, smtp, hook, partner) = (&a.state, &a.smtp, &a.hook, a.partner());
    let expires = Utc::now() + chrono::Duration::days(6) + chrono::Duration::hours(20);
    key_in_use_expires(state, expires).await;
    a.add_rule(
        json!({"events": ["key-expiry"], "channel": "email", "target": "ops@fabrikam.example"}),
    )
    .await;
    let made = a
        .add_rule(json!({"events": ["key-expiry", "sync-failing"], "channel": "webhook", "target": hook.url, "shape": "generic"}))
        .await;
    let signing = made
        .signing_secret
        .expect("a generic webhook's key, shown once");

    proxy::alerts::detect(state, partner).await.unwrap();
    send_all(state).await;

    // The e-mail, exactly.
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let m = &mails[0];
    let day = expires.format("%b %-d, %Y");
    assert_eq!(m["rcptTos"], json!(["ops@fabrikam.example"]));
    assert_eq!(m["mailFrom"], "alerts@fabrikam.example");
    assert_eq!(
        m["subject"],
        "The app key \u{201c}CSP Costs sync\u{201d} expires in 7 days"
    );
    assert_eq!(
        text(m, "text"),
        format!(
            "The key expires on {day}; from then usage is no longer read. Create a new key in Connection and switch to it before then.\n\nOpen CSP Costs: http://127.0.0.1:8080\n"
        )
    );
    assert!(text(m, "html").contains("<h1 style=\"font-size:18px\">The app key \u{201c}CSP Costs sync\u{201d} expires in 7 days</h1>"));
    // The secret the proxy signs in with is nowhere in what it sent.
    let secret = a.up.credentials.secret.expose();
    assert!(!m["raw"].as_str().unwrap().contains(secret));

    // The webhook: three refusals, then taken; every body signed alike.
    let got = hook.got();
    assert_eq!(
        got.iter().map(|r| r.answered).collect::<Vec<_>>(),
        [500, 500, 500, 200]
    );
    for r in &got {
        let timestamp: i64 = r.headers["x-csp-costs-timestamp"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((Utc::now().timestamp() - timestamp).abs() < 120);
        assert_eq!(
            r.headers["x-csp-costs-signature"].to_str().unwrap(),
            proxy::alerts::signature(&signing, timestamp, &r.body),
            "the receiver's own HMAC of the body"
        );
        assert_eq!(r.body, got[0].body, "the same message each time");
        assert!(!r.body.contains(secret));
    }
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["event"], "key-expiry");
    assert_eq!(body["key"], "key:6f1c0e4b-key-in-use:7");
    assert_eq!(body["facts"]["days"], 7);
    assert_eq!(body["facts"]["expires"], expires.date_naive().to_string());

    // The log: one sent e-mail, one webhook taken at its fourth attempt.
    let log: Vec<Delivery> = a
        .http
        .get(format!("{}/api/alerts/deliveries", a.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(log.len(), 2);
    // The receiver's address is its credential: the log shows it cut.
    let shown =
        model::alerts::rules::shown_target(model::alerts::rules::Channel::Webhook, &hook.url);
    assert!(
        shown.ends_with("/…hook") && !shown.contains("/hook"),
        "{shown}"
    );
    let webhook = log.iter().find(|d| d.target == shown).unwrap();
    assert_eq!(webhook.status, "sent");
    assert_eq!(
        webhook
            .attempts
            .iter()
            .map(|a| (a.ok, a.result.as_str()))
            .collect::<Vec<_>>(),
        [
            (false, "HTTP 500"),
            (false, "HTTP 500"),
            (false, "HTTP 500"),
            (true, "HTTP 200")
        ]
    );
    let mail = log
        .iter()
        .find(|d| d.target == "ops@fabrikam.example")
        .unwrap();
    assert_eq!((mail.status.as_str(), mail.attempts.len()), ("sent", 1));
    assert!(
        mail.attempts[0].result.starts_with("250"),
        "{:?}",
        mail.attempts
    );

    // A restart: the same store, a new process's state. Nothing is new.
    a.restart_finds_nothing().await;
    assert_eq!(smtp.messages().len(), 1);
    assert_eq!(hook.got().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_failing_longer_than_the_setting_is_posted_and_so_is_its_recovery() {
    let a = Alerting::start(common::emulator_config("2026-11-20"), &[]).await;
    let (state, smtp, hook, up) = (&a.state, &a.smtp, &a.hook, &a.up);
    let connection = state.connection.clone().unwrap();
    let res = a
        .http
        .put(format!("{}/api/alerts/settings", a.base))
        .json(&json!({"syncFailingHours": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    a.add_rule(json!({"events": ["sync-failing", "sync-recovered"], "channel": "email", "target": "ops@fabrikam.example", "language": "zh-TW"}))
        .await;
    a.add_rule(json!({"events": ["sync-failing", "sync-recovered"], "channel": "webhook", "target": hook.url, "shape": "teams"}))
        .await;

    // Entra refuses the app's token: every sync fails.
    up.emulator.set_faults(emulator::Faults {
        token_error_rate: 1.0,
        ..Default::default()
    });
    for _ in 0..2 {
        assert!(
            state
                .sync
                .run(&connection, proxy::sync::SyncKind::Usage)
                .await
                .is_err()
        );
    }
    // They failed three hours ago (the store's clock is moved, not the test's).
    common::execute_on_store(
        a.data.path(),
        "UPDATE sync_runs SET started_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-3 hours'),
             finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-3 hours')
         WHERE status = 'failed'"
            .into(),
        "UPDATE sync_runs SET
             started_at = to_char(now() AT TIME ZONE 'UTC' - interval '3 hours', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),
             finished_at = to_char(now() AT TIME ZONE 'UTC' - interval '3 hours', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')
         WHERE status = 'failed'"
            .into(),
    )
    .await;
    // As of an hour after they began: under the setting, nothing.
    let partner = connection.partner;
    let hour_in = Utc::now() - chrono::Duration::hours(2);
    proxy::alerts::detect_at(state, partner, hour_in)
        .await
        .unwrap();
    assert_eq!(send_all(state).await, 0);
    // Now: failing for three hours, longer than two.
    proxy::alerts::detect(state, partner).await.unwrap();
    send_all(state).await;
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0]["subject"], "已有 3 小時未讀取用量");
    let body = text(&mails[0], "text");
    assert!(
        body.starts_with("自 ") && body.contains("起每次同步皆失敗。最近一次："),
        "{body}"
    );
    let posted = hook.got();
    assert_eq!(posted.len(), 1);
    let card: Value = serde_json::from_str(&posted[0].body).unwrap();
    assert_eq!(
        card["attachments"][0]["content"]["body"][0]["text"],
        "Usage has not been read for 3 hours"
    );
    assert!(
        posted[0].headers.get("x-csp-costs-signature").is_none(),
        "Teams bodies are not signed"
    );

    // Entra takes the key again; the next sync works: recovered, once.
    up.emulator.set_faults(Default::default());
    state
        .sync
        .run(&connection, proxy::sync::SyncKind::Usage)
        .await
        .unwrap();
    let recovered = proxy::alerts::detect(state, partner).await.unwrap();
    assert_eq!(
        recovered.iter().map(|e| e.kind()).collect::<Vec<_>>(),
        [model::alerts::EventKind::SyncRecovered]
    );
    send_all(state).await;
    let subjects: Vec<String> = smtp
        .messages()
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(subjects, ["已有 3 小時未讀取用量", "用量已恢復讀取"]);
    assert_eq!(hook.got().len(), 2);
    a.restart_finds_nothing().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_managers_set_rules_and_bad_rules_are_refused_with_reasons() {
    let up = common::upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    let mut config = common::config(&up, data.path());
    config.smtp_host = None;
    let state = AppState::new(&config).await.unwrap();
    let billing = common::client_as(&state, &[model::onboarding::Role::BillingAdmin]).await;
    let admin = common::admin_client(&state).await;
    let base = common::serve(state.clone(), data.path()).await;
    let webhook =
        json!({"events": ["anomaly"], "channel": "webhook", "target": "https://hooks.example/x"});
    for (method, path) in [
        ("GET", "/api/alerts"),
        ("GET", "/api/alerts/deliveries"),
        ("POST", "/api/alerts/rules"),
    ] {
        let res = billing
            .request(method.parse().unwrap(), format!("{base}{path}"))
            .json(&webhook)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{method} {path}");
    }
    let refused = |body: Value| {
        let admin = admin.clone();
        let base = base.clone();
        async move {
            let res = admin
                .post(format!("{base}/api/alerts/rules"))
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let e: model::api::ErrorBody = res.json().await.unwrap();
            (status, e.error.message)
        }
    };
    let (status, message) = refused(
        json!({"events": ["anomaly"], "channel": "email", "target": "ops@fabrikam.example"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(message.contains("no SMTP server"), "{message}");
    let (status, message) = refused(
        json!({"events": ["anomaly"], "channel": "webhook", "target": "http://10.0.0.5/hook"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(message.contains("https://"), "{message}");
    // Services only the proxy can reach are off limits unless the operator allows them.
    for local in [
        "http://127.0.0.1:9/hook",
        "https://10.1.2.3/hook",
        "https://[fd00::1]/hook",
        "https://localhost/hook",
    ] {
        let (status, message) =
            refused(json!({"events": ["anomaly"], "channel": "webhook", "target": local})).await;
        assert_eq!(status, 400, "{local}");
        assert!(
            message.contains("PROXY_ALERT_LOCAL_WEBHOOKS"),
            "{local}: {message}"
        );
    }
    let (_, message) =
        refused(json!({"events": [], "channel": "webhook", "target": "https://hooks.example/x"}))
            .await;
    assert_eq!(message, "Choose at least one event.");
    let (_, message) = refused(json!({"events": ["anomaly"], "customerId": "not-a-customer", "channel": "webhook", "target": "https://hooks.example/x"})).await;
    assert_eq!(message, "There is no customer not-a-customer.");
    // Nothing was kept; a good rule is, and reads back.
    let made = add_rule(&admin, &base, webhook.clone()).await;
    let settings: AlertSettings = admin
        .get(format!("{base}/api/alerts"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(settings.rules, vec![made.rule.clone()]);
    assert!(!settings.email);
    assert_eq!(settings.sync_failing_hours, 6);
    // A billing admin cannot remove it either; a manager can.
    let path = format!("{base}/api/alerts/rules/{}", made.rule.id);
    assert_eq!(billing.delete(&path).send().await.unwrap().status(), 403);
    assert_eq!(admin.delete(&path).send().await.unwrap().status(), 204);
    assert_eq!(admin.delete(&path).send().await.unwrap().status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_crossed_by_new_usage_is_mailed_once_though_the_proxy_died_before_sending() {
    // The same partner on the 8th and, with more usage, on the 26th.
    let early = common::upstream("2026-11-08").await;
    let later = common::upstream("2026-11-26").await;
    assert_eq!(early.credentials.tenant, later.credentials.tenant);
    let data = tempfile::tempdir().unwrap();
    let smtp = SmtpSink::start(data.path());
    let nobody = common::free_port().to_string();
    let env = |smtp_port: &str| {
        vec![
            ("PROXY_SMTP_HOST", "127.0.0.1".to_string()),
            ("PROXY_SMTP_PORT", smtp_port.to_string()),
            ("PROXY_SMTP_SECURITY", "none".to_string()),
            (
                "PROXY_SMTP_FROM",
                "CSP Costs <alerts@fabrikam.example>".to_string(),
            ),
            ("PROXY_ALERT_CHECK_SECONDS", "1".to_string()),
            ("PROXY_ALERT_RETRY_SECONDS", "2".to_string()),
        ]
    };
    let bin = env!("CARGO_BIN_EXE_proxy");
    let admin = early.demo_partner().users[0].clone();

    // The 8th: a budget the month so far is 45 % of; a rule mailing its alerts.
    let first = common::start_proxy_with(bin, &early, data.path(), None, &env(&nobody)).await;
    let me = common::sign_in(&first.base, &admin.user_name, &admin.password).await;
    sync_now(&me).await;
    let list: model::api::CustomerList =
        me.json(reqwest::Method::GET, "/api/customers", None).await;
    let c = list
        .customers
        .iter()
        .filter(|c| c.currency.as_deref() == Some("USD"))
        .max_by_key(|c| c.month_to_date.partner_cost)
        .unwrap()
        .clone();
    let mtd_early = c.month_to_date.partner_cost;
    assert!(mtd_early > 0);
    // Whole dollars, so Partner Center keeps it as set.
    let budget = (mtd_early as i128 * 100 / 45 / 1_000_000 * 1_000_000) as i64;
    let budget_path = format!("/api/customers/{}/budget", c.id);
    let budget_body = json!({ "amount": (budget / 1_000_000).to_string() });
    let _: Value = me
        .json(
            reqwest::Method::PUT,
            &budget_path,
            Some(budget_body.clone()),
        )
        .await;
    let res = me
        .call(
            reqwest::Method::POST,
            "/api/alerts/rules",
            Some(json!({"events": ["budget-threshold"], "customerId": c.id, "channel": "email", "target": "ops@fabrikam.example"})),
        )
        .await;
    assert_eq!(res.status(), 201);
    // A few looks later: under every threshold, nothing to send.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(log_of(&me).await.is_empty());
    drop(first);

    // The 26th, with the mail server down: the crossing is found and its
    // message waits; the proxy is killed before it can send it.
    let second = common::start_proxy_with(bin, &later, data.path(), None, &env(&nobody)).await;
    let me = common::sign_in(&second.base, &admin.user_name, &admin.password).await;
    let _: Value = me
        .json(
            reqwest::Method::PUT,
            &budget_path,
            Some(budget_body.clone()),
        )
        .await;
    sync_now(&me).await;
    let list: model::api::CustomerList =
        me.json(reqwest::Method::GET, "/api/customers", None).await;
    let now = list
        .customers
        .iter()
        .find(|x| x.id == c.id)
        .unwrap()
        .clone();
    assert_eq!(now.budget, Some(budget));
    let mtd = now.month_to_date.partner_cost;
    let used = mtd as i128 * 100 / budget as i128;
    assert!(used >= 50, "new usage crossed a threshold: {used}%");
    let threshold = [50, 80, 100]
        .into_iter()
        .filter(|t| *t as i128 <= used)
        .max()
        .unwrap();
    let log = log_until(&me, |log| log.len() == 1 && !log[0].attempts.is_empty()).await;
    assert_eq!(log[0].status, "pending");
    assert!(!log[0].attempts[0].ok);
    drop(second); // SIGKILL

    // Restarted with the server up: the message goes, once.
    let third =
        common::start_proxy_with(bin, &later, data.path(), None, &env(&smtp.port.to_string()))
            .await;
    let me = common::sign_in(&third.base, &admin.user_name, &admin.password).await;
    let log = log_until(&me, |log| log.len() == 1 && log[0].status == "sent").await;
    assert_eq!(log[0].attempts.len(), 2, "{log:?}");
    // More looks: nothing new, nothing again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let m = &mails[0];
    let money = |micros: i64| model::alerts::message::money(micros, "USD", model::i18n::Locale::En);
    assert_eq!(
        m["subject"],
        format!(
            "{} reached {threshold}% of its November 2026 budget",
            c.name
        )
    );
    // Linked to the proxy that found it (here each one has a port of its own).
    let body = text(m, "text");
    let (said, link) = body
        .split_once("\n\nOpen CSP Costs: http://127.0.0.1:")
        .unwrap();
    assert_eq!(
        said,
        format!(
            "{}'s partner cost for November 2026 is {}, {} of its budget of {}.",
            c.name,
            money(mtd),
            model::alerts::message::percent((mtd as i128 * 10_000 / budget as i128) as i64),
            money(budget),
        )
    );
    assert!(link.trim_end().parse::<u16>().is_ok(), "{link}");
    assert_eq!(log_of(&me).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credit_lost_this_month_is_posted_once_for_each_customer_that_lost_it() {
    let mut emulated = common::emulator_config("2026-11-28");
    emulated.customers = 40;
    let a = Alerting::start(emulated, &[]).await;
    let (state, hook) = (&a.state, &a.hook);
    let connection = state.connection.clone().unwrap();
    state
        .sync
        .run(&connection, proxy::sync::SyncKind::Full)
        .await
        .unwrap();
    a.add_rule(json!({"events": ["credit-lost"], "channel": "webhook", "target": hook.url}))
        .await;
    proxy::alerts::detect(state, connection.partner)
        .await
        .unwrap();
    send_all(state).await;
    // The customers the Price and margin view says lost credit this month.
    let margin: model::margin::MarginReport = a
        .http
        .get(format!(
            "{}/api/margin?from=2026-11-01&to=2026-11-27",
            a.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut lost: Vec<(String, i64)> = margin
        .customers
        .iter()
        .filter(|c| c.figures.lost_lines > 0)
        .map(|c| (c.customer_id.clone(), c.figures.pec_lost))
        .collect();
    lost.sort();
    assert!(!lost.is_empty(), "the emulator's month has lost credit");
    let mut posted: Vec<(String, i64)> = hook
        .got()
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_str(&r.body).unwrap();
            assert_eq!(body["event"], "credit-lost");
            (
                body["facts"]["customer"]["id"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                body["facts"]["lost"].as_i64().unwrap(),
            )
        })
        .collect();
    posted.sort();
    assert_eq!(posted, lost);
    a.restart_finds_nothing().await;
    assert_eq!(hook.got().len(), lost.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_goes_over_starttls_or_tls_from_the_first_byte_with_the_environments_login() {
    let up = common::upstream("2026-11-20").await;
    let certs = tempfile::tempdir().unwrap();
    let (ca, cert, key) = private_ca(certs.path());
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let admin = up.demo_partner().users[0].clone();
    // A server the operator's CA vouches for, then one it does not.
    for (security, server, trusted) in [
        ("starttls", "starttls", true),
        ("tls", "implicit", true),
        ("starttls", "starttls", false),
    ] {
        let data = tempfile::tempdir().unwrap();
        let smtp = SmtpSink::start_with(
            data.path(),
            &[
                "--tls",
                server,
                "--cert",
                cert,
                "--key",
                key,
                "--login",
                "costs-relay",
                "--password",
                "relay-pass-7Q",
            ],
        );
        let mut env = vec![
            ("PROXY_SMTP_HOST", "localhost".to_string()),
            ("PROXY_SMTP_PORT", smtp.port.to_string()),
            ("PROXY_SMTP_SECURITY", security.to_string()),
            (
                "PROXY_SMTP_FROM",
                "CSP Costs <alerts@fabrikam.example>".to_string(),
            ),
            ("PROXY_SMTP_USER", "costs-relay".to_string()),
            ("PROXY_SMTP_PASSWORD", "relay-pass-7Q".to_string()),
        ];
        if trusted {
            env.push(("PROXY_SMTP_CA_FILE", ca.to_str().unwrap().to_string()));
        }
        let bin = env!("CARGO_BIN_EXE_proxy");
        let proxy = common::start_proxy_with(bin, &up, data.path(), None, &env).await;
        let me = common::sign_in(&proxy.base, &admin.user_name, &admin.password).await;
        let made: model::alerts::rules::MadeRule = me
            .json(
                reqwest::Method::POST,
                "/api/alerts/rules",
                Some(json!({"events": ["key-expiry"], "channel": "email", "target": "ops@fabrikam.example"})),
            )
            .await;
        let path = format!("/api/alerts/rules/{}/test", made.rule.id);
        let res = me.call(reqwest::Method::POST, &path, None).await;
        assert_eq!(res.status(), 202);
        let log = log_until(&me, |l| l.first().is_some_and(|d| !d.attempts.is_empty())).await;
        let attempt = &log[0].attempts[0];
        if trusted {
            assert!(attempt.ok, "{security}: {attempt:?}");
            let mails = smtp.messages();
            assert_eq!(mails.len(), 1, "{security}");
            assert_eq!(mails[0]["tls"], true, "{security}: over TLS");
            assert_eq!(mails[0]["login"], "costs-relay", "{security}: signed in");
            assert_eq!(mails[0]["subject"], "A test message from CSP Costs");
        } else {
            // An unknown issuer is refused before anything is said.
            assert!(!attempt.ok);
            assert!(
                attempt.result.contains("certificate") || attempt.result.contains("Issuer"),
                "{attempt:?}"
            );
            assert!(smtp.messages().is_empty());
        }
        assert!(!format!("{log:?}").contains("relay-pass-7Q"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trials_7_and_1_day_marks_are_mailed_once_each_in_the_rules_language() {
    let a = Alerting::start(common::emulator_config("2026-11-20"), &[]).await;
    let (state, smtp, partner) = (&a.state, &a.smtp, a.partner());
    let ends: chrono::DateTime<Utc> = "2026-12-20T10:00:00Z".parse().unwrap();
    state
        .store
        .set_onboarding(
            partner,
            &proxy::store::OnboardingRow {
                step: model::onboarding::Step::Done,
                trial_started_at: Some(ends - chrono::Duration::days(30)),
                trial_ends_at: Some(ends),
                activated: false,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    a.add_rule(json!({"events": ["trial-ending"], "channel": "email", "target": "owner@fabrikam.example", "language": "zh-TW"}))
        .await;
    let trial = |events: Vec<model::alerts::Event>| {
        events
            .into_iter()
            .filter(|e| e.kind() == model::alerts::EventKind::TrialEnding)
            .map(|e| e.key)
            .collect::<Vec<_>>()
    };
    let look = |before: chrono::Duration| proxy::alerts::detect_at(state, partner, ends - before);
    // Ten days before: no mark yet.
    assert!(trial(look(chrono::Duration::days(10)).await.unwrap()).is_empty());
    // Six days before: the 7-day mark; twenty hours before: the 1-day mark,
    // however often it is looked at.
    assert_eq!(
        trial(look(chrono::Duration::days(6)).await.unwrap()),
        ["trial:2026-12-20:7"]
    );
    send_all(state).await;
    let mut looks = Vec::new();
    for _ in 0..2 {
        looks.push(trial(look(chrono::Duration::hours(20)).await.unwrap()));
    }
    assert_eq!(looks, [vec!["trial:2026-12-20:1".to_string()], vec![]]);
    send_all(state).await;
    let mails = smtp.messages();
    let subjects: Vec<&str> = mails
        .iter()
        .map(|m| m["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["試用將於 7 天後結束", "試用將於 1 天後結束"]);
    assert_eq!(
        text(&mails[0], "text"),
        "試用將於 2026年12月20日 結束。請連線您自己的應用程式以繼續讀取用量。\n\n開啟 CSP Costs：http://127.0.0.1:8080\n"
    );
    // A restart, the same look: nothing new.
    let again = AppState::new(&a.config).await.unwrap();
    assert!(
        trial(
            proxy::alerts::detect_at(&again, partner, ends - chrono::Duration::hours(20))
                .await
                .unwrap()
        )
        .is_empty()
    );
    assert_eq!(send_all(&again).await, 0);
    assert_eq!(smtp.messages().len(), 2);
}
