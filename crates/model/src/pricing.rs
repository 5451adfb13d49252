//! What the customer pays: a markup per customer, over the partner's cost
//! or over list price. Without one, customers pay list price, as CSP
//! customers on Azure plan usually do, and the partner keeps the credits.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MarkupBasis {
    /// Percent over what the partner pays (after credits).
    PartnerCost,
    /// Percent over the list (pay-as-you-go) price.
    #[default]
    ListPrice,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Markup {
    pub basis: MarkupBasis,
    /// Hundredths of a percent: 1250 is 12.5 %; may be negative (a discount).
    pub basis_points: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarkupError {
    #[error("a markup must be between -100 % and 1000 %, not {0} basis points")]
    OutOfRange(i32),
}

impl Markup {
    pub fn new(basis: MarkupBasis, basis_points: i32) -> Result<Markup, MarkupError> {
        if !(-10_000..=100_000).contains(&basis_points) {
            return Err(MarkupError::OutOfRange(basis_points));
        }
        Ok(Markup {
            basis,
            basis_points,
        })
    }

    /// The customer's price for a line, in millionths, rounded half away from zero.
    pub fn price(&self, partner_cost: i64, list_cost: i64) -> i64 {
        let base = match self.basis {
            MarkupBasis::PartnerCost => partner_cost,
            MarkupBasis::ListPrice => list_cost,
        } as i128;
        let scaled = base * (10_000 + self.basis_points as i128);
        let rounded = if scaled >= 0 {
            (scaled + 5_000) / 10_000
        } else {
            (scaled - 5_000) / 10_000
        };
        rounded as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Refunds and credits are negative: their prices round half away
    /// from zero too (found by mutation testing).
    #[test]
    fn negative_amounts_are_priced_symmetrically() {
        let over_cost = Markup::new(MarkupBasis::PartnerCost, 1_000).unwrap();
        assert_eq!(over_cost.price(-85_000_000, 0), -93_500_000);
        // 0.000005 × 1.1 = 0.0000055: a half, away from zero both ways.
        assert_eq!(over_cost.price(5, 0), 6);
        assert_eq!(over_cost.price(-5, 0), -6);
        let discount = Markup::new(MarkupBasis::ListPrice, -500).unwrap();
        // -0.000003 × 0.95 = -0.00000285: nearer -3 than -2.
        assert_eq!(discount.price(0, -3), -3);
    }

    #[test]
    fn prices_over_cost_or_list() {
        let over_cost = Markup::new(MarkupBasis::PartnerCost, 1_000).unwrap();
        assert_eq!(over_cost.price(85_000_000, 100_000_000), 93_500_000);
        let list = Markup::default();
        assert_eq!(list.price(85_000_000, 100_000_000), 100_000_000);
        let discount = Markup::new(MarkupBasis::ListPrice, -500).unwrap();
        assert_eq!(discount.price(85_000_000, 100_000_000), 95_000_000);
        assert_eq!(
            Markup::new(MarkupBasis::ListPrice, 1_250)
                .unwrap()
                .price(0, 3),
            3
        );
        assert!(Markup::new(MarkupBasis::ListPrice, -10_001).is_err());
    }
}
