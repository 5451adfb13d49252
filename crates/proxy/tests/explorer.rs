//! The Explorer's cube past the proxy's line-item limit: summed to the
//! dimensions asked for, a row per day, and every total still what the
//! emulator served (its own lines, `/emulator/truth`), per customer and
//! day, and in line items.

mod common;

use std::collections::BTreeMap;

use model::Amount;
use model::api::CustomerList;
use model::cube::{Bucket, CUBE_MEDIA_TYPE, Cube, Dim, PivotQuery};
use proxy::AppState;
use proxy::sync::SyncKind;

const FROM: &str = "2026-10-20";
const TO: &str = "2026-11-19";

struct Explorer {
    http: reqwest::Client,
    base: String,
}

impl Explorer {
    async fn cube(&self, query: &str) -> (u16, Vec<u8>) {
        let res = self
            .http
            .get(format!(
                "{}/api/usage?from={FROM}&to={TO}{query}",
                self.base
            ))
            .header("Accept", CUBE_MEDIA_TYPE)
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.bytes().await.unwrap().to_vec())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_limit_the_cube_is_summed_to_what_the_view_asks_and_its_totals_stay_exact() {
    let up = common::upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    let mut config = common::config(&up, data.path());
    config.cube_line_items = 500;
    let state = AppState::new(&config).await.unwrap();
    let connection = state.connection.clone().unwrap();
    state.sync.run(&connection, SyncKind::Full).await.unwrap();
    let http = common::admin_client(&state).await;
    let store = state.store.clone();
    let base = common::serve(state, data.path()).await;
    let explorer = Explorer { http, base };

    // The emulator's lines in the range: per (customer, day) in its currency.
    let truth = common::partner_truth(&up, true).await;
    let currency: BTreeMap<String, String> =
        common::upstream_totals(&up).await.into_keys().collect();
    let list: CustomerList =
        common::get_json(&explorer.http, &format!("{}/api/customers", explorer.base)).await;
    let name: BTreeMap<String, String> = list
        .customers
        .iter()
        .map(|c| (c.id.to_ascii_lowercase(), c.name.clone()))
        .collect();
    let mut served: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    let mut rows = 0u64;
    for line in truth["lines"].as_array().unwrap() {
        let day = line["day"].as_str().unwrap();
        if !(FROM..=TO).contains(&day) {
            continue;
        }
        let id = line["customerId"].as_str().unwrap().to_ascii_lowercase();
        let key = (name[&id].clone(), currency[&id].clone(), day.to_string());
        *served.entry(key).or_default() +=
            Amount::parse_decimal(line["billingTotal"].as_str().unwrap())
                .unwrap()
                .micros();
        rows += line["rows"].as_u64().unwrap();
    }
    assert!(
        rows > 500,
        "the range holds more lines than the limit: {rows}"
    );

    // By default, by customer: one row per customer, currency and day.
    let (status, body) = explorer.cube("").await;
    assert_eq!(status, 200);
    let by_customer = Cube::from_bytes(&body).unwrap();
    let summed = by_customer.summed.as_ref().expect("summed past the limit");
    assert_eq!(summed.kept, [Dim::Customer]);
    assert_eq!(by_customer.line_count(), rows);
    assert_eq!(
        by_customer.len(),
        served.len(),
        "a row per customer and day"
    );
    assert!(by_customer.covers(&[Dim::Customer, Dim::Currency]));
    assert!(!by_customer.covers(&[Dim::Meter]));
    let pivot = by_customer.pivot(&PivotQuery {
        group_by: vec![Dim::Customer],
        bucket: Bucket::Day,
        ..Default::default()
    });
    let mut shown: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    for row in &pivot.rows {
        for (day, m) in pivot.buckets.iter().zip(&row.series) {
            if m.lines > 0 {
                shown.insert(
                    (
                        row.keys[0].to_string(),
                        row.currency.to_string(),
                        day.to_string(),
                    ),
                    m.partner_cost,
                );
            }
        }
    }
    assert_eq!(shown, served);

    // Grouped by meter and a tag instead: other rows, the same totals per
    // currency and day, and the scope's tag keys all still offered.
    let (status, body) = explorer.cube("&keep=meter,tag:env").await;
    assert_eq!(status, 200);
    let by_meter = Cube::from_bytes(&body).unwrap();
    assert!(by_meter.covers(&[Dim::Meter, Dim::Tag("env".into())]));
    assert!(!by_meter.covers(&[Dim::Customer]));
    assert_eq!(by_meter.line_count(), rows);
    let per_day = |cube: &Cube| {
        let p = cube.pivot(&PivotQuery {
            bucket: Bucket::Day,
            ..Default::default()
        });
        let mut out: BTreeMap<(String, String), i64> = BTreeMap::new();
        for row in &p.rows {
            for (day, m) in p.buckets.iter().zip(&row.series) {
                *out.entry((row.currency.to_string(), day.to_string()))
                    .or_default() += m.partner_cost;
            }
        }
        out.retain(|_, v| *v != 0);
        out
    };
    let mut expected: BTreeMap<(String, String), i64> = BTreeMap::new();
    for ((_, cur, day), micros) in &served {
        *expected.entry((cur.clone(), day.clone())).or_default() += micros;
    }
    expected.retain(|_, v| *v != 0);
    assert_eq!(per_day(&by_meter), expected);
    let full_keys = by_customer.tag_keys();
    assert!(!full_keys.is_empty());
    assert_eq!(by_meter.tag_keys(), full_keys);

    // A markup, so that the customer's price is not the list cost.
    let res = explorer
        .http
        .put(format!(
            "{}/api/customers/{}/markup",
            explorer.base, list.customers[1].id
        ))
        .json(&serde_json::json!({ "basis": "partnerCost", "percent": "12.5" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // The reference: the lines as the exports read them (sqlx, joins),
    // one by one into a cube. The Explorer's own reader must give the same
    // cube, value for value and in the same order: for every customer, and
    // for one (its drill-down and its own view).
    let everything = proxy::store::Scope {
        customer: None,
        from: FROM.parse().unwrap(),
        to: TO.parse().unwrap(),
    };
    let one_customer = proxy::store::Scope {
        customer: Some(list.customers[1].id.clone()),
        ..everything.clone()
    };
    let mut references = Vec::new();
    for scope in [&one_customer, &everything] {
        let mut reference = model::cube::CubeBuilder::new();
        store
            .for_each_line(connection.partner, scope, |l, price| {
                reference.push(&proxy::store::cube_row(&l, price))
            })
            .await
            .unwrap();
        let reference = reference.finish();
        assert!(reference.len() > 100);
        let read = store
            .cube(connection.partner, scope, usize::MAX, &[])
            .await
            .unwrap();
        assert!(read == reference, "the Explorer's read differs, {scope:?}");
        references.push(reference);
    }
    let lines = references.pop().unwrap();
    assert!(lines.summed.is_none());
    assert_eq!(lines.len() as u64, rows);

    // Every dimension the store sums by itself, two at a time: each row of
    // the summed cube's pivot, and its line count, equals the same pivot of
    // the scope's line items read one by one (the reference above). The
    // resource's name is derived from text; the currency is always kept.
    let stored: Vec<Dim> = model::cube::STORED
        .into_iter()
        .filter(|d| !matches!(d, Dim::Resource | Dim::Currency))
        .collect();
    let mut sizes = std::collections::BTreeSet::new();
    for pair in stored
        .windows(2)
        // Those the store keeps summed at rest, alone and together.
        .chain([
            &[Dim::Currency, Dim::Customer][..],
            &[Dim::Customer, Dim::ChargeType],
            &[Dim::ChargeType],
        ])
    {
        let names: Vec<String> = pair.iter().map(Dim::name).collect();
        let (status, body) = explorer.cube(&format!("&keep={}", names.join(","))).await;
        assert_eq!(status, 200, "{names:?}");
        let summed = Cube::from_bytes(&body).unwrap();
        assert!(summed.summed.is_some(), "{names:?}");
        assert!(summed.len() < lines.len(), "{names:?}");
        let query = PivotQuery {
            group_by: pair.to_vec(),
            bucket: Bucket::Day,
            ..Default::default()
        };
        let table = |cube: &Cube| {
            let p = cube.pivot(&query);
            let mut out = BTreeMap::new();
            for row in &p.rows {
                for (day, m) in p.buckets.iter().zip(&row.series) {
                    if m.lines > 0 {
                        let key = (row.keys.clone(), row.currency.clone(), day.to_string());
                        let figures = (
                            m.partner_cost,
                            m.customer_price,
                            m.list_cost,
                            m.quantity,
                            m.lines,
                        );
                        out.insert(key, figures);
                    }
                }
            }
            out
        };
        let expected = table(&lines);
        sizes.insert(expected.len());
        assert_eq!(table(&summed), expected, "grouped by {names:?}");
        // The tag keys offered to group by next: the scope's, whether the
        // lines were summed as read or the sums kept at rest were read.
        assert!(!lines.tag_keys().is_empty());
        assert_eq!(summed.tag_keys(), lines.tag_keys(), "grouped by {names:?}");
    }
    assert!(
        sizes.len() > 3,
        "the pairs group the lines differently: {sizes:?}"
    );

    // One customer's scope is its line items, whatever the limit.
    let (status, body) = explorer
        .cube(&format!("&customer={}", list.customers[0].id))
        .await;
    assert_eq!(status, 200);
    let one = Cube::from_bytes(&body).unwrap();
    assert!(one.summed.is_none());
    let first = &list.customers[0].name;
    let expected_rows: u64 = truth["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| {
            let day = l["day"].as_str().unwrap();
            (FROM..=TO).contains(&day)
                && name[&l["customerId"].as_str().unwrap().to_ascii_lowercase()] == *first
        })
        .map(|l| l["rows"].as_u64().unwrap())
        .sum();
    assert!(
        expected_rows > 500,
        "more lines than the limit: {expected_rows}"
    );
    assert_eq!(one.len() as u64, expected_rows);

    // A dimension that does not exist is refused, with the ones that do.
    let (status, body) = explorer.cube("&keep=customer,colour").await;
    assert_eq!(status, 400);
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.contains("colour") && text.contains("meterCategory"),
        "{text}"
    );
    // More dimensions than a view uses (the bytes name at most 255).
    let many: Vec<String> = (0..300).map(|i| format!("tag:k{i}")).collect();
    let (status, body) = explorer.cube(&format!("&keep={}", many.join(","))).await;
    assert_eq!(status, 400);
    assert!(String::from_utf8(body).unwrap().contains("at most 32"));
}
