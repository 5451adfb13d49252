//! Legacy (MS-AZR-0145P) utilization records and the Azure rate card.

use super::*;

/// Utilization records are paged by `seek_operation` (snake case here).
pub(super) async fn utilization_records(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    Path((customer, subscription)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<axum::response::Response, Fault> {
    let world = &emulator.world;
    let (_, c) = find_customer(world, partner, &customer)?;
    if c.plan.to_string().eq_ignore_ascii_case(&subscription) {
        return Err(Fault::new(
            StatusCode::BAD_REQUEST,
            2012,
            "Utilization records are not available for Azure plan subscriptions; use daily rated usage.",
        ));
    }
    let legacy = legacy_subscription(world, c)
        .filter(|l| l.to_string().eq_ignore_ascii_case(&subscription))
        .ok_or_else(|| {
            Fault::new(
                StatusCode::NOT_FOUND,
                20003,
                format!("Subscription {subscription} was not found."),
            )
        })?;
    let query = Query::parse(raw);
    let time = |name: &str| -> Result<chrono::DateTime<chrono::Utc>, Fault> {
        let text = query
            .get(name)
            .ok_or_else(|| Fault::invalid_input(format!("{name} is required.")))?;
        chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|_| {
                Fault::invalid_input(format!(
                    "{name} must be a date and time like 2026-10-01T00:00:00Z."
                ))
            })
    };
    let (start, end) = (time("start_time")?, time("end_time")?);
    if start >= end {
        return Err(Fault::invalid_input("start_time must be before end_time."));
    }
    let size = query.size(1000, 1000)?;
    let (first, last) = (
        day_number(start.date_naive()).max(world.window.0),
        (day_number(end.date_naive()) - 1).min(world.window.1),
    );
    // Yesterday's usage is still being rated: not ready, come back later.
    if last >= world.window.1 && first > world.window.1 - 1 {
        let mut response = StatusCode::NO_CONTENT.into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(30));
        return Ok(response);
    }
    let mut lines: Vec<(i64, usize, f64)> = Vec::new();
    for day in first..=last {
        for (si, s) in c.series.iter().enumerate() {
            let meter = &world.catalog[s.meter];
            if let Some(q) = crate::usage::quantity(
                world.seed,
                meter,
                s,
                c.key ^ 0x1e6a ^ si as u64,
                &c.trend,
                world.window.0,
                day,
            ) {
                lines.push((day, si, q));
            }
        }
    }
    let base = format!(
        "/customers/{}/subscriptions/{legacy}/utilizations/azure?start_time={}&end_time={}&granularity=daily&show_details=true&size={size}",
        c.id,
        start.format("%Y-%m-%dT%H:%M:%SZ"),
        end.format("%Y-%m-%dT%H:%M:%SZ")
    );
    // The same seek paging as elsewhere, under the snake-case parameter.
    let mut q = Query(query.0.clone());
    if let Some(op) = q.get("seek_operation").map(str::to_string) {
        q.0.push(("seekoperation".into(), op));
    }
    let mut page = page(partner, &q, &headers, &base, lines.len(), size, |r| {
        lines[r]
            .iter()
            .map(|(day, si, quantity)| {
                let s = &c.series[*si];
                let meter = &world.catalog[s.meter];
                let tags: serde_json::Value = serde_json::from_str(&s.tags).unwrap_or_default();
                serde_json::json!({
                    "usageStartTime": format!("{}T00:00:00+00:00", date_of(*day).format("%Y-%m-%d")),
                    "usageEndTime": format!("{}T00:00:00+00:00", date_of(day + 1).format("%Y-%m-%d")),
                    "resource": { "id": meter.id.to_string(), "name": meter.name, "category": meter.category,
                                  "subcategory": meter.subcategory, "region": s.meter_region },
                    "quantity": quantity,
                    "unit": meter.unit,
                    "infoFields": {},
                    "instanceData": {
                        "resourceUri": format!("/subscriptions/{legacy}/resourceGroups/{}/providers/{}/{}", s.resource_group, s.provider, s.resource_name),
                        "location": s.location, "partNumber": "", "orderNumber": "",
                        "tags": tags, "additionalInfo": {}
                    },
                    "attributes": { "objectType": "AzureUtilizationRecord" }
                })
            })
            .collect::<Vec<_>>()
    })?;
    if let Some(Value::String(uri)) = page.pointer_mut("/links/next/uri") {
        *uri = uri.replace("&seekOperation=Next", "&seek_operation=Next");
    }
    Ok(Json(page).into_response())
}

/// The Azure rate card: list prices of the meter catalog in a currency.
pub(super) async fn rate_card(
    State(emulator): State<Emulator>,
    PartnerAuth(_partner): PartnerAuth,
    RawQuery(raw): RawQuery,
) -> Result<Json<serde_json::Value>, Fault> {
    let query = Query::parse(raw);
    let currency = match query.get("currency") {
        None => Currency::USD,
        Some(c) => Currency::parse(c).map_err(|e| Fault::invalid_input(e.to_string()))?,
    };
    let fx = crate::usage::usd_to(currency) as i128;
    let meters: Vec<serde_json::Value> = emulator
        .world
        .catalog
        .iter()
        .map(|m| {
            let price =
                Amount::from_micros((m.list_price_usd_micros as i128 * fx / 1_000_000) as i64);
            serde_json::json!({
                "id": m.id.to_string(), "name": m.name, "rates": { "0": price },
                "tags": [], "category": m.category, "subcategory": m.subcategory, "region": "",
                "unit": m.unit, "includedQuantity": 0.0, "effectiveDate": "2026-01-01T00:00:00Z"
            })
        })
        .collect();
    Ok(Json(serde_json::json!({
        "locale": "en", "currency": currency.code(), "isTaxIncluded": false,
        "meters": meters,
        "offerTerms": [],
        "attributes": { "objectType": "AzureRateCard" }
    })))
}
