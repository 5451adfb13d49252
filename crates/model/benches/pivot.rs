//! Regrouping 1,000,000 line items by one dimension and by two: the cube's
//! pivot (columnar, dictionary-encoded) against a straightforward baseline
//! (rows of owned strings grouped in a hash map), on the same data.
//! `cargo bench -p model --bench pivot`; `cargo xtask bench` reads the results.

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use model::cube::{CubeBuilder, Dim, PivotQuery, synthetic};

const ROWS: usize = 1_000_000;

struct Row {
    customer: String,
    meter_category: String,
    partner_cost: i64,
}

fn pivot(c: &mut Criterion) {
    let mut builder = CubeBuilder::new();
    let mut rows = Vec::with_capacity(ROWS);
    synthetic(ROWS, |r| {
        builder.push(r);
        rows.push(Row {
            customer: r.customer.to_string(),
            meter_category: r.meter_category.to_string(),
            partner_cost: r.partner_cost,
        });
    });
    let cube = builder.finish();
    let mut group = c.benchmark_group("pivot");
    group.sample_size(10);
    for (name, dims) in [
        ("one", vec![Dim::Customer]),
        ("two", vec![Dim::Customer, Dim::MeterCategory]),
    ] {
        let query = PivotQuery {
            group_by: dims,
            ..Default::default()
        };
        group.bench_function(format!("cube-{name}"), |b| {
            b.iter(|| black_box(cube.pivot(black_box(&query))).rows.len())
        });
    }
    group.bench_function("baseline-one", |b| {
        b.iter(|| {
            let mut sums: HashMap<&str, i64> = HashMap::new();
            for r in &rows {
                *sums.entry(r.customer.as_str()).or_default() += r.partner_cost;
            }
            black_box(sums.len())
        })
    });
    group.bench_function("baseline-two", |b| {
        b.iter(|| {
            let mut sums: HashMap<(&str, &str), i64> = HashMap::new();
            for r in &rows {
                *sums
                    .entry((r.customer.as_str(), r.meter_category.as_str()))
                    .or_default() += r.partner_cost;
            }
            black_box(sums.len())
        })
    });
    group.finish();
}

criterion_group!(benches, pivot);
criterion_main!(benches);
