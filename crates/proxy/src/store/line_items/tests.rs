//! The line items' store: scopes replaced whole, staging, snapshots.

use super::*;
use crate::store::Scope;
use crate::store::tests::{line, temporary};
use chrono::NaiveDate;
use std::collections::HashSet;

fn snapshot(scope: &str, billed: bool) -> Snapshot {
    Snapshot {
        scope: scope.into(),
        api: "v2".into(),
        billed,
        currency: "USD".into(),
        month: "2026-11".into(),
        etag: "e1".into(),
        unreadable: 0,
    }
}

/// Stages `lines` of `scope` in `run` and keeps them as its snapshot.
async fn read_whole(
    store: &Store,
    p: PartnerId,
    scope: &str,
    billed: bool,
    run: i64,
    lines: &[LineItem],
) {
    store.stage_lines(p, scope, run, lines).await.unwrap();
    store
        .replace_scope(p, &snapshot(scope, billed), run)
        .await
        .unwrap();
}

async fn november(store: &Store, p: PartnerId) -> (usize, i64) {
    let totals = store
        .totals_by_customer(p, "2026-11-01", "2026-11-30")
        .await
        .unwrap();
    (
        totals.iter().map(|t| t.line_items).sum(),
        totals.iter().map(|t| t.billing_total.micros()).sum(),
    )
}

/// A sums-at-rest row as compared: what names it, then its figures.
type SumRow = (
    i64,
    String,
    i64,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
);

/// The sums at rest equal the kept lines they sum (and nothing else),
/// worked out by the database from the lines alone: per scope, version, day,
/// customer, charge type and currency, every figure and the line count.
async fn sums_match_lines(store: &Store) {
    let sums_of = |table: &str, count: &str, only: &str| {
        format!(
            "SELECT partner_id, scope, version, usage_date, customer_id, charge_type,
                billing_currency, CAST(SUM(billing_total_micros) AS BIGINT),
                CAST(SUM(customer_price_micros) AS BIGINT), CAST(SUM(list_cost_micros) AS BIGINT),
                CAST(SUM(quantity_micros) AS BIGINT), CAST({count} AS BIGINT)
             FROM {table} l {only} GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7"
        )
    };
    let kept = "WHERE l.version = 0 OR l.version IN
        (SELECT version FROM snapshots s WHERE s.partner_id = l.partner_id)";
    let read = |sql: String| async move {
        let sql = sqlx::AssertSqlSafe(sql);
        match store.reader().await.unwrap() {
            crate::store::Connection::Sqlite(mut c) => {
                sqlx::query_as::<_, SumRow>(sql).fetch_all(&mut *c).await
            }
            crate::store::Connection::Postgres(mut c) => {
                sqlx::query_as::<_, SumRow>(sql).fetch_all(&mut *c).await
            }
        }
        .unwrap()
    };
    let lines = read(sums_of("line_items", "COUNT(*)", kept)).await;
    let sums = read(sums_of("line_sums", "SUM(line_items)", "")).await;
    assert_eq!(sums, lines, "the sums at rest and the lines differ");
}

#[tokio::test]
async fn the_sums_at_rest_follow_repricing_and_a_store_from_before_them_gets_them() {
    use model::pricing::{Markup, MarkupBasis};
    let (dir, store) = temporary().await;
    let p = store.partner("tenant-a").await.unwrap();
    let mut tagged = line("c2", "2026-11-03", 1_000_001);
    tagged.tags = r#"{"env":"prod"}"#.into();
    tagged.resource_uri.push('2');
    let lines = [
        line("c1", "2026-11-03", 1_000_003),
        line("c1", "2026-11-04", 2_000_007),
        line("c2", "2026-11-03", 3_000_001),
        tagged,
    ];
    read_whole(&store, p, "v2:unbilled:USD:2026-11", false, 1, &lines).await;
    let markup = |basis_points| Markup {
        basis: MarkupBasis::PartnerCost,
        basis_points,
    };
    // Odd costs and percentages: each line's price is rounded on its own.
    store.set_markup(p, None, Some(markup(333))).await.unwrap();
    sums_match_lines(&store).await;
    store
        .set_markup(p, Some("c2"), Some(markup(1517)))
        .await
        .unwrap();
    sums_match_lines(&store).await;
    let prices: i64 = sqlx::query_scalar("SELECT SUM(customer_price_micros) FROM line_sums")
        .fetch_one(&store.lite().unwrap().pool)
        .await
        .unwrap();
    // 1,000,003 and 2,000,007 at 3.33 %, 3,000,001 and 1,000,001 at 15.17 %,
    // each rounded half away from zero.
    assert_eq!(prices, 1_033_303 + 2_066_607 + 3_455_101 + 1_151_701);
    // A customer's day of an untagged and a tagged resource: one sum, with
    // the tagged one's keys.
    let keys: Vec<String> =
        sqlx::query_scalar("SELECT tag_keys FROM line_sums WHERE customer_id = 'c2'")
            .fetch_all(&store.lite().unwrap().pool)
            .await
            .unwrap();
    assert_eq!(keys, [r#"{"env":""}"#]);

    // A markup set while a scope is read reprices the lines already
    // written: the scope's sums are worked out from its lines when kept.
    let invoice = "v2:invoice:G7";
    store
        .stage_lines(p, invoice, 2, &[line("c1", "2026-11-05", 5_000_011)])
        .await
        .unwrap();
    store
        .set_markup(p, Some("c1"), Some(markup(-250)))
        .await
        .unwrap();
    sums_match_lines(&store).await;
    store
        .stage_lines(p, invoice, 2, &[line("c1", "2026-11-06", 1_000_013)])
        .await
        .unwrap();
    store
        .replace_scope(p, &snapshot(invoice, true), 2)
        .await
        .unwrap();
    sums_match_lines(&store).await;

    // Lines kept outside any snapshot, in two batches: each batch's sums
    // are added to the stored ones, their tag keys united.
    let (mut a, mut b) = (line("c9", "2026-11-07", 1), line("c9", "2026-11-07", 2));
    a.tags = r#"{"env":"x"}"#.into();
    b.tags = r#"{"team":"y"}"#.into();
    b.resource_uri.push('9');
    for batch in [a, b] {
        store.add_line_items(p, "tools", 3, &[batch]).await.unwrap();
    }
    let keys: String =
        sqlx::query_scalar("SELECT tag_keys FROM line_sums WHERE customer_id = 'c9'")
            .fetch_one(&store.lite().unwrap().pool)
            .await
            .unwrap();
    assert_eq!(keys, r#"{"env":"","team":""}"#);
    sums_match_lines(&store).await;

    // A store that kept its lines before it kept their sums.
    sqlx::query("DELETE FROM line_sums")
        .execute(&store.lite().unwrap().pool)
        .await
        .unwrap();
    drop(store);
    let store = Store::open(dir.path()).await.unwrap();
    sums_match_lines(&store).await;
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM line_sums")
        .fetch_one(&store.lite().unwrap().pool)
        .await
        .unwrap();
    // The invoice replaced the month's unbilled usage: its two days, and
    // the tools' one.
    assert_eq!(rows, 3);
}

/// What every read of lines sees in November: (lines paged, their day
/// totals, their category totals, the last day).
async fn every_read(store: &Store, p: PartnerId) -> (usize, i64, i64, Option<NaiveDate>) {
    let scope = crate::store::Scope {
        customer: None,
        from: "2026-11-01".parse().unwrap(),
        to: "2026-11-30".parse().unwrap(),
    };
    let lines = store.line_items(p, &scope, 100, 0).await.unwrap().len();
    let days: i64 = store
        .daily_totals(p, &scope)
        .await
        .unwrap()
        .iter()
        .map(|d| d.partner_cost)
        .sum();
    let categories: i64 = store
        .category_totals(p, &scope)
        .await
        .unwrap()
        .iter()
        .map(|c| c.2)
        .sum();
    (
        lines,
        days,
        categories,
        store.last_usage_day(p).await.unwrap(),
    )
}

#[tokio::test]
async fn no_read_sees_a_scope_being_read_nor_what_a_dead_process_left() {
    let (dir, store) = temporary().await;
    let p = store.partner("tenant-a").await.unwrap();
    let scope = "v2:unbilled:USD:2026-11";
    read_whole(
        &store,
        p,
        scope,
        false,
        1,
        &[line("c1", "2026-11-03", 1_000_000)],
    )
    .await;
    let kept = (1, 1_000_000, 1_000_000, Some("2026-11-03".parse().unwrap()));
    assert_eq!(every_read(&store, p).await, kept);

    // Run 2 is half way through the scope, on a later day.
    store
        .stage_lines(p, scope, 2, &[line("c1", "2026-11-09", 7_000_000)])
        .await
        .unwrap();
    assert_eq!(every_read(&store, p).await, kept, "a read under way");
    assert_eq!(store.staged_count(p).await.unwrap(), 1);

    // The process dies; the next one knows nothing of run 2's version.
    drop(store);
    let store = Store::open(dir.path()).await.unwrap();
    assert_eq!(every_read(&store, p).await, kept, "left by a dead process");
    sums_match_lines(&store).await;
    store.clear_staged(p, scope).await.unwrap();
    assert_eq!(store.staged_count(p).await.unwrap(), 0);
    store
        .stage_lines(p, scope, 3, &[line("c1", "2026-11-10", 2_000_000)])
        .await
        .unwrap();
    // Read twice in one run (the data changed on the way): the first try goes.
    store.clear_staged(p, scope).await.unwrap();
    read_whole(
        &store,
        p,
        scope,
        false,
        3,
        &[line("c1", "2026-11-11", 3_000_000)],
    )
    .await;
    assert_eq!(
        every_read(&store, p).await,
        (1, 3_000_000, 3_000_000, Some("2026-11-11".parse().unwrap()))
    );
    assert_eq!(store.staged_count(p).await.unwrap(), 0);
}

#[test]
fn the_insert_binds_as_many_values_as_it_names() {
    assert_eq!(LINE_COLUMNS.split(',').count(), LINE_VALUES);
    assert_eq!(insert_sql().matches('?').count(), LINE_VALUES);
}

#[test]
fn days_are_written_as_the_store_reads_them() {
    for day in ["2026-11-03", "0999-01-31", "2024-02-29", "9999-12-31"] {
        let d: NaiveDate = day.parse().unwrap();
        assert_eq!(&day_digits(d), day.as_bytes());
        assert_eq!(crate::store::day_text(d), day);
    }
}

/// A store of the version before exact unit prices keeps its lines' prices
/// (to the millionth they had) through the upgrade; a line written after it
/// keeps every decimal.
#[tokio::test]
async fn unit_prices_survive_the_upgrade_and_new_ones_keep_every_decimal() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("proxy.sqlite3").display()
    );
    {
        let old = sqlx::SqlitePool::connect(&url).await.unwrap();
        let mut before = sqlx::migrate!("./migrations");
        before.migrations = before
            .migrations
            .iter()
            .filter(|m| m.version < 12)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        before.run(&old).await.unwrap();
        sqlx::query(
            "INSERT INTO line_items (partner_id, key, customer_id, subscription_id, usage_date,
                 meter, resource, charge_type, quantity_micros, unit_price_micros,
                 effective_unit_price_micros, pricing_total_micros, pricing_currency,
                 billing_total_micros, billing_currency, list_cost_micros, customer_price_micros,
                 fx_micros, pec_basis_points, credit_type, invoice_number, benefit_order_id,
                 benefit_id, benefit_type, scope, run_id)
             VALUES (99, 7, 'c1', 'p1', '2026-11-01', 1, 1, 'new', 24000000, 192000, 14, 0, 'USD',
                 0, 'USD', 0, 0, 1000000, 0, '', '', '', '', '', 'old', 1)",
        )
        .execute(&old)
        .await
        .unwrap();
        old.close().await;
    }
    let store = Store::open(dir.path()).await.unwrap();
    let kept: (String, String) =
        sqlx::query_as("SELECT unit_price, effective_unit_price FROM line_items WHERE key = 7")
            .fetch_one(&store.lite().unwrap().pool)
            .await
            .unwrap();
    let read = |t: &str| model::exact::parse(t).map(model::exact::text);
    assert_eq!(
        (read(&kept.0), read(&kept.1)),
        (Some("0.192".into()), Some("0.000014".into()))
    );

    let p = store.partner("tenant-a").await.unwrap();
    let mut fine = line("c1", "2026-11-02", 1_000_000);
    fine.unit_price = model::exact::parse("0.000016").unwrap();
    fine.effective_unit_price = model::exact::parse("0.0000136").unwrap();
    read_whole(&store, p, "v2:unbilled:USD:2026-11", false, 1, &[fine]).await;
    let scope = Scope {
        customer: None,
        from: "2026-11-01".parse().unwrap(),
        to: "2026-11-30".parse().unwrap(),
    };
    let mut prices = Vec::new();
    store
        .for_each_line(p, &scope, |l, _| {
            prices.push((l.unit_price.to_string(), l.effective_unit_price.to_string()))
        })
        .await
        .unwrap();
    assert_eq!(prices, [("0.000016".into(), "0.0000136".into())]);
}

#[tokio::test]
async fn the_log_is_copied_into_the_file_beside_the_writer() {
    let (dir, store) = temporary().await;
    let p = store.partner("tenant-a").await.unwrap();
    let file = dir.path().join("proxy.sqlite3");
    let size = || std::fs::metadata(&file).unwrap().len();
    let before = size();
    let lines: Vec<LineItem> = (0..3_000)
        .map(|i| line(&format!("c{i}"), "2026-11-03", 1_000))
        .collect();
    store
        .add_line_items(p, "v1:invoice:G1", 1, &lines)
        .await
        .unwrap();
    // A megabyte of log, far below the writer's own threshold (256 MB):
    // only the checkpoint beside it copies the log into the file.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while size() <= before {
        assert!(
            std::time::Instant::now() < deadline,
            "the file is still {before} bytes"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

on_both_stores! {
    async fn a_scope_is_replaced_whole_once_read_to_its_end(store: Store) {
        let p = store.partner("tenant-a").await.unwrap();
        let scope = "v2:unbilled:USD:2026-11";
        let (a, b) = (
            line("c1", "2026-11-03", 1_000_000),
            line("c1", "2026-11-04", 2_000_000),
        );
        store
            .stage_lines(p, scope, 1, &[a.clone(), b])
            .await
            .unwrap();
        assert_eq!(
            november(&store, p).await,
            (0, 0),
            "staged lines are not seen"
        );
        store
            .replace_scope(p, &snapshot(scope, false), 1)
            .await
            .unwrap();
        assert_eq!(november(&store, p).await, (2, 3_000_000));
        // Run 2 reads only `a`: `b` is gone upstream, and so here.
        store.stage_lines(p, scope, 2, &[a]).await.unwrap();
        assert_eq!(november(&store, p).await, (2, 3_000_000), "until replaced");
        sums_match_lines(&store).await;
        let replaced = store
            .replace_scope(p, &snapshot(scope, false), 2)
            .await
            .unwrap();
        assert_eq!(
            replaced,
            Replaced::Kept {
                line_items: 1,
                billing_total: Amount::from_micros(1_000_000)
            }
        );
        assert_eq!(november(&store, p).await, (1, 1_000_000));
        assert_eq!(
            store.snapshot(p, scope).await.unwrap().map(|s| s.etag),
            Some("e1".to_string())
        );
        sums_match_lines(&store).await;
    }

    async fn two_lines_that_share_every_identity_field_are_both_kept(store: Store) {
        let p = store.partner("tenant-a").await.unwrap();
        let mut first = line("c1", "2026-11-03", 600_000);
        first.benefit_id = "sp-a".into();
        let mut second = first.clone();
        second.billing_total = Amount::from_micros(400_000);
        second.benefit_id = "sp-b".into();
        assert_eq!(first.key, second.key);
        let scope = "v2:invoice:G1";
        read_whole(&store, p, scope, true, 1, &[first, second]).await;
        assert_eq!(november(&store, p).await, (2, 1_000_000));
        sums_match_lines(&store).await;
    }

    async fn an_invoice_replaces_the_unbilled_usage_of_its_month(store: Store) {
        let p = store.partner("tenant-a").await.unwrap();
        let unbilled = "v2:unbilled:USD:2026-11";
        read_whole(
            &store,
            p,
            unbilled,
            false,
            1,
            &[line("c1", "2026-11-03", 1_000_000)],
        )
        .await;
        // Another API's unbilled usage of the month is not this invoice's.
        let legacy = "v1:unbilled:USD:2026-11";
        store
            .stage_lines(p, legacy, 1, &[line("c2", "2026-11-03", 5_000_000)])
            .await
            .unwrap();
        let mut v1 = snapshot(legacy, false);
        v1.api = "v1".into();
        store.replace_scope(p, &v1, 1).await.unwrap();
        let invoice = "v2:invoice:G1";
        read_whole(
            &store,
            p,
            invoice,
            true,
            2,
            &[line("c1", "2026-11-03", 1_100_000)],
        )
        .await;
        assert_eq!(november(&store, p).await, (2, 6_100_000));
        // The month's unbilled usage read again later is not kept.
        store
            .stage_lines(p, unbilled, 3, &[line("c1", "2026-11-03", 1_000_000)])
            .await
            .unwrap();
        assert_eq!(
            store
                .replace_scope(p, &snapshot(unbilled, false), 3)
                .await
                .unwrap(),
            Replaced::Superseded
        );
        assert_eq!(november(&store, p).await, (2, 6_100_000));
        assert_eq!(
            store.complete_invoices(p).await.unwrap(),
            HashSet::from([invoice.to_string()])
        );
        sums_match_lines(&store).await;
    }

    async fn what_a_dead_sync_staged_is_cleared_and_never_seen(store: Store) {
        let p = store.partner("tenant-a").await.unwrap();
        let scope = "v2:unbilled:USD:2026-11";
        store
            .stage_lines(p, scope, 1, &[line("c1", "2026-11-03", 1_000_000)])
            .await
            .unwrap();
        store.clear_staged(p, scope).await.unwrap();
        sums_match_lines(&store).await;
        read_whole(
            &store,
            p,
            scope,
            false,
            2,
            &[line("c1", "2026-11-04", 2_000_000)],
        )
        .await;
        assert_eq!(november(&store, p).await, (1, 2_000_000));
        sums_match_lines(&store).await;
    }

    async fn a_resource_is_kept_apart_per_azure_subscription_and_resource_group(store: Store) {
        let p = store.partner("tenant-a").await.unwrap();
        // Two Azure subscriptions with the same name and the same resource
        // path (a path that does not name its subscription), and a later
        // line of the same path in another resource group.
        let mut prod = line("c1", "2026-11-03", 1_000_000);
        prod.resource_uri = "/providers/Microsoft.Support/supportPlans/standard".into();
        let mut other = prod.clone();
        other.entitlement_id = "az-2".into();
        other.key += 1;
        let mut moved = prod.clone();
        moved.resource_group = "rg-other".into();
        moved.key += 2;
        store
            .add_line_items(p, "v1:invoice:G1", 1, &[prod, other, moved])
            .await
            .unwrap();
        let scope = crate::store::Scope {
            customer: None,
            from: "2026-11-01".parse().unwrap(),
            to: "2026-11-30".parse().unwrap(),
        };
        let mut kept = Vec::new();
        store
            .for_each_line(p, &scope, |l, _| {
                kept.push((l.entitlement_id, l.resource_group))
            })
            .await
            .unwrap();
        kept.sort();
        assert_eq!(
            kept,
            [
                ("az-1".to_string(), "rg-other".to_string()),
                ("az-1".to_string(), "rg-prod".to_string()),
                ("az-2".to_string(), "rg-prod".to_string()),
            ],
            "each line where it belongs"
        );
    }

    async fn a_sum_past_64_bits_is_refused_not_kept_as_a_float(store: Store) {
        let p = store.partner("tenant-a").await.unwrap();
        let scope = "v2:unbilled:USD:2026-11";
        let huge = line("c1", "2026-11-03", i64::MAX - 10);
        // Two batches of one scope: their day's sum would pass 64 bits when kept.
        for _ in 0..2 {
            store
                .stage_lines(p, scope, 1, std::slice::from_ref(&huge))
                .await
                .unwrap();
        }
        let err = store
            .replace_scope(p, &snapshot(scope, false), 1)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("past 64 bits"), "{err}");
        assert_eq!(november(&store, p).await, (0, 0), "nothing kept");
        // Outside any snapshot each batch's sums are added to the stored ones.
        store
            .add_line_items(p, "tools", 1, std::slice::from_ref(&huge))
            .await
            .unwrap();
        let err = store
            .add_line_items(p, "tools", 1, &[huge])
            .await
            .unwrap_err();
        // SQLite: "integer overflow"; PostgreSQL: "bigint out of range".
        let message = err.to_string().to_lowercase();
        assert!(message.contains("integer") || message.contains("bigint out of range"), "{err}");
        sums_match_lines(&store).await;
    }
}
