//! Customers: the list (filtered, seek-paged) and one customer.

use super::*;

pub(super) fn customer_json(c: &world::Customer) -> Customer {
    let id = c.id.to_string();
    Customer {
        id: id.clone(),
        commerce_id: Some(c.commerce_id.to_string()),
        company_profile: CustomerCompanyProfile {
            tenant_id: id.clone(),
            domain: c.domain.clone(),
            company_name: c.company_name.clone(),
            attributes: Attributes::of("CustomerCompanyProfile"),
        },
        billing_profile: Some(serde_json::json!({
            "culture": "en-US",
            "language": "en",
            "companyName": c.company_name,
            "defaultAddress": { "country": c.country },
            "attributes": { "objectType": "CustomerBillingProfile" }
        })),
        relationship_to_partner: "reseller".into(),
        allow_delegated_access: Some(true),
        custom_domains: None,
        links: Some(Links::to_self(format!("/customers/{id}"))),
        attributes: Attributes::of("Customer"),
    }
}

pub(super) async fn list_customers(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Json<Collection<Customer>>, Fault> {
    let query = Query::parse(raw);
    let size = query.size(DEFAULT_PAGE, MAX_PAGE)?;
    let filter = match query.get("filter") {
        None => None,
        Some(text) => {
            let f: CustomerFilter = serde_json::from_str(text)
                .map_err(|e| Fault::invalid_input(format!("filter is not valid JSON: {e}")))?;
            if !f.operator.eq_ignore_ascii_case("starts_with") {
                return Err(Fault::invalid_input(format!(
                    "Unsupported filter operator '{}'.",
                    f.operator
                )));
            }
            Some(f)
        }
    };
    let all = &emulator.world.partners[partner].customers;
    let matching: Vec<Customer> = all
        .iter()
        .filter(|c| match &filter {
            None => true,
            Some(f) => {
                let field = match f.field.to_ascii_lowercase().as_str() {
                    "companyname" => &c.company_name,
                    "domain" => &c.domain,
                    _ => return false,
                };
                field.to_lowercase().starts_with(&f.value.to_lowercase())
            }
        })
        .map(customer_json)
        .collect();
    let mut base = format!("/customers?size={size}");
    if let Some(f) = query.get("filter") {
        base.push_str("&filter=");
        base.push_str(&crate::world::percent_encode(f));
    }
    page(
        partner,
        &query,
        &headers,
        &base,
        matching.len(),
        size,
        |r| matching[r].to_vec(),
    )
    .map(Json)
}

pub(super) async fn get_customer(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    Path(customer): Path<String>,
) -> Result<Json<Customer>, Fault> {
    emulator.world.partners[partner]
        .customers
        .iter()
        .find(|c| c.id.to_string().eq_ignore_ascii_case(&customer))
        .map(|c| Json(customer_json(c)))
        .ok_or_else(|| Fault::not_found(format!("Customer {customer} was not found.")))
}

/// Largest and default page of line items, as Partner Center's.
pub(super) const LINE_ITEM_PAGE: usize = 2000;

pub(super) fn find_customer<'w>(
    world: &'w World,
    partner: usize,
    id: &str,
) -> Result<(usize, &'w world::Customer), Fault> {
    world.partners[partner]
        .customers
        .iter()
        .enumerate()
        .find(|(_, c)| c.id.to_string().eq_ignore_ascii_case(id))
        .ok_or_else(|| Fault::not_found(format!("Customer {id} was not found.")))
}
