//! Numbers, money and dates for the app's language (`crate::i18n`), through
//! the browser's own Intl (no locale data in the wasm). Amounts stay integer
//! millionths everywhere else; they become doubles only here, for display.

use std::cell::RefCell;
use std::collections::HashMap;

use chrono::Datelike;
use js_sys::{Array, Function, Intl, Object, Reflect};
use wasm_bindgen::JsValue;

thread_local! {
    static FORMATS: RefCell<HashMap<String, Function>> = RefCell::new(HashMap::new());
}

/// The app's language as Intl takes it.
fn locales() -> Array {
    Array::of1(&JsValue::from_str(crate::i18n::current().tag()))
}

fn formatter(key: &str, options: &[(&str, JsValue)]) -> Function {
    let key = format!("{}:{key}", crate::i18n::current().tag());
    FORMATS.with(|cache| {
        cache
            .borrow_mut()
            .entry(key)
            .or_insert_with(|| {
                let opts = Object::new();
                for (k, v) in options {
                    let _ = Reflect::set(&opts, &JsValue::from_str(k), v);
                }
                Intl::NumberFormat::new(&locales(), &opts).format()
            })
            .clone()
    })
}

fn apply(f: &Function, value: f64) -> String {
    f.call1(&JsValue::NULL, &JsValue::from_f64(value))
        .ok()
        .and_then(|v| v.as_string())
        // The browser's own writing of the number (no float formatting in the wasm).
        .unwrap_or_else(|| {
            js_sys::Number::from(value)
                .to_string_with_radix(10)
                .map(String::from)
                .unwrap_or_default()
        })
}

/// `1,234.56 US$` or `NT$1,235`, as the browser's locale writes it; the
/// currency's own decimals. A minus only where the written figure is not
/// zero (never `-$0.00`).
pub fn money(micros: i64, currency: &str) -> String {
    let f = formatter(
        &format!("money:{currency}"),
        &[
            ("style", "currency".into()),
            ("currency", currency.into()),
            ("signDisplay", "negative".into()),
        ],
    );
    apply(&f, micros as f64 / 1e6)
}

/// Sets up the browser's number, money and date formats ahead of need: the
/// first costs Intl 15-25 ms (its locale's data), better spent while a
/// page's data is on its way than in the task that draws it.
pub fn warm() {
    crate::timing::measured("csp-costs:warm", || {
        let _ = number(0.0, 0);
        let _ = day(chrono::NaiveDate::default());
        // Once the first format has Intl's data, these cost about 1 ms.
        let _ = money(0, "USD");
        let _ = percent(0);
    });
}

/// A plain number with up to `decimals` decimals.
pub fn number(value: f64, decimals: u32) -> String {
    let f = formatter(
        &format!("number:{decimals}"),
        &[("maximumFractionDigits", JsValue::from_f64(decimals as f64))],
    );
    apply(&f, value)
}

/// Basis points as a percent, `12.5 %` in the locale's way.
pub fn percent(basis_points: i64) -> String {
    let f = formatter(
        "percent",
        &[
            ("style", "percent".into()),
            ("maximumFractionDigits", JsValue::from_f64(1.0)),
            // Never `-0%` for a small negative that rounds to nothing.
            ("signDisplay", "negative".into()),
        ],
    );
    apply(&f, basis_points as f64 / 10_000.0)
}

/// A UTC day in the app's language (the day Partner Center reports).
pub fn day(d: chrono::NaiveDate) -> String {
    date(
        d,
        "day",
        &[("year", "numeric"), ("month", "short"), ("day", "numeric")],
    )
}

/// A month by name, `November 2026` (`2026年11月`).
pub fn month(d: chrono::NaiveDate) -> String {
    date(d, "month", &[("year", "numeric"), ("month", "long")])
}

/// The month of `as_of` and how far it goes: `November 2026, to Nov 30`.
/// "This month" alone misleads on the 1st, when the last day with data is
/// still in the month before.
pub fn month_to(as_of: chrono::NaiveDate) -> String {
    let to = date(
        as_of,
        "month-day",
        &[("month", "short"), ("day", "numeric")],
    );
    (crate::i18n::t().month_to)(&month(as_of), &to)
}

/// The month before `as_of`'s, by name.
pub fn month_before(as_of: chrono::NaiveDate) -> String {
    let first = as_of.with_day(1).unwrap_or(as_of);
    month(first.pred_opt().unwrap_or(first))
}

fn date(d: chrono::NaiveDate, key: &str, options: &[(&str, &str)]) -> String {
    let f = FORMATS.with(|cache| {
        cache
            .borrow_mut()
            .entry(format!("{}:{key}", crate::i18n::current().tag()))
            .or_insert_with(|| {
                let opts = Object::new();
                let _ = Reflect::set(&opts, &"timeZone".into(), &"UTC".into());
                for (k, v) in options {
                    let _ = Reflect::set(&opts, &JsValue::from_str(k), &JsValue::from_str(v));
                }
                Intl::DateTimeFormat::new(&locales(), &opts).format()
            })
            .clone()
    });
    // Midnight UTC as milliseconds since 1970 (day 719,163 of the common
    // era): no date text to write and for the browser to parse again, and
    // chrono's format machinery stays out of the wasm.
    let days = i64::from(d.num_days_from_ce()) - 719_163;
    let date = js_sys::Date::new(&JsValue::from_f64(days as f64 * 86_400_000.0));
    f.call1(&JsValue::NULL, &date)
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_else(|| d.to_string())
}

/// A stack's texts as its chart and table show them: each day, each amount
/// and each series' name once (the tooltips and the table show the same
/// ones, and each is a call into Intl).
pub struct StackTexts {
    pub days: Vec<String>,
    /// By series, then by day.
    pub amounts: Vec<Vec<String>>,
    pub names: Vec<String>,
}

pub fn stack_texts(stack: &model::cube::Stack, currency: &str) -> StackTexts {
    StackTexts {
        days: stack.buckets.iter().map(|d| day(*d)).collect(),
        amounts: stack
            .series
            .iter()
            .map(|s| s.values.iter().map(|v| money(*v, currency)).collect())
            .collect(),
        names: stack
            .series
            .iter()
            .map(|s| crate::i18n::key_label(&s.label))
            .collect(),
    }
}
