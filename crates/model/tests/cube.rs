//! The pivot engine: known answers, and properties over random data.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use model::cube::{
    Bucket, Cube, CubeBuilder, CubeRow, Dim, Measure, Measures, PivotQuery, UNTAGGED,
};
use proptest::prelude::*;

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn row<'a>(
    customer: &'a str,
    meter: &'a str,
    currency: &'a str,
    day: &str,
    cost: i64,
) -> CubeRow<'a> {
    CubeRow {
        customer,
        meter,
        currency,
        meter_category: "Virtual Machines",
        tags: r#"{"env":"prod"}"#,
        day: date(day),
        partner_cost: cost,
        customer_price: cost + cost / 10,
        list_cost: cost + cost / 5,
        quantity: 1_000_000,
        ..CubeRow::default()
    }
}

fn sample() -> Cube {
    let mut b = CubeBuilder::new();
    b.push(&row("Adatum", "D4s v5", "USD", "2026-11-02", 10_000_000));
    b.push(&row("Adatum", "P10", "USD", "2026-11-08", 2_000_000));
    b.push(&row("Coho", "D4s v5", "EUR", "2026-11-09", 5_000_000));
    b.push(&CubeRow {
        tags: "",
        ..row("Coho", "D4s v5", "EUR", "2026-12-01", 1_000_000)
    });
    b.finish()
}

#[test]
fn groups_by_customer_keeping_currencies_apart() {
    let p = sample().pivot(&PivotQuery {
        group_by: vec![Dim::Customer],
        ..Default::default()
    });
    let rows: Vec<(String, String, i64)> = p
        .rows
        .iter()
        .map(|r| {
            (
                r.keys[0].to_string(),
                r.currency.to_string(),
                r.total.partner_cost,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("Adatum".into(), "USD".into(), 12_000_000),
            ("Coho".into(), "EUR".into(), 6_000_000)
        ]
    );
    assert_eq!(p.totals.len(), 2, "EUR and USD are never added together");
    assert_eq!(p.rows[0].total.margin(), 1_200_000);
}

#[test]
fn a_customers_cube_keeps_its_price_and_nothing_of_the_partner() {
    let full = sample();
    let own = sample().without_partner_figures();
    let json = serde_json::to_string(&own).unwrap();
    assert!(json.contains(r#""partnerCost":[]"#) && json.contains(r#""listCost":[]"#));
    assert!(json.contains(r#""pecBasisPoints":[]"#));
    for bucket in [Bucket::None, Bucket::Day] {
        let query = PivotQuery {
            group_by: vec![Dim::Meter],
            bucket,
            ..Default::default()
        };
        let (a, b) = (full.pivot(&query), own.pivot(&query));
        assert_eq!(a.rows.len(), b.rows.len());
        // Priciest first where there is no cost to sort by.
        assert!(
            b.rows
                .windows(2)
                .all(|w| w[0].total.customer_price >= w[1].total.customer_price)
        );
        let key = |r: &&model::cube::PivotRow| (r.keys.clone(), r.currency.clone());
        let (mut a, mut b): (Vec<_>, Vec<_>) = (a.rows.iter().collect(), b.rows.iter().collect());
        a.sort_by_key(key);
        b.sort_by_key(key);
        for (a, b) in a.iter().zip(&b) {
            assert_eq!(
                (&a.keys, a.total.customer_price),
                (&b.keys, b.total.customer_price)
            );
            assert_eq!(a.total.quantity, b.total.quantity);
            assert_eq!((b.total.partner_cost, b.total.list_cost), (0, 0));
        }
    }
}

#[test]
fn weeks_start_on_monday_and_months_on_the_first() {
    let cube = sample();
    let weeks = cube.pivot(&PivotQuery {
        bucket: Bucket::Week,
        ..Default::default()
    });
    // 2026-11-02 is a Monday; 11-08 is the Sunday of that week.
    assert_eq!(weeks.buckets[0], date("2026-11-02"));
    assert_eq!(weeks.buckets[1], date("2026-11-09"));
    let usd = weeks.rows.iter().find(|r| &*r.currency == "USD").unwrap();
    assert_eq!(usd.series[0].partner_cost, 12_000_000);

    let months = cube.pivot(&PivotQuery {
        bucket: Bucket::Month,
        ..Default::default()
    });
    assert_eq!(months.buckets, [date("2026-11-01"), date("2026-12-01")]);
    let eur = months.rows.iter().find(|r| &*r.currency == "EUR").unwrap();
    assert_eq!(
        eur.series
            .iter()
            .map(|m| m.partner_cost)
            .collect::<Vec<_>>(),
        [5_000_000, 1_000_000]
    );
}

#[test]
fn tags_group_by_key_with_untagged_rows_named() {
    let p = sample().pivot(&PivotQuery {
        group_by: vec![Dim::Tag("env".into())],
        filters: vec![(Dim::Currency, vec!["EUR".into()])],
        ..Default::default()
    });
    let keys: Vec<&str> = p.rows.iter().map(|r| &*r.keys[0]).collect();
    assert_eq!(keys, ["prod", UNTAGGED]);
    assert_eq!(sample().tag_keys(), ["env"]);
}

#[test]
fn date_range_and_filters_narrow_the_rows() {
    let p = sample().pivot(&PivotQuery {
        group_by: vec![Dim::Meter],
        filters: vec![(Dim::Customer, vec!["Adatum".into()])],
        from: Some(date("2026-11-03")),
        to: Some(date("2026-11-30")),
        ..Default::default()
    });
    assert_eq!(p.rows.len(), 1);
    assert_eq!(*p.rows[0].keys, ["P10".into()]);
    assert_eq!(p.rows[0].total.lines, 1);
}

#[test]
fn dimensions_have_stable_names() {
    for name in [
        "customer",
        "meterCategory",
        "resourceGroup",
        "tag:costcenter",
        "chargeType",
    ] {
        assert_eq!(Dim::parse(name).unwrap().name(), name);
    }
    assert_eq!(Dim::parse("tag:"), None);
    assert_eq!(Dim::parse("colour"), None);
}

// ---- properties over random cubes ----

const CUSTOMERS: [&str; 4] = ["A", "B", "C", "D"];
const METERS: [&str; 3] = ["m1", "m2", "m3"];
const REGIONS: [&str; 3] = ["eastus", "westeurope", "japaneast"];
const CURRENCIES: [&str; 2] = ["USD", "EUR"];
const TAGS: [&str; 3] = [r#"{"env":"prod"}"#, r#"{"env":"dev","app":"web"}"#, ""];

fn arb_cube() -> impl Strategy<Value = Cube> {
    cube_of(-1_000_000i64..50_000_000, 0..300)
}

/// A cube whose lines cost amounts drawn from `costs`.
fn cube_of(
    costs: impl Strategy<Value = i64>,
    lines: std::ops::Range<usize>,
) -> impl Strategy<Value = Cube> {
    prop::collection::vec(
        (
            0..4usize,
            0..3usize,
            0..3usize,
            0..2usize,
            0..3usize,
            0..90u64,
            costs,
            0i64..10_000_000,
        ),
        lines,
    )
    .prop_map(|rows| {
        let mut b = CubeBuilder::new();
        for (c, m, r, cur, t, day, cost, qty) in rows {
            b.push(&CubeRow {
                customer: CUSTOMERS[c],
                meter: METERS[m],
                region: REGIONS[r],
                currency: CURRENCIES[cur],
                tags: TAGS[t],
                day: date("2026-01-01") + chrono::Days::new(day),
                partner_cost: cost,
                customer_price: cost * 11 / 10,
                list_cost: cost * 12 / 10,
                quantity: qty,
                ..CubeRow::default()
            });
        }
        b.finish()
    })
}

fn arb_dims() -> impl Strategy<Value = Vec<Dim>> {
    prop::sample::subsequence(
        vec![
            Dim::Customer,
            Dim::Meter,
            Dim::Region,
            Dim::Tag("env".into()),
            Dim::Tag("app".into()),
        ],
        0..=3,
    )
}

fn arb_bucket() -> impl Strategy<Value = Bucket> {
    prop::sample::select(vec![Bucket::None, Bucket::Day, Bucket::Week, Bucket::Month])
}

/// Straight sums per currency, without the engine.
fn direct_totals(cube: &Cube) -> BTreeMap<String, Measures> {
    let currency = &cube.columns[10];
    let mut out: BTreeMap<String, Measures> = BTreeMap::new();
    for i in 0..cube.len() {
        let m = out
            .entry(currency.values[currency.codes[i] as usize].to_string())
            .or_default();
        m.partner_cost += cube.partner_cost[i];
        m.customer_price += cube.customer_price[i];
        m.list_cost += cube.list_cost[i];
        m.quantity += cube.quantity[i];
        m.lines += 1;
    }
    out
}

fn texts(keys: &[std::sync::Arc<str>]) -> Vec<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

fn regroup(
    rows: impl Iterator<Item = (Vec<String>, String, Measures)>,
) -> BTreeMap<(Vec<String>, String), Measures> {
    let mut out: BTreeMap<(Vec<String>, String), Measures> = BTreeMap::new();
    for (keys, currency, m) in rows {
        out.entry((keys, currency)).or_default().add(&m);
    }
    out
}

proptest! {
    #[test]
    fn groups_sum_to_the_total(cube in arb_cube(), dims in arb_dims(), bucket in arb_bucket()) {
        let p = cube.pivot(&PivotQuery { group_by: dims, bucket, ..Default::default() });
        let mut sums: BTreeMap<String, Measures> = BTreeMap::new();
        for row in &p.rows {
            sums.entry(row.currency.to_string()).or_default().add(&row.total);
            if bucket != Bucket::None {
                let mut series = Measures::default();
                row.series.iter().for_each(|m| series.add(m));
                prop_assert_eq!(series, row.total, "a row's series sums to its total");
            }
        }
        let direct = direct_totals(&cube);
        prop_assert_eq!(&sums, &direct);
        prop_assert_eq!(p.totals.into_iter().collect::<BTreeMap<_, _>>(), direct);
    }

    #[test]
    fn rows_come_costliest_first_then_by_price_then_by_name(
        // Few amounts, so that many groups tie on their figures.
        cube in cube_of(0i64..3, 0..60),
        dims in arb_dims(),
    ) {
        let p = cube.pivot(&PivotQuery { group_by: dims, ..Default::default() });
        let mut expected = p.rows.clone();
        expected.sort_by(|a, b| {
            b.total.partner_cost.cmp(&a.total.partner_cost)
                .then(b.total.customer_price.cmp(&a.total.customer_price))
                .then_with(|| a.keys.cmp(&b.keys))
                .then_with(|| a.currency.cmp(&b.currency))
        });
        prop_assert_eq!(p.rows, expected);
    }

    #[test]
    fn filtering_then_grouping_equals_grouping_then_filtering(
        cube in arb_cube(),
        dims in arb_dims(),
        filter_dim in prop::sample::select(vec![Dim::Customer, Dim::Meter, Dim::Region, Dim::Tag("env".into())]),
        allowed in prop::collection::vec(prop::sample::select(vec!["A", "C", "m2", "eastus", "prod", "(untagged)"]), 0..3),
    ) {
        let allowed: Vec<String> = allowed.into_iter().map(String::from).collect();
        let filtered = cube.pivot(&PivotQuery {
            group_by: dims.clone(),
            filters: vec![(filter_dim.clone(), allowed.clone())],
            ..Default::default()
        });
        let mut wider = dims.clone();
        wider.push(filter_dim.clone());
        let grouped = cube.pivot(&PivotQuery { group_by: wider, ..Default::default() });
        let expected = regroup(grouped.rows.into_iter().filter(|r| allowed.iter().any(|a| **a == **r.keys.last().unwrap())).map(|r| {
            let mut keys = texts(&r.keys);
            keys.pop();
            (keys, r.currency.to_string(), r.total)
        }));
        let got = regroup(filtered.rows.into_iter().map(|r| (texts(&r.keys), r.currency.to_string(), r.total)));
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn a_stack_of_each_bucket_equals_the_buckets_total(
        cube in arb_cube(),
        dims in arb_dims(),
        top in 0usize..4,
    ) {
        let p = cube.pivot(&PivotQuery { group_by: dims.clone(), bucket: Bucket::Day, ..Default::default() });
        for (currency, _) in &p.totals {
            let stack = p.stack(Measure::Margin, currency, top);
            prop_assert!(stack.series.len() <= top + 1 || stack.series.len() <= 1);
            // The series drawn are the largest, in the order a full sort of
            // every label's series gives (by absolute total, then label).
            let mut every: std::collections::BTreeMap<&str, Vec<i64>> = Default::default();
            for r in p.rows.iter().filter(|r| &*r.currency == currency) {
                let label = r.keys.first().map_or(model::cube::OTHER, |k| &**k);
                let values = every.entry(label).or_insert_with(|| vec![0; p.buckets.len()]);
                for (v, m) in values.iter_mut().zip(&r.series) {
                    *v += m.margin();
                }
            }
            let size = |v: &[i64]| v.iter().map(|x| x.unsigned_abs()).sum::<u64>();
            let mut sorted: Vec<(&str, Vec<i64>)> = every.into_iter().collect();
            sorted.sort_by(|a, b| size(&b.1).cmp(&size(&a.1)).then(a.0.cmp(b.0)));
            let shown = if sorted.len() > top + 1 { top } else { sorted.len() };
            let drawn: Vec<(&str, Vec<i64>)> = stack.series.iter().take(shown).map(|s| (s.label.as_str(), s.values.clone())).collect();
            prop_assert_eq!(&drawn[..], &sorted[..shown]);
            prop_assert_eq!(stack.series.len(), shown + usize::from(shown < sorted.len()));
            for (i, _) in stack.buckets.iter().enumerate() {
                let stacked: i64 = stack.series.iter().map(|s| s.values[i]).sum();
                let total: i64 = p.rows.iter().filter(|r| &*r.currency == currency).map(|r| r.series[i].margin()).sum();
                prop_assert_eq!(stacked, total);
            }
        }
    }
}

/// A row kept by `CubeRow::matches` is a row the pivot's filter keeps: the
/// FOCUS and line-item exports filter lines one by one as the Explorer
/// filters its cube, and their totals must agree.
#[test]
fn a_row_matches_the_filters_the_pivot_applies() {
    let rows = [
        row("Adatum", "D4s v5", "USD", "2026-11-02", 10_000_000),
        row("Adatum", "P10", "USD", "2026-11-08", 2_000_000),
        row("Coho", "D4s v5", "EUR", "2026-11-09", 5_000_000),
        CubeRow {
            tags: "",
            ..row("Coho", "D4s v5", "EUR", "2026-12-01", 1_000_000)
        },
    ];
    let mut b = CubeBuilder::new();
    for r in &rows {
        b.push(r);
    }
    let cube = b.finish();
    let filters_of = [
        vec![(Dim::Customer, vec!["Coho".to_string()])],
        vec![
            (Dim::Meter, vec!["D4s v5".to_string()]),
            (Dim::Currency, vec!["USD".to_string()]),
        ],
        vec![(Dim::Tag("env".into()), vec!["prod".to_string()])],
        vec![(Dim::Tag("env".into()), vec![UNTAGGED.to_string()])],
        vec![(Dim::Customer, vec!["Nobody".to_string()])],
    ];
    for filters in filters_of {
        let pivot = cube.pivot(&PivotQuery {
            group_by: vec![Dim::Currency],
            filters: filters.clone(),
            ..Default::default()
        });
        let by_pivot: i64 = pivot.totals.iter().map(|(_, m)| m.partner_cost).sum();
        let by_rows: i64 = rows
            .iter()
            .filter(|r| r.matches(&filters))
            .map(|r| r.partner_cost)
            .sum();
        assert_eq!(by_rows, by_pivot, "{filters:?}");
    }
    assert_eq!(rows[3].value(&Dim::Tag("env".into())), UNTAGGED);
    assert_eq!(rows[0].value(&Dim::Meter), "D4s v5");
}
