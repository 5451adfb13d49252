//! Scheduled reports and what a customer's own users hear: the partner's
//! monthly (or weekly) summary, and for each invited user of a customer
//! that customer's costs at its price and its budget crossed at its price.
//! A customer's messages are made from customer prices and the budget
//! only: no partner cost, list cost, credit or margin is in their facts.

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use super::message::{day_name, money, month_name, percent};
use super::{AboutCustomer, Event, Facts};
use crate::api::CustomerSummary;
use crate::i18n::Locale;
use crate::margin::CustomerMargin;
use crate::report::CostPrice;

/// Customers named per currency in a report.
pub const TOP_CUSTOMERS: usize = 5;

/// How often a report is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cadence {
    Month,
    Week,
}

/// The last whole period before `today`: the month before, or the week
/// (Monday to Sunday) before.
pub fn last_period(cadence: Cadence, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    match cadence {
        Cadence::Month => {
            let first = today.with_day(1).unwrap_or(today);
            let to = first - Duration::days(1);
            (to.with_day(1).unwrap_or(to), to)
        }
        Cadence::Week => {
            let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
            (monday - Duration::days(7), monday - Duration::days(1))
        }
    }
}

/// Whether a period's report can be made from lines read up to `as_of`
/// (the last day with usage): usage of the day after the period is in, so
/// its own last day is (Partner Center reads a day's usage up to a day late).
pub fn report_ready(to: NaiveDate, as_of: Option<NaiveDate>) -> bool {
    as_of.is_some_and(|day| day > to)
}

/// The key of a period's partner report: the gate for making it once.
pub fn report_key(cadence: Cadence, from: NaiveDate) -> String {
    match cadence {
        Cadence::Month => format!("report:month:{}", from.format("%Y-%m")),
        Cadence::Week => format!("report:week:{from}"),
    }
}

/// One currency's totals in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrencyTotal {
    pub currency: String,
    pub partner_cost: i64,
    pub customer_price: i64,
    pub customers: u32,
}

/// A customer among the period's largest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopCustomer {
    pub name: String,
    pub currency: String,
    pub partner_cost: i64,
    pub customer_price: i64,
}

/// A customer whose month cost more than its budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OverBudget {
    pub name: String,
    pub currency: String,
    pub budget: i64,
    pub partner_cost: i64,
}

/// A customer's total at its price in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnTotal {
    pub currency: String,
    pub price: i64,
}

/// The partner's report of a period from its margin report (one row per
/// customer and currency) and the customers' budgets. Budgets are compared
/// for a month only: a budget is monthly.
pub fn partner_report(
    cadence: Cadence,
    (from, to): (NaiveDate, NaiveDate),
    margins: &[CustomerMargin],
    customers: &[CustomerSummary],
) -> Event {
    let mut totals: Vec<CurrencyTotal> = Vec::new();
    for m in margins {
        let i = match totals.iter().position(|t| t.currency == m.currency) {
            Some(i) => i,
            None => {
                totals.push(CurrencyTotal {
                    currency: m.currency.clone(),
                    partner_cost: 0,
                    customer_price: 0,
                    customers: 0,
                });
                totals.len() - 1
            }
        };
        totals[i].partner_cost += m.figures.partner_cost;
        totals[i].customer_price += m.figures.customer_price;
        totals[i].customers += 1;
    }
    totals.sort_by(|a, b| a.currency.cmp(&b.currency));
    let mut top = Vec::new();
    for t in &totals {
        let mut of: Vec<&CustomerMargin> = margins
            .iter()
            .filter(|m| m.currency == t.currency)
            .collect();
        of.sort_by(|a, b| {
            b.figures
                .partner_cost
                .cmp(&a.figures.partner_cost)
                .then_with(|| a.customer_name.cmp(&b.customer_name))
        });
        top.extend(of.into_iter().take(TOP_CUSTOMERS).map(|m| TopCustomer {
            name: m.customer_name.clone(),
            currency: m.currency.clone(),
            partner_cost: m.figures.partner_cost,
            customer_price: m.figures.customer_price,
        }));
    }
    let (mut over_budget, mut within_budget) = (Vec::new(), 0u32);
    if cadence == Cadence::Month {
        for c in customers {
            let (Some(budget), Some(currency)) = (c.budget.filter(|b| *b > 0), &c.currency) else {
                continue;
            };
            let cost: i64 = margins
                .iter()
                .filter(|m| m.customer_id == c.id && m.currency == *currency)
                .map(|m| m.figures.partner_cost)
                .sum();
            if cost > budget {
                over_budget.push(OverBudget {
                    name: c.name.clone(),
                    currency: currency.clone(),
                    budget,
                    partner_cost: cost,
                });
            } else {
                within_budget += 1;
            }
        }
        over_budget.sort_by(|a, b| a.name.cmp(&b.name));
    }
    Event {
        key: report_key(cadence, from),
        facts: Facts::Report {
            cadence,
            from,
            to,
            totals,
            top,
            over_budget,
            within_budget,
        },
    }
}

/// A customer's own monthly report, one for each of its invited users.
/// `users` holds (customer ID, user name) pairs.
pub fn customer_reports(
    (from, to): (NaiveDate, NaiveDate),
    margins: &[CustomerMargin],
    users: &[(String, String)],
) -> Vec<Event> {
    let mut events = Vec::new();
    let month = from.format("%Y-%m");
    for (customer_id, user) in users {
        let mine: Vec<&CustomerMargin> = margins
            .iter()
            .filter(|m| m.customer_id == *customer_id)
            .collect();
        let Some(first) = mine.first() else { continue };
        let mut totals: Vec<OwnTotal> = mine
            .iter()
            .map(|m| OwnTotal {
                currency: m.currency.clone(),
                price: m.figures.customer_price,
            })
            .collect();
        totals.sort_by(|a, b| a.currency.cmp(&b.currency));
        events.push(Event {
            key: format!("customer-report:{customer_id}:{month}:{user}"),
            facts: Facts::CustomerReport {
                customer: AboutCustomer {
                    id: customer_id.clone(),
                    name: first.customer_name.clone(),
                    currency: first.currency.clone(),
                },
                user: user.clone(),
                from,
                to,
                totals,
            },
        });
    }
    events
}

/// A customer's budget thresholds crossed by what it pays (its price this
/// month), one event for each of its invited users.
pub fn customer_budget_events(
    customers: &[CustomerSummary],
    users: &[(String, String)],
    as_of: NaiveDate,
) -> Vec<Event> {
    let month = as_of.format("%Y-%m").to_string();
    let mut events = Vec::new();
    for c in customers {
        let (Some(budget), Some(currency)) = (c.budget.filter(|b| *b > 0), &c.currency) else {
            continue;
        };
        let price = c.month_to_date.customer_price;
        let mut thresholds = c.budget_thresholds.clone();
        thresholds.sort_unstable();
        thresholds.dedup();
        for t in thresholds.into_iter().filter(|t| *t > 0) {
            if (price as i128) * 100 < budget as i128 * t as i128 {
                continue;
            }
            for (_, user) in users.iter().filter(|(id, _)| *id == c.id) {
                events.push(Event {
                    key: format!("customer-budget:{}:{month}:{t}:{user}", c.id),
                    facts: Facts::CustomerBudget {
                        customer: AboutCustomer {
                            id: c.id.clone(),
                            name: c.name.clone(),
                            currency: currency.clone(),
                        },
                        user: user.clone(),
                        month: month.clone(),
                        threshold: t,
                        budget,
                        month_to_date: price,
                    },
                });
            }
        }
    }
    events
}

fn period_name(cadence: Cadence, from: NaiveDate, to: NaiveDate, locale: Locale) -> String {
    match (cadence, locale) {
        (Cadence::Month, _) => month_name(&from.format("%Y-%m").to_string(), locale),
        (Cadence::Week, Locale::En) => format!("the week of {}", day_name(from, locale)),
        (Cadence::Week, Locale::ZhTw) => {
            format!(
                "{} 至 {} 這一週",
                day_name(from, locale),
                day_name(to, locale)
            )
        }
    }
}

/// A report's title and text (several lines).
pub(super) fn say_report(facts: &Facts, locale: Locale) -> (String, String) {
    use Locale::{En, ZhTw};
    match facts {
        Facts::Report {
            cadence,
            from,
            to,
            totals,
            top,
            over_budget,
            within_budget,
        } => {
            let period = period_name(*cadence, *from, *to, locale);
            let title = match locale {
                En => format!("CSP Costs report for {period}"),
                ZhTw => format!("CSP Costs {period}報告"),
            };
            let mut lines = Vec::new();
            lines.push(match locale {
                En => format!("Totals for {period}:"),
                ZhTw => format!("{period}總計："),
            });
            if totals.is_empty() {
                lines.push(match locale {
                    En => "No usage was read for this period.".to_string(),
                    ZhTw => "此期間未讀取到用量。".to_string(),
                });
            }
            for t in totals {
                let cp = CostPrice {
                    partner_cost: t.partner_cost,
                    customer_price: t.customer_price,
                };
                let margin = cp
                    .margin_basis_points()
                    .map(percent)
                    .unwrap_or_else(|| "–".into());
                let (cost, price) = (
                    money(t.partner_cost, &t.currency, locale),
                    money(t.customer_price, &t.currency, locale),
                );
                lines.push(match locale {
                    En => format!(
                        "- {}: partner cost {cost}, customer price {price}, margin {margin} ({} {})",
                        t.currency,
                        t.customers,
                        if t.customers == 1 { "customer" } else { "customers" }
                    ),
                    ZhTw => format!(
                        "- {}：合作夥伴成本 {cost}，客戶價格 {price}，毛利 {margin}（{} 位客戶）",
                        t.currency, t.customers
                    ),
                });
            }
            if !top.is_empty() {
                lines.push(String::new());
                lines.push(match locale {
                    En => "Top customers by partner cost:".to_string(),
                    ZhTw => "合作夥伴成本最高的客戶：".to_string(),
                });
                for c in top {
                    let (cost, price) = (
                        money(c.partner_cost, &c.currency, locale),
                        money(c.customer_price, &c.currency, locale),
                    );
                    lines.push(match locale {
                        En => format!("- {}: {cost} (price {price})", c.name),
                        ZhTw => format!("- {}：{cost}（價格 {price}）", c.name),
                    });
                }
            }
            if *cadence == Cadence::Month {
                lines.push(String::new());
                lines.push(match (locale, over_budget.len()) {
                    (En, 0) => format!("Budgets: no customer went over ({within_budget} within)."),
                    (En, n) => format!("Budgets: {n} over, {within_budget} within. Over budget:"),
                    (ZhTw, 0) => format!("預算：沒有客戶超出（{within_budget} 位在預算內）。"),
                    (ZhTw, n) => {
                        format!("預算：{n} 位超出，{within_budget} 位在預算內。超出預算：")
                    }
                });
                for o in over_budget {
                    let (cost, budget) = (
                        money(o.partner_cost, &o.currency, locale),
                        money(o.budget, &o.currency, locale),
                    );
                    lines.push(match locale {
                        En => format!("- {}: {cost} of a {budget} budget", o.name),
                        ZhTw => format!("- {}：{cost}，預算 {budget}", o.name),
                    });
                }
            }
            (title, lines.join("\n"))
        }
        Facts::CustomerReport {
            customer,
            from,
            totals,
            ..
        } => {
            let m = month_name(&from.format("%Y-%m").to_string(), locale);
            let amounts: Vec<String> = totals
                .iter()
                .map(|t| money(t.price, &t.currency, locale))
                .collect();
            let (list, none) = (amounts.join(", "), amounts.is_empty());
            match locale {
                En => (
                    format!("Your Azure costs for {m}"),
                    if none {
                        format!("{} had no Azure costs in {m}.", customer.name)
                    } else {
                        format!("{}'s Azure costs for {m} come to {list}.", customer.name)
                    },
                ),
                ZhTw => (
                    format!("您 {m} 的 Azure 費用"),
                    if none {
                        format!("{} {m} 沒有 Azure 費用。", customer.name)
                    } else {
                        format!("{} {m} 的 Azure 費用共計 {list}。", customer.name)
                    },
                ),
            }
        }
        Facts::CustomerBudget {
            customer,
            month,
            threshold,
            budget,
            month_to_date,
            ..
        } => {
            let m = month_name(month, locale);
            let spent = money(*month_to_date, &customer.currency, locale);
            let of = money(*budget, &customer.currency, locale);
            let used = percent((*month_to_date as i128 * 10_000 / (*budget).max(1) as i128) as i64);
            match locale {
                En => (
                    format!("Your Azure costs reached {threshold}% of your {m} budget"),
                    format!(
                        "{}'s Azure costs for {m} so far are {spent}, {used} of its budget of {of}.",
                        customer.name
                    ),
                ),
                ZhTw => (
                    format!("您的 Azure 費用已達 {m} 預算的 {threshold}%"),
                    format!(
                        "{} {m} 至今的 Azure 費用為 {spent}，已用預算 {of} 的 {used}。",
                        customer.name
                    ),
                ),
            }
        }
        // Said by `message::say`.
        _ => (String::new(), String::new()),
    }
}

/// The sentence about a report's line items, added when it is sent: the
/// file attached, or where to download it when it is too large to mail.
pub fn attachment_note(locale: Locale, file: &str, attached: bool, link: &str) -> String {
    match (locale, attached) {
        (Locale::En, true) => format!("The line items are attached: {file}."),
        (Locale::En, false) => {
            format!("The line items are too large to mail; download {file} from {link}.")
        }
        (Locale::ZhTw, true) => format!("明細已附上：{file}。"),
        (Locale::ZhTw, false) => format!("明細過大無法寄送，請從 {link} 下載 {file}。"),
    }
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
