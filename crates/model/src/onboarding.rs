//! The onboarding wizard's state: six steps in order, what each needs, and
//! the checks the browser and the proxy both make on what people type.

use serde::{Deserialize, Serialize};

use crate::guid::Guid;
use crate::i18n::{Locale, Text};

/// The steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Step {
    BeforeYouBegin,
    SignIn,
    RegisterApp,
    AddKey,
    /// The app gets Graph's billing permission, a service principal and
    /// the admin's consent (today's service needs them; the seed predates it).
    ReadBilling,
    StartTrial,
    /// Onboarding is over: the trial (or subscription) runs.
    Done,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Step::BeforeYouBegin,
        Step::SignIn,
        Step::RegisterApp,
        Step::AddKey,
        Step::ReadBilling,
        Step::StartTrial,
    ];

    /// 1-based position among the six steps (Done counts as past the last).
    pub fn number(self) -> usize {
        Step::ALL
            .iter()
            .position(|s| *s == self)
            .map_or(Step::ALL.len() + 1, |i| i + 1)
    }

    /// The step's name on the wire and in the store (`addKey`).
    pub fn as_str(self) -> &'static str {
        match self {
            Step::BeforeYouBegin => "beforeYouBegin",
            Step::SignIn => "signIn",
            Step::RegisterApp => "registerApp",
            Step::AddKey => "addKey",
            Step::ReadBilling => "readBilling",
            Step::StartTrial => "startTrial",
            Step::Done => "done",
        }
    }

    pub fn parse(text: &str) -> Option<Step> {
        Step::ALL
            .into_iter()
            .chain([Step::Done])
            .find(|s| s.as_str() == text)
    }

    pub fn slug(self) -> &'static str {
        match self {
            Step::BeforeYouBegin => "before-you-begin",
            Step::SignIn => "sign-in",
            Step::RegisterApp => "register-app",
            Step::AddKey => "add-key",
            Step::ReadBilling => "read-billing",
            Step::StartTrial => "start-trial",
            Step::Done => "done",
        }
    }
}

/// Partner Center roles that matter here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Role {
    GlobalAdmin,
    AdminAgent,
    BillingAdmin,
    SalesAgent,
}

/// Entra's directory role templates the product maps, by template id (the
/// same in every tenant; a directory role's own `id` is tenant-specific).
pub const GLOBAL_ADMIN_TEMPLATE: &str = "62e90394-69f5-4237-9190-012177145e10";
pub const BILLING_ADMIN_TEMPLATE: &str = "b0f54661-2d74-4c50-afa3-1ec803f12efe";

/// Partner Center's agent groups in the partner's tenant, by the names it
/// gives them. A name only finds the group once, for its id to be stored;
/// it never grants a role.
pub const ADMIN_AGENTS_GROUP: &str = "AdminAgents";
pub const SALES_AGENTS_GROUP: &str = "SalesAgents";

impl Role {
    /// From a directory role's template id (the sign-in token's `wids`, or a
    /// `directoryRole`'s `roleTemplateId`); display names are never read.
    pub fn from_template(id: &str) -> Option<Role> {
        let id = id.trim();
        if id.eq_ignore_ascii_case(GLOBAL_ADMIN_TEMPLATE) {
            Some(Role::GlobalAdmin)
        } else if id.eq_ignore_ascii_case(BILLING_ADMIN_TEMPLATE) {
            Some(Role::BillingAdmin)
        } else {
            None
        }
    }

    /// The agent group whose members hold this role, if it is one.
    pub fn agent_group(self) -> Option<&'static str> {
        match self {
            Role::AdminAgent => Some(ADMIN_AGENTS_GROUP),
            Role::SalesAgent => Some(SALES_AGENTS_GROUP),
            _ => None,
        }
    }
}

/// A person's roles: directory roles from their template ids, agent roles
/// from membership of the agent groups whose ids the partner has stored.
/// `agent_groups` pairs each agent role with its group's stored object id.
pub fn roles_of(
    role_templates: &[String],
    member_of: &[String],
    agent_groups: &[(Role, String)],
) -> Vec<Role> {
    let mut roles: Vec<Role> = Vec::new();
    let mut add = |r: Role| {
        if !roles.contains(&r) {
            roles.push(r);
        }
    };
    for t in role_templates {
        if let Some(r) = Role::from_template(t) {
            add(r);
        }
    }
    for (role, group) in agent_groups {
        if member_of
            .iter()
            .any(|m| m.trim().eq_ignore_ascii_case(group))
        {
            add(*role);
        }
    }
    roles
}

/// Who may onboard, register apps, manage keys, set budgets and markups.
pub fn can_manage(roles: &[Role]) -> bool {
    roles
        .iter()
        .any(|r| matches!(r, Role::GlobalAdmin | Role::AdminAgent))
}

/// The sentence shown to someone who may not manage the connection, in
/// the proxy's language (English); the browser says it with `Text::roles_needed_for`.
pub fn roles_needed_message(roles: &[Role]) -> String {
    Locale::En.text().roles_needed_for(roles)
}

/// Microsoft Graph's application id (the resource of its permissions).
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// Graph's `PartnerBilling.Read.All` application permission (app role).
pub const PARTNER_BILLING_READ_ALL: &str = "7c3e1994-38ff-4412-a99b-9369f6bb7706";
pub const PARTNER_BILLING_READ_ALL_NAME: &str = "PartnerBilling.Read.All";

/// An application's `requiredResourceAccess` with Graph's billing
/// permission added: Graph's PATCH replaces the whole collection, so what
/// the app already declares (other resources, other permissions) is kept.
/// `None` when it is declared already.
pub fn with_billing_permission(declared: &serde_json::Value) -> Option<serde_json::Value> {
    use serde_json::{Value, json};
    let mut all: Vec<Value> = declared.as_array().cloned().unwrap_or_default();
    let billing = json!({ "id": PARTNER_BILLING_READ_ALL, "type": "Role" });
    let graph = all.iter_mut().find(|r| {
        r["resourceAppId"]
            .as_str()
            .is_some_and(|id| id.eq_ignore_ascii_case(GRAPH_APP_ID))
    });
    match graph {
        Some(graph) => {
            let access = graph["resourceAccess"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let has = access.iter().any(|a| {
                a["id"]
                    .as_str()
                    .is_some_and(|id| id.eq_ignore_ascii_case(PARTNER_BILLING_READ_ALL))
                    && a["type"]
                        .as_str()
                        .is_some_and(|t| t.eq_ignore_ascii_case("Role"))
            });
            if has {
                return None;
            }
            let mut access = access;
            access.push(billing);
            graph["resourceAccess"] = Value::Array(access);
        }
        None => all.push(json!({ "resourceAppId": GRAPH_APP_ID, "resourceAccess": [billing] })),
    }
    Some(Value::Array(all))
}

/// Entra's error code in a message (`AADSTS90094`), if it names one.
pub fn entra_code(message: &str) -> Option<&str> {
    message
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| {
            w.strip_prefix("AADSTS").is_some_and(|n| {
                (3..=8).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit())
            })
        })
}

/// Key lifetimes the wizard offers.
pub const KEY_YEARS: [u32; 2] = [1, 2];

/// Keys expiring within this many days are flagged, and the Connection
/// page warns of the key the sync uses: time to add a new one and switch.
pub const EXPIRY_WARNING_DAYS: i64 = 60;

/// `GET /api/connection`: the connected web app, its keys and the sync,
/// for the partner's managers after onboarding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionInfo {
    pub app_id: String,
    pub app_name: Option<String>,
    /// Every key of the app, from Microsoft Graph; `None` when this sign-in
    /// has no directory access to read them, or Graph could not list them.
    pub keys: Option<Vec<crate::api::KeyInfo>>,
    /// Why Graph could not list the keys, when it could not: the rest of
    /// the page stands without them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys_problem: Option<String>,
    /// The key the proxy signs in with, when it can be told which.
    pub key_in_use: Option<KeyInUse>,
    /// When a sync last succeeded (RFC 3339, UTC).
    pub last_synced: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyInUse {
    pub key_id: String,
    pub expires_at: String,
    /// Whole days left; negative once expired.
    pub days_left: i64,
    /// Within [`EXPIRY_WARNING_DAYS`]: add a new key and switch to it.
    pub warn: bool,
}

/// `PUT /api/connection/key`: the value of another key of the same app,
/// checked upstream before the sync switches to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwitchKey {
    pub key: String,
}

/// Length of the free trial.
pub const TRIAL_DAYS: i64 = 30;

/// Checks a GUID typed into a field, with a message naming the field in
/// `t`'s language.
pub fn check_guid(t: &Text, field: &str, text: &str) -> Result<Guid, String> {
    if text.trim().is_empty() {
        return Err((t.enter_field)(field));
    }
    text.parse::<Guid>().map_err(|_| (t.must_be_guid)(field))
}

/// Checks a customer user's sign-in name (an email-like UPN); returns it in
/// lower case, as sign-ins compare it.
pub fn check_user_name(t: &Text, text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    let valid = trimmed.len() <= 254
        && !trimmed.chars().any(|c| c.is_whitespace() || c.is_control())
        && trimmed.split_once('@').is_some_and(|(user, domain)| {
            !user.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if trimmed.is_empty() {
        Err(t.address_empty.into())
    } else if valid {
        Ok(trimmed.to_lowercase())
    } else {
        Err(t.address_invalid.into())
    }
}

/// Checks a key value typed into a field (it is never shown back).
pub fn check_key(t: &Text, text: &str) -> Result<(), String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        Err(t.key_empty.into())
    } else if trimmed.len() < 16
        || trimmed.len() > 256
        || trimmed.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        Err(t.key_invalid.into())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_names_are_the_wire_names() {
        for step in Step::ALL.into_iter().chain([Step::Done]) {
            let wire = serde_json::to_value(step).unwrap();
            assert_eq!(wire, step.as_str());
            assert_eq!(Step::parse(step.as_str()), Some(step));
        }
        assert_eq!(Step::parse("AddKey"), None);
    }

    /// The proxy's words.
    fn en() -> &'static Text {
        Locale::En.text()
    }

    #[test]
    fn steps_are_in_order() {
        let numbers: Vec<usize> = Step::ALL.iter().map(|s| s.number()).collect();
        assert_eq!(numbers, [1, 2, 3, 4, 5, 6]);
        assert!(Step::RegisterApp < Step::AddKey);
        assert!(Step::AddKey < Step::ReadBilling && Step::ReadBilling < Step::StartTrial);
        assert_eq!(Step::Done.number(), 7);
    }

    #[test]
    fn only_admins_manage_and_others_are_told_which_roles() {
        assert!(can_manage(&[Role::AdminAgent]));
        assert!(can_manage(&[Role::SalesAgent, Role::GlobalAdmin]));
        assert!(!can_manage(&[Role::BillingAdmin]));
        let m = roles_needed_message(&[Role::BillingAdmin]);
        assert!(m.contains("Global admin or Admin agent") && m.contains("you have Billing admin"));
        assert!(roles_needed_message(&[]).contains("no Partner Center role"));
    }

    #[test]
    fn fields_are_checked_with_their_names() {
        assert!(check_guid(en(), "App ID", "0f8fad5b-d9cb-469f-a165-70867728950e").is_ok());
        assert_eq!(
            check_guid(en(), "App ID", " "),
            Err("Enter the App ID.".into())
        );
        assert!(
            check_guid(en(), "Commerce ID", "0f8fad5b")
                .unwrap_err()
                .starts_with("The Commerce ID must be a GUID")
        );
        assert!(check_key(en(), "short").is_err());
        assert!(check_key(en(), "abc~0123456789abcdefghij").is_ok());
        assert!(check_key(en(), "has space 0123456789").is_err());
        assert_eq!(
            check_user_name(en(), " Ana@Contoso.COM "),
            Ok("ana@contoso.com".into())
        );
        for bad in [
            "",
            "ana",
            "@contoso.com",
            "ana@",
            "ana@contoso",
            "a b@c.d",
            "a@b@c.d",
            "a@.com",
        ] {
            assert!(check_user_name(en(), bad).is_err(), "{bad} accepted");
        }
        assert!(check_user_name(en(), &format!("{}@c.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn only_an_entra_code_is_taken_from_a_message() {
        assert_eq!(
            entra_code("Consent was not given: AADSTS90094: Granting needs an admin."),
            Some("AADSTS90094")
        );
        assert_eq!(entra_code("Call +1 555 0100 to fix your account"), None);
        assert_eq!(entra_code("AADSTSX1 AADSTS12 AADSTS123456789"), None);
    }

    #[test]
    fn the_billing_permission_is_merged_into_what_the_app_declares() {
        use serde_json::json;
        let none = with_billing_permission(&json!(null)).unwrap();
        assert_eq!(
            none,
            json!([{ "resourceAppId": GRAPH_APP_ID, "resourceAccess": [{ "id": PARTNER_BILLING_READ_ALL, "type": "Role" }] }])
        );
        assert_eq!(with_billing_permission(&none), None, "declared once");
        let declared = json!([
            { "resourceAppId": "00000002-0000-0ff1-ce00-000000000000", "resourceAccess": [{ "id": "a", "type": "Scope" }] },
            { "resourceAppId": GRAPH_APP_ID.to_uppercase(), "resourceAccess": [{ "id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope" }] }
        ]);
        let merged = with_billing_permission(&declared).unwrap();
        assert_eq!(merged[0], declared[0], "another resource is kept");
        assert_eq!(
            merged[1]["resourceAccess"][0],
            declared[1]["resourceAccess"][0]
        );
        assert_eq!(
            merged[1]["resourceAccess"][1]["id"],
            PARTNER_BILLING_READ_ALL
        );
        assert_eq!(merged.as_array().unwrap().len(), 2);
        // The delegated permission of the same name is not the application one.
        let delegated = json!([{ "resourceAppId": GRAPH_APP_ID, "resourceAccess": [{ "id": PARTNER_BILLING_READ_ALL, "type": "Scope" }] }]);
        assert!(with_billing_permission(&delegated).is_some());
    }

    #[test]
    fn roles_come_from_template_ids_and_stored_group_ids_never_names() {
        let gid = "5b1c8a0e-0000-4000-8000-00000000a9e7".to_string();
        let groups = [(Role::AdminAgent, gid.clone())];
        assert_eq!(
            roles_of(&[GLOBAL_ADMIN_TEMPLATE.to_uppercase()], &[], &groups),
            [Role::GlobalAdmin]
        );
        assert_eq!(
            roles_of(&[], &["x".into(), gid.to_uppercase()], &groups),
            [Role::AdminAgent]
        );
        // A group that merely carries a role's name, and a name where an id
        // belongs, grant nothing.
        for forged in [
            "Global Administrator",
            "AdminAgents",
            "Company Administrator",
        ] {
            assert!(roles_of(&[forged.into()], &[forged.into()], &groups).is_empty());
        }
        // The default "User" template and unknown ids are not roles here.
        assert!(roles_of(&["b79fbf4d-3ef9-4689-8143-76b194e85509".into()], &[], &[]).is_empty());
        assert_eq!(
            roles_of(
                &[BILLING_ADMIN_TEMPLATE.into(), BILLING_ADMIN_TEMPLATE.into()],
                std::slice::from_ref(&gid),
                &groups
            ),
            [Role::BillingAdmin, Role::AdminAgent]
        );
        assert_eq!(Role::SalesAgent.agent_group(), Some("SalesAgents"));
        assert_eq!(Role::GlobalAdmin.agent_group(), None);
    }
}
