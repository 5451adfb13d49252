//! The onboarding wizard's state: five steps in order, what each needs, and
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
    StartTrial,
    /// Onboarding is over: the trial (or subscription) runs.
    Done,
}

impl Step {
    pub const ALL: [Step; 5] = [
        Step::BeforeYouBegin,
        Step::SignIn,
        Step::RegisterApp,
        Step::AddKey,
        Step::StartTrial,
    ];

    /// 1-based position among the five steps (Done counts as past the last).
    pub fn number(self) -> usize {
        Step::ALL
            .iter()
            .position(|s| *s == self)
            .map_or(6, |i| i + 1)
    }

    /// The step's name on the wire and in the store (`addKey`).
    pub fn as_str(self) -> &'static str {
        match self {
            Step::BeforeYouBegin => "beforeYouBegin",
            Step::SignIn => "signIn",
            Step::RegisterApp => "registerApp",
            Step::AddKey => "addKey",
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

impl Role {
    /// From Entra's directory roles and Partner Center's agent groups.
    pub fn from_directory(name: &str) -> Option<Role> {
        match name {
            "Global Administrator" | "Company Administrator" => Some(Role::GlobalAdmin),
            "AdminAgents" => Some(Role::AdminAgent),
            "Billing Administrator" => Some(Role::BillingAdmin),
            "SalesAgents" => Some(Role::SalesAgent),
            _ => None,
        }
    }
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

/// Key lifetimes the wizard offers.
pub const KEY_YEARS: [u32; 2] = [1, 2];

/// Keys expiring within this many days are flagged.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

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
        assert_eq!(numbers, [1, 2, 3, 4, 5]);
        assert!(Step::RegisterApp < Step::AddKey);
        assert_eq!(Step::Done.number(), 6);
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
    fn roles_come_from_directory_names() {
        assert_eq!(
            Role::from_directory("Global Administrator"),
            Some(Role::GlobalAdmin)
        );
        assert_eq!(Role::from_directory("AdminAgents"), Some(Role::AdminAgent));
        assert_eq!(Role::from_directory("Readers"), None);
    }
}
