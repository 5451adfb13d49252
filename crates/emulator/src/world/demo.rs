//! `GET /emulator/demo`: the seeded partners, their people, apps and keys.

use serde::Serialize;

use super::{CUSTOMER_USER_PASSWORD, Role, World};

impl World {
    pub fn demo(&self) -> DemoWorld {
        DemoWorld {
            partners: self
                .partners
                .iter()
                .map(|p| DemoPartner {
                    name: p.name.clone(),
                    tenant_id: p.tenant_id.to_string(),
                    domain: p.domain.clone(),
                    commerce_id: p.commerce_id.to_string(),
                    mpn_id: p.mpn_id.clone(),
                    customers: p.customers.len(),
                    customer_users: p
                        .customers
                        .iter()
                        .take(3)
                        .map(|c| DemoCustomerUser {
                            user_name: format!("it@{}", c.domain),
                            password: CUSTOMER_USER_PASSWORD.into(),
                            display_name: format!("{} IT", c.company_name),
                            customer_id: c.id.to_string(),
                            company_name: c.company_name.clone(),
                        })
                        .collect(),
                    users: p
                        .users
                        .iter()
                        .map(|u| DemoUser {
                            user_name: u.user_name.clone(),
                            password: u.password.clone(),
                            display_name: u.display_name.clone(),
                            roles: u.roles.clone(),
                        })
                        .collect(),
                    apps: p
                        .apps
                        .read()
                        .expect("apps poisoned")
                        .iter()
                        .map(|a| DemoApp {
                            object_id: a.object_id.to_string(),
                            partner_center_registered: a.partner_center,
                            app_id: a.app_id.to_string(),
                            display_name: a.display_name.clone(),
                            keys: a
                                .keys
                                .iter()
                                .map(|k| DemoKey {
                                    key_id: k.key_id.to_string(),
                                    display_name: k.display_name.clone(),
                                    secret: k.secret.clone(),
                                    start_date_time: k.start.to_rfc3339(),
                                    end_date_time: k.end.to_rfc3339(),
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
            months_of_history: self.months,
        }
    }
}

/// `GET /emulator/demo`: everything a script or a person needs to sign in.
/// The emulator is a test double; none of this is a real secret.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoWorld {
    pub partners: Vec<DemoPartner>,
    pub months_of_history: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoPartner {
    pub name: String,
    pub tenant_id: String,
    pub domain: String,
    pub commerce_id: String,
    pub mpn_id: String,
    pub customers: usize,
    /// Users of the first customers' own tenants, for the customer's view.
    pub customer_users: Vec<DemoCustomerUser>,
    pub users: Vec<DemoUser>,
    pub apps: Vec<DemoApp>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoCustomerUser {
    pub user_name: String,
    pub password: String,
    pub display_name: String,
    pub customer_id: String,
    pub company_name: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoUser {
    pub user_name: String,
    pub password: String,
    pub display_name: String,
    pub roles: Vec<Role>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoApp {
    pub object_id: String,
    pub partner_center_registered: bool,
    pub app_id: String,
    pub display_name: String,
    pub keys: Vec<DemoKey>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoKey {
    pub key_id: String,
    pub display_name: String,
    pub secret: String,
    pub start_date_time: String,
    pub end_date_time: String,
}
