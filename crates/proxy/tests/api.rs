//! The `/api` routes over a real socket, after a real sync from the
//! emulator: figures agree with the line items they come from, writes go
//! through to Partner Center, and bad input gets a 400 with a JSON body.

mod common;
#[path = "focus/csv.rs"]
mod csv;

use std::collections::HashMap;

use common::{serve, state, upstream};
use model::api::{CustomerDetail, CustomerList, ErrorBody, Overview, ReportingSettings};
use model::cube::{Cube, PivotQuery};
use model::pc::{Link, SpendingBudget};
use model::pricing::{Markup, MarkupBasis};
use serde_json::json;

type Api = common::Synced;

async fn api() -> Api {
    common::synced("2026-11-20").await
}

impl Api {
    async fn error(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, ErrorBody) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap())
    }
}

#[tokio::test]
async fn customer_figures_are_the_sums_of_their_line_items() {
    let api = api().await;
    let list: CustomerList = api.get("/api/customers").await;
    let as_of = list.as_of.expect("usage synced");
    assert_eq!(as_of.to_string(), "2026-11-19", "the emulator's yesterday");
    assert_eq!(list.customers.len(), 6);
    let lines = api.all_lines("from=2026-11-01&to=2026-11-19").await;
    let mut by_customer: HashMap<String, (i64, i64)> = HashMap::new();
    for l in &lines {
        let e = by_customer.entry(l.line.customer_id.clone()).or_default();
        e.0 += l.line.billing_total.micros();
        e.1 += l.customer_price;
    }
    for c in &list.customers {
        let (cost, price) = by_customer.get(&c.id).copied().unwrap_or_default();
        assert_eq!(c.month_to_date.partner_cost, cost, "{}", c.name);
        assert_eq!(c.month_to_date.customer_price, price, "{}", c.name);
        assert!(
            c.forecast.partner_cost >= cost,
            "{}: the forecast includes what is spent",
            c.name
        );
        assert!(c.azure_subscriptions >= 1);
    }
    let detail: CustomerDetail = api
        .get(&format!("/api/customers/{}", list.customers[0].id))
        .await;
    assert_eq!(detail.summary, list.customers[0]);
    assert_eq!(
        detail.azure_subscriptions.len() as u32,
        list.customers[0].azure_subscriptions
    );
}

#[tokio::test]
async fn the_overview_adds_currencies_only_at_the_partners_rates() {
    let api = api().await;
    let overview: Overview = api.get("/api/overview").await;
    let list: CustomerList = api.get("/api/customers").await;
    for t in &overview.by_currency {
        let sum: i64 = list
            .customers
            .iter()
            .filter(|c| c.currency.as_deref() == Some(&t.currency))
            .map(|c| c.month_to_date.partner_cost)
            .sum();
        assert_eq!(t.month_to_date.partner_cost, sum, "{}", t.currency);
    }
    assert!(
        overview.by_currency.len() > 1,
        "several currencies: {:?}",
        overview.by_currency
    );
    assert!(overview.converted.is_none(), "no rates yet");
    assert!(!overview.missing_rates.is_empty());
    assert!(overview.daily.len() >= 60);

    // Rates past any real one (which would make converted totals wrap)
    // are refused, nothing saved.
    for absurd in ["10000000", "0", "0.0000001", "-1"] {
        let rates: Vec<serde_json::Value> = overview
            .missing_rates
            .iter()
            .map(|c| json!({ "currency": c, "rate": absurd }))
            .collect();
        let res = api
            .http
            .put(format!("{}/api/settings/reporting", api.base))
            .json(&json!({ "currency": "USD", "rates": rates }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "rate {absurd}");
    }
    let still: Overview = api.get("/api/overview").await;
    assert!(still.converted.is_none());
    let rates: Vec<serde_json::Value> = overview
        .missing_rates
        .iter()
        .map(|c| json!({ "currency": c, "rate": "0.5" }))
        .collect();
    let res = api
        .http
        .put(format!("{}/api/settings/reporting", api.base))
        .json(&json!({ "currency": "USD", "rates": rates }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let saved: ReportingSettings = res.json().await.unwrap();
    assert_eq!(saved.currency, "USD");
    let overview: Overview = api.get("/api/overview").await;
    let converted = overview.converted.expect("every rate set");
    let expected: i64 = overview
        .by_currency
        .iter()
        .map(|t| {
            // At 0.5 a rate halves the amount, half a millionth away from zero.
            let m = t.month_to_date.partner_cost;
            if t.currency == "USD" {
                m
            } else {
                (m + m.signum()) / 2
            }
        })
        .sum();
    assert_eq!(converted.month_to_date.partner_cost, expected);
}

#[tokio::test]
async fn the_usage_cube_pivots_to_the_same_totals_as_the_line_items() {
    let api = api().await;
    let list: CustomerList = api.get("/api/customers").await;
    let customer = &list.customers[0];
    let query = format!("customer={}&from=2026-10-01&to=2026-11-19", customer.id);
    let cube: Cube = api.get(&format!("/api/usage?{query}")).await;
    let lines = api.all_lines(&query).await;
    assert_eq!(cube.len(), lines.len());
    // As the app asks for it: compact bytes that read back the same cube.
    let res = api
        .http
        .get(format!("{}/api/usage?{query}", api.base))
        .header("Accept", model::cube::CUBE_MEDIA_TYPE)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], model::cube::CUBE_MEDIA_TYPE);
    assert!(
        res.headers()
            .get_all("vary")
            .iter()
            .any(|v| v.to_str().unwrap().contains("Accept")),
        "caches keep JSON and bytes apart"
    );
    let bytes = res.bytes().await.unwrap();
    assert_eq!(Cube::from_bytes(&bytes).unwrap(), cube);
    let json = serde_json::to_vec(&cube).unwrap();
    assert!(
        bytes.len() * 2 < json.len(),
        "{} bytes against {} of JSON",
        bytes.len(),
        json.len()
    );
    let pivot = cube.pivot(&PivotQuery::default());
    let total: i64 = lines.iter().map(|l| l.line.billing_total.micros()).sum();
    assert_eq!(
        pivot
            .totals
            .iter()
            .map(|(_, m)| m.partner_cost)
            .sum::<i64>(),
        total
    );
}

#[tokio::test]
async fn a_budget_is_written_to_partner_center_then_stored() {
    let api = api().await;
    let list: CustomerList = api.get("/api/customers").await;
    let id = &list.customers[1].id;
    let res = api
        .http
        .put(format!("{}/api/customers/{id}/budget", api.base))
        .json(&json!({ "amount": "1234.50", "thresholds": [100, 50, 80] }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // Read back from the emulator directly, not through the proxy.
    let pc = proxy::pc::PartnerCenter::new(
        proxy::pc::Endpoints {
            api: api.up.url.clone(),
            login: api.up.url.clone(),
            graph: api.up.url.clone(),
        },
        Default::default(),
    );
    let upstream: SpendingBudget = pc
        .get(
            &api.up.credentials,
            &Link::get(format!("/customers/{id}/usagebudget")),
        )
        .await
        .unwrap();
    assert_eq!(upstream.amount, model::Amount::parse_decimal("1234.5"));
    let c: CustomerDetail = api.get(&format!("/api/customers/{id}")).await;
    assert_eq!(c.summary.budget, Some(1_234_500_000));
    assert_eq!(c.summary.budget_thresholds, [50, 80, 100]);

    for (body, needle) in [
        (json!({ "amount": "-5" }), "zero or more"),
        (json!({ "amount": "lots" }), "zero or more"),
        (json!({ "amount": 12 }), "not valid"),
        (json!({ "amount": "5", "colour": "red" }), "not valid"),
        (json!({ "amount": "5", "thresholds": [0] }), "Thresholds"),
    ] {
        let (status, e) = api
            .error(
                reqwest::Method::PUT,
                &format!("/api/customers/{id}/budget"),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, 400, "{body}");
        assert!(
            e.error.message.contains(needle),
            "{body}: {}",
            e.error.message
        );
    }
}

#[tokio::test]
async fn a_markup_reprices_every_line_of_the_customer() {
    let api = api().await;
    let list: CustomerList = api.get("/api/customers").await;
    let id = &list.customers[2].id;
    // Synced with no markup set: the customer pays list price, to the micro
    // (the price the sync wrote, before any repricing).
    let synced = api
        .all_lines(&format!("customer={id}&from=2026-10-01&to=2026-11-19"))
        .await;
    assert!(!synced.is_empty());
    for l in &synced {
        assert_eq!(l.customer_price, l.list_cost, "{:?}", l.line.meter_name);
    }
    let res = api
        .http
        .put(format!("{}/api/customers/{id}/markup", api.base))
        .json(&json!({ "basis": "partnerCost", "percent": "12.5" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let markup = Markup::new(MarkupBasis::PartnerCost, 1_250).unwrap();
    let lines = api
        .all_lines(&format!("customer={id}&from=2026-10-01&to=2026-11-19"))
        .await;
    assert!(!lines.is_empty());
    // 12.5 % over cost is nine eighths of it, rounded half away from zero.
    let nine_eighths = |cost: i64| (cost * 9 + 4 * cost.signum()) / 8;
    for l in &lines {
        assert_eq!(
            l.customer_price,
            nine_eighths(l.line.billing_total.micros())
        );
    }
    let c: CustomerDetail = api.get(&format!("/api/customers/{id}")).await;
    assert_eq!(c.summary.markup, markup);
    // The list and the overview (kept between writes) follow the new prices at once.
    let after: CustomerList = api.get("/api/customers").await;
    let row = after.customers.iter().find(|c| c.id == *id).unwrap();
    assert_eq!(row.markup, markup);
    let mtd_price: i64 = lines
        .iter()
        .filter(|l| l.line.usage_date >= "2026-11-01".parse().unwrap())
        .map(|l| l.customer_price)
        .sum();
    assert_eq!(row.month_to_date.customer_price, mtd_price);
    let before_row = list.customers.iter().find(|c| c.id == *id).unwrap();
    assert_ne!(
        row.month_to_date.customer_price,
        before_row.month_to_date.customer_price
    );
    let (status, e) = api
        .error(
            reqwest::Method::PUT,
            &format!("/api/customers/{id}/markup"),
            Some(json!({ "basis": "partnerCost", "percent": "1.234" })),
        )
        .await;
    assert_eq!(status, 400);
    assert!(e.error.message.contains("two decimals"));
}

#[tokio::test]
async fn exports_carry_the_same_lines_and_totals() {
    let api = api().await;
    let list: CustomerList = api.get("/api/customers").await;
    let id = &list.customers[0].id;
    let query = format!("customer={id}&from=2026-11-01&to=2026-11-19");
    let lines = api.all_lines(&query).await;

    let res = api
        .http
        .get(format!("{}/api/exports/line-items.csv?{query}", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let csv = res.text().await.unwrap();
    assert_eq!(csv.lines().count(), lines.len() + 1);

    let focus = api
        .http
        .get(format!("{}/api/exports/focus.csv?{query}", api.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut rows = csv::records(&focus).into_iter();
    let header: Vec<String> = rows.next().unwrap().into_iter().flatten().collect();
    assert_eq!(header, model::focus::COLUMNS);
    let billed = header.iter().position(|c| *c == "BilledCost").unwrap();
    let provider = header.iter().position(|c| *c == "ProviderName").unwrap();
    let mut total = 0i64;
    let mut n = 0;
    for fields in rows {
        let cell = |i: usize| fields[i].as_deref().unwrap();
        total += model::Amount::parse_decimal(cell(billed)).unwrap().micros();
        assert_eq!(cell(provider), "Fabrikam Managed Services");
        n += 1;
    }
    assert_eq!(n, lines.len());
    assert_eq!(total, lines.iter().map(|l| l.customer_price).sum::<i64>());
}

#[tokio::test]
async fn bad_input_gets_a_clear_400_and_other_partners_customers_a_404() {
    let api = api().await;
    for (path, needle) in [
        ("/api/line-items?from=2026-13-01", "from must be a date"),
        ("/api/line-items?to=yesterday", "to must be a date"),
        ("/api/line-items?from=2026-11-10&to=2026-11-01", "after"),
        (
            "/api/line-items?from=2024-01-01&to=2026-11-01",
            "at most 400 days",
        ),
        ("/api/line-items?limit=abc", "limit must be"),
        ("/api/line-items?limit=999999", "limit must be"),
        ("/api/usage?customer=not-a-guid", "not a GUID"),
        ("/api/customers/%F0%9F%92%A5", "not a GUID"),
    ] {
        let (status, e) = api.error(reqwest::Method::GET, path, None).await;
        assert_eq!(status, 400, "{path}");
        assert!(
            e.error.message.contains(needle),
            "{path}: {}",
            e.error.message
        );
        assert_eq!(e.error.code, "bad_request");
    }
    // A well-formed ID that is not this partner's customer.
    let stranger = "0f8fad5b-d9cb-469f-a165-70867728950e";
    for path in [
        format!("/api/customers/{stranger}"),
        format!("/api/usage?customer={stranger}"),
        format!("/api/exports/focus.csv?customer={stranger}"),
    ] {
        let (status, e) = api.error(reqwest::Method::GET, &path, None).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(e.error.code, "not_found");
    }
    let (status, _) = api
        .error(
            reqwest::Method::PUT,
            &format!("/api/customers/{stranger}/budget"),
            Some(json!({ "amount": "5" })),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn without_a_session_nothing_is_shown_and_without_a_role_nothing_changes() {
    let up = upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    let state = state(&up, data.path()).await;
    let viewer = common::client_as(&state, &[model::onboarding::Role::BillingAdmin]).await;
    let base = serve(state, data.path()).await;
    let anonymous = reqwest::Client::new();
    for path in [
        "/api/customers",
        "/api/overview",
        "/api/line-items",
        "/api/usage",
        "/api/exports/focus.csv",
    ] {
        let res = anonymous.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(res.status(), 401, "{path}");
        let e: ErrorBody = res.json().await.unwrap();
        assert_eq!(e.error.code, "not_signed_in");
    }
    // Who is signed in: nobody, which is an answer rather than an error
    // (a browser logs every 4xx of a page as a console error).
    let res = anonymous
        .get(format!("{base}/api/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(res.bytes().await.unwrap().is_empty());
    // A Billing admin may look at costs...
    let res = viewer
        .get(format!("{base}/api/customers"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let list: CustomerList = res.json().await.unwrap();
    // ...but not change budgets or markups, and is told which roles can.
    let id = &list.customers[0].id;
    for (path, body) in [
        (
            format!("/api/customers/{id}/budget"),
            json!({ "amount": "5" }),
        ),
        (
            format!("/api/customers/{id}/markup"),
            json!({ "basis": "listPrice", "percent": "5" }),
        ),
        (
            "/api/markup".to_string(),
            json!({ "basis": "listPrice", "percent": "5" }),
        ),
        (
            "/api/settings/reporting".to_string(),
            json!({ "currency": "USD", "rates": [] }),
        ),
    ] {
        let res = viewer
            .put(format!("{base}{path}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{path}");
        let e: ErrorBody = res.json().await.unwrap();
        assert!(
            e.error.message.contains("Global admin or Admin agent"),
            "{}",
            e.error.message
        );
    }
    let res = viewer
        .post(format!("{base}/api/sync"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // Signing out ends the session at once.
    let res = viewer
        .post(format!("{base}/api/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(
        viewer
            .get(format!("{base}/api/customers"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

#[tokio::test]
async fn price_and_margin_agree_with_the_line_items_and_find_lost_credit() {
    let api = api().await;
    let (from, to) = ("2026-10-01", "2026-11-19");
    let report: model::margin::MarginReport =
        api.get(&format!("/api/margin?from={from}&to={to}")).await;
    assert_eq!(
        (report.previous_from.as_str(), report.previous_to.as_str()),
        ("2026-08-12", "2026-09-30")
    );
    let current = api.all_lines(&format!("from={from}&to={to}")).await;
    let previous = api.all_lines("from=2026-08-12&to=2026-09-30").await;

    // Sums per customer and currency, computed here from the lines.
    let mut sums: HashMap<(String, String), (i64, i64, i64)> = HashMap::new();
    for l in &current {
        let e = sums
            .entry((
                l.line.customer_id.clone(),
                l.line.billing_currency.to_string(),
            ))
            .or_default();
        e.0 += l.line.billing_total.micros();
        e.1 += l.customer_price;
        e.2 += l.list_cost;
    }
    assert_eq!(report.customers.len(), sums.len());
    for c in &report.customers {
        let (cost, price, list) = sums[&(c.customer_id.clone(), c.currency.clone())];
        assert_eq!(c.figures.partner_cost, cost, "{}", c.customer_name);
        assert_eq!(c.figures.customer_price, price, "{}", c.customer_name);
        assert_eq!(c.figures.list_cost, list, "{}", c.customer_name);
    }
    let meter_cost: i64 = report.meters.iter().map(|m| m.figures.partner_cost).sum();
    assert_eq!(meter_cost, sums.values().map(|s| s.0).sum::<i64>());

    // Lost credit: no PEC on a line whose resource and meter had it on another day.
    let key = |l: &model::usage::LineItem| {
        (
            l.customer_id.clone(),
            l.entitlement_id.clone(),
            l.resource_uri.clone(),
            l.meter_id.clone(),
        )
    };
    let earning: std::collections::HashSet<_> = current
        .iter()
        .chain(&previous)
        .filter(|l| l.line.pec_basis_points > 0)
        .map(|l| key(&l.line))
        .collect();
    let lost = current
        .iter()
        .filter(|l| l.line.pec_basis_points == 0 && earning.contains(&key(&l.line)))
        .count();
    assert!(lost > 0, "the emulator loses PEC for some customers' days");
    assert_eq!(report.lost_lines_total, lost);
    assert!(
        report
            .lost_lines
            .iter()
            .all(|l| l.lost > 0 && l.partner_cost == l.list_cost)
    );
    let flagged: u32 = report.customers.iter().map(|c| c.figures.lost_lines).sum();
    assert_eq!(flagged as usize, lost);

    // A margin fall is a point or more of price against the previous period.
    for c in &report.customers {
        let (cost, price) = previous
            .iter()
            .filter(|l| l.line.customer_id == c.customer_id)
            .fold((0i64, 0i64), |(a, b), l| {
                (a + l.line.billing_total.micros(), b + l.customer_price)
            });
        let before = (price != 0).then(|| ((price - cost) as i128 * 10_000 / price as i128) as i64);
        assert_eq!(c.previous_margin_basis_points, before);
        assert_eq!(
            c.margin_fell,
            matches!((c.margin_basis_points, before), (Some(n), Some(b)) if n <= b - 100)
        );
    }

    // The overview lists the customers whose margin fell this month, as the customer list flags them.
    let overview: Overview = api.get("/api/overview").await;
    let list: CustomerList = api.get("/api/customers").await;
    let mut falls: Vec<&str> = overview
        .margin_falls
        .iter()
        .map(|m| m.customer_id.as_str())
        .collect();
    let mut flagged: Vec<&str> = list
        .customers
        .iter()
        .filter(|c| c.margin_fell)
        .map(|c| c.id.as_str())
        .collect();
    falls.sort();
    flagged.sort();
    assert_eq!(falls, flagged);
    assert!(
        overview
            .margin_falls
            .iter()
            .all(|m| m.now <= m.before - 100)
    );

    let (status, e) = api
        .error(reqwest::Method::GET, "/api/margin?from=2026-13-01", None)
        .await;
    assert_eq!((status, e.error.code.as_str()), (400, "bad_request"));
}

/// Partner Center's usage summary estimates its current billing period. On
/// the 1st the last day with data is still in the month before, and the
/// customer page shows that month: December's estimate beside November's
/// figures would read as November's, so it is left out until December has
/// a day of data.
#[tokio::test]
async fn partner_centers_estimate_comes_only_with_the_month_it_estimates() {
    for (today, as_of, shown) in [
        ("2026-12-01", "2026-11-30", false),
        ("2026-11-20", "2026-11-19", true),
    ] {
        // Partner Center serves the summary to a signed-in person's token.
        let up = upstream(today).await;
        let data = tempfile::tempdir().unwrap();
        let state = state(&up, data.path()).await;
        let base = serve(state.clone(), data.path()).await;
        let demo = up.emulator.demo();
        let partner = demo
            .partners
            .iter()
            .find(|p| p.tenant_id == up.credentials.tenant);
        let admin = &partner.unwrap().users[0];
        let me = common::sign_in(&base, &admin.user_name, &admin.password).await;
        let connection = state.connection.clone().unwrap();
        state
            .sync
            .run(&connection, proxy::sync::SyncKind::Full)
            .await
            .unwrap();
        let get = reqwest::Method::GET;
        let list: CustomerList = me.json(get.clone(), "/api/customers", None).await;
        assert_eq!(list.as_of.unwrap().to_string(), as_of, "{today}");
        let customer = &list.customers[0];
        let path = format!("/api/customers/{}", customer.id);
        let detail: CustomerDetail = me.json(get, &path, None).await;
        match detail.partner_center_estimate {
            Some((_, currency)) => {
                assert!(shown, "{today}: an estimate beside the month before");
                assert_eq!(Some(currency), customer.currency, "{today}");
            }
            None => assert!(
                !shown,
                "{today}: the estimate of the month shown is missing"
            ),
        }
    }
}
