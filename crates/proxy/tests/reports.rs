//! Scheduled reports and a customer's own messages, end to end with a real
//! SMTP server (aiosmtpd): last month's report to the partner's recipient
//! with its line items attached, and to each invited user of a customer
//! its own costs and budget at its price. Figures are checked against the
//! emulator's own lines (`/emulator/truth`), and what a customer's user
//! received is searched for every partner figure.

mod common;
#[path = "focus/csv.rs"]
mod csv;
#[path = "alerts/parts.rs"]
mod parts;

use std::collections::BTreeMap;

use model::Amount;
use model::alerts::message::{money as written, percent};
use model::api::CustomerList;
use model::i18n::Locale;
use parts::*;
use proxy::AppState;
use proxy::sync::SyncKind;
use serde_json::{Value, json};

/// The look the test makes: ten days into December.
const NOW: &str = "2026-12-10T08:00:00Z";
const M: i64 = 1_000_000;

fn money(micros: i64, currency: &str) -> String {
    written(micros, currency, Locale::En)
}

/// November by customer as the emulator served it: currency, rows, cost.
async fn november(up: &common::Upstream) -> BTreeMap<String, (String, usize, i64)> {
    let partner = common::partner_truth(up, true).await;
    // Each customer's currency, as the emulator's totals name it.
    let currency: BTreeMap<String, String> =
        common::upstream_totals(up).await.into_keys().collect();
    let mut out: BTreeMap<String, (String, usize, i64)> = BTreeMap::new();
    for line in partner["lines"].as_array().unwrap() {
        if !line["day"].as_str().unwrap().starts_with("2026-11-") {
            continue;
        }
        let id = line["customerId"].as_str().unwrap().to_ascii_lowercase();
        let e = out
            .entry(id.clone())
            .or_insert_with(|| (currency[&id].clone(), 0, 0));
        e.1 += line["rows"].as_u64().unwrap() as usize;
        e.2 += Amount::parse_decimal(line["billingTotal"].as_str().unwrap())
            .unwrap()
            .micros();
    }
    out
}

fn micros(cell: &Option<String>) -> i64 {
    Amount::parse_decimal(cell.as_deref().unwrap())
        .unwrap()
        .micros()
}

fn column(rows: &[Vec<Option<String>>], name: &str) -> usize {
    rows[0]
        .iter()
        .position(|h| h.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no {name} column in {:?}", rows[0]))
}

fn to(m: &Value) -> String {
    m["rcptTos"][0].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_months_report_and_each_customer_users_own_arrive_once_at_the_right_price() {
    let a = Alerting::start(common::emulator_config("2026-12-10"), &[]).await;
    let (state, smtp, partner) = (&a.state, &a.smtp, a.partner());
    let connection = state.connection.clone().unwrap();
    state.sync.run(&connection, SyncKind::Full).await.unwrap();
    let customers_url = format!("{}/api/customers", a.base);
    let customers = || common::get_json::<CustomerList>(&a.http, &customers_url);
    let ours = a.up.demo_partner();
    let (ann, bo, cy) = (
        &ours.customer_users[0],
        &ours.customer_users[1],
        &ours.customer_users[2],
    );

    // The partner prices Ann's company 12.5 % over its cost.
    let res = a
        .http
        .put(format!(
            "{}/api/customers/{}/markup",
            a.base, ann.customer_id
        ))
        .json(&json!({ "basis": "partnerCost", "percent": "12.5" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // A budget December's price has reached 80 % of and its cost has not.
    let list = customers().await;
    let c = list
        .customers
        .iter()
        .find(|c| c.id == ann.customer_id)
        .unwrap()
        .clone();
    let (price, cost) = (c.month_to_date.customer_price, c.month_to_date.partner_cost);
    let usd = c.currency.clone().unwrap();
    let usd = usd.as_str();
    assert!(price > 20 * M, "enough December usage to tell: {price}");
    let budget = price * 100 / 80 / M * M;
    assert!(cost * 100 < budget * 80 && price * 100 >= budget * 80);
    let res = a
        .http
        .put(format!(
            "{}/api/customers/{}/budget",
            a.base, ann.customer_id
        ))
        .json(&json!({ "amount": (budget / M).to_string() }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    for u in [ann, bo, cy] {
        let res = a
            .http
            .post(format!("{}/api/customers/{}/users", a.base, u.customer_id))
            .json(&json!({ "userName": u.user_name }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    a.add_rule(json!({"events": ["monthly-report"], "channel": "email", "target": "finance@fabrikam.example"}))
        .await;
    a.add_rule(
        json!({"events": ["customer-report", "customer-budget"], "channel": "customer-users"}),
    )
    .await;
    a.add_rule(json!({"events": ["weekly-report"], "channel": "webhook", "target": a.hook.url, "shape": "generic"}))
        .await;

    let now = NOW.parse().unwrap();
    proxy::alerts::detect_at(state, partner, now).await.unwrap();
    // Cy's invitation is taken back before his report goes: it never does.
    let res = a
        .http
        .delete(format!(
            "{}/api/customers/{}/users/{}",
            a.base, cy.customer_id, cy.user_name
        ))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    send_all(state).await;
    let log: Vec<model::alerts::rules::Delivery> =
        common::get_json(&a.http, &format!("{}/api/alerts/deliveries", a.base)).await;
    let withheld: Vec<_> = log.iter().filter(|d| d.target == cy.user_name).collect();
    assert_eq!(withheld.len(), 1, "{log:?}");
    assert_eq!(withheld[0].status, "failed");
    assert_eq!(
        withheld[0]
            .attempts
            .iter()
            .map(|t| t.result.as_str())
            .collect::<Vec<_>>(),
        ["the user is no longer invited to the customer's view"]
    );
    let mails = smtp.messages();
    let truth = november(&a.up).await;
    let list = customers().await;
    let name = |id: &str| {
        list.customers
            .iter()
            .find(|c| c.id == id)
            .unwrap()
            .name
            .clone()
    };

    // The partner's report: each currency's November as the emulator served it.
    let report: Vec<&Value> = mails
        .iter()
        .filter(|m| to(m) == "finance@fabrikam.example")
        .collect();
    assert_eq!(report.len(), 1, "{mails:?}");
    let report = report[0];
    assert_eq!(report["subject"], "CSP Costs report for November 2026");
    let body = text(report, "text");
    let mut by_currency: BTreeMap<&str, (usize, i64)> = BTreeMap::new();
    for (currency, rows, cost) in truth.values() {
        let e = by_currency.entry(currency).or_default();
        e.0 += rows;
        e.1 += cost;
    }
    let attached = &report["attachments"];
    assert_eq!(attached.as_array().unwrap().len(), 1);
    assert_eq!(
        attached[0]["filename"],
        "line-items-all-customers-2026-11-01-2026-11-30.csv"
    );
    assert_eq!(attached[0]["contentType"], "text/csv");
    let rows = csv::records(attached[0]["content"].as_str().unwrap());
    let (cur, cost_at, price_at) = (
        column(&rows, "Currency"),
        column(&rows, "Partner cost"),
        column(&rows, "Customer price"),
    );
    for (currency, (lines, cost)) in &by_currency {
        let mine: Vec<&Vec<Option<String>>> = rows[1..]
            .iter()
            .filter(|r| r[cur].as_deref() == Some(*currency))
            .collect();
        assert_eq!(mine.len(), *lines, "{currency}: the emulator's rows");
        assert_eq!(
            mine.iter().map(|r| micros(&r[cost_at])).sum::<i64>(),
            *cost,
            "{currency}: the emulator's cost"
        );
        let price: i64 = mine.iter().map(|r| micros(&r[price_at])).sum();
        let line = format!(
            "- {currency}: partner cost {}, customer price {}, margin ",
            money(*cost, currency),
            money(price, currency)
        );
        assert!(body.contains(&line), "{line} in {body}");
    }
    assert_eq!(
        rows.len() - 1,
        by_currency.values().map(|v| v.0).sum::<usize>()
    );
    // The largest customers of each currency, largest first.
    let mut top = Vec::new();
    for currency in by_currency.keys() {
        let mut of: Vec<(&String, i64)> = truth
            .iter()
            .filter(|(_, v)| v.0 == *currency)
            .map(|(id, v)| (id, v.2))
            .collect();
        of.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| name(x.0).cmp(&name(y.0))));
        top.extend(
            of.into_iter()
                .take(5)
                .map(|(id, cost)| format!("- {}: {} (price ", name(id), money(cost, currency))),
        );
    }
    let mut at = body.find("Top customers by partner cost:").unwrap();
    for line in &top {
        let found = body[at..].find(line.as_str());
        at += found.unwrap_or_else(|| panic!("{line} after the lines before it in {body}"));
    }
    // Budgets: Ann's company spent more in November than its budget.
    let over: Vec<String> = list
        .customers
        .iter()
        .filter(|c| c.budget.is_some_and(|b| b > 0))
        .filter(|c| truth.get(&c.id).is_some_and(|t| t.2 > c.budget.unwrap()))
        .map(|c| c.name.clone())
        .collect();
    let budgets = list
        .customers
        .iter()
        .filter(|c| c.budget.is_some_and(|b| b > 0) && c.currency.is_some())
        .count();
    assert!(over.contains(&ann.company_name), "{over:?}");
    assert!(
        body.contains(&format!(
            "Budgets: {} over, {} within. Over budget:",
            over.len(),
            budgets - over.len()
        )),
        "{body}"
    );
    let (_, _, ann_november) = &truth[&ann.customer_id];
    assert!(body.contains(&format!(
        "- {}: {} of a {} budget",
        ann.company_name,
        money(*ann_november, usd),
        money(budget, usd)
    )));
    assert!(text(report, "text").contains(
        "The line items are attached: line-items-all-customers-2026-11-01-2026-11-30.csv."
    ));

    // Ann: her company's November and December at its price, nothing of the partner's.
    let to_ann: Vec<&Value> = mails.iter().filter(|m| to(m) == ann.user_name).collect();
    let subjects: Vec<&str> = to_ann
        .iter()
        .map(|m| m["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        subjects.len(),
        2,
        "a report and a budget message: {subjects:?}"
    );
    let own = to_ann
        .iter()
        .find(|m| m["subject"] == "Your Azure costs for November 2026")
        .unwrap();
    let file = format!("costs-{}-2026-11-01-2026-11-30.csv", &ann.customer_id[..8]);
    assert_eq!(own["attachments"][0]["filename"], file.as_str());
    let rows = csv::records(own["attachments"][0]["content"].as_str().unwrap());
    let header: Vec<&str> = rows[0].iter().map(|h| h.as_deref().unwrap()).collect();
    assert_eq!(
        header,
        [
            "Date (UTC)",
            "Azure subscription",
            "Resource group",
            "Resource",
            "Service",
            "Meter subcategory",
            "Meter",
            "Region",
            "Unit",
            "Quantity",
            "Currency",
            "Unit price",
            "Price"
        ]
    );
    let (_, ann_rows, ann_cost) = &truth[&ann.customer_id];
    assert_eq!(rows.len() - 1, *ann_rows);
    let ann_price: i64 = rows[1..].iter().map(|r| micros(&r[12])).sum();
    // 12.5 % over the emulator's cost, each line to the millionth.
    let over_cost = ann_cost + ann_cost / 8;
    assert!(
        (ann_price - over_cost).abs() <= *ann_rows as i64,
        "{ann_price} against {over_cost}"
    );
    assert_eq!(
        text(own, "text"),
        format!(
            "{}'s Azure costs for November 2026 come to {}.\n\nOpen CSP Costs: http://127.0.0.1:8080/my\n\nThe line items are attached: {file}.\n",
            ann.company_name,
            money(ann_price, usd)
        )
    );
    let crossed = to_ann
        .iter()
        .find(|m| m["subject"] == "Your Azure costs reached 80% of your December 2026 budget")
        .unwrap();
    assert_eq!(
        text(crossed, "text"),
        format!(
            "{}'s Azure costs for December 2026 so far are {}, {} of its budget of {}.\n\nOpen CSP Costs: http://127.0.0.1:8080/my\n",
            ann.company_name,
            money(price, usd),
            percent((price as i128 * 10_000 / budget as i128) as i64),
            money(budget, usd)
        )
    );
    // The received bytes, decoded or not, hold no partner figure or word.
    for m in &to_ann {
        let mut seen = vec![
            m["raw"].as_str().unwrap().to_string(),
            text(m, "text"),
            text(m, "html"),
        ];
        seen.extend(
            m["attachments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["content"].as_str().unwrap().to_string()),
        );
        for bytes in &seen {
            let lower = bytes.to_lowercase();
            for partner_figure in [
                money(*ann_cost, usd),
                money(cost, usd),
                model::export::decimal(*ann_cost),
                model::export::decimal(cost),
                "partner cost".into(),
                "margin".into(),
                "list cost".into(),
            ] {
                assert!(
                    !lower.contains(&partner_figure.to_lowercase()),
                    "{partner_figure} reached {}: {bytes}",
                    ann.user_name
                );
            }
        }
    }

    // Bo hears of his own company only.
    let to_bo: Vec<&Value> = mails.iter().filter(|m| to(m) == bo.user_name).collect();
    assert!(
        to_bo
            .iter()
            .any(|m| m["subject"] == "Your Azure costs for November 2026")
    );
    for m in &to_bo {
        assert!(!m["raw"].as_str().unwrap().contains(&ann.company_name));
        let rows = csv::records(m["attachments"][0]["content"].as_str().unwrap_or(""));
        if m["subject"] == "Your Azure costs for November 2026" {
            assert_eq!(rows.len() - 1, truth[&bo.customer_id].1);
        }
    }
    assert_eq!(mails.len(), 1 + to_ann.len() + to_bo.len(), "no one else");

    // Last week's report to the webhook: Monday Nov 30 to Sunday Dec 6.
    let posted = a.hook.got();
    assert_eq!(posted.len(), 1);
    let weekly: Value = serde_json::from_str(&posted[0].body).unwrap();
    assert_eq!(weekly["event"], "weekly-report");
    assert_eq!(weekly["key"], "report:week:2026-11-30");
    assert_eq!(weekly["facts"]["to"], "2026-12-06");
    assert_eq!(
        weekly["title"],
        "CSP Costs report for the week of Nov 30, 2026"
    );

    // A restart, the same look: nothing is new, nothing is sent again.
    let again = AppState::new(&a.config).await.unwrap();
    assert!(
        proxy::alerts::detect_at(&again, partner, now)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(send_all(&again).await, 0);
    assert_eq!(smtp.messages().len(), mails.len());
    assert_eq!(a.hook.got().len(), 1);
}
