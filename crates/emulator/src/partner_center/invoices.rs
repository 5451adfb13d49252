//! Invoices and their daily rated usage line items, billed and unbilled.

use super::*;

pub(super) fn currency_symbol(c: Currency) -> &'static str {
    match c.code() {
        "USD" | "AUD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "JPY" => "¥",
        "TWD" => "NT$",
        _ => "",
    }
}

pub(super) async fn list_invoices(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
) -> Json<Value> {
    let world = &emulator.world;
    let mut items = Vec::new();
    // Newest first, as Partner Center lists them.
    for invoice in world.invoices(partner).into_iter().rev() {
        let next = invoice
            .month
            .checked_add_months(chrono::Months::new(1))
            .expect("in range");
        let feed = world.invoice_lines(partner, &invoice);
        let (id, month, currency) = (invoice.id.clone(), invoice.month, invoice.currency);
        items.push(json!({
            "id": id,
            "invoiceDate": format!("{}-{:02}-08T06:12:40Z", next.format("%Y"), next.format("%m")),
            "billingPeriodStartDate": format!("{}T00:00:00Z", month.format("%Y-%m-%d")),
            "billingPeriodEndDate": format!(
                "{}T00:00:00Z",
                (next - chrono::Days::new(1)).format("%Y-%m-%d")
            ),
            "totalCharges": world.total(partner, &feed),
            "paidAmount": Amount::ZERO,
            "currencyCode": currency.code(),
            "currencySymbol": currency_symbol(currency),
            // As the reference's example: the detail names the invoice's
            // billing line items; its daily usage is read with the query above.
            "invoiceDetails": [{
                "invoiceLineItemType": "billing_line_items",
                "billingProvider": "one_time",
                "links": self_links(&format!("/invoices/OneTime-{id}/lineitems/OneTime/BillingLineItems")),
                "attributes": attributes("InvoiceDetail"),
            }],
            "documentType": "invoice",
            "invoiceType": "OneTime",
            "links": self_links(&format!("/invoices/OneTime-{id}")),
            "attributes": attributes("Invoice"),
        }));
    }
    Json(collection(items, "/invoices", None))
}

/// What Microsoft's pages say of v1 after the cutover: new-commerce usage
/// of billing periods from April 2025 comes only from Graph's export.
fn moved_to_v2() -> Fault {
    Fault::invalid_input(
        "Daily rated usage of new commerce for billing periods after March 2025 is available only \
         through the billing reconciliation API v2 on Microsoft Graph.",
    )
}

/// The parameters every daily-rated-usage request must carry.
pub(super) fn usage_query(query: &Query) -> Result<(Currency, usize), Fault> {
    match query.get("provider") {
        Some(p) if p.eq_ignore_ascii_case("onetime") => {}
        other => {
            return Err(Fault::invalid_input(format!(
                "provider must be onetime for daily rated usage, not '{}'.",
                other.unwrap_or_default()
            )));
        }
    }
    match query.get("invoicelineitemtype") {
        Some(t) if t.eq_ignore_ascii_case("usagelineitems") => {}
        other => {
            return Err(Fault::invalid_input(format!(
                "invoicelineitemtype must be usagelineitems, not '{}'.",
                other.unwrap_or_default()
            )));
        }
    }
    let currency = query
        .get("currencycode")
        .ok_or_else(|| Fault::invalid_input("currencycode is required."))
        .and_then(|c| Currency::parse(c).map_err(|e| Fault::invalid_input(e.to_string())))?;
    Ok((currency, query.size(LINE_ITEM_PAGE, LINE_ITEM_PAGE)?))
}

pub(super) async fn unbilled_line_items(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Json<Value>, Fault> {
    let world = &emulator.world;
    let query = Query::parse(raw);
    let (currency, size) = usage_query(&query)?;
    let period = query.get("period").unwrap_or_default().to_ascii_lowercase();
    let range = match period.as_str() {
        "current" => Some(world.current_period()),
        "previous" => world.previous_period(),
        _ => {
            return Err(Fault::invalid_input(format!(
                "period must be current or previous, not '{period}'."
            )));
        }
    };
    let base = format!(
        "/invoices/unbilled/lineitems?provider=onetime&invoicelineitemtype=usagelineitems&currencycode={}&period={period}&size={size}",
        currency.code().to_ascii_lowercase()
    );
    // Once last month is invoiced, its usage is billed and "previous" is
    // empty. After the cutover, v1 serves legacy commerce only; whether it
    // leaves new commerce out or refuses is not documented (a setting).
    let feed = match range {
        Some((from, to)) if world.after_cutover(crate::usage::date_of(from)) => {
            if emulator.faults().v1_refuses_after_cutover {
                return Err(moved_to_v2());
            }
            world.feed_of(
                partner,
                currency,
                from,
                to,
                crate::billing::Commerce::Legacy,
            )
        }
        Some((from, to)) => world.feed(partner, currency, from, to),
        None => Default::default(),
    };
    page(partner, &query, &headers, &base, feed.len(), size, |r| {
        feed[r]
            .iter()
            .map(|l| world.line_item(partner, l, None))
            .collect()
    })
    .map(Json)
}

pub(super) async fn billed_line_items(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    Path(invoice): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Json<Value>, Fault> {
    let world = &emulator.world;
    let query = Query::parse(raw);
    let (currency, size) = usage_query(&query)?;
    let found = world
        .invoice(partner, &invoice)
        .ok_or_else(|| Fault::not_found(format!("Invoice {invoice} was not found.")))?;
    if found.currency != currency {
        return Err(Fault::invalid_input(format!(
            "Invoice {invoice} is in {}, not {currency}.",
            found.currency
        )));
    }
    if found.commerce == crate::billing::Commerce::New && world.after_cutover(found.month) {
        return Err(moved_to_v2());
    }
    let feed = world.invoice_lines(partner, &found);
    let id = found.id.clone();
    let base = format!(
        "/invoices/{id}/lineitems?provider=onetime&invoicelineitemtype=usagelineitems&currencycode={}&size={size}",
        currency.code().to_ascii_lowercase()
    );
    page(partner, &query, &headers, &base, feed.len(), size, |r| {
        feed[r]
            .iter()
            .map(|l| world.line_item(partner, l, Some(&id)))
            .collect()
    })
    .map(Json)
}
