//! Properties of the overview over arbitrary daily costs: every total is
//! the exact sum of the days it covers, per currency, and the trend has
//! every day with nothing lost or invented.

use chrono::{Days, NaiveDate};
use model::overview::{Rates, TREND_DAYS, overview, trend};
use model::report::{DayCost, Periods, customer_figures};
use proptest::prelude::*;

const CURRENCIES: [&str; 3] = ["EUR", "JPY", "USD"];

fn as_of() -> NaiveDate {
    "2026-11-20".parse().unwrap()
}

fn day_costs() -> impl Strategy<Value = Vec<DayCost>> {
    prop::collection::vec(
        (
            0usize..5,
            0usize..3,
            0u64..80,
            -5_000_000i64..500_000_000,
            -5_000_000i64..600_000_000,
        ),
        0..120,
    )
    .prop_map(|rows| {
        rows.into_iter()
            .map(|(customer, currency, back, cost, price)| DayCost {
                customer_id: format!("c{customer}"),
                currency: CURRENCIES[currency].to_string(),
                day: as_of() - Days::new(back),
                partner_cost: cost,
                customer_price: price,
                list_cost: price,
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn month_to_date_per_currency_is_the_sum_of_its_days(days in day_costs()) {
        let periods = Periods::new(as_of());
        let figures = customer_figures(&days, &periods);
        let rates = Rates { of: None, currency: "USD".into(), rates: vec![] };
        let o = overview(Some(as_of()), &[], &figures, &days, &[], &rates);
        for currency in CURRENCIES {
            let in_month = |d: &&DayCost| {
                d.currency == currency && d.day >= periods.month_start && d.day <= as_of()
            };
            let cost: i64 = days.iter().filter(in_month).map(|d| d.partner_cost).sum();
            let price: i64 = days.iter().filter(in_month).map(|d| d.customer_price).sum();
            let shown = o.by_currency.iter().find(|t| t.currency == currency);
            match shown {
                Some(t) => {
                    prop_assert_eq!(t.month_to_date.partner_cost, cost);
                    prop_assert_eq!(t.month_to_date.customer_price, price);
                }
                // A currency with no day at all in the figures' window is absent.
                None => prop_assert!(!days.iter().any(|d| d.currency == currency
                    && d.day >= periods.needs_from())),
            }
        }
    }

    #[test]
    fn the_trend_has_every_day_and_keeps_every_amount(days in day_costs()) {
        let t = trend(&days, as_of());
        let from = as_of() - Days::new(TREND_DAYS - 1);
        for currency in CURRENCIES {
            let points: Vec<_> = t.iter().filter(|p| p.currency == currency).collect();
            let in_window: i64 = days
                .iter()
                .filter(|d| d.currency == currency && d.day >= from)
                .map(|d| d.partner_cost)
                .sum();
            if points.is_empty() {
                prop_assert!(!days.iter().any(|d| d.currency == currency && d.day >= from));
                continue;
            }
            prop_assert_eq!(points.len() as u64, TREND_DAYS);
            prop_assert!(points.windows(2).all(|w| w[1].day == w[0].day + Days::new(1)));
            prop_assert_eq!(points.iter().map(|p| p.partner_cost).sum::<i64>(), in_window);
        }
    }

    #[test]
    fn the_converted_total_is_the_sum_of_the_converted_currencies(days in day_costs()) {
        let periods = Periods::new(as_of());
        let figures = customer_figures(&days, &periods);
        // 1 EUR = 1.08 USD, 1 JPY = 0.0067 USD.
        let rates = Rates { of: None,
            currency: "USD".into(),
            rates: vec![("EUR".into(), 1_080_000), ("JPY".into(), 6_700)],
        };
        let o = overview(Some(as_of()), &[], &figures, &days, &[], &rates);
        let converted = o.converted.expect("every currency has a rate");
        let by_hand: i64 = o
            .by_currency
            .iter()
            .map(|t| {
                let rate = rates.rate(&t.currency).unwrap();
                // Half away from zero, as written out here rather than called.
                let v = t.month_to_date.partner_cost as i128 * rate as i128;
                (if v >= 0 { (v + 500_000) / 1_000_000 } else { (v - 500_000) / 1_000_000 }) as i64
            })
            .sum();
        prop_assert_eq!(converted.month_to_date.partner_cost, by_hand);
    }
}
