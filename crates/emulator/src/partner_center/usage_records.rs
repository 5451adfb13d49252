//! The usage budget, the usage summary and meter usage records (estimates).

use super::*;

/// The budget as the reference shows it: `amount` a number, or null when none is set.
pub(super) fn budget_json(customer: &world::Customer) -> Value {
    let amount = *customer.budget.lock().expect("budget poisoned");
    json!({
        "amount": amount,
        "links": self_links(&format!("/v1/customers/{}/usagebudget", customer.id)),
        "attributes": attributes("SpendingBudget"),
    })
}

pub(super) async fn get_budget(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    Path(customer): Path<String>,
) -> Result<Json<Value>, Fault> {
    let (_, c) = find_customer(&emulator.world, partner, &customer)?;
    Ok(Json(budget_json(c)))
}

/// The documented body is PascalCase (`{"Amount": 100}`); any case is accepted.
pub(super) async fn patch_budget(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    Path(customer): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, Fault> {
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
) -> Result<Json<Value>, Fault> {
    let world = &emulator.world;
    let (index, c) = find_customer(world, partner, &customer)?;
    let (from, to) = world.current_period();
    let total = world.customer_period_cost(partner, index);
    let budget = *c.budget.lock().expect("budget poisoned");
    let end = first_of_month(date_of(from))
        .checked_add_months(chrono::Months::new(1))
        .expect("in range");
    Ok(Json(json!({
        "budget": { "amount": budget, "attributes": attributes("SpendingBudget") },
        "resourceId": c.id.to_string(),
        "resourceName": c.company_name,
        "billingStartDate": rfc3339(from),
        "billingEndDate": rfc3339(day_number(end)),
        "totalCost": total,
        "currencyCode": c.currency.code(),
        "usdTotalCost": usd(total, c.currency),
        "lastModifiedDate": rfc3339(to + 1),
        "attributes": attributes("CustomerUsageSummary"),
    })))
}

pub(super) async fn meter_usage_records(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    Path((customer, subscription)): Path<(String, String)>,
) -> Result<Json<Value>, Fault> {
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
            json!({
                "subscriptionId": c.plan.to_string(),
                "meterId": meter.id.to_string(),
                "meterName": meter.name,
                "category": meter.category,
                "subcategory": meter.subcategory,
                "quantityUsed": (q * 1e6).round() / 1e6,
                "unit": meter.unit,
                "totalCost": cost,
                "currencyCode": c.currency.code(),
                "usdTotalCost": usd(*cost, c.currency),
                "lastModifiedDate": rfc3339(to + 1),
                "attributes": attributes("MeterUsageRecord"),
            })
        })
        .collect();
    Ok(Json(collection(
        items,
        &format!(
            "/customers/{}/subscriptions/{}/meterusagerecords",
            c.id, c.plan
        ),
        None,
    )))
}
