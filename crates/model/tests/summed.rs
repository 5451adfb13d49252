//! A cube summed past a number of lines regroups, by the dimensions it
//! kept, to exactly what its line items give: every total, every bucket's
//! series and the number of lines, through its bytes too.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use model::cube::{Bucket, Cube, CubeBuilder, CubeRow, Dim, Measures, PivotQuery, RowCodes};
use proptest::prelude::*;

const CUSTOMERS: [&str; 4] = ["A", "B", "C", "D"];
const METERS: [&str; 3] = ["m1", "m2", "m3"];
const UNITS: [&str; 2] = ["1 Hour", "1 GB"];
const CURRENCIES: [&str; 2] = ["USD", "EUR"];
const TAGS: [&str; 4] = [
    r#"{"env":"prod"}"#,
    r#"{"env":"dev","app":"web"}"#,
    r#"{"team":"data"}"#,
    "",
];

type Line = (usize, usize, usize, usize, usize, u64, i64, i64);

fn build(lines: &[Line], builder: CubeBuilder) -> Cube {
    let mut b = builder;
    for line in lines {
        b.push(&row(line));
    }
    b.finish()
}

/// As a store pushes them: each naming's codes looked up once, and a
/// summing builder given rows it summed (here, every line on its own).
fn build_coded(lines: &[Line], builder: CubeBuilder) -> Cube {
    let mut b = builder;
    let mut coded: HashMap<(usize, usize, usize, usize, usize), RowCodes> = HashMap::new();
    for line in lines {
        let (c, m, u, cur, t, ..) = *line;
        let row = row(line);
        let codes = *coded
            .entry((c, m, u, cur, t))
            .or_insert_with(|| b.codes(&row));
        b.push_coded(&codes, &row.figures(), 1);
    }
    b.finish()
}

fn row(line: &Line) -> CubeRow<'static> {
    let (c, m, u, cur, t, day, cost, qty) = *line;
    CubeRow {
        customer: CUSTOMERS[c],
        meter: METERS[m],
        unit: UNITS[u],
        currency: CURRENCIES[cur],
        tags: TAGS[t],
        region: if m == 0 { "eastus" } else { "westeurope" },
        day: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap() + chrono::Days::new(day),
        partner_cost: cost,
        customer_price: cost * 11 / 10,
        list_cost: cost * 12 / 10,
        quantity: qty,
        pec_basis_points: 1500,
        ..CubeRow::default()
    }
}

fn arb_lines() -> impl Strategy<Value = Vec<Line>> {
    prop::collection::vec(
        (
            0..4usize,
            0..3usize,
            0..2usize,
            0..2usize,
            0..4usize,
            0..45u64,
            -1_000_000i64..50_000_000,
            0i64..10_000_000,
        ),
        0..250,
    )
}

const DIMS: [&str; 6] = ["customer", "meter", "unit", "region", "tag:env", "tag:team"];

fn arb_keep() -> impl Strategy<Value = Vec<Dim>> {
    prop::sample::subsequence(DIMS.to_vec(), 0..=4)
        .prop_map(|names| names.into_iter().filter_map(Dim::parse).collect())
}

/// Every row of a pivot by its keys and currency: total and series.
type Rows = BTreeMap<(Vec<std::sync::Arc<str>>, std::sync::Arc<str>), (Measures, Vec<Measures>)>;

fn rows(cube: &Cube, query: &PivotQuery) -> (Rows, Vec<(String, Measures)>) {
    let p = cube.pivot(query);
    let rows = p
        .rows
        .into_iter()
        .map(|r| ((r.keys.to_vec(), r.currency), (r.total, r.series)))
        .collect();
    (rows, p.totals)
}

proptest! {
    #[test]
    fn a_summed_cube_regroups_by_what_it_kept_as_its_lines_do(
        lines in arb_lines(),
        limit in 0usize..60,
        keep in arb_keep(),
        bucket in prop::sample::select(vec![Bucket::None, Bucket::Day, Bucket::Week, Bucket::Month]),
        filtered in any::<bool>(),
    ) {
        let full = build(&lines, CubeBuilder::new());
        let summed = build(&lines, CubeBuilder::summing_above(limit, &keep));
        prop_assert_eq!(summed.summed.is_some(), lines.len() > limit);
        prop_assert_eq!(summed.line_count(), lines.len() as u64);
        prop_assert!(summed.len() <= lines.len());
        // Through the wire as the browser reads it.
        let summed = Cube::from_bytes(&summed.to_bytes()).unwrap();

        // Group by each kept dimension in turn, and by all of them; filter
        // by one of them when asked.
        let mut groupings: Vec<Vec<Dim>> = keep.iter().map(|d| vec![d.clone()]).collect();
        groupings.push(keep.clone());
        groupings.push(Vec::new());
        for group_by in groupings {
            prop_assert!(summed.covers(&group_by));
            let filters = match (filtered, keep.first()) {
                (true, Some(d)) => vec![(d.clone(), full.values(d).into_iter().take(1).collect())],
                _ => Vec::new(),
            };
            let query = PivotQuery { group_by: group_by.clone(), filters, bucket, ..Default::default() };
            prop_assert_eq!(rows(&summed, &query), rows(&full, &query), "grouped by {:?}", group_by);
        }
    }
}

proptest! {
    #[test]
    fn rows_pushed_by_their_codes_build_the_cube_their_texts_do(
        lines in arb_lines(),
        keep in arb_keep(),
    ) {
        // Line items, and a scope summed from its first row on.
        prop_assert_eq!(
            build_coded(&lines, CubeBuilder::new()),
            build(&lines, CubeBuilder::new())
        );
        prop_assert_eq!(
            build_coded(&lines, CubeBuilder::summing_above(0, &keep)),
            build(&lines, CubeBuilder::summing_above(0, &keep))
        );
    }
}

#[test]
fn a_dimension_not_kept_is_not_covered_and_its_tag_keys_stay_known() {
    let lines: Vec<Line> = (0..40)
        .map(|i| (i % 4, i % 3, i % 2, 0, i % 4, (i % 10) as u64, 1_000_000, 1))
        .collect();
    let keep = [Dim::Customer];
    let summed = build(&lines, CubeBuilder::summing_above(10, &keep));
    assert!(summed.covers(&[Dim::Customer, Dim::Currency]));
    assert!(!summed.covers(&[Dim::Meter]));
    assert!(!summed.covers(&[Dim::Tag("env".into())]));
    // A row per (customer, day), whatever the meters and tags: line i is
    // customer i % 4 on day i % 10, a pair that repeats every 20 lines.
    assert_eq!(summed.len(), 20);
    assert!(
        summed
            .summed
            .as_ref()
            .unwrap()
            .lines
            .iter()
            .all(|n| *n == 2)
    );
    assert_eq!(summed.tag_keys(), ["app", "env", "team"]);
    // The credit is a line's, not a sum's: left out.
    assert!(summed.pec_basis_points.is_empty());

    // Under the limit, the lines as they are.
    let lines_kept = build(&lines, CubeBuilder::summing_above(40, &keep));
    assert_eq!(lines_kept, build(&lines, CubeBuilder::new()));
    assert!(lines_kept.covers(&[Dim::Meter]));

    // A tag kept holds only its own values.
    let by_env = build(
        &lines,
        CubeBuilder::summing_above(0, &[Dim::Tag("env".into())]),
    );
    let envs = by_env.values(&Dim::Tag("env".into()));
    assert_eq!(envs, ["(untagged)", "dev", "prod"]);
    assert_eq!(by_env.values(&Dim::Tag("app".into())), ["(untagged)"]);
}
