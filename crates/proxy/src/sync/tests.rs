//! The sync's own sentences, with answers written by hand (its arithmetic
//! is in `model::progress`):
//! mutants of these survived the integration tests (README, "Mutation
//! testing").

use model::api::{SyncCounts, SyncProblem, SyncProblemKind};

use super::problems_summary;

fn problem(kind: SyncProblemKind, subject: &str) -> SyncProblem {
    SyncProblem {
        kind,
        subject: Some(subject.into()),
        name: None,
        call: "GET /v1/x".into(),
        reason: "HTTP 500".into(),
        retried: true,
        next_sync: true,
        code: None,
    }
}

#[test]
fn the_summary_names_what_was_not_read_and_how_many_problems_are_listed() {
    let mut c = SyncCounts {
        customers_done: 40,
        customers_total: Some(40),
        feeds_done: 6,
        feeds_total: Some(8),
        ..SyncCounts::default()
    };
    let problems = vec![
        problem(SyncProblemKind::Customer, "c1"),
        problem(SyncProblemKind::Customer, "c1"),
        problem(SyncProblemKind::Customer, "c2"),
        problem(SyncProblemKind::Feed, "unbilled:current:USD"),
        problem(SyncProblemKind::LineItem, "invoice:G1"),
    ];
    let mut two_lines = problems.clone();
    two_lines.push(problem(SyncProblemKind::LineItem, "invoice:G1"));
    c.errors = two_lines.len();
    assert!(problems_summary(&c, &two_lines).contains(", 2 line items;"));
    c.errors = problems.len();
    assert_eq!(
        problems_summary(&c, &problems),
        "Could not read details of 2 of 40 customers, 1 of 8 usage feeds, 1 line item; \
         everything else was synced"
    );
    // More problems than listed: the sentence says so.
    c.errors = 12;
    assert_eq!(
        problems_summary(&c, &problems[3..4]),
        "Could not read 1 of 8 usage feeds (12 problems, the first listed); \
         everything else was synced"
    );
    let lists = vec![
        problem(SyncProblemKind::Customers, ""),
        problem(SyncProblemKind::Invoices, ""),
    ];
    c.errors = 2;
    c.customers_total = None;
    assert_eq!(
        problems_summary(&c, &lists),
        "Could not read the customer list, the invoice list; everything else was synced"
    );
}
