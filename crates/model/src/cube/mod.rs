//! The usage cube: daily line items as columns, each text dimension
//! dictionary-encoded, and the pivot over it. The browser regroups a cube on
//! every filter change with no round trip; the proxy uses the same code for
//! cross-customer summaries.
//!
//! Amounts are integer millionths and sums are exact. Amounts in different
//! currencies are never added: the currency is always part of a group's key.

use std::collections::HashMap;

use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};

/// The dimensions a cube can be grouped and filtered by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dim {
    Customer,
    Subscription,
    MeterCategory,
    MeterSubcategory,
    Meter,
    Region,
    ResourceGroup,
    Resource,
    /// The value of one tag key (`tag:env`); `(untagged)` when absent.
    Tag(String),
    Publisher,
    ChargeType,
    Currency,
    Unit,
}

/// The dictionary-encoded text columns, in this order (tags come after).
pub const STORED: [Dim; 12] = [
    Dim::Customer,
    Dim::Subscription,
    Dim::MeterCategory,
    Dim::MeterSubcategory,
    Dim::Meter,
    Dim::Region,
    Dim::ResourceGroup,
    Dim::Resource,
    Dim::Publisher,
    Dim::ChargeType,
    Dim::Currency,
    Dim::Unit,
];

/// Where tags sit, as their JSON text, after the stored dimensions.
const TAGS: usize = STORED.len();

pub const UNTAGGED: &str = "(untagged)";

impl Dim {
    pub fn name(&self) -> String {
        match self {
            Dim::Customer => "customer".into(),
            Dim::Subscription => "subscription".into(),
            Dim::MeterCategory => "meterCategory".into(),
            Dim::MeterSubcategory => "meterSubcategory".into(),
            Dim::Meter => "meter".into(),
            Dim::Region => "region".into(),
            Dim::ResourceGroup => "resourceGroup".into(),
            Dim::Resource => "resource".into(),
            Dim::Tag(key) => format!("tag:{key}"),
            Dim::Publisher => "publisher".into(),
            Dim::ChargeType => "chargeType".into(),
            Dim::Currency => "currency".into(),
            Dim::Unit => "unit".into(),
        }
    }

    pub fn parse(name: &str) -> Option<Dim> {
        if let Some(key) = name.strip_prefix("tag:") {
            return (!key.is_empty()).then(|| Dim::Tag(key.to_string()));
        }
        STORED.iter().find(|d| d.name() == name).cloned()
    }

    fn column(&self) -> Option<usize> {
        STORED.iter().position(|d| d == self)
    }
}

impl Serialize for Dim {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for Dim {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Dim::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown dimension “{s}”")))
    }
}

/// One text column: the distinct values, and each row's index into them.
/// Values are shared: a pivot's rows carry them without a copy each.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub values: Vec<std::sync::Arc<str>>,
    pub codes: Vec<u32>,
}

/// Sums over line items. Margin is derived: price minus cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Measures {
    /// What the partner pays (after credits), in millionths.
    pub partner_cost: i64,
    /// What the customer is charged (markup applied), in millionths.
    pub customer_price: i64,
    /// The cost at list price, in millionths.
    pub list_cost: i64,
    /// In millionths of the unit; only meaningful within one unit.
    pub quantity: i64,
    pub lines: u64,
}

impl Measures {
    pub fn margin(&self) -> i64 {
        self.customer_price - self.partner_cost
    }

    pub fn add(&mut self, other: &Measures) {
        self.partner_cost += other.partner_cost;
        self.customer_price += other.customer_price;
        self.list_cost += other.list_cost;
        self.quantity += other.quantity;
        self.lines += other.lines;
    }

    pub fn get(&self, measure: Measure) -> i64 {
        match measure {
            Measure::PartnerCost => self.partner_cost,
            Measure::CustomerPrice => self.customer_price,
            Measure::Margin => self.margin(),
            Measure::ListCost => self.list_cost,
            Measure::Quantity => self.quantity,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Measure {
    PartnerCost,
    CustomerPrice,
    Margin,
    ListCost,
    Quantity,
}

/// Line items as columns. Build one with [`CubeBuilder`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cube {
    /// The stored dimensions in [`STORED`] order, then the tags' JSON text.
    pub columns: Vec<Column>,
    /// Days since 1970-01-01 (UTC days, as Partner Center reports them).
    pub day: Vec<i32>,
    pub partner_cost: Vec<i64>,
    pub customer_price: Vec<i64>,
    pub list_cost: Vec<i64>,
    pub quantity: Vec<i64>,
    /// Partner-earned credit applied (basis points; 0 where none).
    pub pec_basis_points: Vec<u16>,
    /// Present when the proxy summed the line items to fewer dimensions
    /// (a scope too large to send line by line): see [`Summed`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summed: Option<Summed>,
}

/// One row to add to a cube.
#[derive(Debug, Clone, Default)]
pub struct CubeRow<'a> {
    pub customer: &'a str,
    pub subscription: &'a str,
    pub meter_category: &'a str,
    pub meter_subcategory: &'a str,
    pub meter: &'a str,
    pub region: &'a str,
    pub resource_group: &'a str,
    pub resource: &'a str,
    pub tags: &'a str,
    pub publisher: &'a str,
    pub charge_type: &'a str,
    pub currency: &'a str,
    pub unit: &'a str,
    pub day: NaiveDate,
    pub partner_cost: i64,
    pub customer_price: i64,
    pub list_cost: i64,
    pub quantity: i64,
    pub pec_basis_points: u16,
}

/// What a line or a summed row adds, without what it names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    /// Days since 1970-01-01, as [`day_number`] gives them.
    pub day: i32,
    pub partner_cost: i64,
    pub customer_price: i64,
    pub list_cost: i64,
    pub quantity: i64,
    pub pec_basis_points: u16,
}

/// A row's texts as one builder's dictionary codes (for a summing builder,
/// what it keeps of them): rows that name alike, as a store's rows by the
/// same ids do, are coded once and pushed by [`CubeBuilder::push_coded`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RowCodes([u32; TAGS + 1]);

impl CubeRow<'_> {
    pub fn figures(&self) -> Figures {
        Figures {
            day: day_number(self.day),
            partner_cost: self.partner_cost,
            customer_price: self.customer_price,
            list_cost: self.list_cost,
            quantity: self.quantity,
            pec_basis_points: self.pec_basis_points,
        }
    }

    /// The text columns in [`STORED`]'s order, then the tags.
    fn texts(&self) -> [&str; TAGS + 1] {
        [
            self.customer,
            self.subscription,
            self.meter_category,
            self.meter_subcategory,
            self.meter,
            self.region,
            self.resource_group,
            self.resource,
            self.publisher,
            self.charge_type,
            self.currency,
            self.unit,
            self.tags,
        ]
    }

    /// This row's value of `dim`, as the pivot groups and filters by it.
    pub fn value(&self, dim: &Dim) -> std::borrow::Cow<'_, str> {
        match (dim.column(), dim) {
            (Some(c), _) => self.texts()[c].into(),
            (None, Dim::Tag(key)) => tag_value(self.tags, key).into(),
            (None, _) => unreachable!("only tags are derived"),
        }
    }

    /// Whether the pivot's `filters` keep this row: each dimension's value
    /// is one of those allowed.
    pub fn matches(&self, filters: &[(Dim, Vec<String>)]) -> bool {
        filters.iter().all(|(dim, allowed)| {
            let value = self.value(dim);
            allowed.iter().any(|a| *a == value)
        })
    }
}

pub fn day_number(d: NaiveDate) -> i32 {
    d.signed_duration_since(epoch()).num_days() as i32
}

pub fn date_of(day: i32) -> NaiveDate {
    if day >= 0 {
        epoch() + Days::new(day as u64)
    } else {
        epoch() - Days::new(day.unsigned_abs() as u64)
    }
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date")
}

#[derive(Default)]
pub struct CubeBuilder {
    cube: Cube,
    dictionaries: Vec<HashMap<String, u32>>,
    /// Set by [`CubeBuilder::summing_above`].
    summing: Option<summed::Summing>,
}

impl CubeBuilder {
    pub fn new() -> Self {
        CubeBuilder {
            cube: Cube {
                columns: vec![Column::default(); TAGS + 1],
                ..Cube::default()
            },
            dictionaries: vec![HashMap::new(); TAGS + 1],
            summing: None,
        }
    }

    fn code(&mut self, column: usize, value: &str) -> u32 {
        if let Some(code) = self.dictionaries[column].get(value) {
            return *code;
        }
        let code = self.cube.columns[column].values.len() as u32;
        self.cube.columns[column].values.push(value.into());
        self.dictionaries[column].insert(value.to_string(), code);
        code
    }

    pub fn push(&mut self, row: &CubeRow<'_>) {
        match self.summing {
            Some(_) => self.push_summing(row),
            None => self.push_line(row),
        }
    }

    /// The codes `push` would give `row`'s texts: for a builder of line
    /// items, each text's; for a summing one, what it keeps of them, and
    /// from now on it sums (a store calls this once it knows the scope is
    /// past the limit, and pushes the rows it summed).
    pub fn codes(&mut self, row: &CubeRow<'_>) -> RowCodes {
        match self.summing.take() {
            Some(mut summing) => {
                summing.active = true;
                let codes = self.summing_codes(&mut summing, row);
                self.summing = Some(summing);
                codes
            }
            None => self.line_codes(row),
        }
    }

    /// A row whose texts are `codes` (from this builder's
    /// [`CubeBuilder::codes`]): a line item, or for a summing builder a
    /// row the store summed over `lines` of them.
    pub fn push_coded(&mut self, codes: &RowCodes, figures: &Figures, lines: u32) {
        match self.summing.take() {
            Some(mut summing) => {
                self.add_coded(&mut summing, codes, figures, lines);
                self.summing = Some(summing);
            }
            None => self.push_line_coded(codes, figures),
        }
    }

    fn line_codes(&mut self, row: &CubeRow<'_>) -> RowCodes {
        let mut codes = [0; TAGS + 1];
        for (column, text) in row.texts().iter().enumerate() {
            codes[column] = self.code(column, text);
        }
        RowCodes(codes)
    }

    fn push_line(&mut self, row: &CubeRow<'_>) {
        let codes = self.line_codes(row);
        self.push_line_coded(&codes, &row.figures());
    }

    fn push_line_coded(&mut self, codes: &RowCodes, figures: &Figures) {
        for (column, code) in self.cube.columns.iter_mut().zip(codes.0) {
            column.codes.push(code);
        }
        self.cube.day.push(figures.day);
        self.cube.partner_cost.push(figures.partner_cost);
        self.cube.customer_price.push(figures.customer_price);
        self.cube.list_cost.push(figures.list_cost);
        self.cube.quantity.push(figures.quantity);
        self.cube.pec_basis_points.push(figures.pec_basis_points);
    }

    pub fn finish(mut self) -> Cube {
        if let Some(summing) = self.summing.take() {
            self.cube.summed = summing.finish();
        }
        self.cube
    }
}

mod bars;
mod bytes;
mod convert;
mod order;
mod pivot;
mod summed;
mod sums;
mod tags;

pub use summed::{Summed, dims_in_use, keep_next};

pub use bars::{
    Bars, HEIGHT as CHART_HEIGHT, PAD as CHART_PAD, Segment, WIDTH as CHART_WIDTH, tenths,
};
pub use bytes::CUBE_MEDIA_TYPE;
pub use tags::parse_tags;

pub use pivot::{Bucket, Keys, OTHER, Pivot, PivotQuery, PivotRow, Stack, StackSeries, synthetic};

/// The value of tag `key` in a line's tags text, or [`UNTAGGED`].
fn tag_value(tags: &str, key: &str) -> String {
    parse_tags(tags)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
        .unwrap_or_else(|| UNTAGGED.to_string())
}
