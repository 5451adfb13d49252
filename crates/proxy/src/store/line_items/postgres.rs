//! The lines and their sums in PostgreSQL: what `bulk` does through
//! SQLite's C API, done with whole columns bound as arrays. A batch of
//! lines is one `INSERT ... SELECT FROM UNNEST(...)` (one round trip for
//! thousands of lines), its sums one upsert the same way; a rebuild reads
//! the lines a day at a time, so that what it holds is one day's.

use model::usage::LineItem;
use sqlx::PgConnection;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, Row as _};

use super::sums::{LineSums, Lines, Named, Sum, SumRow};
use super::{Dictionaries, Entries, Row, digest, known, meter_fields, remember, resource_fields};
use std::sync::Mutex;

/// A dictionary entry's ID, known or written now (and remembered).
async fn entry_id(
    conn: &mut PgConnection,
    cache: &Mutex<Entries>,
    at: u64,
    fields: &[&str; 6],
    partner: Option<i64>,
) -> Result<i64, sqlx::Error> {
    let found = known(&cache.lock().expect("cache poisoned"), at, fields);
    if let Some(id) = found {
        return Ok(id);
    }
    let [a, b, c, d, e, f] = *fields;
    let id: i64 = match partner {
        None => {
            sqlx::query_scalar(
                "INSERT INTO meters (meter_id, name, category, subcategory, unit, publisher)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (meter_id, name, category, subcategory, unit, publisher)
                 DO UPDATE SET name = excluded.name RETURNING id",
            )
            .bind(a)
            .bind(b)
            .bind(c)
            .bind(d)
            .bind(e)
            .bind(f)
            .fetch_one(&mut *conn)
            .await?
        }
        Some(partner) => {
            sqlx::query_scalar(
                "INSERT INTO resources (partner_id, uri, resource_group, region, tags,
                    entitlement_id, entitlement_name) VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (partner_id, entitlement_id, uri, resource_group, region, tags,
                    entitlement_name) DO UPDATE SET uri = excluded.uri RETURNING id",
            )
            .bind(partner)
            .bind(a)
            .bind(b)
            .bind(c)
            .bind(d)
            .bind(e)
            .bind(f)
            .fetch_one(&mut *conn)
            .await?
        }
    };
    remember(cache, at, fields, id);
    Ok(id)
}

/// The line's columns after the four a batch shares (partner, scope, run,
/// version), in the order of [`INSERT`]'s arrays.
const INSERT: &str = "INSERT INTO line_items (partner_id, scope, run_id, version, key,
        customer_id, subscription_id, usage_date, meter, resource, charge_type,
        quantity_micros, unit_price, effective_unit_price, pricing_total_micros,
        pricing_currency, billing_total_micros, billing_currency, list_cost_micros,
        customer_price_micros, fx_micros, pec_basis_points, credit_type, invoice_number,
        benefit_order_id, benefit_id, benefit_type)
    SELECT $1, $2, $3, $4, * FROM UNNEST($5::bigint[], $6::text[], $7::text[], $8::text[],
        $9::bigint[], $10::bigint[], $11::text[], $12::bigint[], $13::text[], $14::text[],
        $15::bigint[], $16::text[], $17::bigint[], $18::text[], $19::bigint[], $20::bigint[],
        $21::bigint[], $22::bigint[], $23::text[], $24::text[], $25::text[], $26::text[],
        $27::text[])";

/// Writes a batch of lines (their dictionary entries first); returns their
/// billing total.
#[allow(clippy::too_many_arguments)]
pub(super) async fn insert(
    conn: &mut PgConnection,
    dictionaries: &Dictionaries,
    partner: i64,
    scope: &str,
    run: i64,
    version: i64,
    items: &[LineItem],
    rows: &[Row],
) -> Result<i64, sqlx::Error> {
    let (mut meters, mut resources) = (Vec::with_capacity(items.len()), Vec::new());
    for (l, row) in items.iter().zip(rows) {
        meters.push(match row.meter {
            Some(id) => id,
            None => {
                let fields = meter_fields(l);
                let at = digest(0, &fields);
                entry_id(conn, &dictionaries.meters, at, &fields, None).await?
            }
        });
        resources.push(match row.resource {
            Some(id) => id,
            None => {
                let fields = resource_fields(l);
                let at = digest(partner, &fields);
                entry_id(conn, &dictionaries.resources, at, &fields, Some(partner)).await?
            }
        });
    }
    let texts = |f: fn(&LineItem) -> &str| items.iter().map(f).collect::<Vec<&str>>();
    let ints = |f: fn(&LineItem) -> i64| items.iter().map(f).collect::<Vec<i64>>();
    let days: Vec<&str> = rows
        .iter()
        .map(|r| std::str::from_utf8(&r.day).expect("digits and dashes"))
        .collect();
    let billing: Vec<i64> = ints(|l| l.billing_total.micros());
    let billing_total = billing.iter().try_fold(0i64, |a, b| a.checked_add(*b));
    sqlx::query(INSERT)
        .bind(partner)
        .bind(scope)
        .bind(run)
        .bind(version)
        .bind(ints(|l| l.key))
        .bind(texts(|l| &l.customer_id))
        .bind(texts(|l| &l.subscription_id))
        .bind(days)
        .bind(meters)
        .bind(resources)
        .bind(texts(|l| &l.charge_type))
        .bind(ints(|l| l.quantity_micros))
        .bind(
            rows.iter()
                .map(|r| r.unit_price.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.effective_unit_price.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(ints(|l| l.pricing_total.micros()))
        .bind(texts(|l| l.pricing_currency.code()))
        .bind(&billing)
        .bind(texts(|l| l.billing_currency.code()))
        .bind(rows.iter().map(|r| r.list_cost).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.price).collect::<Vec<_>>())
        .bind(ints(|l| l.fx_micros))
        .bind(ints(|l| l.pec_basis_points.into()))
        .bind(texts(|l| &l.credit_type))
        .bind(texts(|l| &l.invoice_number))
        .bind(texts(|l| &l.benefit_order_id))
        .bind(texts(|l| &l.benefit_id))
        .bind(texts(|l| &l.benefit_type))
        .execute(&mut *conn)
        .await?;
    // SQLite's sum would be refused past 64 bits the same way.
    billing_total
        .ok_or_else(|| sqlx::Error::Protocol("a batch's billing total is past 64 bits".into()))
}

/// Adds a scope's or a batch's sums to `partner`'s in `line_sums`.
pub(super) async fn write_sums(
    conn: &mut PgConnection,
    sums: &LineSums,
    partner: i64,
) -> Result<(), sqlx::Error> {
    let rows = sums.rows()?;
    if rows.is_empty() {
        return Ok(());
    }
    let column =
        |f: for<'a> fn(&'a SumRow<'a>) -> &'a str| -> Vec<&str> { rows.iter().map(f).collect() };
    let ints = |f: fn(&SumRow<'_>) -> i64| rows.iter().map(f).collect::<Vec<_>>();
    sqlx::query(
        "INSERT INTO line_sums (partner_id, usage_date, customer_id, charge_type,
            billing_currency, scope, version, tag_keys, billing_total_micros,
            customer_price_micros, list_cost_micros, quantity_micros, line_items)
         SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
            $7::bigint[], $8::text[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[],
            $13::bigint[])
         ON CONFLICT (partner_id, usage_date, customer_id, charge_type, billing_currency, scope,
            version) DO UPDATE SET
            tag_keys = (line_sums.tag_keys::jsonb || excluded.tag_keys::jsonb)::text,
            billing_total_micros = line_sums.billing_total_micros + excluded.billing_total_micros,
            customer_price_micros = line_sums.customer_price_micros + excluded.customer_price_micros,
            list_cost_micros = line_sums.list_cost_micros + excluded.list_cost_micros,
            quantity_micros = line_sums.quantity_micros + excluded.quantity_micros,
            line_items = line_sums.line_items + excluded.line_items",
    )
    .bind(partner)
    .bind(column(|r| r.day))
    .bind(column(|r| r.customer))
    .bind(column(|r| r.charge_type))
    .bind(column(|r| r.currency))
    .bind(column(|r| r.scope))
    .bind(ints(|r| r.version))
    .bind(column(|r| r.tag_keys))
    .bind(ints(|r| r.sum.partner_cost))
    .bind(ints(|r| r.sum.customer_price))
    .bind(ints(|r| r.sum.list_cost))
    .bind(ints(|r| r.sum.quantity))
    .bind(ints(|r| r.sum.lines))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The condition that a line (`l`) is kept ([`super::KEPT`]), its partner
/// bound as `$1`.
const KEPT: &str =
    "(l.version = 0 OR l.version IN (SELECT version FROM snapshots WHERE partner_id = $1))";

/// [`super::sums::rebuild`] in PostgreSQL: the sums of `lines` deleted,
/// then worked out from the lines a day at a time.
pub(in crate::store) async fn rebuild(
    conn: &mut PgConnection,
    partner: i64,
    lines: Lines<'_>,
) -> Result<(), sqlx::Error> {
    // The lines' condition after the partner ($1), its values from $2 on
    // (a version bound as text, cast where it is compared).
    let (only, values): (String, Vec<String>) = match lines {
        Lines::Kept(Some(customer)) => (
            format!("AND l.customer_id = $2 AND {KEPT}"),
            vec![customer.to_string()],
        ),
        Lines::Kept(None) => (format!("AND {KEPT}"), Vec::new()),
        Lines::Read(scope, version) => (
            "AND l.scope = $2 AND l.version = $3::bigint".to_string(),
            vec![scope.to_string(), version.to_string()],
        ),
    };
    let delete = match lines {
        Lines::Kept(Some(_)) => "DELETE FROM line_sums WHERE partner_id = $1 AND customer_id = $2",
        Lines::Kept(None) => "DELETE FROM line_sums WHERE partner_id = $1",
        Lines::Read(..) => {
            "DELETE FROM line_sums WHERE partner_id = $1 AND scope = $2 AND version = $3::bigint"
        }
    };
    bound(sqlx::query(delete), partner, &values)
        .execute(&mut *conn)
        .await?;
    let days: Vec<String> = bound_scalar(
        sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT DISTINCT l.usage_date FROM line_items l WHERE l.partner_id = $1 {only}
             ORDER BY 1"
        ))),
        partner,
        &values,
    )
    .fetch_all(&mut *conn)
    .await?;
    let day_at = values.len() + 2;
    let select = format!(
        "SELECT l.scope, l.version, l.usage_date, l.customer_id, l.charge_type,
            l.billing_currency, COALESCE(r.tags, ''), l.billing_total_micros,
            l.customer_price_micros, l.list_cost_micros, l.quantity_micros
         FROM line_items l LEFT JOIN resources r ON r.id = l.resource
         WHERE l.partner_id = $1 {only} AND l.usage_date = ${day_at}"
    );
    for day in days {
        let rows: Vec<PgRow> = bound(sqlx::query(AssertSqlSafe(select.clone())), partner, &values)
            .bind(&day)
            .fetch_all(&mut *conn)
            .await?;
        let mut sums = LineSums::default();
        for row in &rows {
            let text = |i: usize| row.try_get::<&str, _>(i).map(str::as_bytes);
            let named = Named {
                scope: text(0)?,
                version: row.try_get(1)?,
                day: text(2)?,
                customer: text(3)?,
                charge_type: text(4)?,
                currency: text(5)?,
                tags: text(6)?,
            };
            let figures = Sum {
                partner_cost: row.try_get(7)?,
                customer_price: row.try_get(8)?,
                list_cost: row.try_get(9)?,
                quantity: row.try_get(10)?,
                lines: 1,
            };
            sums.add(&named, &figures);
        }
        write_sums(conn, &sums, partner).await?;
    }
    Ok(())
}

/// `query` with the partner and `values` bound ($1, then $2...): a
/// version is bound as text and cast where it is compared.
fn bound<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    partner: i64,
    values: &'q [String],
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    query = query.bind(partner);
    for v in values {
        query = query.bind(v.as_str());
    }
    query
}

fn bound_scalar<'q, O>(
    mut query: sqlx::query::QueryScalar<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    partner: i64,
    values: &'q [String],
) -> sqlx::query::QueryScalar<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    query = query.bind(partner);
    for v in values {
        query = query.bind(v.as_str());
    }
    query
}
