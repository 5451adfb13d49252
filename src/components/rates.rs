//! Which rates a converted figure used: every view that adds or ranks
//! amounts of several currencies in the reporting currency says so, with
//! the day the rates are of.

use leptos::prelude::*;
use model::overview::Rates;

use crate::format;
use crate::i18n::t;

/// `1 EUR = 1.08 USD; 1 JPY = 0.0067 USD` for the currencies a view shows.
fn rate_list(rates: &Rates, currencies: &[String]) -> String {
    rates
        .used_for(currencies.iter().map(String::as_str))
        .iter()
        .map(|(c, micros)| {
            format!(
                "1 {c} = {} {}",
                format::number(*micros as f64 / 1e6, 6),
                rates.currency
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The sentence under a converted figure; nothing when the view shows the
/// reporting currency alone or cannot convert (the view says that itself).
#[component]
pub fn RatesUsed(rates: Rates, currencies: Vec<String>) -> impl IntoView {
    let converts = rates.converts_all(currencies.iter().map(String::as_str));
    let list = rate_list(&rates, &currencies);
    (converts && !list.is_empty()).then(|| {
        let text = match rates.of {
            Some(day) => (t().rates_used)(&rates.currency, &format::day(day), &list),
            None => (t().rates_used_undated)(&rates.currency, &list),
        };
        view! { <p class="notice rates-used" data-rates-of=rates.of.map(|d| d.to_string())>{text}</p> }
    })
}
