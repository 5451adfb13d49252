//! Pivot speed in the browser: regroup 1,000,000 line items by one and by
//! two dimensions in wasm, against a straightforward JavaScript pivot (row
//! objects grouped in a Map) over the same data, timed in the same page with
//! `performance.now()`. Not part of `cargo xtask test`: `cargo xtask bench`
//! runs it and reads the `BENCH` line it prints.

use model::cube::{CubeBuilder, Dim, PivotQuery, synthetic};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const ROWS: usize = 1_000_000;
const RUNS: usize = 7;

fn now() -> f64 {
    web_sys::window().unwrap().performance().unwrap().now()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The baseline, as someone would write it in JavaScript: an array of row
/// objects, grouped by a string key in a Map.
const BASELINE: &str = r#"
const rows = new Array(ci.length);
for (let i = 0; i < ci.length; i++) {
  rows[i] = { customer: customers[ci[i]], meterCategory: categories[mi[i]], partnerCost: cost[i] };
}
const time = (f) => {
  const runs = [];
  for (let k = 0; k < RUNS; k++) { const t = performance.now(); f(); runs.push(performance.now() - t); }
  runs.sort((a, b) => a - b);
  return runs[Math.floor(runs.length / 2)];
};
const one = time(() => {
  const m = new Map();
  for (const r of rows) m.set(r.customer, (m.get(r.customer) ?? 0) + r.partnerCost);
  return m.size;
});
const two = time(() => {
  const m = new Map();
  for (const r of rows) { const k = r.customer + '\u0000' + r.meterCategory; m.set(k, (m.get(k) ?? 0) + r.partnerCost); }
  return m.size;
});
return [one, two];
"#;

#[wasm_bindgen_test]
fn pivot_speed_against_a_javascript_baseline() {
    let mut builder = CubeBuilder::new();
    let mut customers: Vec<String> = Vec::new();
    let mut categories: Vec<String> = Vec::new();
    let mut ci = Vec::with_capacity(ROWS);
    let mut mi = Vec::with_capacity(ROWS);
    let mut cost = Vec::with_capacity(ROWS);
    let index = |names: &mut Vec<String>, name: &str| match names.iter().position(|n| n == name) {
        Some(i) => i as u32,
        None => {
            names.push(name.to_string());
            names.len() as u32 - 1
        }
    };
    let mut customer_index = std::collections::HashMap::new();
    synthetic(ROWS, |r| {
        builder.push(r);
        let c = *customer_index
            .entry(r.customer.to_string())
            .or_insert_with(|| index(&mut customers, r.customer));
        ci.push(c);
        mi.push(index(&mut categories, r.meter_category));
        cost.push(r.partner_cost as f64);
    });
    let cube = builder.finish();
    let time = |dims: Vec<Dim>| {
        let query = PivotQuery {
            group_by: dims,
            ..Default::default()
        };
        median(
            (0..RUNS)
                .map(|_| {
                    let t = now();
                    let rows = cube.pivot(&query).rows.len();
                    assert!(rows > 0);
                    now() - t
                })
                .collect(),
        )
    };
    let wasm_one = time(vec![Dim::Customer]);
    let wasm_two = time(vec![Dim::Customer, Dim::MeterCategory]);

    let to_array = |names: &[String]| {
        names
            .iter()
            .map(|n| JsValue::from_str(n))
            .collect::<js_sys::Array>()
    };
    let baseline =
        js_sys::Function::new_with_args("customers, categories, ci, mi, cost, RUNS", BASELINE);
    let args = js_sys::Array::new();
    args.push(&to_array(&customers));
    args.push(&to_array(&categories));
    args.push(&js_sys::Uint32Array::from(ci.as_slice()));
    args.push(&js_sys::Uint32Array::from(mi.as_slice()));
    args.push(&js_sys::Float64Array::from(cost.as_slice()));
    args.push(&JsValue::from(RUNS as u32));
    let js = js_sys::Array::from(&baseline.apply(&JsValue::NULL, &args).unwrap());
    let js_one = js.get(0).as_f64().unwrap();
    let js_two = js.get(1).as_f64().unwrap();
    console_log!(
        "BENCH {{\"rows\":{ROWS},\"runs\":{RUNS},\"wasmOne\":{wasm_one:.1},\"wasmTwo\":{wasm_two:.1},\"jsOne\":{js_one:.1},\"jsTwo\":{js_two:.1}}}"
    );
}
