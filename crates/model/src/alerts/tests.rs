use super::message::{WebhookShape, mail, money, percent, say, webhook_body};
use super::*;
use crate::i18n::Locale;
use crate::report::CostPrice;

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn customer(id: &str, budget: Option<i64>, cost: i64) -> CustomerSummary {
    CustomerSummary {
        id: id.into(),
        name: format!("Customer {id}"),
        currency: Some("USD".into()),
        month_to_date: CostPrice {
            partner_cost: cost,
            customer_price: cost,
        },
        budget,
        budget_state: crate::report::budget_state(budget, cost, cost),
        budget_thresholds: vec![50, 80, 100],
        ..Default::default()
    }
}

fn keys(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.key.as_str()).collect()
}

#[test]
fn a_threshold_is_crossed_at_its_exact_percent_not_a_millionth_before() {
    let budget = 1_000_000_000; // 1,000.00
    let just_under = customer("a", Some(budget), 799_999_999);
    let on = customer("b", Some(budget), 800_000_000);
    let events = customer_events(&[just_under, on], day("2026-11-20"));
    assert_eq!(
        keys(&events),
        [
            "budget:a:2026-11:50",
            "budget:b:2026-11:50",
            "budget:b:2026-11:80"
        ]
    );
}

#[test]
fn no_budget_or_no_usage_makes_no_budget_event() {
    let mut none = customer("a", None, 5_000_000);
    none.anomalies.clear();
    let mut unused = customer("b", Some(1_000_000), 0);
    unused.currency = None;
    assert!(customer_events(&[none, unused], day("2026-11-20")).is_empty());
}

#[test]
fn of_thresholds_crossed_at_once_only_the_highest_is_sent() {
    let events = customer_events(
        &[
            customer("a", Some(100_000_000), 120_000_000),
            customer("b", Some(100_000_000), 60_000_000),
        ],
        day("2026-11-20"),
    );
    let sent: Vec<&str> = worth_sending(&events)
        .iter()
        .map(|e| e.key.as_str())
        .collect();
    assert_eq!(sent, ["budget:a:2026-11:100", "budget:b:2026-11:50"]);
}

#[test]
fn a_forecast_over_budget_is_its_own_event() {
    let mut c = customer("a", Some(100_000_000), 40_000_000);
    c.forecast.partner_cost = 130_000_000;
    c.budget_state = crate::report::budget_state(c.budget, 40_000_000, 130_000_000);
    let events = customer_events(&[c], day("2026-11-10"));
    assert_eq!(keys(&events), ["forecast:a:2026-11"]);
    match &events[0].facts {
        Facts::BudgetForecast { forecast, .. } => assert_eq!(*forecast, 130_000_000),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_key_is_at_the_most_urgent_mark_it_reached() {
    let now = at("2026-12-03T06:00:00Z");
    let key = |id: &str, expires: &str| KeyInUse {
        key_id: id.into(),
        name: format!("key {id}"),
        expires_at: at(expires),
    };
    let events = key_events(
        &[
            key("far", "2027-06-01T00:00:00Z"),
            key("month", "2027-01-01T00:00:00Z"),
            key("week", "2026-12-08T00:00:00Z"),
            key("day", "2026-12-04T01:00:00Z"),
            key("gone", "2026-12-03T05:59:59Z"),
        ],
        now,
    );
    assert_eq!(
        keys(&events),
        [
            "key:month:30",
            "key:week:7",
            "key:day:1",
            "key:gone:expired"
        ]
    );
}

fn run(start: &str, minutes: i64, failure: Option<&str>) -> RunOutcome {
    let started_at = at(start);
    RunOutcome {
        started_at,
        finished_at: started_at + Duration::minutes(minutes),
        failure: failure.map(str::to_string),
    }
}

#[test]
fn a_sync_failing_longer_than_the_setting_then_recovering_makes_two_events() {
    let six = Duration::hours(6);
    let runs = [
        run("2026-12-01T00:00:00Z", 5, None),
        run(
            "2026-12-01T04:00:00Z",
            1,
            Some("AADSTS7000222: the key expired"),
        ),
        run(
            "2026-12-01T08:00:00Z",
            1,
            Some("AADSTS7000222: the key expired"),
        ),
    ];
    // Four hours of failures, then eight.
    assert!(sync_events(&runs, at("2026-12-01T08:01:00Z"), six).is_empty());
    let failing = sync_events(&runs, at("2026-12-01T12:00:00Z"), six);
    assert_eq!(keys(&failing), ["sync-failing:1796097600"]);
    match &failing[0].facts {
        Facts::SyncFailing { hours, reason, .. } => {
            assert_eq!(*hours, 8);
            assert!(reason.contains("AADSTS7000222"));
        }
        other => panic!("{other:?}"),
    }
    let mut recovered = runs.to_vec();
    recovered.push(run("2026-12-01T12:00:00Z", 10, None));
    let events = sync_events(&recovered, at("2026-12-01T13:00:00Z"), six);
    assert_eq!(
        keys(&events),
        ["sync-failing:1796097600", "sync-recovered:1796097600"]
    );
}

#[test]
fn a_short_failure_ended_by_a_success_is_nothing() {
    let runs = [
        run("2026-12-01T04:00:00Z", 1, Some("HTTP 503")),
        run("2026-12-01T05:00:00Z", 1, None),
    ];
    assert!(sync_events(&runs, at("2026-12-02T00:00:00Z"), Duration::hours(6)).is_empty());
}

#[test]
fn the_trial_marks_are_seven_days_and_one() {
    let ends = Some(day("2026-12-10"));
    assert!(trial_events(ends, day("2026-12-02")).is_empty());
    assert_eq!(
        keys(&trial_events(ends, day("2026-12-03"))),
        ["trial:2026-12-10:7"]
    );
    assert_eq!(
        keys(&trial_events(ends, day("2026-12-09"))),
        ["trial:2026-12-10:1"]
    );
    assert_eq!(
        keys(&trial_events(ends, day("2026-12-10"))),
        ["trial:2026-12-10:1"]
    );
    assert!(trial_events(ends, day("2026-12-11")).is_empty());
    assert!(trial_events(None, day("2026-12-09")).is_empty());
}

#[test]
fn amounts_are_written_as_the_app_writes_them() {
    use Locale::{En, ZhTw};
    assert_eq!(money(1_234_560_000, "USD", En), "$1,234.56");
    assert_eq!(money(1_234_560_000, "USD", ZhTw), "US$1,234.56");
    assert_eq!(money(1_234_500_000, "TWD", ZhTw), "$1,235");
    assert_eq!(money(1_234_500_000, "TWD", En), "NT$1,235");
    assert_eq!(money(999_995_000, "EUR", En), "€1,000.00");
    assert_eq!(money(-5_000_000, "GBP", En), "-£5.00");
    assert_eq!(money(-1_000, "USD", En), "$0.00", "never -$0.00");
    assert_eq!(money(1_000_000_000_000, "JPY", En), "¥1,000,000");
    assert_eq!(money(12_000_000, "CHF", En), "CHF\u{a0}12.00");
    assert_eq!(percent(8_123), "81.2%");
    assert_eq!(percent(8_000), "80%");
    assert_eq!(percent(-250), "-2.5%");
}

#[test]
fn a_threshold_message_states_the_figures() {
    let events = customer_events(
        &[customer("a", Some(1_000_000_000), 812_400_000)],
        day("2026-11-20"),
    );
    let said = say(worth_sending(&events)[0], Locale::En);
    assert_eq!(
        said.title,
        "Customer a reached 80% of its November 2026 budget"
    );
    assert_eq!(
        said.body,
        "Customer a's partner cost for November 2026 is $812.40, 81.2% of its budget of $1,000.00."
    );
    let zh = say(worth_sending(&events)[0], Locale::ZhTw);
    assert_eq!(zh.title, "Customer a 已達 2026年11月 預算的 80%");
    assert!(zh.body.contains("US$812.40") && zh.body.contains("81.2%"));
}

#[test]
fn every_event_reads_in_chinese_without_english_words_but_names() {
    let c = AboutCustomer {
        id: "a".into(),
        name: "Contoso".into(),
        currency: "USD".into(),
    };
    let all = [
        Facts::BudgetThreshold {
            customer: c.clone(),
            month: "2026-11".into(),
            threshold: 80,
            budget: 1,
            month_to_date: 1,
        },
        Facts::BudgetForecast {
            customer: c.clone(),
            month: "2026-11".into(),
            budget: 1,
            month_to_date: 1,
            forecast: 2,
        },
        Facts::Anomaly {
            customer: c.clone(),
            day: day("2026-11-03"),
            cost: 1,
            expected: 1,
        },
        Facts::MarginFell {
            customer: c,
            month: "2026-11".into(),
            margin: 1000,
            margin_before: 1500,
        },
        Facts::CreditLost {
            customer: AboutCustomer {
                id: "a".into(),
                name: "Contoso".into(),
                currency: "USD".into(),
            },
            month: "2026-11".into(),
            lost: 1,
            lines: 3,
        },
        Facts::KeyExpiry {
            key_name: "Key".into(),
            expires: day("2026-12-10"),
            days: 7,
        },
        Facts::KeyExpiry {
            key_name: "Key".into(),
            expires: day("2026-12-10"),
            days: 0,
        },
        Facts::SyncFailing {
            since: at("2026-12-01T00:00:00Z"),
            hours: 7,
            reason: "".into(),
        },
        Facts::SyncRecovered {
            failed_since: at("2026-12-01T00:00:00Z"),
            recovered_at: at("2026-12-01T09:00:00Z"),
        },
        Facts::TrialEnding {
            ends: day("2026-12-10"),
            days: 1,
        },
        Facts::Test {
            asked_by: "Ann".into(),
        },
    ];
    for facts in all {
        let event = Event {
            key: "k".into(),
            facts,
        };
        let zh = say(&event, Locale::ZhTw);
        let text = format!("{} {}", zh.title, zh.body)
            .replace("Contoso", "")
            .replace("Key", "")
            .replace("Ann", "")
            .replace("CSP Costs", "")
            .replace("UTC", "")
            .replace("PEC", "")
            .replace("US$", "");
        assert!(
            !text.chars().any(|c| c.is_ascii_alphabetic()),
            "{:?}: {text}",
            event.kind()
        );
        let en = say(&event, Locale::En);
        assert!(!en.title.is_empty() && !en.body.is_empty());
    }
}

#[test]
fn an_e_mail_escapes_names_in_its_html_and_keeps_them_in_its_text() {
    let mut c = customer("a", Some(100_000_000), 100_000_000);
    c.name = "Tom & <Jerry>".into();
    let events = customer_events(&[c], day("2026-11-20"));
    let m = mail(
        worth_sending(&events)[0],
        Locale::En,
        "https://costs.example",
    );
    assert!(m.subject.starts_with("Tom & <Jerry> reached 100%"));
    assert!(m.text.contains("Tom & <Jerry>'s partner cost"));
    assert!(m.text.ends_with("Open CSP Costs: https://costs.example\n"));
    assert!(m.html.contains("Tom &amp; &lt;Jerry&gt;"));
    assert!(!m.html.contains("<Jerry>"));
}

#[test]
fn webhook_bodies_have_the_shapes_their_receivers_read() {
    let event = &key_events(
        &[KeyInUse {
            key_id: "k1".into(),
            name: "Prod <key>".into(),
            expires_at: at("2026-12-09T00:00:00Z"),
        }],
        at("2026-12-03T00:00:00Z"),
    )[0];
    let generic = webhook_body(
        event,
        WebhookShape::Generic,
        Locale::En,
        "https://c.example",
    );
    assert_eq!(generic["event"], "key-expiry");
    assert_eq!(generic["key"], "key:k1:7");
    assert_eq!(generic["facts"]["days"], 7);
    assert_eq!(generic["facts"]["expires"], "2026-12-09");
    let teams = webhook_body(event, WebhookShape::Teams, Locale::En, "https://c.example");
    let card = &teams["attachments"][0];
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(
        card["content"]["body"][0]["text"],
        "The app key \u{201c}Prod <key>\u{201d} expires in 7 days"
    );
    let slack = webhook_body(event, WebhookShape::Slack, Locale::En, "https://c.example");
    assert!(
        slack["text"]
            .as_str()
            .unwrap()
            .starts_with("*The app key \u{201c}Prod &lt;key&gt;\u{201d} expires in 7 days*\n")
    );
}

#[test]
fn kinds_read_back_by_name() {
    for k in EventKind::CHOSEN.into_iter().chain([EventKind::Test]) {
        assert_eq!(EventKind::parse(k.name()), Some(k));
        assert_eq!(
            serde_json::to_value(k).unwrap(),
            serde_json::Value::String(k.name().into())
        );
    }
    assert_eq!(EventKind::parse("budget"), None);
}

#[test]
fn credit_lost_is_once_a_month_per_customer_and_currency_with_its_figures() {
    use crate::margin::{CustomerMargin, MarginFigures};
    let margin = |id: &str, lost: i64, lines: u32| CustomerMargin {
        customer_id: id.into(),
        customer_name: format!("Customer {id}"),
        currency: "EUR".into(),
        figures: MarginFigures {
            pec_lost: lost,
            lost_lines: lines,
            ..Default::default()
        },
        ..Default::default()
    };
    let events = credit_events(
        &[margin("a", 12_340_000, 3), margin("b", 0, 0)],
        day("2026-11-20"),
    );
    assert_eq!(keys(&events), ["credit:a:EUR:2026-11"]);
    let said = say(&events[0], Locale::En);
    assert_eq!(
        said.title,
        "Customer a lost partner-earned credit in November 2026"
    );
    assert_eq!(
        said.body,
        "3 of Customer a's lines in November 2026 earned no partner-earned credit (PEC): €12.34 at the resources' usual rate."
    );
}
