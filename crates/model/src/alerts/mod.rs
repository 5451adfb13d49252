//! Alerts: what a partner must not miss, found in what the store holds, each
//! occurrence once. An event's `key` names its occurrence (a customer's
//! 80 % threshold of November, the app key's 7-day mark): the proxy records
//! keys and never sends one twice, across restarts too. Pure: the proxy
//! gathers the facts, these functions say which events they make.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::api::CustomerSummary;
use crate::report::BudgetState;

pub mod message;
pub mod reports;
pub mod rules;

pub use reports::{Cadence, CurrencyTotal, OverBudget, OwnTotal, TopCustomer};

/// The kinds of event a rule can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// A customer's partner cost this month crossed one of its thresholds.
    BudgetThreshold,
    /// The forecast to month end is over the customer's budget.
    BudgetForecast,
    /// A day of a customer's usage far from its usual.
    Anomaly,
    /// A customer's margin fell against last month.
    MarginFell,
    /// Lines of a customer's this month earned no partner-earned credit.
    CreditLost,
    /// The app key expires within 30, 7 or 1 days, or has expired.
    KeyExpiry,
    /// The sync has failed for longer than the setting.
    SyncFailing,
    /// The sync works again after failing that long.
    SyncRecovered,
    /// The trial ends within 7 or 1 days.
    TrialEnding,
    /// The partner's report of last month, with its line items.
    MonthlyReport,
    /// The partner's report of last week, with its line items.
    WeeklyReport,
    /// To a customer's users: its costs at its price crossed a threshold
    /// of its budget.
    CustomerBudget,
    /// To a customer's users: last month's costs at its price, with its
    /// line items.
    CustomerReport,
    /// A message asked for from Settings, to try a rule.
    Test,
}

impl EventKind {
    /// The kinds a rule can choose (not `Test`).
    pub const CHOSEN: [EventKind; 13] = [
        EventKind::BudgetThreshold,
        EventKind::BudgetForecast,
        EventKind::Anomaly,
        EventKind::MarginFell,
        EventKind::CreditLost,
        EventKind::KeyExpiry,
        EventKind::SyncFailing,
        EventKind::SyncRecovered,
        EventKind::TrialEnding,
        EventKind::MonthlyReport,
        EventKind::WeeklyReport,
        EventKind::CustomerBudget,
        EventKind::CustomerReport,
    ];

    /// Whether the event is about one customer (a rule may be for one).
    pub fn of_customer(self) -> bool {
        matches!(
            self,
            EventKind::BudgetThreshold
                | EventKind::BudgetForecast
                | EventKind::Anomaly
                | EventKind::MarginFell
                | EventKind::CreditLost
                | EventKind::CustomerBudget
                | EventKind::CustomerReport
        )
    }

    /// Whether the event is sent to a customer's own users (and only to them).
    pub fn to_customer_users(self) -> bool {
        matches!(self, EventKind::CustomerBudget | EventKind::CustomerReport)
    }

    /// Whether the event's e-mail carries line items as CSV.
    pub fn with_line_items(self) -> bool {
        matches!(
            self,
            EventKind::MonthlyReport | EventKind::WeeklyReport | EventKind::CustomerReport
        )
    }

    /// The name used in the API and the store (`budget-threshold`).
    pub fn name(self) -> &'static str {
        match self {
            EventKind::BudgetThreshold => "budget-threshold",
            EventKind::BudgetForecast => "budget-forecast",
            EventKind::Anomaly => "anomaly",
            EventKind::MarginFell => "margin-fell",
            EventKind::CreditLost => "credit-lost",
            EventKind::KeyExpiry => "key-expiry",
            EventKind::SyncFailing => "sync-failing",
            EventKind::SyncRecovered => "sync-recovered",
            EventKind::TrialEnding => "trial-ending",
            EventKind::MonthlyReport => "monthly-report",
            EventKind::WeeklyReport => "weekly-report",
            EventKind::CustomerBudget => "customer-budget",
            EventKind::CustomerReport => "customer-report",
            EventKind::Test => "test",
        }
    }

    pub fn parse(name: &str) -> Option<EventKind> {
        EventKind::CHOSEN
            .into_iter()
            .chain([EventKind::Test])
            .find(|k| k.name() == name)
    }
}

/// The customer an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AboutCustomer {
    pub id: String,
    pub name: String,
    pub currency: String,
}

/// What happened, with the figures a message states. Money in millionths
/// of the customer's currency; margins in basis points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Facts {
    #[serde(rename_all = "camelCase")]
    BudgetThreshold {
        customer: AboutCustomer,
        month: String,
        threshold: u32,
        budget: i64,
        month_to_date: i64,
    },
    #[serde(rename_all = "camelCase")]
    BudgetForecast {
        customer: AboutCustomer,
        month: String,
        budget: i64,
        month_to_date: i64,
        forecast: i64,
    },
    #[serde(rename_all = "camelCase")]
    Anomaly {
        customer: AboutCustomer,
        day: NaiveDate,
        cost: i64,
        expected: i64,
    },
    #[serde(rename_all = "camelCase")]
    MarginFell {
        customer: AboutCustomer,
        month: String,
        margin: i64,
        margin_before: i64,
    },
    #[serde(rename_all = "camelCase")]
    CreditLost {
        customer: AboutCustomer,
        month: String,
        /// The credit the lines would have earned at their usual rate.
        lost: i64,
        lines: u32,
    },
    #[serde(rename_all = "camelCase")]
    KeyExpiry {
        key_name: String,
        expires: NaiveDate,
        /// 30, 7 or 1; 0 once expired.
        days: i64,
    },
    #[serde(rename_all = "camelCase")]
    SyncFailing {
        since: DateTime<Utc>,
        hours: i64,
        reason: String,
    },
    #[serde(rename_all = "camelCase")]
    SyncRecovered {
        failed_since: DateTime<Utc>,
        recovered_at: DateTime<Utc>,
    },
    #[serde(rename_all = "camelCase")]
    TrialEnding { ends: NaiveDate, days: i64 },
    /// The partner's report of a period.
    #[serde(rename_all = "camelCase")]
    Report {
        cadence: Cadence,
        from: NaiveDate,
        to: NaiveDate,
        /// One per currency.
        totals: Vec<CurrencyTotal>,
        /// The largest customers of each currency by partner cost.
        top: Vec<TopCustomer>,
        /// A month's customers over their budget.
        over_budget: Vec<OverBudget>,
        within_budget: u32,
    },
    /// To one user of a customer: its month's costs at its price.
    #[serde(rename_all = "camelCase")]
    CustomerReport {
        customer: AboutCustomer,
        user: String,
        from: NaiveDate,
        to: NaiveDate,
        totals: Vec<OwnTotal>,
    },
    /// To one user of a customer: its price this month crossed a threshold.
    #[serde(rename_all = "camelCase")]
    CustomerBudget {
        customer: AboutCustomer,
        user: String,
        month: String,
        threshold: u32,
        budget: i64,
        /// At the customer's price.
        month_to_date: i64,
    },
    #[serde(rename_all = "camelCase")]
    Test { asked_by: String },
}

/// One occurrence of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// The occurrence's name: the same occurrence found again has the same key.
    pub key: String,
    pub facts: Facts,
}

impl Event {
    pub fn kind(&self) -> EventKind {
        match self.facts {
            Facts::BudgetThreshold { .. } => EventKind::BudgetThreshold,
            Facts::BudgetForecast { .. } => EventKind::BudgetForecast,
            Facts::Anomaly { .. } => EventKind::Anomaly,
            Facts::MarginFell { .. } => EventKind::MarginFell,
            Facts::CreditLost { .. } => EventKind::CreditLost,
            Facts::KeyExpiry { .. } => EventKind::KeyExpiry,
            Facts::SyncFailing { .. } => EventKind::SyncFailing,
            Facts::SyncRecovered { .. } => EventKind::SyncRecovered,
            Facts::TrialEnding { .. } => EventKind::TrialEnding,
            Facts::Report {
                cadence: Cadence::Month,
                ..
            } => EventKind::MonthlyReport,
            Facts::Report {
                cadence: Cadence::Week,
                ..
            } => EventKind::WeeklyReport,
            Facts::CustomerReport { .. } => EventKind::CustomerReport,
            Facts::CustomerBudget { .. } => EventKind::CustomerBudget,
            Facts::Test { .. } => EventKind::Test,
        }
    }

    pub fn customer(&self) -> Option<&AboutCustomer> {
        match &self.facts {
            Facts::BudgetThreshold { customer, .. }
            | Facts::BudgetForecast { customer, .. }
            | Facts::Anomaly { customer, .. }
            | Facts::MarginFell { customer, .. }
            | Facts::CreditLost { customer, .. }
            | Facts::CustomerReport { customer, .. }
            | Facts::CustomerBudget { customer, .. } => Some(customer),
            _ => None,
        }
    }

    /// The customer's user a customer's event is for.
    pub fn customer_user(&self) -> Option<&str> {
        match &self.facts {
            Facts::CustomerReport { user, .. } | Facts::CustomerBudget { user, .. } => Some(user),
            _ => None,
        }
    }
}

fn about(c: &CustomerSummary) -> Option<AboutCustomer> {
    Some(AboutCustomer {
        id: c.id.clone(),
        name: c.name.clone(),
        currency: c.currency.clone()?,
    })
}

/// The customers' events of the month of `as_of` (the last day with data):
/// thresholds crossed, forecasts over budget, anomalous days, margins fallen.
pub fn customer_events(customers: &[CustomerSummary], as_of: NaiveDate) -> Vec<Event> {
    let month = as_of.format("%Y-%m").to_string();
    let mut events = Vec::new();
    for c in customers {
        let Some(customer) = about(c) else { continue };
        let mtd = c.month_to_date.partner_cost;
        if let Some(budget) = c.budget.filter(|b| *b > 0) {
            let mut thresholds = c.budget_thresholds.clone();
            thresholds.sort_unstable();
            thresholds.dedup();
            for t in thresholds.into_iter().filter(|t| *t > 0) {
                // Exactly: the cost reached t % of the budget.
                if mtd as i128 * 100 >= budget as i128 * t as i128 {
                    events.push(Event {
                        key: format!("budget:{}:{month}:{t}", c.id),
                        facts: Facts::BudgetThreshold {
                            customer: customer.clone(),
                            month: month.clone(),
                            threshold: t,
                            budget,
                            month_to_date: mtd,
                        },
                    });
                }
            }
            if c.budget_state == BudgetState::TrendingOver {
                events.push(Event {
                    key: format!("forecast:{}:{month}", c.id),
                    facts: Facts::BudgetForecast {
                        customer: customer.clone(),
                        month: month.clone(),
                        budget,
                        month_to_date: mtd,
                        forecast: c.forecast.partner_cost,
                    },
                });
            }
        }
        for a in &c.anomalies {
            events.push(Event {
                key: format!("anomaly:{}:{}", c.id, a.day),
                facts: Facts::Anomaly {
                    customer: customer.clone(),
                    day: a.day,
                    cost: a.cost,
                    expected: a.expected,
                },
            });
        }
        if c.margin_fell
            && let (Some(now), Some(before)) = (
                c.month_to_date.margin_basis_points(),
                c.last_month.margin_basis_points(),
            )
        {
            events.push(Event {
                key: format!("margin:{}:{month}", c.id),
                facts: Facts::MarginFell {
                    customer,
                    month: month.clone(),
                    margin: now,
                    margin_before: before,
                },
            });
        }
    }
    events
}

/// Partner-earned credit lost on a customer's lines this month: once a
/// month per customer and currency, when the first such lines are read.
pub fn credit_events(customers: &[crate::margin::CustomerMargin], as_of: NaiveDate) -> Vec<Event> {
    let month = as_of.format("%Y-%m").to_string();
    customers
        .iter()
        .filter(|c| c.figures.lost_lines > 0 && c.figures.pec_lost > 0)
        .map(|c| Event {
            key: format!("credit:{}:{}:{month}", c.customer_id, c.currency),
            facts: Facts::CreditLost {
                customer: AboutCustomer {
                    id: c.customer_id.clone(),
                    name: c.customer_name.clone(),
                    currency: c.currency.clone(),
                },
                month: month.clone(),
                lost: c.figures.pec_lost,
                lines: c.figures.lost_lines,
            },
        })
        .collect()
}

/// Of the events found new in one pass, those worth a message: a customer
/// whose cost crossed 50 %, 80 % and 100 % of its budget since the last pass
/// hears of 100 % only (the others are recorded, never sent later); so
/// does each of its users of their own budget.
pub fn worth_sending(new: &[Event]) -> Vec<&Event> {
    /// Whose crossing it is: kind, customer, user (none for the partner's), month.
    type Whose<'a> = (EventKind, &'a str, &'a str, &'a str);
    fn crossed(e: &Event) -> Option<(Whose<'_>, u32)> {
        match &e.facts {
            Facts::BudgetThreshold {
                customer,
                month,
                threshold,
                ..
            } => Some((
                (e.kind(), customer.id.as_str(), "", month.as_str()),
                *threshold,
            )),
            Facts::CustomerBudget {
                customer,
                user,
                month,
                threshold,
                ..
            } => Some((
                (
                    e.kind(),
                    customer.id.as_str(),
                    user.as_str(),
                    month.as_str(),
                ),
                *threshold,
            )),
            _ => None,
        }
    }
    new.iter()
        .filter(|e| match crossed(e) {
            Some((of, threshold)) => {
                new.iter()
                    .filter_map(crossed)
                    .filter(|(o, _)| *o == of)
                    .map(|(_, t)| t)
                    .max()
                    == Some(threshold)
            }
            None => true,
        })
        .collect()
}

/// An app key the proxy signs in with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInUse {
    pub key_id: String,
    pub name: String,
    pub expires_at: DateTime<Utc>,
}

/// The marks of a key's expiry: the most urgent one reached, only (a key
/// first seen 5 days before it expires is at its 7-day mark; the 30-day
/// one has passed unseen and is not sent late).
pub fn key_events(keys: &[KeyInUse], now: DateTime<Utc>) -> Vec<Event> {
    keys.iter()
        .filter_map(|k| {
            let left = k.expires_at - now;
            let (mark, days) = if left <= Duration::zero() {
                ("expired", 0)
            } else if left <= Duration::days(1) {
                ("1", 1)
            } else if left <= Duration::days(7) {
                ("7", 7)
            } else if left <= Duration::days(30) {
                ("30", 30)
            } else {
                return None;
            };
            Some(Event {
                key: format!("key:{}:{mark}", k.key_id),
                facts: Facts::KeyExpiry {
                    key_name: k.name.clone(),
                    expires: k.expires_at.date_naive(),
                    days,
                },
            })
        })
        .collect()
}

/// A sync run as the alerts see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// Why it failed; `None` when it succeeded.
    pub failure: Option<String>,
}

/// Failing and recovering: a stretch of failed runs that has lasted
/// `longer_than` (from its first run's start to now, or to the success that
/// ended it) is one `SyncFailing`; the success that ended such a stretch is
/// one `SyncRecovered`. `runs` in the order they started.
pub fn sync_events(runs: &[RunOutcome], now: DateTime<Utc>, longer_than: Duration) -> Vec<Event> {
    let mut events = Vec::new();
    let mut failing: Option<(&RunOutcome, &str)> = None;
    let close =
        |since: &RunOutcome, reason: &str, until: DateTime<Utc>, events: &mut Vec<Event>| {
            let lasted = until - since.started_at;
            if lasted >= longer_than {
                events.push(Event {
                    key: format!("sync-failing:{}", since.started_at.timestamp()),
                    facts: Facts::SyncFailing {
                        since: since.started_at,
                        hours: lasted.num_hours(),
                        reason: reason.to_string(),
                    },
                });
                true
            } else {
                false
            }
        };
    for run in runs {
        match (&run.failure, failing) {
            (Some(reason), None) => failing = Some((run, reason)),
            (Some(reason), Some((since, _))) => failing = Some((since, reason)),
            (None, Some((since, reason))) => {
                if close(since, reason, run.finished_at, &mut events) {
                    events.push(Event {
                        key: format!("sync-recovered:{}", since.started_at.timestamp()),
                        facts: Facts::SyncRecovered {
                            failed_since: since.started_at,
                            recovered_at: run.finished_at,
                        },
                    });
                }
                failing = None;
            }
            (None, None) => {}
        }
    }
    if let Some((since, reason)) = failing {
        close(since, reason, now, &mut events);
    }
    events
}

/// The trial's 7-day and 1-day marks (the most urgent reached).
pub fn trial_events(ends: Option<NaiveDate>, today: NaiveDate) -> Vec<Event> {
    let Some(ends) = ends else { return Vec::new() };
    let left = (ends - today).num_days();
    let days = match left {
        ..0 => return Vec::new(),
        0..=1 => 1,
        2..=7 => 7,
        _ => return Vec::new(),
    };
    vec![Event {
        key: format!("trial:{ends}:{days}"),
        facts: Facts::TrialEnding { ends, days },
    }]
}

#[cfg(test)]
mod tests;
