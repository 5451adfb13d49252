//! The pivot over a cube: grouping, filters, day buckets, and the stacked
//! series a chart draws.

use super::order::{by_figures, cost_key};
use super::sums::{BLOCK, Block, Groups, SKIP, Sums};
use super::*;
use smallvec::SmallVec;
use std::sync::Arc;

/// The most slots a pivot indexes directly (5 MB of sums), and with series
/// the most slots of its series.
const DIRECT_SLOTS: usize = 1 << 17;
const DIRECT_SERIES_SLOTS: usize = 1 << 18;

/// How days are bucketed in a pivot's series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Bucket {
    /// No series: totals only.
    #[default]
    None,
    Day,
    /// ISO weeks, starting on Monday.
    Week,
    Month,
}

impl Bucket {
    /// The first day of the bucket a day falls in.
    pub fn start(self, day: i32) -> i32 {
        match self {
            Bucket::None => 0,
            Bucket::Day => day,
            Bucket::Week => day - date_of(day).weekday().num_days_from_monday() as i32,
            Bucket::Month => {
                let d = date_of(day);
                day_number(NaiveDate::from_ymd_opt(d.year(), d.month(), 1).expect("valid"))
            }
        }
    }
}

/// What to compute: the grouping, the filters, the days, the buckets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PivotQuery {
    pub group_by: Vec<Dim>,
    /// Keep rows whose value of the dimension is one of these.
    pub filters: Vec<(Dim, Vec<String>)>,
    /// Inclusive first and last day; all days when absent.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub bucket: Bucket,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PivotRow {
    /// One value per grouping dimension, in the query's order. Shared with
    /// every other row of the same value: a pivot by two dimensions has
    /// tens of thousands of rows, and a copy of each name made them; held
    /// in place up to two, since an allocation a row was most of the time
    /// of a pivot by two dimensions.
    pub keys: Keys,
    pub currency: Arc<str>,
    pub total: Measures,
    /// One entry per bucket of [`Pivot::buckets`]; empty without buckets.
    pub series: Vec<Measures>,
}

/// A pivot row's names, one per grouping dimension.
pub type Keys = SmallVec<[Arc<str>; 2]>;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pivot {
    pub group_by: Vec<Dim>,
    /// First day of each bucket, in order.
    pub buckets: Vec<NaiveDate>,
    /// Largest partner cost first.
    pub rows: Vec<PivotRow>,
    /// Per currency, over every row.
    pub totals: Vec<(String, Measures)>,
}

/// Synthetic line items for benchmarks, the same on every platform: 5,000
/// customers, 300 meters in 12 categories, 8 regions, 90 days.
pub fn synthetic(rows: usize, mut each: impl FnMut(&CubeRow<'_>)) {
    let customers: Vec<String> = (0..5_000).map(|i| format!("Customer {i:04}")).collect();
    let meters: Vec<String> = (0..300).map(|i| format!("Meter {i:03}")).collect();
    let categories: Vec<String> = (0..12).map(|i| format!("Category {i:02}")).collect();
    let regions = [
        "eastus",
        "westus",
        "westeurope",
        "northeurope",
        "japaneast",
        "australiaeast",
        "uksouth",
        "brazilsouth",
    ];
    let start = day_number(NaiveDate::from_ymd_opt(2026, 9, 1).expect("valid"));
    for i in 0..rows {
        // A multiplicative hash spreads rows over the values without a RNG.
        let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let meter = (h >> 20) as usize % meters.len();
        each(&CubeRow {
            customer: &customers[(h >> 8) as usize % customers.len()],
            subscription: "Production",
            meter_category: &categories[meter % categories.len()],
            meter_subcategory: "",
            meter: &meters[meter],
            region: regions[(h >> 32) as usize % regions.len()],
            resource_group: "rg",
            resource: "vm",
            tags: "",
            publisher: "Microsoft",
            charge_type: "new",
            currency: "USD",
            unit: "1 Hour",
            day: date_of(start + (i % 90) as i32),
            partner_cost: (h % 5_000_000) as i64,
            customer_price: (h % 5_000_000) as i64 * 115 / 100,
            list_cost: (h % 5_000_000) as i64 * 118 / 100,
            quantity: (h % 24_000_000) as i64,
            pec_basis_points: 1500,
        });
    }
}

/// One series of a stacked chart: a value of the first grouping, per bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StackSeries {
    pub label: String,
    pub values: Vec<i64>,
}

/// Series to stack per bucket, in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stack {
    pub buckets: Vec<NaiveDate>,
    /// Largest (by absolute total) first; the rest summed as the last, "Other".
    pub series: Vec<StackSeries>,
}

/// The label of the series that gathers the smaller ones.
pub const OTHER: &str = "Other";

impl Pivot {
    /// The first grouping's values as stacked series of `measure` in
    /// `currency`: the `top` largest, then one "Other" for the rest, so the
    /// stack of each bucket equals the bucket's total.
    pub fn stack(&self, measure: Measure, currency: &str, top: usize) -> Stack {
        let width = self.buckets.len();
        // Each label's series side by side in one table; only the labels
        // drawn are copied (a large partner has thousands of customers, and
        // the chart shows eight series).
        let mut labels: Vec<&str> = Vec::new();
        let mut values: Vec<i64> = Vec::new();
        let mut index: std::collections::HashMap<&str, usize, foldhash::fast::RandomState> =
            Default::default();
        for r in self.rows.iter().filter(|r| &*r.currency == currency) {
            let label = r.keys.first().map(|k| &**k).unwrap_or(OTHER);
            let i = *index.entry(label).or_insert_with(|| {
                labels.push(label);
                values.resize(values.len() + width, 0);
                labels.len() - 1
            });
            for (v, m) in values[i * width..(i + 1) * width].iter_mut().zip(&r.series) {
                *v += m.get(measure);
            }
        }
        let series = |i: usize| &values[i * width..(i + 1) * width];
        let size: Vec<u64> = (0..labels.len())
            .map(|i| series(i).iter().map(|v| v.unsigned_abs()).sum())
            .collect();
        let largest =
            |a: &usize, b: &usize| size[*b].cmp(&size[*a]).then(labels[*a].cmp(labels[*b]));
        let mut order: Vec<usize> = (0..labels.len()).collect();
        let shown = if order.len() > top + 1 {
            top
        } else {
            order.len()
        };
        if shown < order.len() {
            order.select_nth_unstable_by(shown, largest);
        }
        order[..shown].sort_unstable_by(largest);
        let mut stacked: Vec<StackSeries> = order[..shown]
            .iter()
            .map(|&i| StackSeries {
                label: labels[i].to_string(),
                values: series(i).to_vec(),
            })
            .collect();
        if shown < order.len() {
            let mut other = vec![0; width];
            for &i in &order[shown..] {
                for (o, v) in other.iter_mut().zip(series(i)) {
                    *o += v;
                }
            }
            stacked.push(StackSeries {
                label: OTHER.into(),
                values: other,
            });
        }
        Stack {
            buckets: self.buckets.clone(),
            series: stacked,
        }
    }
}

/// A column's codes and values, stored or derived (a tag key's values).
struct Resolved<'a> {
    codes: std::borrow::Cow<'a, [u32]>,
    values: std::borrow::Cow<'a, [Arc<str>]>,
}

impl Cube {
    /// The cube as a customer's own view may carry it: the customer's price
    /// and quantities only. Partner cost, list cost and the partner-earned
    /// credit are dropped (the pivot reads missing columns as zero).
    pub fn without_partner_figures(mut self) -> Cube {
        self.partner_cost = Vec::new();
        self.list_cost = Vec::new();
        self.pec_basis_points = Vec::new();
        self
    }

    pub fn len(&self) -> usize {
        self.day.len()
    }

    pub fn is_empty(&self) -> bool {
        self.day.is_empty()
    }

    /// The distinct values of a dimension, for filter pickers.
    pub fn values(&self, dim: &Dim) -> Vec<String> {
        let mut values: Vec<String> = self
            .resolve(dim)
            .values
            .iter()
            .map(|v| v.to_string())
            .collect();
        values.sort();
        values.dedup();
        values
    }

    /// Tag keys present in the cube.
    pub fn tag_keys(&self) -> Vec<String> {
        if let Some(summed) = &self.summed {
            return summed.tag_keys.clone();
        }
        let mut keys: Vec<String> = self.columns[TAGS]
            .values
            .iter()
            .flat_map(|t| parse_tags(t).into_iter().map(|(k, _)| k))
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    fn resolve(&self, dim: &Dim) -> Resolved<'_> {
        match dim.column() {
            Some(c) => Resolved {
                codes: (&self.columns[c].codes[..]).into(),
                values: (&self.columns[c].values[..]).into(),
            },
            None => {
                let Dim::Tag(key) = dim else {
                    unreachable!("only tags are derived")
                };
                // Each distinct tags text is parsed once, then rows are remapped.
                let tags = &self.columns[TAGS];
                let mut values: Vec<Arc<str>> = Vec::new();
                let mut index: HashMap<String, u32> = HashMap::new();
                let remap: Vec<u32> = tags
                    .values
                    .iter()
                    .map(|text| {
                        let value = tag_value(text, key);
                        *index.entry(value).or_insert_with_key(|value| {
                            values.push(value.as_str().into());
                            values.len() as u32 - 1
                        })
                    })
                    .collect();
                Resolved {
                    codes: tags
                        .codes
                        .iter()
                        .map(|c| remap[*c as usize])
                        .collect::<Vec<_>>()
                        .into(),
                    values: values.into(),
                }
            }
        }
    }

    /// Groups, filters and sums. Rows are always split by currency too.
    pub fn pivot(&self, query: &PivotQuery) -> Pivot {
        self.pivot_indexed(query, None)
    }

    /// The pivot, its groups indexed directly for a key space of at most
    /// `direct` keys when given (tests hold every index to the same answer).
    fn pivot_indexed(&self, query: &PivotQuery, direct: Option<usize>) -> Pivot {
        let groups: Vec<Resolved<'_>> = query.group_by.iter().map(|d| self.resolve(d)).collect();
        let currency = &self.columns[Dim::Currency.column().expect("stored")];
        // Per filtered dimension: which codes pass.
        let filters: Vec<(Resolved<'_>, Vec<bool>)> = query
            .filters
            .iter()
            .map(|(dim, allowed)| {
                let r = self.resolve(dim);
                let pass = r
                    .values
                    .iter()
                    .map(|v| allowed.iter().any(|a| **a == **v))
                    .collect();
                (r, pass)
            })
            .collect();
        let from = query.from.map(day_number).unwrap_or(i32::MIN);
        let to = query.to.map(day_number).unwrap_or(i32::MAX);

        // Buckets: the distinct bucket starts of the days in range.
        let mut bucket_starts: Vec<i32> = Vec::new();
        if query.bucket != Bucket::None {
            let (lo, hi) = self
                .day
                .iter()
                .filter(|d| (from..=to).contains(*d))
                .fold((i32::MAX, i32::MIN), |(lo, hi), d| (lo.min(*d), hi.max(*d)));
            if lo <= hi {
                let mut day = lo;
                while day <= hi {
                    let start = query.bucket.start(day);
                    if bucket_starts.last() != Some(&start) {
                        bucket_starts.push(start);
                    }
                    day += 1;
                }
            }
        }
        let first_day = bucket_starts.first().copied().unwrap_or(0);
        // Day offset -> bucket index, so each row costs one lookup.
        let bucket_of: Vec<u32> = if bucket_starts.is_empty() {
            Vec::new()
        } else {
            let last = query
                .bucket
                .start(*bucket_starts.last().expect("non-empty"));
            let span = (to.min(last + 31) - first_day + 1).max(0) as usize;
            let mut table = Vec::with_capacity(span);
            let mut b = 0usize;
            for offset in 0..span {
                let day = first_day + offset as i32;
                while b + 1 < bucket_starts.len() && bucket_starts[b + 1] <= day {
                    b += 1;
                }
                table.push(b as u32);
            }
            table
        };
        let n_buckets = bucket_starts.len().max(1);

        // A group's key in mixed radix over its dimensions' codes and the currency.
        let radices: Vec<u64> = groups
            .iter()
            .map(|g| g.values.len().max(1) as u64)
            .chain(std::iter::once(currency.values.len().max(1) as u64))
            .collect();
        // A key space no larger than the rows, whose series are small too,
        // is indexed directly: most of its keys are groups, and a slot for
        // each key costs less than a lookup for each row (issue 24).
        let direct = direct.unwrap_or_else(|| {
            let most = if bucket_starts.is_empty() {
                DIRECT_SLOTS
            } else {
                DIRECT_SERIES_SLOTS / n_buckets
            };
            most.min(self.len().max(BLOCK))
        });
        let mut index = Groups::new(radices, direct);
        let (mut totals, mut series) = (Sums::default(), Sums::default());
        // Series as large as they can be, when that is small: grown group
        // by group, a large partner's were copied over and over.
        let most = index
            .most()
            .map_or(usize::MAX, |m| m.saturating_mul(n_buckets));
        if !bucket_starts.is_empty() && most <= DIRECT_SERIES_SLOTS {
            series.grow(most);
        }
        if let Some(most) = index.most().filter(|m| *m <= 1 << 18) {
            totals.grow(most);
        }
        let n = self.len();
        let key_columns: Vec<&[u32]> = groups
            .iter()
            .map(|g| &g.codes[..n])
            .chain(std::iter::once(&currency.codes[..n]))
            .collect();
        // A customer's own cube carries no partner figures: they add nothing.
        let zeros = vec![0i64; BLOCK];
        fn measure<'a>(
            column: &'a [i64],
            rows: std::ops::Range<usize>,
            zeros: &'a [i64],
        ) -> &'a [i64] {
            column.get(rows.clone()).unwrap_or(&zeros[..rows.len()])
        }
        let line_counts = self.summed.as_ref().map(|s| &s.lines[..n]);
        let in_range = query.from.is_some() || query.to.is_some();
        let (mut slots, mut series_slots, mut packed) = (Vec::new(), Vec::new(), Vec::new());
        for start in (0..n).step_by(BLOCK) {
            let rows = start..(start + BLOCK).min(n);
            let days = &self.day[rows.clone()];
            let block_columns: Vec<&[u32]> = key_columns.iter().map(|c| &c[rows.clone()]).collect();
            let every_row = !in_range && filters.is_empty();
            let block_slots = match index.as_slots(&block_columns) {
                Some(codes) if every_row => codes,
                _ if every_row && index.pack(&block_columns, &mut slots) => &slots[..],
                _ => {
                    slots.clear();
                    slots.resize(rows.len(), 0u32);
                    if in_range {
                        for (slot, day) in slots.iter_mut().zip(days) {
                            if *day < from || *day > to {
                                *slot = SKIP;
                            }
                        }
                    }
                    for (r, pass) in &filters {
                        for (slot, code) in slots.iter_mut().zip(&r.codes[rows.clone()]) {
                            if !pass[*code as usize] {
                                *slot = SKIP;
                            }
                        }
                    }
                    index.assign(&block_columns, &mut slots, &mut packed);
                    &slots[..]
                }
            };
            let block = Block {
                partner_cost: measure(&self.partner_cost, rows.clone(), &zeros),
                customer_price: measure(&self.customer_price, rows.clone(), &zeros),
                list_cost: measure(&self.list_cost, rows.clone(), &zeros),
                quantity: measure(&self.quantity, rows.clone(), &zeros),
                lines: line_counts.map(|l| &l[rows.clone()]),
            };
            totals.grow(index.len());
            totals.add(block_slots, &block);
            if !bucket_of.is_empty() {
                series_slots.clear();
                series_slots.extend(block_slots.iter().zip(days).map(|(slot, day)| {
                    if *slot == SKIP {
                        SKIP
                    } else {
                        *slot * n_buckets as u32 + bucket_of[(day - first_day) as usize]
                    }
                }));
                series.grow(index.len() * n_buckets);
                series.add(&series_slots, &block);
            }
        }
        let width = groups.len();
        let currency_code = |g: usize| index.code(g, width) as usize;
        let key_of = |g: usize| {
            let index = &index;
            groups
                .iter()
                .enumerate()
                .map(move |(d, r)| &*r.values[index.code(g, d) as usize])
        };
        // Each name is the cube's own, shared by the rows that carry it.
        let name = |dim: usize, code: u32| -> Arc<str> {
            match groups.get(dim) {
                Some(r) => r.values[code as usize].clone(),
                None => currency.values[code as usize].clone(),
            }
        };
        // Costliest first; by price where there is no cost (a customer's own
        // cube), then by the names. The groups are ordered before any row is
        // made, so that no row is moved and no name copied to be compared
        // (a pivot by two dimensions has tens of thousands of groups).
        let direct = index.is_direct();
        let mut order: Vec<(u64, u32)> = (0..index.len())
            .filter(|g| !direct || !totals.is_empty(*g))
            .map(|g| (cost_key(totals.get(g).partner_cost), g as u32))
            .collect();
        let price = |g: u32| totals.get(g as usize).customer_price;
        by_figures(&mut order, |a, b| {
            let (ga, gb) = (a as usize, b as usize);
            price(b).cmp(&price(a)).then_with(|| {
                key_of(ga).cmp(key_of(gb)).then_with(|| {
                    currency.values[currency_code(ga)].cmp(&currency.values[currency_code(gb)])
                })
            })
        });
        let mut by_currency: Vec<Option<Measures>> = vec![None; currency.values.len()];
        let rows: Vec<PivotRow> = order
            .into_iter()
            .map(|(_, g)| {
                let g = g as usize;
                let code = currency_code(g);
                let total = totals.get(g);
                match &mut by_currency[code] {
                    Some(m) => m.add(&total),
                    none => *none = Some(total),
                }
                // Built in place: collected from an iterator, the keys took
                // about a sixth of the rows' time in the browser.
                let keys = match width {
                    1 => {
                        let mut keys = Keys::new();
                        keys.push(name(0, index.code(g, 0)));
                        keys
                    }
                    2 => Keys::from_buf([name(0, index.code(g, 0)), name(1, index.code(g, 1))]),
                    _ => (0..width).map(|d| name(d, index.code(g, d))).collect(),
                };
                PivotRow {
                    keys,
                    currency: name(width, code as u32),
                    total,
                    series: if bucket_starts.is_empty() {
                        Vec::new()
                    } else {
                        (g * n_buckets..(g + 1) * n_buckets)
                            .map(|slot| series.get(slot))
                            .collect()
                    },
                }
            })
            .collect();
        let mut by_currency: Vec<(String, Measures)> = by_currency
            .into_iter()
            .zip(&currency.values)
            .filter_map(|(m, c)| Some((c.to_string(), m?)))
            .collect();
        by_currency.sort_by(|a, b| a.0.cmp(&b.0));
        // A decoded cube's dictionary could name a currency twice.
        by_currency.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1.add(&later.1);
            }
            same
        });
        Pivot {
            group_by: query.group_by.clone(),
            buckets: bucket_starts.into_iter().map(date_of).collect(),
            rows,
            totals: by_currency,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A cube of few values, each line `(customer, meter, currency, day, cost)`.
    fn small_cube(lines: &[(usize, usize, usize, u64, i64)]) -> Cube {
        let (customers, meters) = (["c0", "c1", "c2", "c3", "c4"], ["m0", "m1", "m2"]);
        let tags = [r#"{"env":"prod"}"#, ""];
        let mut b = CubeBuilder::new();
        for (i, (c, m, cur, day, cost)) in lines.iter().enumerate() {
            b.push(&CubeRow {
                customer: customers[*c],
                meter: meters[*m],
                region: ["eastus", "westus"][i % 2],
                currency: ["USD", "EUR"][*cur],
                tags: tags[i % 3 / 2],
                day: NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid") + chrono::Days::new(*day),
                partner_cost: *cost,
                customer_price: cost * 11 / 10,
                list_cost: cost * 12 / 10,
                quantity: i as i64,
                ..CubeRow::default()
            });
        }
        b.finish()
    }

    proptest! {
        #[test]
        fn every_index_gives_the_same_pivot(
            lines in proptest::collection::vec((0..5usize, 0..3usize, 0..2usize, 0..40u64, -3i64..1_000), 0..120),
            dims in proptest::sample::subsequence(
                vec![Dim::Customer, Dim::Meter, Dim::Region, Dim::Tag("env".into())],
                0..=3,
            ),
            bucket in proptest::sample::select(vec![Bucket::None, Bucket::Day, Bucket::Month]),
            filtered in any::<bool>(),
            ranged in any::<bool>(),
        ) {
            // Few costs, so that ties are ordered by price and names too.
            let cube = small_cube(&lines);
            let day = |d: u32| NaiveDate::from_ymd_opt(2026, 1, d);
            let query = PivotQuery {
                group_by: dims,
                filters: if filtered {
                    vec![(Dim::Customer, vec!["c1".into(), "c3".into(), "c4".into()])]
                } else {
                    Vec::new()
                },
                from: if ranged { day(5) } else { None },
                to: if ranged { day(30) } else { None },
                bucket,
            };
            // Slots in order of first appearance (a table or a map), and
            // the key as the slot.
            let by_table = cube.pivot_indexed(&query, Some(0));
            prop_assert_eq!(&cube.pivot_indexed(&query, Some(usize::MAX)), &by_table);
            prop_assert_eq!(&cube.pivot(&query), &by_table);
        }

    }
}
