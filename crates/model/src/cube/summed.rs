//! A cube summed on the proxy: past a number of line items a scope is sent
//! as a row per day and per value of the dimensions the view uses, each
//! row the exact sum of its lines. The browser regroups it by those
//! dimensions as it would the line items; for any other it asks again.

use std::collections::{BTreeSet, HashMap};

use foldhash::fast::RandomState;

use serde::{Deserialize, Serialize};

use super::{
    Cube, CubeBuilder, CubeRow, Dim, Figures, RowCodes, STORED, TAGS, date_of, parse_tags,
};

/// What a summed cube kept, and how many line items each row sums.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summed {
    /// The dimensions kept besides the currency, which always is. The
    /// others read as one empty value.
    pub kept: Vec<Dim>,
    /// Every tag key of the scope's lines, kept or not: what the view may
    /// offer to group by.
    pub tag_keys: Vec<String>,
    /// Line items per row.
    pub lines: Vec<u32>,
}

impl Cube {
    /// Whether the pivot by `dims` reads this cube as it would its line
    /// items: always for line items, else when each is kept.
    pub fn covers(&self, dims: &[Dim]) -> bool {
        match &self.summed {
            None => true,
            Some(s) => holds(&s.kept, dims),
        }
    }

    /// The line items the cube holds or sums.
    pub fn line_count(&self) -> u64 {
        match &self.summed {
            None => self.len() as u64,
            Some(s) => s.lines.iter().map(|n| u64::from(*n)).sum(),
        }
    }

    /// Row `i` as it was pushed (its credit aside).
    fn row_at(&self, i: usize) -> CubeRow<'_> {
        let text = |c: usize| {
            let column = &self.columns[c];
            &*column.values[column.codes[i] as usize]
        };
        let amount = |column: &[i64]| column.get(i).copied().unwrap_or(0);
        CubeRow {
            customer: text(0),
            subscription: text(1),
            meter_category: text(2),
            meter_subcategory: text(3),
            meter: text(4),
            region: text(5),
            resource_group: text(6),
            resource: text(7),
            publisher: text(8),
            charge_type: text(9),
            currency: text(10),
            unit: text(11),
            tags: text(TAGS),
            day: date_of(self.day[i]),
            partner_cost: amount(&self.partner_cost),
            customer_price: amount(&self.customer_price),
            list_cost: amount(&self.list_cost),
            quantity: amount(&self.quantity),
            pec_basis_points: 0,
        }
    }
}

/// The builder's state while it may sum.
pub(super) struct Summing {
    /// Line items kept as they are before summing starts.
    limit: usize,
    keep: Vec<Dim>,
    /// Per stored column: kept (the currency always).
    kept_columns: [bool; TAGS],
    /// The tag keys kept, whose values stay in the tags column.
    kept_tags: Vec<String>,
    pub(super) active: bool,
    /// A row's day and codes, to its index. Hashed by foldhash: the keys
    /// are our own codes, and SipHash cost more than the rest of a row.
    rows: HashMap<(i32, RowCodes), u32, RandomState>,
    /// A line's tags text to the code of what is kept of it.
    tags: HashMap<String, u32>,
    tag_keys: BTreeSet<String>,
    lines: Vec<u32>,
}

impl Summing {
    pub(super) fn finish(self) -> Option<Summed> {
        self.active.then(|| Summed {
            kept: self.keep,
            tag_keys: self.tag_keys.into_iter().collect(),
            lines: self.lines,
        })
    }
}

impl CubeBuilder {
    /// A builder that keeps line items as they are up to `limit` of them,
    /// and past it sums them to a row per day and per value of `keep`'s
    /// dimensions and the currency. It holds the rows, never the lines.
    pub fn summing_above(limit: usize, keep: &[Dim]) -> Self {
        let mut keep: Vec<Dim> = keep.to_vec();
        keep.sort();
        keep.dedup();
        let mut kept_columns = [false; TAGS];
        for (c, dim) in STORED.iter().enumerate() {
            kept_columns[c] = *dim == Dim::Currency || keep.contains(dim);
        }
        let kept_tags = keep
            .iter()
            .filter_map(|d| match d {
                Dim::Tag(k) => Some(k.clone()),
                _ => None,
            })
            .collect();
        let mut builder = CubeBuilder::new();
        builder.summing = Some(Summing {
            limit,
            keep,
            kept_columns,
            kept_tags,
            active: false,
            rows: HashMap::default(),
            tags: HashMap::new(),
            tag_keys: BTreeSet::new(),
            lines: Vec::new(),
        });
        builder
    }

    /// Tags text of the scope's lines, for the tag keys a summed cube
    /// offers when its rows came summed without them.
    pub fn see_tags(&mut self, text: &str) {
        if let Some(s) = self.summing.as_mut() {
            s.tag_keys
                .extend(parse_tags(text).into_iter().map(|(k, _)| k));
        }
    }

    pub(super) fn push_summing(&mut self, row: &CubeRow<'_>) {
        let mut summing = self.summing.take().expect("summing");
        if !summing.active && self.cube.len() < summing.limit {
            self.push_line(row);
        } else {
            if !summing.active {
                // Past the limit: what was kept line by line is summed too.
                summing.active = true;
                let lines = std::mem::replace(&mut self.cube, CubeBuilder::new().cube);
                self.dictionaries = vec![HashMap::new(); TAGS + 1];
                for i in 0..lines.len() {
                    self.add_summed(&mut summing, &lines.row_at(i), 1);
                }
            }
            self.add_summed(&mut summing, row, 1);
        }
        self.summing = Some(summing);
    }

    fn add_summed(&mut self, s: &mut Summing, row: &CubeRow<'_>, lines: u32) {
        let codes = self.summing_codes(s, row);
        self.add_coded(s, &codes, &row.figures(), lines);
    }

    /// What a summing builder keeps of a row's texts, as codes.
    pub(super) fn summing_codes(&mut self, s: &mut Summing, row: &CubeRow<'_>) -> RowCodes {
        let texts = row.texts();
        let mut codes = [0; TAGS + 1];
        for (c, text) in texts[..TAGS].iter().enumerate() {
            codes[c] = self.code(c, if s.kept_columns[c] { text } else { "" });
        }
        codes[TAGS] = match s.tags.get(texts[TAGS]) {
            Some(code) => *code,
            None => {
                let pairs = parse_tags(texts[TAGS]);
                s.tag_keys.extend(pairs.iter().map(|(k, _)| k.clone()));
                let kept: serde_json::Map<String, serde_json::Value> = pairs
                    .into_iter()
                    .filter(|(k, _)| s.kept_tags.contains(k))
                    .map(|(k, v)| (k, serde_json::Value::String(v)))
                    .collect();
                let text = if kept.is_empty() {
                    String::new()
                } else {
                    serde_json::Value::Object(kept).to_string()
                };
                let code = self.code(TAGS, &text);
                s.tags.insert(texts[TAGS].to_string(), code);
                code
            }
        };
        RowCodes(codes)
    }

    /// Adds `figures` over `lines` line items to the row of its day and
    /// codes, a new row the first time.
    pub(super) fn add_coded(
        &mut self,
        s: &mut Summing,
        codes: &RowCodes,
        figures: &Figures,
        lines: u32,
    ) {
        let cube = &mut self.cube;
        match s.rows.entry((figures.day, *codes)) {
            std::collections::hash_map::Entry::Occupied(row) => {
                let r = *row.get() as usize;
                cube.partner_cost[r] += figures.partner_cost;
                cube.customer_price[r] += figures.customer_price;
                cube.list_cost[r] += figures.list_cost;
                cube.quantity[r] += figures.quantity;
                s.lines[r] += lines;
            }
            std::collections::hash_map::Entry::Vacant(row) => {
                row.insert(cube.day.len() as u32);
                for (column, code) in cube.columns.iter_mut().zip(codes.0) {
                    column.codes.push(code);
                }
                cube.day.push(figures.day);
                cube.partner_cost.push(figures.partner_cost);
                cube.customer_price.push(figures.customer_price);
                cube.list_cost.push(figures.list_cost);
                cube.quantity.push(figures.quantity);
                s.lines.push(lines);
            }
        }
    }
}

/// What the Explorer asks the proxy to keep next: what it asked last
/// (`asked`), unless the cube on screen was summed (`kept`) without a
/// dimension now grouped or filtered by (`in_use`); then those. A cube of
/// line items is never asked for again for a regrouping.
pub fn keep_next(asked: &[Dim], kept: Option<&[Dim]>, in_use: &[Dim]) -> Vec<Dim> {
    match kept {
        Some(kept) if !holds(kept, in_use) => {
            let mut next = in_use.to_vec();
            next.retain(|d| *d != Dim::Currency);
            next.sort();
            next.dedup();
            next
        }
        _ => asked.to_vec(),
    }
}

/// Whether a cube summed to `kept` still tells `dims` apart (every summed
/// row keeps its currency).
fn holds(kept: &[Dim], dims: &[Dim]) -> bool {
    dims.iter().all(|d| *d == Dim::Currency || kept.contains(d))
}

/// The dimensions a view groups or filters by: those its cube must hold.
pub fn dims_in_use(group_by: &[Dim], filters: &[(Dim, Vec<String>)]) -> Vec<Dim> {
    let mut dims = group_by.to_vec();
    dims.extend(filters.iter().map(|(d, _)| d.clone()));
    dims
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_explorer_asks_again_only_for_a_summed_cube_missing_a_dimension() {
        let (customer, meter) = (Dim::Customer, Dim::Meter);
        let asked = vec![customer.clone()];
        // Line items: any regrouping is the browser's.
        assert_eq!(keep_next(&asked, None, std::slice::from_ref(&meter)), asked);
        // Summed by customer: grouping by customer and currency needs nothing more.
        let kept = [customer.clone()];
        assert_eq!(
            keep_next(&asked, Some(&kept), &[Dim::Currency, customer.clone()]),
            asked
        );
        // Grouped by meter, filtered by customer: both are asked for.
        assert_eq!(
            keep_next(
                &asked,
                Some(&kept),
                &[meter.clone(), customer.clone(), meter.clone()]
            ),
            [customer, meter]
        );
    }
}
