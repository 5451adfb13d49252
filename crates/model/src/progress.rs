//! How far a sync has come, one way for the proxy's estimate of the time
//! left and for the bar on the page (which followed customers alone and
//! stood full while line items were still being read).

use crate::api::SyncCounts;

/// Customers weigh a third of a sync, usage files two thirds; a part whose
/// total is not known yet counts as not begun.
pub fn fraction_done(c: &SyncCounts) -> f64 {
    let part = |done: usize, total: Option<usize>| match total {
        Some(0) => 1.0,
        Some(t) => (done as f64 / t as f64).min(1.0),
        None => 0.0,
    };
    part(c.customers_done, c.customers_total) / 3.0 + part(c.feeds_done, c.feeds_total) * 2.0 / 3.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(customers: (usize, Option<usize>), feeds: (usize, Option<usize>)) -> SyncCounts {
        SyncCounts {
            customers_done: customers.0,
            customers_total: customers.1,
            feeds_done: feeds.0,
            feeds_total: feeds.1,
            ..SyncCounts::default()
        }
    }

    /// Answers written by hand: mutants of this arithmetic survived the
    /// integration tests (README, "Mutation testing").
    #[test]
    fn customers_weigh_a_third_and_usage_two_thirds() {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        // 10 of 30 customers, 3 of 6 feeds: 1/9 + 1/3.
        assert!(close(
            fraction_done(&counts((10, Some(30)), (3, Some(6)))),
            4.0 / 9.0
        ));
        // Nothing counted yet: nothing done.
        assert!(close(fraction_done(&counts((0, None), (0, None))), 0.0));
        // No customers, or no feeds, to read: that part is done.
        assert!(close(
            fraction_done(&counts((0, Some(0)), (0, None))),
            1.0 / 3.0
        ));
        assert!(close(
            fraction_done(&counts((30, Some(30)), (0, Some(0)))),
            1.0
        ));
        assert!(close(
            fraction_done(&counts((30, Some(30)), (5, Some(5)))),
            1.0
        ));
        // Every customer read and no usage yet: a third, not a full bar.
        assert!(close(
            fraction_done(&counts((40, Some(40)), (0, Some(7)))),
            1.0 / 3.0
        ));
    }
}
