//! The partner's reporting currency and exchange rates: what every view
//! that adds or ranks amounts of different currencies converts with, and
//! the day those rates are of, which each such view names.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::report;

/// `/api/settings/reporting`: the reporting currency and the partner's
/// exchange rates to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportingSettings {
    pub currency: String,
    /// Units of the reporting currency per unit of each currency, as decimal text.
    pub rates: Vec<ExchangeRate>,
    /// The day the rates are of (the partner's, from their bank or
    /// treasury); null for rates saved before rates had a day. On a `PUT`,
    /// left out means today.
    #[serde(default)]
    pub rates_of: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeRate {
    pub currency: String,
    pub rate: String,
}

/// The partner's reporting currency and its exchange rates to it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rates {
    pub currency: String,
    /// Units of the reporting currency per unit of each other currency, in millionths.
    pub rates: Vec<(String, i64)>,
    /// The day the rates are of.
    pub of: Option<NaiveDate>,
}

impl Rates {
    /// The rate from `currency` to the reporting currency, in millionths;
    /// `None` when the partner set none.
    pub fn rate(&self, currency: &str) -> Option<i64> {
        if currency == self.currency {
            return Some(1_000_000);
        }
        self.rates
            .iter()
            .find(|(c, _)| c == currency)
            .map(|(_, r)| *r)
    }

    /// `micros` of `currency` in the reporting currency; `None` without a
    /// rate or when the product does not fit.
    pub fn convert(&self, micros: i64, currency: &str) -> Option<i64> {
        report::checked_convert(micros, self.rate(currency)?)
    }

    /// Whether every one of `currencies` converts to the reporting currency.
    pub fn converts_all<'a>(&self, mut currencies: impl Iterator<Item = &'a str>) -> bool {
        currencies.all(|c| self.rate(c).is_some())
    }

    /// Whether a view of `currencies` shows converted figures beside them:
    /// some currency is not the reporting one, and every one converts.
    pub fn converts_beside(&self, currencies: &[String]) -> bool {
        currencies.iter().any(|c| *c != self.currency)
            && self.converts_all(currencies.iter().map(String::as_str))
    }

    /// The rates a view of `currencies` used, in currency order: the ones
    /// other than the reporting currency (which needs none).
    pub fn used_for<'a>(&self, currencies: impl Iterator<Item = &'a str>) -> Vec<(String, i64)> {
        let mut used: Vec<(String, i64)> = currencies
            .filter(|c| *c != self.currency)
            .filter_map(|c| Some((c.to_string(), self.rate(c)?)))
            .collect();
        used.sort();
        used.dedup();
        used
    }

    /// From `/api/settings/reporting`; a rate that does not read is left out.
    pub fn from_settings(settings: &ReportingSettings) -> Rates {
        Rates {
            currency: settings.currency.clone(),
            rates: settings
                .rates
                .iter()
                .filter_map(|r| {
                    let rate = crate::Amount::parse_decimal(&r.rate)?;
                    Some((r.currency.clone(), rate.micros()))
                })
                .collect(),
            of: settings.rates_of,
        }
    }

    /// As `/api/settings/reporting` shows them: rates as decimal text.
    pub fn settings(&self) -> ReportingSettings {
        ReportingSettings {
            currency: self.currency.clone(),
            rates: self
                .rates
                .iter()
                .map(|(c, micros)| ExchangeRate {
                    currency: c.clone(),
                    rate: crate::export::decimal(*micros),
                })
                .collect(),
            rates_of: self.of,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Rates {
        Rates {
            currency: "USD".into(),
            rates: vec![("EUR".into(), 1_080_000), ("JPY".into(), 6_700)],
            of: "2026-11-30".parse().ok(),
        }
    }

    #[test]
    fn converts_with_the_rate_and_says_when_it_cannot() {
        let r = usd();
        assert_eq!(r.convert(100_000_000, "EUR"), Some(108_000_000));
        assert_eq!(r.convert(10_000_000_000, "JPY"), Some(67_000_000));
        assert_eq!(r.convert(5, "USD"), Some(5));
        assert_eq!(r.convert(5, "GBP"), None);
        assert_eq!(r.convert(i64::MAX, "EUR"), None);
    }

    #[test]
    fn converted_figures_stand_beside_another_currency_only_when_all_convert() {
        let r = usd();
        let c = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(r.converts_beside(&c(&["EUR", "USD"])));
        assert!(!r.converts_beside(&c(&["USD"])), "nothing to convert");
        assert!(!r.converts_beside(&c(&["EUR", "GBP"])), "no rate for GBP");
    }

    #[test]
    fn names_only_the_rates_a_view_used() {
        let r = usd();
        let used = r.used_for(["USD", "JPY", "GBP", "JPY"].into_iter());
        assert_eq!(used, vec![("JPY".to_string(), 6_700)]);
    }

    #[test]
    fn the_day_travels_with_the_rates() {
        let r = usd();
        let s = r.settings();
        assert_eq!(s.rates_of, "2026-11-30".parse().ok());
        assert_eq!(Rates::from_settings(&s), r);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["ratesOf"], "2026-11-30");
        let old: ReportingSettings =
            serde_json::from_str(r#"{"currency":"USD","rates":[]}"#).unwrap();
        assert_eq!(old.rates_of, None);
    }
}
