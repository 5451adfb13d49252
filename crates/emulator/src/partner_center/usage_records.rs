//! The usage budget, the usage summary and meter usage records (estimates).

use super::*;

pub(super) fn budget_json(customer: &world::Customer) -> SpendingBudget {
    SpendingBudget {
        amount: *customer.budget.lock().expect("budget poisoned"),
        links: Some(Links::to_self(format!(
            "/v1/customers/{}/usagebudget",
            customer.id
        ))),
        attributes: Attributes::of("SpendingBudget"),
    }
}

pub(super) async fn get_budget(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    Path(customer): Path<String>,
) -> Result<Json<SpendingBudget>, Fault> {
    let (_, c) = find_customer(&emulator.world, partner, &customer)?;
    Ok(Json(budget_json(c)))
}

/// The documented body is PascalCase (`{"Amount": 100}`); any case is accepted.
pub(super) async fn patch_budget(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    Path(customer): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<SpendingBudget>, Fault> {
    let (_, c) = find_customer(&emulator.world, partner, &customer)?;
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| Fault::invalid_input(format!("The body is not valid JSON: {e}")))?;
    let amount = value
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("amount")))
        .map(|(_, v)| v)
        .ok_or_else(|| Fault::invalid_input("The body needs an Amount."))?;
    let amount = match amount {
        serde_json::Value::Null => None,
        serde_json::Value::Number(n) => {
            let a = n
                .as_f64()
                .and_then(Amount::from_f64)
                .filter(|a| *a >= Amount::ZERO)
                .ok_or_else(|| Fault::invalid_input(format!("Amount {n} must be zero or more.")))?;
            Some(a)
        }
        other => {
            return Err(Fault::invalid_input(format!(
                "Amount must be a number or null, not {other}."
            )));
        }
    };
    *c.budget.lock().expect("budget poisoned") = amount;
    Ok(Json(budget_json(c)))
}

pub(super) fn rfc3339(day: i64) -> String {
    format!("{}T00:00:00+00:00", date_of(day).format("%Y-%m-%d"))
}

pub(super) fn usd(amount: Amount, currency: Currency) -> Amount {
    let fx = crate::usage::usd_to(currency) as i128;
    Amount::from_micros((amount.micros() as i128 * 1_000_000 / fx) as i64)
}

pub(super) async fn usage_summary(
    State(emulator): State<Emulator>,
    AppUser(partner): AppUser,
    Path(customer): Path<String>,
) -> Result<Json<CustomerUsageSummary>, Fault> {
    let world = &emulator.world;
    let (index, c) = find_customer(world, partner, &customer)?;
    let (from, to) = world.current_period();
    let total = world.customer_period_cost(partner, index);
    let budget = budget_json(c);
    Ok(Json(CustomerUsageSummary {
        budget: SpendingBudget {
            links: None,
            ..budget
        },
        resource_id: c.id.to_string(),
        resource_name: c.company_name.clone(),
        billing_start_date: rfc3339(from),
        billing_end_date: rfc3339(day_number(
            first_of_month(date_of(from))
                .checked_add_months(chrono::Months::new(1))
                .expect("in range"),
        )),
        total_cost: Some(total),
        currency_code: Some(c.currency.code().into()),
        currency_locale: None,
        usd_total_cost: Some(usd(total, c.currency)),
        last_modified_date: rfc3339(to + 1),
        attributes: Attributes::of("CustomerUsageSummary"),
    }))
}

pub(super) async fn meter_usage_records(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    Path((customer, subscription)): Path<(String, String)>,
) -> Result<Json<Collection<MeterUsageRecord>>, Fault> {
    let world = &emulator.world;
    let c = find_plan(world, partner, &customer, &subscription)?;
    let index = world.partners[partner]
        .customers
        .iter()
        .position(|x| x.id == c.id)
        .unwrap_or(0);
    let (from, to) = world.current_period();
    let feed = world.feed(partner, c.currency, from, to);
    // Meter by meter, in catalog order.
    let mut by_meter: Vec<(f64, Amount)> = vec![(0.0, Amount::ZERO); world.catalog.len()];
    for line in feed.iter().filter(|l| l.customer as usize == index) {
        let meter = c.series[line.series as usize].meter;
        by_meter[meter].0 += line.quantity;
        by_meter[meter].1 += world.line_cost(partner, line);
    }
    let items = by_meter
        .iter()
        .enumerate()
        .filter(|(_, (q, _))| *q > 0.0)
        .map(|(m, (q, cost))| {
            let meter = &world.catalog[m];
            MeterUsageRecord {
                subscription_id: c.plan.to_string(),
                meter_id: meter.id.to_string(),
                meter_name: meter.name.into(),
                category: meter.category.into(),
                subcategory: meter.subcategory.into(),
                quantity_used: (q * 1e6).round() / 1e6,
                unit: meter.unit.into(),
                total_cost: *cost,
                currency_code: c.currency.code().into(),
                usd_total_cost: usd(*cost, c.currency),
                last_modified_date: rfc3339(to + 1),
                attributes: Attributes::of("MeterUsageRecord"),
            }
        })
        .collect();
    Ok(Json(Collection::page(
        items,
        Link::get(format!(
            "/customers/{}/subscriptions/{}/meterusagerecords",
            c.id, c.plan
        )),
        None,
    )))
}
