//! Budgets for several customers at once, as the Budgets page sets them:
//! one amount for customers of one currency, or a percent of each one's
//! last month. Each budget is then written as a customer's own budget is
//! (`PUT /api/customers/{id}/budget`), so Partner Center holds every one.

use crate::api::CustomerSummary;
use crate::{Amount, Currency};

/// What to set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetRule {
    /// The same amount, in the customers' one currency.
    Amount(Amount),
    /// A percent of each customer's partner cost last month, in basis points.
    PercentOfLastMonth(i64),
}

/// Why a rule cannot be applied as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BudgetPlanError {
    NoneChosen,
    /// The amount or percent text does not read; the text.
    BadNumber(String),
    /// One amount for customers billed in several currencies.
    MixedCurrencies(Vec<String>),
}

/// Why one customer gets no budget from a percent of last month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    NoCostLastMonth,
}

/// One customer's budget to write, or why it is left as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedBudget {
    pub customer_id: String,
    pub name: String,
    pub currency: String,
    /// Decimal text in the customer's currency, rounded to its minor units.
    pub amount: Result<String, Skipped>,
}

impl BudgetRule {
    /// From the form: `percent` tells which the text is.
    pub fn parse(text: &str, percent: bool) -> Result<BudgetRule, BudgetPlanError> {
        let bad = || BudgetPlanError::BadNumber(text.chars().take(40).collect());
        let value = Amount::parse_decimal(text).ok_or_else(bad)?;
        if value < Amount::ZERO || value.micros() > 1_000_000_000_000_000 {
            return Err(bad());
        }
        if percent {
            // Basis points: two decimals of a percent at most.
            if value.micros() % 10_000 != 0 || value.micros() > 100_000 * 1_000_000 {
                return Err(bad());
            }
            Ok(BudgetRule::PercentOfLastMonth(value.micros() / 10_000))
        } else {
            Ok(BudgetRule::Amount(value))
        }
    }
}

fn currency_of(c: &CustomerSummary) -> String {
    c.currency.clone().unwrap_or_else(|| "USD".into())
}

/// The budgets `rule` gives `chosen`, in their order.
pub fn plan(
    rule: BudgetRule,
    chosen: &[&CustomerSummary],
) -> Result<Vec<PlannedBudget>, BudgetPlanError> {
    if chosen.is_empty() {
        return Err(BudgetPlanError::NoneChosen);
    }
    if let BudgetRule::Amount(_) = rule {
        let mut currencies: Vec<String> = chosen.iter().map(|c| currency_of(c)).collect();
        currencies.sort();
        currencies.dedup();
        if currencies.len() > 1 {
            return Err(BudgetPlanError::MixedCurrencies(currencies));
        }
    }
    Ok(chosen
        .iter()
        .map(|c| {
            let currency = currency_of(c);
            let digits = Currency::parse(&currency).map_or(2, |c| c.minor_digits());
            let amount = match rule {
                BudgetRule::Amount(a) => Ok(a.to_decimal_string(digits)),
                BudgetRule::PercentOfLastMonth(bp) => {
                    let last = c.last_month.partner_cost;
                    if last <= 0 {
                        Err(Skipped::NoCostLastMonth)
                    } else {
                        // Rounded up to the currency's unit, exactly: a budget
                        // just under the percent would be crossed by last month.
                        let step = 10i128.pow(6 - digits.min(6));
                        let den = 10_000 * step;
                        let up = (last as i128 * bp as i128 + den - 1) / den * step;
                        let up = i64::try_from(up).unwrap_or(i64::MAX);
                        Ok(Amount::from_micros(up).to_decimal_string(digits))
                    }
                }
            };
            PlannedBudget {
                customer_id: c.id.clone(),
                name: c.name.clone(),
                currency,
                amount,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::CostPrice;

    fn customer(id: &str, currency: &str, last_month: i64) -> CustomerSummary {
        let mut c: CustomerSummary = serde_json::from_value(serde_json::json!({
            "id": id, "name": format!("Customer {id}"), "domain": "x.example",
            "currency": currency, "subscriptions": 1, "azureSubscriptions": 1,
            "monthToDate": {"partnerCost": 0, "customerPrice": 0},
            "lastMonth": {"partnerCost": 0, "customerPrice": 0},
            "forecast": {"partnerCost": 0, "customerPrice": 0},
            "budget": null, "budgetUsed": null, "budgetState": "noBudget",
            "budgetThresholds": [], "marginFell": false, "anomalies": [],
            "markup": {"basis": "partnerCost", "basisPoints": 0}
        }))
        .expect("a customer");
        c.last_month = CostPrice {
            partner_cost: last_month,
            customer_price: last_month,
        };
        c
    }

    #[test]
    fn a_percent_of_last_month_rounds_up_to_each_currencys_unit() {
        let a = customer("a", "USD", 1_234_567_891);
        let j = customer("j", "JPY", 101_575_400_000);
        let z = customer("z", "EUR", 0);
        let rule = BudgetRule::parse("110", true).unwrap();
        let p = plan(rule, &[&a, &j, &z]).unwrap();
        // 1,234.567891 × 1.1 = 1,358.0246801 → 1,358.03; ¥111,732.94 → ¥111,733.
        assert_eq!(p[0].amount, Ok("1358.03".into()));
        assert_eq!(p[1].amount, Ok("111733".into()));
        assert_eq!(p[2].amount, Err(Skipped::NoCostLastMonth));
        let exact = customer("e", "USD", 1_000_000_000);
        let p = plan(BudgetRule::parse("110", true).unwrap(), &[&exact]).unwrap();
        assert_eq!(p[0].amount, Ok("1100.00".into()));
        // 1,234.545455 × 1.1 = 1,358.0000005: a half-millionth over a cent
        // still rounds up (truncating to millionths first would not).
        let half = customer("h", "USD", 1_234_545_455);
        let p = plan(BudgetRule::parse("110", true).unwrap(), &[&half]).unwrap();
        assert_eq!(p[0].amount, Ok("1358.01".into()));
    }

    #[test]
    fn one_amount_is_for_customers_of_one_currency() {
        let a = customer("a", "USD", 0);
        let b = customer("b", "USD", 0);
        let j = customer("j", "JPY", 0);
        let rule = BudgetRule::parse("1500", false).unwrap();
        let p = plan(rule, &[&a, &b]).unwrap();
        assert_eq!(p[1].amount, Ok("1500.00".into()));
        assert_eq!(
            plan(rule, &[&a, &j]),
            Err(BudgetPlanError::MixedCurrencies(vec![
                "JPY".into(),
                "USD".into()
            ]))
        );
        assert_eq!(plan(rule, &[]), Err(BudgetPlanError::NoneChosen));
    }

    #[test]
    fn numbers_that_do_not_read_are_refused() {
        for (text, percent) in [
            ("-5", false),
            ("abc", false),
            ("12.345", true),
            ("", true),
            ("1e3", false),
        ] {
            assert!(
                matches!(
                    BudgetRule::parse(text, percent),
                    Err(BudgetPlanError::BadNumber(_))
                ),
                "{text}"
            );
        }
        assert_eq!(
            BudgetRule::parse("12.5", true),
            Ok(BudgetRule::PercentOfLastMonth(1_250))
        );
    }
}
