//! The proxy's `/api` shapes, read by the browser app and written by the
//! proxy: one definition, so the two cannot drift.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::anomaly::Anomaly;
use crate::onboarding::{Role, Step};
use crate::pricing::{Markup, MarkupBasis};
use crate::report::{BudgetState, CostPrice};
use crate::usage::LineItem;

mod error;
pub use error::{ErrorBody, ErrorCode, ErrorDetail};

/// Where a sync stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SyncStatus {
    /// No sync has run for this partner yet.
    #[default]
    Idle,
    Running,
    Succeeded,
    Failed,
    /// The proxy stopped while it ran; the next sync picks up.
    Interrupted,
}

impl SyncStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncStatus::Idle => "idle",
            SyncStatus::Running => "running",
            SyncStatus::Succeeded => "succeeded",
            SyncStatus::Failed => "failed",
            SyncStatus::Interrupted => "interrupted",
        }
    }

    /// The stored name back; an unknown one reads as interrupted.
    pub fn parse(text: &str) -> SyncStatus {
        match text {
            "idle" => SyncStatus::Idle,
            "running" => SyncStatus::Running,
            "succeeded" => SyncStatus::Succeeded,
            "failed" => SyncStatus::Failed,
            _ => SyncStatus::Interrupted,
        }
    }
}

/// What a running sync is reading.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SyncPhase {
    #[default]
    Customers,
    Usage,
    Done,
}

impl SyncPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncPhase::Customers => "customers",
            SyncPhase::Usage => "usage",
            SyncPhase::Done => "done",
        }
    }

    /// The stored name back; an unknown one reads as done.
    pub fn parse(text: &str) -> SyncPhase {
        match text {
            "customers" => SyncPhase::Customers,
            "usage" => SyncPhase::Usage,
            _ => SyncPhase::Done,
        }
    }
}

/// How much a sync reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SyncKind {
    /// Everything again, billed invoices included.
    #[default]
    Full,
    /// Skips billed invoices already read to their end (they never change).
    Incremental,
    /// Usage only, as incremental: customers, subscriptions and budgets are
    /// read once a day, usage every few hours (it lands within about a day).
    Usage,
}

impl SyncKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncKind::Full => "full",
            SyncKind::Incremental => "incremental",
            SyncKind::Usage => "usage",
        }
    }

    pub fn parse(text: &str) -> Option<SyncKind> {
        match text {
            "full" => Some(SyncKind::Full),
            "incremental" => Some(SyncKind::Incremental),
            "usage" => Some(SyncKind::Usage),
            _ => None,
        }
    }
}

/// `GET /api/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `ok` when every check passes, `degraded` otherwise.
    pub status: String,
    pub version: String,
    pub checks: Vec<HealthCheck>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheck {
    pub name: String,
    pub ok: bool,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One row of `GET /api/customers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRow {
    pub id: String,
    pub name: String,
    pub domain: String,
    pub relationship: String,
}

/// One customer in `GET /api/customers`, with this month's figures in its
/// billing currency. Amounts are integer millionths of the currency.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerSummary {
    pub id: String,
    pub name: String,
    pub domain: String,
    /// None until the customer has usage.
    pub currency: Option<String>,
    pub subscriptions: u32,
    pub azure_subscriptions: u32,
    pub month_to_date: CostPrice,
    pub last_month: CostPrice,
    /// Partner cost and customer price forecast to month end.
    pub forecast: CostPrice,
    /// Partner Center's usage budget, compared with the partner cost.
    pub budget: Option<i64>,
    /// Basis points of the budget used (10000 = 100 %).
    pub budget_used: Option<i64>,
    pub budget_state: BudgetState,
    pub budget_thresholds: Vec<u32>,
    /// Margin fell by a point or more against last month, like for like.
    pub margin_fell: bool,
    pub anomalies: Vec<Anomaly>,
    pub markup: Markup,
}

/// `GET /api/customers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerList {
    pub customers: Vec<CustomerSummary>,
    /// When the list was last read from Partner Center (RFC 3339, UTC).
    pub synced_at: Option<String>,
    /// The last UTC day with usage: "this month" is its month.
    pub as_of: Option<NaiveDate>,
}

/// Totals of one currency in the overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrencyTotals {
    pub currency: String,
    pub month_to_date: CostPrice,
    pub last_month: CostPrice,
    pub last_month_to_same_day: CostPrice,
    pub forecast: CostPrice,
}

/// A day's cost in one currency, for the trend chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DailyPoint {
    pub day: NaiveDate,
    pub currency: String,
    pub partner_cost: i64,
    pub customer_price: i64,
}

/// A ranked entry: a customer or a service, with its month-to-date figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ranked {
    pub id: String,
    pub name: String,
    pub currency: String,
    pub month_to_date: CostPrice,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetAlert {
    pub customer_id: String,
    pub name: String,
    pub currency: String,
    pub budget: i64,
    pub month_to_date: i64,
    pub forecast: i64,
    pub state: BudgetState,
    pub used: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerAnomaly {
    pub customer_id: String,
    pub name: String,
    pub currency: String,
    pub anomaly: Anomaly,
}

/// `GET /api/overview`: every customer at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    pub as_of: Option<NaiveDate>,
    pub by_currency: Vec<CurrencyTotals>,
    /// All currencies in the reporting currency, when every rate is set.
    pub converted: Option<CurrencyTotals>,
    pub reporting: ReportingSettings,
    /// Currencies with usage but no rate to the reporting currency.
    pub missing_rates: Vec<String>,
    /// The last 60 days, per currency.
    pub daily: Vec<DailyPoint>,
    pub top_customers: Vec<Ranked>,
    pub top_services: Vec<Ranked>,
    pub budget_alerts: Vec<BudgetAlert>,
    pub anomalies: Vec<CustomerAnomaly>,
    /// Customers whose margin fell against last month, like for like.
    pub margin_falls: Vec<MarginFall>,
    pub customers: usize,
    /// What the last sync could not read: the figures of these customers
    /// (or of every customer billed through a feed) are incomplete.
    #[serde(default)]
    pub incomplete: Vec<SyncProblem>,
    /// No sync has finished yet: anomalies and margin falls, which compare
    /// with past months still being read, are held back until one has.
    #[serde(default)]
    pub history_pending: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarginFall {
    pub customer_id: String,
    pub name: String,
    /// Margin this month to date and last month to the same day, in basis points of price.
    pub now: i64,
    pub before: i64,
}

pub use crate::rates::{ExchangeRate, ReportingSettings};

/// `PUT /api/customers/{id}/budget`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BudgetUpdate {
    /// Decimal text in the customer's currency (`"1500"`, `"99.50"`); null removes the budget.
    /// Required: a body without it is refused rather than read as "remove".
    #[serde(deserialize_with = "required_nullable")]
    pub amount: Option<String>,
    /// Percents of the budget that alert (e.g. 50, 80, 100).
    #[serde(default)]
    pub thresholds: Option<Vec<u32>>,
}

/// `PUT /api/customers/{id}/markup` (and `/api/markup` for the default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MarkupUpdate {
    pub basis: MarkupBasis,
    /// Decimal percent text, `"12.5"`; may be negative.
    pub percent: String,
}

/// One line item as `GET /api/line-items` pages them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItemPage {
    pub items: Vec<LineItemRow>,
    pub offset: usize,
    pub limit: usize,
    /// Present when more items follow.
    pub next_offset: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItemRow {
    #[serde(flatten)]
    pub line: LineItem,
    pub customer_price: i64,
    pub list_cost: i64,
}

/// How far a sync has come: counters the proxy updates as it goes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncCounts {
    pub customers_done: usize,
    pub customers_total: Option<usize>,
    pub line_items: usize,
    pub feeds_done: usize,
    pub feeds_total: Option<usize>,
    pub errors: usize,
}

/// What a sync could not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SyncProblemKind {
    /// The list of customers.
    Customers,
    /// One customer, or one of its details (subscriptions, budget).
    Customer,
    /// The list of invoices (billed usage comes per invoice).
    Invoices,
    /// A usage feed: a period's unbilled usage or an invoice's billed usage.
    Feed,
    /// One line of a feed.
    LineItem,
}

/// Something a sync could not read, and what that costs: only this item,
/// the rest was read and kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncProblem {
    pub kind: SyncProblemKind,
    /// The customer (its ID) or the feed (`unbilled:current:USD`,
    /// `invoice:G000123`) it concerns.
    #[serde(default)]
    pub subject: Option<String>,
    /// The customer's name, where the customer is known.
    #[serde(default)]
    pub name: Option<String>,
    /// The upstream call: `GET /v1/customers/{id}/subscriptions`.
    pub call: String,
    pub reason: String,
    /// Tried more than once before giving up (throttled, unavailable).
    pub retried: bool,
    /// The next sync reads it again.
    pub next_sync: bool,
    /// What the app can say of it in the reader's language, where the reason
    /// is one it knows (MFA missing); otherwise `reason` is all there is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<ErrorCode>,
}

/// `GET /api/sync` and each event of `GET /api/sync/events`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncProgress {
    pub run_id: Option<i64>,
    pub kind: SyncKind,
    pub status: SyncStatus,
    pub phase: SyncPhase,
    #[serde(flatten)]
    pub counts: SyncCounts,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// An estimate while running.
    pub seconds_left: Option<u64>,
    /// Why the sync failed, or what it could not read (`problems`), in a sentence.
    pub error: Option<String>,
    /// What could not be read, item by item (the first 200).
    #[serde(default)]
    pub problems: Vec<SyncProblem>,
}

/// `GET /api/customers/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerDetail {
    pub summary: CustomerSummary,
    pub azure_subscriptions: Vec<AzureSubscription>,
    pub as_of: Option<NaiveDate>,
    /// Partner Center's own estimate of the open period (its usage summary),
    /// in millionths of the currency beside it, where Partner Center gives one.
    pub partner_center_estimate: Option<(i64, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureSubscription {
    pub id: String,
    pub name: String,
    pub status: String,
}

/// `GET /api/session`: who is signed in, for which partner, and its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    pub user_name: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub can_manage: bool,
    /// Why this user may not manage the connection, naming the roles needed.
    pub roles_message: Option<String>,
    pub tenant_id: String,
    pub partner_name: Option<String>,
    pub connected: bool,
    pub trial: Option<TrialInfo>,
    /// Set for a customer's user: the one customer this session shows.
    #[serde(default)]
    pub customer: Option<SessionCustomer>,
    /// The last UTC day with usage: every view's "this month" and presets
    /// count from it. None before the first usage arrives.
    #[serde(default)]
    pub as_of: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionCustomer {
    pub id: String,
    pub name: String,
}

/// `GET /api/my`: a customer's own figures, at the customer's price (the
/// partner's markup applied). Partner cost and margin are never in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnCosts {
    pub id: String,
    pub name: String,
    pub domain: String,
    /// The Microsoft partner that bills this customer.
    pub partner_name: Option<String>,
    /// None until the customer has usage.
    pub currency: Option<String>,
    /// Millionths of the currency, at the customer's price.
    pub month_to_date: i64,
    pub last_month: i64,
    pub forecast: i64,
    pub as_of: Option<NaiveDate>,
    pub azure_subscriptions: Vec<AzureSubscription>,
}

/// A customer's user let in to that customer's own costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerUser {
    pub user_name: String,
    pub invited_by: String,
    /// RFC 3339, UTC.
    pub invited_at: String,
}

/// `POST /api/customers/{id}/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomerUserInvite {
    pub user_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrialInfo {
    pub started_at: String,
    pub ends_at: String,
    pub days_left: i64,
    pub ended: bool,
    /// A subscription is active: the trial no longer limits anything.
    pub activated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub object_id: String,
    pub app_id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyInfo {
    pub key_id: String,
    pub name: String,
    pub created_at: String,
    pub expires_at: String,
    /// Expires within 30 days.
    pub expiring_soon: bool,
    pub expired: bool,
}

/// `GET /api/onboarding`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OnboardingState {
    pub step: Step,
    pub session: SessionInfo,
    /// The web app chosen in step 3.
    pub app: Option<AppInfo>,
    /// Apps registered before in the partner's directory (the "reuse" choice).
    pub existing_apps: Vec<AppInfo>,
    /// The chosen app's keys: dates only, never values.
    pub keys: Vec<KeyInfo>,
    /// Partner Center's App management page, for the one portal step.
    pub app_management_url: String,
    /// Where the chosen app stands with Graph's billing permission (step 5).
    pub billing: Option<BillingAccess>,
}

/// The chosen app and Graph's billing export: each thing step 5 checks, in
/// the order it does them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingAccess {
    /// `PartnerBilling.Read.All` is in the app's `requiredResourceAccess`.
    pub declared: bool,
    /// The app has a service principal in the partner's tenant.
    pub service_principal: bool,
    /// An admin consented: the permission is assigned to the service principal.
    pub consented: bool,
    /// An app-only token listed the permission and Graph accepted an export.
    pub verified: bool,
    /// Entra's admin-consent address, for an admin who can grant it when
    /// the signed-in one cannot.
    pub consent_url: String,
}

/// `POST /api/onboarding/billing/verify`: the key's value, when the proxy
/// no longer holds the one made in step 4.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyRequest {
    #[serde(default)]
    pub key: Option<String>,
}

/// `POST /api/onboarding/app`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppChoice {
    /// `new` registers a web app; `reuse` takes `appId` registered before.
    pub mode: String,
    #[serde(default)]
    pub app_id: Option<String>,
}

/// `POST /api/onboarding/keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyRequest {
    pub years: u32,
}

/// The one answer that carries a key's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewKey {
    pub key: KeyInfo,
    pub value: String,
}

/// `POST /api/onboarding/trial`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrialRequest {
    pub app_id: String,
    pub key: String,
}

/// A field that must be present but may be null (serde reads a missing
/// `Option` as `None` unless it is deserialized through a function).
fn required_nullable<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}
