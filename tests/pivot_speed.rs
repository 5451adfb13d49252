//! Pivot speed in the browser: regroup 1,000,000 line items by one and by
//! two dimensions in wasm, against three JavaScript pivots over the same
//! data in the same page, each timed with `performance.now()` and each
//! computing what the wasm pivot does (the four measures and a line count
//! per group): row objects grouped in a Map by a string key; the columns as
//! typed arrays, groups found in a Map by a packed numeric key; and the
//! same with a dense table of slots, the wasm pivot's own method. Not part
//! of `cargo xtask test`: `cargo xtask bench` runs it and reads the `BENCH`
//! line it prints.
//!
//! Beside them, the floor under any pivot of these rows: the four measure
//! columns only read and summed, no grouping, in wasm and in JavaScript.
//! A pivot reads at least those bytes, so it cannot be more times faster
//! than a baseline than the baseline's time over the wasm floor.

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

/// The baselines. Sums are in doubles, exact here (every sum is below 2^53).
const BASELINE: &str = r#"
const n = ci.length;
const time = (f) => {
  const runs = [];
  let groups = 0;
  for (let k = 0; k < RUNS; k++) { const t = performance.now(); groups = f(); runs.push(performance.now() - t); }
  if (groups === 0) throw new Error('no groups');
  runs.sort((a, b) => a - b);
  return runs[Math.floor(runs.length / 2)];
};

const rows = new Array(n);
for (let i = 0; i < n; i++) {
  rows[i] = { customer: customers[ci[i]], meterCategory: categories[mi[i]], partnerCost: cost[i],
              customerPrice: price[i], listCost: list[i], quantity: qty[i] };
}
const objects = (keyOf) => () => {
  const m = new Map();
  for (const r of rows) {
    const k = keyOf(r);
    let g = m.get(k);
    if (g === undefined) {
      g = { partnerCost: 0, customerPrice: 0, listCost: 0, quantity: 0, lines: 0 };
      m.set(k, g);
    }
    g.partnerCost += r.partnerCost; g.customerPrice += r.customerPrice;
    g.listCost += r.listCost; g.quantity += r.quantity; g.lines++;
  }
  return m.size;
};

const space = customers.length * categories.length;
const typed = (dense, two) => () => {
  const pc = new Float64Array(space), cp = new Float64Array(space), lc = new Float64Array(space),
        q = new Float64Array(space), lines = new Uint32Array(space);
  const map = new Map();
  const table = dense ? new Int32Array(space).fill(-1) : null;
  let groups = 0;
  for (let i = 0; i < n; i++) {
    const k = two ? ci[i] * categories.length + mi[i] : ci[i];
    let g;
    if (dense) {
      g = table[k];
      if (g < 0) { g = groups++; table[k] = g; }
    } else {
      g = map.get(k);
      if (g === undefined) { g = groups++; map.set(k, g); }
    }
    pc[g] += cost[i]; cp[g] += price[i]; lc[g] += list[i]; q[g] += qty[i]; lines[g]++;
  }
  return groups;
};

// The floor: every measure read once and summed, no group found.
const floor = () => {
  let a = 0, b = 0, c = 0, d = 0;
  for (let i = 0; i < n; i++) { a += cost[i]; b += price[i]; c += list[i]; d += qty[i]; }
  return a + b + c + d > 0 ? 1 : 0;
};

return [
  time(floor),
  time(objects((r) => r.customer)),
  time(objects((r) => r.customer + '\u0000' + r.meterCategory)),
  time(typed(false, false)),
  time(typed(false, true)),
  time(typed(true, false)),
  time(typed(true, true)),
];
"#;

#[wasm_bindgen_test]
fn pivot_speed_against_a_javascript_baseline() {
    let mut builder = CubeBuilder::new();
    let mut customers: Vec<String> = Vec::new();
    let mut categories: Vec<String> = Vec::new();
    let mut ci = Vec::with_capacity(ROWS);
    let mut mi = Vec::with_capacity(ROWS);
    let mut cost = Vec::with_capacity(ROWS);
    let mut price = Vec::with_capacity(ROWS);
    let mut list = Vec::with_capacity(ROWS);
    let mut qty = Vec::with_capacity(ROWS);
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
        price.push(r.customer_price as f64);
        list.push(r.list_cost as f64);
        qty.push(r.quantity as f64);
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
    // The same four columns as the cube holds them (i64 millionths).
    let measures: Vec<Vec<i64>> = [&cost, &price, &list, &qty]
        .iter()
        .map(|c| c.iter().map(|v| *v as i64).collect())
        .collect();
    let wasm_floor = median(
        (0..RUNS)
            .map(|_| {
                let t = now();
                // A column at a time: each loop a plain sum the compiler
                // keeps in registers, with no bounds check.
                let sums: Vec<i64> = measures.iter().map(|c| c.iter().sum()).collect();
                assert!(std::hint::black_box(sums).iter().sum::<i64>() > 0);
                now() - t
            })
            .collect(),
    );
    let wasm_one = time(vec![Dim::Customer]);
    let wasm_two = time(vec![Dim::Customer, Dim::MeterCategory]);

    let to_array = |names: &[String]| {
        names
            .iter()
            .map(|n| JsValue::from_str(n))
            .collect::<js_sys::Array>()
    };
    let baseline = js_sys::Function::new_with_args(
        "customers, categories, ci, mi, cost, price, list, qty, RUNS",
        BASELINE,
    );
    let args = js_sys::Array::new();
    args.push(&to_array(&customers));
    args.push(&to_array(&categories));
    args.push(&js_sys::Uint32Array::from(ci.as_slice()));
    args.push(&js_sys::Uint32Array::from(mi.as_slice()));
    for column in [&cost, &price, &list, &qty] {
        args.push(&js_sys::Float64Array::from(column.as_slice()));
    }
    args.push(&JsValue::from(RUNS as u32));
    let js = js_sys::Array::from(&baseline.apply(&JsValue::NULL, &args).unwrap());
    let js = |i: u32| js.get(i).as_f64().unwrap();
    console_log!(
        "BENCH {{\"rows\":{ROWS},\"runs\":{RUNS},\"wasmOne\":{wasm_one:.1},\"wasmTwo\":{wasm_two:.1},\"jsOne\":{:.1},\"jsTwo\":{:.1},\"mapOne\":{:.1},\"mapTwo\":{:.1},\"denseOne\":{:.1},\"denseTwo\":{:.1},\"wasmFloor\":{wasm_floor:.1},\"jsFloor\":{:.1}}}",
        js(1),
        js(2),
        js(3),
        js(4),
        js(5),
        js(6),
        js(0)
    );
}
