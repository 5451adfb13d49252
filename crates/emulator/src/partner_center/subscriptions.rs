//! A customer's subscriptions and the Azure subscriptions under its plan.

use super::*;

/// About one customer in five still has a legacy Azure subscription
/// (MS-AZR-0145P) beside its Azure plan: usage for it comes as utilization
/// records priced with the rate card, not as daily rated line items.
pub fn legacy_subscription(world: &World, customer: &world::Customer) -> Option<model::Guid> {
    (crate::usage::unit(world.seed, customer.key, 99) < 0.2)
        .then(|| model::Guid::from_seed(customer.key, 13))
}

pub(super) fn subscription_json(customer: &world::Customer) -> Value {
    plan_json(
        customer,
        customer.plan,
        "DZH318Z0BPS6:0001:DZH318Z0BML6",
        "Azure plan",
    )
}

pub(super) fn plan_json(
    customer: &world::Customer,
    plan: model::Guid,
    offer_id: &str,
    offer_name: &str,
) -> Value {
    let id = plan.to_string();
    json!({
        "id": id,
        "entitlementId": model::Guid::from_seed(plan.as_bytes()[0] as u64 ^ customer.key, 11).to_string(),
        "offerId": offer_id,
        "offerName": offer_name,
        "friendlyName": offer_name,
        "quantity": 1,
        "unitType": "Usage-based",
        "creationDate": "2021-03-01T10:14:22.427Z",
        "effectiveStartDate": "2021-03-01T00:00:00Z",
        "commitmentEndDate": "9999-12-31T00:00:00Z",
        "status": "active",
        "autoRenewEnabled": false,
        "billingType": "usage",
        "contractType": "subscription",
        "links": {
            "offer": link(&format!("/offers/{offer_id}?country=US"), &[]),
            "self": link(&format!("/customers/{}/subscriptions/{id}", customer.id), &[]),
        },
        "orderId": model::Guid::from_seed(customer.key, 12).to_string(),
        "attributes": { "etag": etag(&id), "objectType": "Subscription" },
    })
}

pub(super) async fn list_subscriptions(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    Path(customer): Path<String>,
) -> Result<Json<Value>, Fault> {
    let (_, c) = find_customer(&emulator.world, partner, &customer)?;
    let mut items = vec![subscription_json(c)];
    if let Some(legacy) = legacy_subscription(&emulator.world, c) {
        items.push(plan_json(c, legacy, "MS-AZR-0145P", "Microsoft Azure"));
    }
    Ok(Json(collection(
        items,
        &format!("/customers/{}/subscriptions", c.id),
        None,
    )))
}

pub(super) fn find_plan<'w>(
    world: &'w World,
    partner: usize,
    customer: &str,
    subscription: &str,
) -> Result<&'w world::Customer, Fault> {
    let (_, c) = find_customer(world, partner, customer)?;
    if c.plan.to_string().eq_ignore_ascii_case(subscription) {
        Ok(c)
    } else {
        Err(Fault::new(
            StatusCode::NOT_FOUND,
            20003,
            format!("Subscription {subscription} was not found."),
        ))
    }
}

pub(super) async fn get_subscription(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    Path((customer, subscription)): Path<(String, String)>,
) -> Result<Json<Value>, Fault> {
    find_plan(&emulator.world, partner, &customer, &subscription)
        .map(|c| Json(subscription_json(c)))
}

pub(super) async fn list_entitlements(
    State(emulator): State<Emulator>,
    PartnerAuth(partner): PartnerAuth,
    Path((customer, subscription)): Path<(String, String)>,
) -> Result<Json<Value>, Fault> {
    let c = find_plan(&emulator.world, partner, &customer, &subscription)?;
    let items = c
        .entitlements
        .iter()
        .map(|(id, name)| {
            json!({
                "id": id.to_string(),
                "friendlyName": name,
                "status": "active",
                "subscriptionId": c.plan.to_string(),
            })
        })
        .collect();
    Ok(Json(collection(
        items,
        &format!(
            "/customers/{}/subscriptions/{}/azureEntitlements",
            c.id, c.plan
        ),
        None,
    )))
}
