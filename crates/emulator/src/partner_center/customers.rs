//! Customers: the list (filtered, seek-paged) and one customer.

use super::*;

/// A customer as the reference's "Get a customer by ID" example shows one:
/// the list carries the same resource.
pub(super) fn customer_json(c: &world::Customer) -> Value {
    let id = c.id.to_string();
    let email = format!("billing@{}", c.domain);
    json!({
        "id": id,
        "commerceId": c.commerce_id.to_string(),
        "companyProfile": {
            "tenantId": id,
            "domain": c.domain,
            "companyName": c.company_name,
            "address": {
                "country": c.country,
                "region": "",
                "city": "",
                "addressLine1": "1 Main Street",
                "postalCode": "",
                "phoneNumber": "",
            },
            "email": email,
            "links": self_links(&format!("/customers/{id}/profiles/company")),
            "attributes": attributes("CustomerCompanyProfile"),
        },
        "billingProfile": {
            "id": model::Guid::from_seed(c.key, 13).to_string(),
            "firstName": "Billing",
            "lastName": "Contact",
            "email": email,
            "culture": "en-US",
            "language": "en",
            "companyName": c.company_name,
            "defaultAddress": { "country": c.country },
            "attributes": { "etag": etag(&id), "objectType": "CustomerBillingProfile" },
        },
        "relationshipToPartner": "reseller",
        "allowDelegatedAccess": true,
        "customDomains": [c.domain],
        "links": self_links(&format!("/customers/{id}")),
        "attributes": attributes("Customer"),
    })
}

/// The documented filter: `{"Field": "CompanyName", "Value": "...", "Operator": "starts_with"}`.
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CustomerFilter {
    field: String,
    value: String,
    operator: String,
}

pub(super) async fn list_customers(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Json<Value>, Fault> {
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
    let matching: Vec<Value> = all
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
) -> Result<Json<Value>, Fault> {
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
