//! Every group of the pivot against straight sums of the rows that belong
//! to it, computed here one row at a time from the rows the cube was built
//! from: random cubes with every bucket, a day range and a filter, and
//! cubes of many blocks whose grouping keys pass 2^20 (the pivot's hash
//! path) as well as fewer (its table).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use model::cube::{Bucket, CubeBuilder, CubeRow, Dim, Measures, PivotQuery, synthetic};
use proptest::prelude::*;

/// An owned line, as the strategies make them.
#[derive(Debug, Clone)]
struct Line {
    customer: String,
    meter: String,
    region: String,
    currency: &'static str,
    tags: &'static str,
    day: NaiveDate,
    cost: i64,
    quantity: i64,
}

impl Line {
    fn row(&self) -> CubeRow<'_> {
        CubeRow {
            customer: &self.customer,
            meter: &self.meter,
            region: &self.region,
            currency: self.currency,
            tags: self.tags,
            day: self.day,
            partner_cost: self.cost,
            customer_price: self.cost * 11 / 10,
            list_cost: self.cost * 12 / 10,
            quantity: self.quantity,
            ..CubeRow::default()
        }
    }
}

type Key = (Vec<String>, String);

/// Per group: the totals, and the sums per bucket start.
fn oracle(
    lines: &[Line],
    query: &PivotQuery,
) -> BTreeMap<Key, (Measures, BTreeMap<NaiveDate, Measures>)> {
    let mut out: BTreeMap<Key, (Measures, BTreeMap<NaiveDate, Measures>)> = BTreeMap::new();
    for line in lines {
        let row = line.row();
        if query.from.is_some_and(|d| line.day < d) || query.to.is_some_and(|d| line.day > d) {
            continue;
        }
        if !query
            .filters
            .iter()
            .all(|(dim, allowed)| allowed.iter().any(|a| *a == row.value(dim)))
        {
            continue;
        }
        let keys = query
            .group_by
            .iter()
            .map(|d| row.value(d).into_owned())
            .collect();
        let m = Measures {
            partner_cost: row.partner_cost,
            customer_price: row.customer_price,
            list_cost: row.list_cost,
            quantity: row.quantity,
            lines: 1,
        };
        let group = out.entry((keys, line.currency.to_string())).or_default();
        group.0.add(&m);
        if query.bucket != Bucket::None {
            let start = model::cube::date_of(query.bucket.start(model::cube::day_number(line.day)));
            group.1.entry(start).or_default().add(&m);
        }
    }
    out
}

fn check(lines: &[Line], query: &PivotQuery) -> Result<(), TestCaseError> {
    let mut builder = CubeBuilder::new();
    lines.iter().for_each(|l| builder.push(&l.row()));
    let pivot = builder.finish().pivot(query);
    let mut got = BTreeMap::new();
    for row in pivot.rows {
        let series: BTreeMap<NaiveDate, Measures> = pivot
            .buckets
            .iter()
            .zip(row.series)
            .filter(|(_, m)| m.lines > 0)
            .map(|(d, m)| (*d, m))
            .collect();
        prop_assert!(
            got.insert(
                (
                    row.keys.iter().map(|k| k.to_string()).collect(),
                    row.currency.to_string()
                ),
                (row.total, series)
            )
            .is_none(),
            "a group twice"
        );
    }
    prop_assert_eq!(got, oracle(lines, query));
    Ok(())
}

fn arb_line() -> impl Strategy<Value = Line> {
    (
        0..5usize,
        0..4usize,
        0..3usize,
        0..3usize,
        0..3usize,
        0..70u64,
        -1_000_000i64..50_000_000,
        0i64..10_000_000,
    )
        .prop_map(|(c, m, r, cur, t, day, cost, quantity)| Line {
            customer: format!("Customer {c}"),
            meter: format!("m{m}"),
            region: ["eastus", "westeurope", "japaneast"][r].into(),
            currency: ["USD", "EUR", "TWD"][cur],
            tags: ["", r#"{"env":"prod"}"#, r#"{"env":"dev","app":"web"}"#][t],
            day: NaiveDate::from_ymd_opt(2026, 1, 20).unwrap() + chrono::Days::new(day),
            cost,
            quantity,
        })
}

fn arb_query() -> impl Strategy<Value = PivotQuery> {
    let dims = vec![
        Dim::Customer,
        Dim::Meter,
        Dim::Region,
        Dim::Tag("env".into()),
        Dim::Currency,
    ];
    (
        prop::sample::subsequence(dims, 0..=3),
        prop::sample::select(vec![Bucket::None, Bucket::Day, Bucket::Week, Bucket::Month]),
        prop::option::of((0..70u64, 0..30u64)),
        prop::option::of((
            prop::sample::select(vec![Dim::Customer, Dim::Region, Dim::Tag("app".into())]),
            prop::collection::vec(
                prop::sample::select(vec![
                    "Customer 1",
                    "Customer 3",
                    "eastus",
                    "web",
                    "(untagged)",
                ]),
                0..3,
            ),
        )),
    )
        .prop_map(|(group_by, bucket, range, filter)| {
            let first = NaiveDate::from_ymd_opt(2026, 1, 20).unwrap();
            PivotQuery {
                group_by,
                bucket,
                from: range.map(|(from, _)| first + chrono::Days::new(from)),
                to: range.map(|(from, days)| first + chrono::Days::new(from + days)),
                filters: filter
                    .map(|(dim, allowed)| {
                        vec![(dim, allowed.into_iter().map(String::from).collect())]
                    })
                    .into_iter()
                    .flatten()
                    .collect(),
            }
        })
}

proptest! {
    #[test]
    fn each_group_is_the_sum_of_its_rows(
        lines in prop::collection::vec(arb_line(), 0..400),
        query in arb_query(),
    ) {
        check(&lines, &query)?;
    }
}

/// Twenty thousand synthetic lines: several blocks of rows, grouped by one
/// dimension (keys in a table) and by three (5,000 customers × 300 meters ×
/// 8 regions, past 2^20 keys: the hash path), with weeks, all regions and
/// two.
#[test]
fn many_blocks_and_a_key_space_past_a_table_give_the_same_sums() {
    let mut lines = Vec::new();
    synthetic(20_000, |r| {
        lines.push(Line {
            customer: r.customer.to_string(),
            meter: r.meter.to_string(),
            region: r.region.to_string(),
            currency: "USD",
            tags: "",
            day: r.day,
            cost: r.partner_cost,
            quantity: r.quantity,
        })
    });
    let regions = vec![(Dim::Region, vec!["eastus".into(), "uksouth".into()])];
    for group_by in [
        vec![Dim::Customer],
        vec![Dim::Customer, Dim::Meter, Dim::Region],
    ] {
        for filters in [vec![], regions.clone()] {
            check(
                &lines,
                &PivotQuery {
                    group_by: group_by.clone(),
                    bucket: Bucket::Week,
                    filters,
                    ..Default::default()
                },
            )
            .unwrap();
        }
    }
}
