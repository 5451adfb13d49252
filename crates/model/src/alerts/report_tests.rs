use chrono::NaiveDate;

use super::*;
use crate::alerts::message::{mail, say};
use crate::alerts::worth_sending;
use crate::margin::{CustomerMargin, MarginFigures};
use crate::report::{CostPrice, budget_state};

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn margin(id: &str, currency: &str, cost: i64, price: i64) -> CustomerMargin {
    CustomerMargin {
        customer_id: id.into(),
        customer_name: format!("Customer {id}"),
        currency: currency.into(),
        figures: MarginFigures {
            partner_cost: cost,
            customer_price: price,
            list_cost: price * 2,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn summary(id: &str, budget: Option<i64>, cost: i64, price: i64) -> CustomerSummary {
    CustomerSummary {
        id: id.into(),
        name: format!("Customer {id}"),
        currency: Some("USD".into()),
        month_to_date: CostPrice {
            partner_cost: cost,
            customer_price: price,
        },
        budget,
        budget_state: budget_state(budget, cost, cost),
        budget_thresholds: vec![50, 80, 100],
        ..Default::default()
    }
}

const M: i64 = 1_000_000;

#[test]
fn the_last_period_is_the_whole_month_or_monday_to_sunday_before_today() {
    let month = last_period(Cadence::Month, day("2026-12-03"));
    assert_eq!(month, (day("2026-11-01"), day("2026-11-30")));
    let january = last_period(Cadence::Month, day("2027-01-01"));
    assert_eq!(january, (day("2026-12-01"), day("2026-12-31")));
    // Thursday, Dec 3: the week before is Mon Nov 23 to Sun Nov 29.
    let week = last_period(Cadence::Week, day("2026-12-03"));
    assert_eq!(week, (day("2026-11-23"), day("2026-11-29")));
    let monday = last_period(Cadence::Week, day("2026-11-30"));
    assert_eq!(monday, week);
    assert_eq!(report_key(Cadence::Month, month.0), "report:month:2026-11");
    assert_eq!(report_key(Cadence::Week, week.0), "report:week:2026-11-23");
}

#[test]
fn a_report_waits_for_usage_of_a_day_after_its_period() {
    let to = day("2026-11-30");
    assert!(!report_ready(to, None));
    assert!(!report_ready(to, Some(day("2026-11-30"))));
    assert!(report_ready(to, Some(day("2026-12-01"))));
}

#[test]
fn the_partner_report_totals_each_currency_and_names_its_largest_customers() {
    let mut margins: Vec<CustomerMargin> = (1..=7)
        .map(|i| margin(&format!("u{i}"), "USD", i * 100 * M, i * 120 * M))
        .collect();
    margins.push(margin("e1", "EUR", 50 * M, 40 * M));
    let customers = [
        // Over: 700 of 600; within: 100 of 500; no budget: not counted.
        CustomerSummary {
            currency: Some("USD".into()),
            ..summary("u7", Some(600 * M), 0, 0)
        },
        summary("u1", Some(500 * M), 0, 0),
        summary("u2", None, 0, 0),
    ];
    let e = partner_report(
        Cadence::Month,
        (day("2026-11-01"), day("2026-11-30")),
        &margins,
        &customers,
    );
    assert_eq!(e.key, "report:month:2026-11");
    assert_eq!(e.kind(), crate::alerts::EventKind::MonthlyReport);
    let Facts::Report {
        totals,
        top,
        over_budget,
        within_budget,
        ..
    } = &e.facts
    else {
        panic!("{e:?}")
    };
    assert_eq!(
        totals,
        &[
            CurrencyTotal {
                currency: "EUR".into(),
                partner_cost: 50 * M,
                customer_price: 40 * M,
                customers: 1
            },
            CurrencyTotal {
                currency: "USD".into(),
                partner_cost: 2800 * M,
                customer_price: 3360 * M,
                customers: 7
            },
        ]
    );
    let names: Vec<&str> = top.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Customer e1",
            "Customer u7",
            "Customer u6",
            "Customer u5",
            "Customer u4",
            "Customer u3"
        ]
    );
    assert_eq!(
        over_budget,
        &[OverBudget {
            name: "Customer u7".into(),
            currency: "USD".into(),
            budget: 600 * M,
            partner_cost: 700 * M
        }]
    );
    assert_eq!(*within_budget, 1);

    let said = say(&e, Locale::En);
    assert_eq!(said.title, "CSP Costs report for November 2026");
    assert_eq!(
        said.body,
        "Totals for November 2026:\n\
         - EUR: partner cost €50.00, customer price €40.00, margin -25% (1 customer)\n\
         - USD: partner cost $2,800.00, customer price $3,360.00, margin 16.7% (7 customers)\n\
         \n\
         Top customers by partner cost:\n\
         - Customer e1: €50.00 (price €40.00)\n\
         - Customer u7: $700.00 (price $840.00)\n\
         - Customer u6: $600.00 (price $720.00)\n\
         - Customer u5: $500.00 (price $600.00)\n\
         - Customer u4: $400.00 (price $480.00)\n\
         - Customer u3: $300.00 (price $360.00)\n\
         \n\
         Budgets: 1 over, 1 within. Over budget:\n\
         - Customer u7: $700.00 of a $600.00 budget"
    );
    // In HTML, each line a paragraph and the figures a list.
    let html = mail(&e, Locale::En, "https://costs.example").html;
    assert!(
        html.contains(
            "<p>Totals for November 2026:</p>\n<ul>\n<li>EUR: partner cost €50.00, customer price €40.00, margin -25% (1 customer)</li>\n"
        ),
        "{html}"
    );
    assert!(html.contains("</li>\n</ul>\n<p>Top customers by partner cost:</p>\n<ul>\n"));
    assert_eq!(html.matches("<ul>").count(), 3);
    // In a Teams card, a text block a line.
    let card = crate::alerts::message::webhook_body(
        &e,
        crate::alerts::message::WebhookShape::Teams,
        Locale::En,
        "https://costs.example",
    );
    let blocks = card["attachments"][0]["content"]["body"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(
        blocks.len(),
        1 + said.body.lines().filter(|l| !l.is_empty()).count()
    );
    assert_eq!(
        blocks[2]["text"],
        "- EUR: partner cost €50.00, customer price €40.00, margin -25% (1 customer)"
    );
    let zh = say(&e, Locale::ZhTw);
    assert_eq!(zh.title, "CSP Costs 2026年11月報告");
    assert!(
        zh.body.contains(
            "- USD：合作夥伴成本 US$2,800.00，客戶價格 US$3,360.00，毛利 16.7%（7 位客戶）"
        ),
        "{}",
        zh.body
    );
}

#[test]
fn a_weekly_report_has_no_budgets_and_says_its_week() {
    let e = partner_report(
        Cadence::Week,
        (day("2026-11-23"), day("2026-11-29")),
        &[margin("a", "USD", M, 2 * M)],
        &[summary("a", Some(M / 2), 0, 0)],
    );
    assert_eq!(e.kind(), crate::alerts::EventKind::WeeklyReport);
    let said = say(&e, Locale::En);
    assert_eq!(said.title, "CSP Costs report for the week of Nov 23, 2026");
    assert!(!said.body.contains("Budgets"), "{}", said.body);
}

#[test]
fn a_customers_report_and_budget_carry_its_price_and_nothing_of_the_partners() {
    let users = [
        ("a".to_string(), "ann@contoso.example".to_string()),
        ("a".to_string(), "bo@contoso.example".to_string()),
        ("b".to_string(), "cy@fabrikam.example".to_string()),
    ];
    // Cost 123.45, price 987.65: only the price may be in what users get.
    let reports = customer_reports(
        (day("2026-11-01"), day("2026-11-30")),
        &[margin("a", "USD", 123_450_000, 987_650_000)],
        &users,
    );
    let keys: Vec<&str> = reports.iter().map(|e| e.key.as_str()).collect();
    // Customer b had no usage: no report.
    assert_eq!(
        keys,
        [
            "customer-report:a:2026-11:ann@contoso.example",
            "customer-report:a:2026-11:bo@contoso.example"
        ]
    );
    let m = mail(&reports[0], Locale::En, "https://costs.example/my");
    assert_eq!(m.subject, "Your Azure costs for November 2026");
    assert_eq!(
        m.text,
        "Customer a's Azure costs for November 2026 come to $987.65.\n\nOpen CSP Costs: https://costs.example/my\n"
    );
    // A budget of 1,000.00: the partner's cost (700) crossed 50 %, the
    // customer's price (850) crossed 80 % too; its users hear of 80 %.
    let customers = [summary("a", Some(1000 * M), 700 * M, 850 * M)];
    let own = customer_budget_events(&customers, &users, day("2026-11-20"));
    let keys: Vec<&str> = own.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "customer-budget:a:2026-11:50:ann@contoso.example",
            "customer-budget:a:2026-11:50:bo@contoso.example",
            "customer-budget:a:2026-11:80:ann@contoso.example",
            "customer-budget:a:2026-11:80:bo@contoso.example"
        ]
    );
    let sent: Vec<&str> = worth_sending(&own).iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        sent,
        [
            "customer-budget:a:2026-11:80:ann@contoso.example",
            "customer-budget:a:2026-11:80:bo@contoso.example"
        ]
    );
    let said = say(&own[2], Locale::En);
    assert_eq!(
        said.title,
        "Your Azure costs reached 80% of your November 2026 budget"
    );
    assert_eq!(
        said.body,
        "Customer a's Azure costs for November 2026 so far are $850.00, 85% of its budget of $1,000.00."
    );
    let zh = say(&own[2], Locale::ZhTw);
    assert_eq!(zh.title, "您的 Azure 費用已達 2026年11月 預算的 80%");
    // What a customer's user gets holds no partner figure, in any form.
    for e in reports.iter().chain(&own) {
        let facts = serde_json::to_string(&e.facts).unwrap();
        for locale in [Locale::En, Locale::ZhTw] {
            let m = mail(e, locale, "https://costs.example/my");
            for text in [&facts, &m.subject, &m.text, &m.html] {
                for partner in [
                    "123.45",
                    "123,45",
                    "700.00",
                    "700",
                    "partner",
                    "margin",
                    "合作夥伴",
                ] {
                    assert!(
                        !text.to_lowercase().contains(partner),
                        "{partner} in {text}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_attachment_note_says_attached_or_where_to_download() {
    assert_eq!(
        attachment_note(Locale::En, "costs.csv", true, "https://x.example/my"),
        "The line items are attached: costs.csv."
    );
    assert_eq!(
        attachment_note(Locale::ZhTw, "costs.csv", false, "https://x.example/my"),
        "明細過大無法寄送，請從 https://x.example/my 下載 costs.csv。"
    );
}
