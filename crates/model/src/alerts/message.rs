//! An event as its recipients read it: an e-mail (subject, plain text and
//! HTML) or a webhook's body (a generic JSON one, signed by the proxy, or
//! the shapes that Microsoft Teams' and Slack's incoming webhooks accept),
//! in the recipient's language, amounts written as the app writes them.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Event, Facts};
use crate::i18n::Locale;
use crate::{Amount, Currency};

/// What a webhook's receiver expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WebhookShape {
    /// The event as JSON, signed (`X-Csp-Costs-Signature`).
    Generic,
    /// A Teams workflow's "post to a channel when a webhook request is
    /// received": an Adaptive Card in a message.
    Teams,
    /// A Slack app's incoming webhook: `text` in mrkdwn.
    Slack,
}

/// An e-mail's parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// An event's title and the sentence that says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    pub title: String,
    pub body: String,
}

/// `$1,234.56`, `NT$1,235`, `€0.50`: the currency's own decimals, rounded
/// half away from zero, thousands grouped as both languages group them.
pub fn money(micros: i64, currency: &str, locale: Locale) -> String {
    let digits = Currency::parse(currency).map_or(2, |c| c.minor_digits());
    let plain = Amount::from_micros(micros).to_decimal_string(digits);
    let (sign, plain) = match plain.strip_prefix('-') {
        Some(rest) if rest.chars().any(|c| c.is_ascii_digit() && c != '0') => ("-", rest),
        Some(rest) => ("", rest),
        None => ("", plain.as_str()),
    };
    let (units, fraction) = plain.split_once('.').unwrap_or((plain, ""));
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if !fraction.is_empty() {
        grouped.push('.');
        grouped.push_str(fraction);
    }
    // The symbols the browsers' Intl writes for these languages.
    let symbol = match (currency, locale) {
        ("USD", Locale::En) | ("TWD", Locale::ZhTw) => "$".to_string(),
        ("USD", Locale::ZhTw) => "US$".to_string(),
        ("TWD", Locale::En) => "NT$".to_string(),
        ("EUR", _) => "€".to_string(),
        ("GBP", _) => "£".to_string(),
        ("JPY", Locale::En) => "¥".to_string(),
        ("JPY", Locale::ZhTw) => "￥".to_string(),
        ("AUD", _) => "A$".to_string(),
        ("CAD", _) => "CA$".to_string(),
        ("NZD", _) => "NZ$".to_string(),
        (code, _) => format!("{code}\u{a0}"),
    };
    format!("{sign}{symbol}{grouped}")
}

/// Basis points as the app writes a percent: `81%`, `12.5%`.
pub fn percent(basis_points: i64) -> String {
    let tenths = (basis_points as i128 * 10 + if basis_points < 0 { -50 } else { 50 }) / 100;
    let (units, tenth) = (tenths / 10, (tenths % 10).abs());
    if tenth == 0 {
        format!("{units}%")
    } else if tenths < 0 && units == 0 {
        format!("-0.{tenth}%")
    } else {
        format!("{units}.{tenth}%")
    }
}

pub(super) fn month_name(month: &str, locale: Locale) -> String {
    let Ok(first) = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d") else {
        return month.to_string();
    };
    match locale {
        Locale::En => first.format("%B %Y").to_string(),
        Locale::ZhTw => format!("{}年{}月", first.year(), first.month()),
    }
}

pub(super) fn day_name(day: NaiveDate, locale: Locale) -> String {
    match locale {
        Locale::En => day.format("%b %-d, %Y").to_string(),
        Locale::ZhTw => format!("{}年{}月{}日", day.year(), day.month(), day.day()),
    }
}

/// What the event says, in `locale`.
pub fn say(event: &Event, locale: Locale) -> Said {
    use Locale::{En, ZhTw};
    let (title, body) = match (&event.facts, locale) {
        (
            Facts::BudgetThreshold {
                customer,
                month,
                threshold,
                budget,
                month_to_date,
            },
            _,
        ) => {
            let m = month_name(month, locale);
            let cost = money(*month_to_date, &customer.currency, locale);
            let of = money(*budget, &customer.currency, locale);
            let used = percent((*month_to_date as i128 * 10_000 / (*budget).max(1) as i128) as i64);
            match locale {
                En => (
                    format!("{} reached {threshold}% of its {m} budget", customer.name),
                    format!(
                        "{}'s partner cost for {m} is {cost}, {used} of its budget of {of}.",
                        customer.name
                    ),
                ),
                ZhTw => (
                    format!("{} 已達 {m} 預算的 {threshold}%", customer.name),
                    format!(
                        "{} {m} 的合作夥伴成本為 {cost}，已用預算 {of} 的 {used}。",
                        customer.name
                    ),
                ),
            }
        }
        (
            Facts::BudgetForecast {
                customer,
                month,
                budget,
                forecast,
                ..
            },
            _,
        ) => {
            let m = month_name(month, locale);
            let f = money(*forecast, &customer.currency, locale);
            let of = money(*budget, &customer.currency, locale);
            match locale {
                En => (
                    format!("{} is forecast to exceed its {m} budget", customer.name),
                    format!(
                        "At this pace {}'s partner cost for {m} comes to {f}, over its budget of {of}.",
                        customer.name
                    ),
                ),
                ZhTw => (
                    format!("{} 預估將超出 {m} 預算", customer.name),
                    format!(
                        "照目前用量，{} {m} 的合作夥伴成本預估為 {f}，超出預算 {of}。",
                        customer.name
                    ),
                ),
            }
        }
        (
            Facts::Anomaly {
                customer,
                day,
                cost,
                expected,
            },
            _,
        ) => {
            let d = day_name(*day, locale);
            let c = money(*cost, &customer.currency, locale);
            let e = money(*expected, &customer.currency, locale);
            match locale {
                En => (
                    format!("Unusual cost for {} on {d}", customer.name),
                    format!(
                        "{}'s partner cost on {d} was {c}; a usual day is about {e}.",
                        customer.name
                    ),
                ),
                ZhTw => (
                    format!("{} 於 {d} 的成本異常", customer.name),
                    format!(
                        "{} 於 {d} 的合作夥伴成本為 {c}；平常一天約為 {e}。",
                        customer.name
                    ),
                ),
            }
        }
        (
            Facts::MarginFell {
                customer,
                month,
                margin,
                margin_before,
            },
            _,
        ) => {
            let m = month_name(month, locale);
            let (now, before) = (percent(*margin), percent(*margin_before));
            match locale {
                En => (
                    format!("{}'s margin fell in {m}", customer.name),
                    format!(
                        "Your margin on {} is {now} so far in {m}, against {before} last month.",
                        customer.name
                    ),
                ),
                ZhTw => (
                    format!("{} {m} 的毛利下降", customer.name),
                    format!(
                        "{} {m} 至今的毛利為 {now}，上月為 {before}。",
                        customer.name
                    ),
                ),
            }
        }
        (
            Facts::CreditLost {
                customer,
                month,
                lost,
                lines,
            },
            _,
        ) => {
            let m = month_name(month, locale);
            let l = money(*lost, &customer.currency, locale);
            match locale {
                En => (
                    format!("{} lost partner-earned credit in {m}", customer.name),
                    format!(
                        "{lines} of {}'s lines in {m} earned no partner-earned credit (PEC): {l} at the resources' usual rate.",
                        customer.name
                    ),
                ),
                ZhTw => (
                    format!("{} 於 {m} 失去合作夥伴賺取點數", customer.name),
                    format!(
                        "{} {m} 有 {lines} 筆明細未獲得合作夥伴賺取點數（PEC），依資源平常的費率約為 {l}。",
                        customer.name
                    ),
                ),
            }
        }
        (
            Facts::KeyExpiry {
                key_name,
                expires,
                days,
            },
            _,
        ) => {
            let d = day_name(*expires, locale);
            match (locale, days) {
                (En, 0) => (
                    format!("The app key \u{201c}{key_name}\u{201d} has expired"),
                    format!(
                        "The key expired on {d}: usage is no longer read. Create a new key in Connection and switch to it."
                    ),
                ),
                (En, _) => (
                    format!(
                        "The app key \u{201c}{key_name}\u{201d} expires in {days} {}",
                        if *days == 1 { "day" } else { "days" }
                    ),
                    format!(
                        "The key expires on {d}; from then usage is no longer read. Create a new key in Connection and switch to it before then."
                    ),
                ),
                (ZhTw, 0) => (
                    format!("應用程式金鑰「{key_name}」已過期"),
                    format!("金鑰已於 {d} 過期，用量已停止讀取。請在「連線」建立新金鑰並切換。"),
                ),
                (ZhTw, _) => (
                    format!("應用程式金鑰「{key_name}」將於 {days} 天後過期"),
                    format!(
                        "金鑰將於 {d} 過期，之後將無法讀取用量。請在此之前於「連線」建立新金鑰並切換。"
                    ),
                ),
            }
        }
        (
            Facts::SyncFailing {
                since,
                hours,
                reason,
            },
            _,
        ) => {
            let d = since.format("%Y-%m-%d %H:%M UTC");
            match locale {
                En => (
                    format!("Usage has not been read for {hours} hours"),
                    format!("Every sync since {d} failed. The last one: {reason}"),
                ),
                ZhTw => (
                    format!("已有 {hours} 小時未讀取用量"),
                    format!("自 {d} 起每次同步皆失敗。最近一次：{reason}"),
                ),
            }
        }
        (
            Facts::SyncRecovered {
                failed_since,
                recovered_at,
            },
            _,
        ) => {
            let (f, r) = (
                failed_since.format("%Y-%m-%d %H:%M UTC"),
                recovered_at.format("%Y-%m-%d %H:%M UTC"),
            );
            match locale {
                En => (
                    "Usage is read again".to_string(),
                    format!("The sync failed from {f} and succeeded at {r}."),
                ),
                ZhTw => (
                    "用量已恢復讀取".to_string(),
                    format!("同步自 {f} 起失敗，已於 {r} 成功。"),
                ),
            }
        }
        (Facts::TrialEnding { ends, days }, _) => {
            let d = day_name(*ends, locale);
            match locale {
                En => (
                    format!(
                        "The trial ends in {days} {}",
                        if *days == 1 { "day" } else { "days" }
                    ),
                    format!("The trial ends on {d}. Connect your own app to keep reading usage."),
                ),
                ZhTw => (
                    format!("試用將於 {days} 天後結束"),
                    format!("試用將於 {d} 結束。請連線您自己的應用程式以繼續讀取用量。"),
                ),
            }
        }
        (
            f
            @ (Facts::Report { .. } | Facts::CustomerReport { .. } | Facts::CustomerBudget { .. }),
            _,
        ) => super::reports::say_report(f, locale),
        (Facts::Test { asked_by }, _) => match locale {
            En => (
                "A test message from CSP Costs".to_string(),
                format!("{asked_by} sent this to try an alert rule. Nothing needs doing."),
            ),
            ZhTw => (
                "CSP Costs 的測試訊息".to_string(),
                format!("{asked_by} 寄出此訊息以測試警示規則，無須處理。"),
            ),
        },
    };
    Said { title, body }
}

pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The line every message ends with: where to see more.
fn open_in(app_url: &str, locale: Locale) -> String {
    match locale {
        Locale::En => format!("Open CSP Costs: {app_url}"),
        Locale::ZhTw => format!("開啟 CSP Costs：{app_url}"),
    }
}

/// A message's text as HTML: a paragraph a line, and the lines that start
/// with `- ` (a report's figures) as a list.
fn html_body(body: &str) -> String {
    let mut out = String::new();
    let mut list = false;
    for line in body.lines().filter(|l| !l.trim().is_empty()) {
        match (line.strip_prefix("- "), list) {
            (Some(item), _) => {
                if !list {
                    out.push_str("<ul>\n");
                    list = true;
                }
                out.push_str(&format!("<li>{}</li>\n", escape_html(item)));
            }
            (None, open) => {
                if open {
                    out.push_str("</ul>\n");
                    list = false;
                }
                out.push_str(&format!("<p>{}</p>\n", escape_html(line)));
            }
        }
    }
    if list {
        out.push_str("</ul>\n");
    }
    out
}

/// The event as an e-mail.
pub fn mail(event: &Event, locale: Locale, app_url: &str) -> Mail {
    let said = say(event, locale);
    let text = format!("{}\n\n{}\n", said.body, open_in(app_url, locale));
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><body>\n<h1 style=\"font-size:18px\">{}</h1>\n{}<p><a href=\"{}\">CSP Costs</a></p>\n</body></html>\n",
        locale.tag(),
        escape_html(&said.title),
        html_body(&said.body),
        escape_html(app_url)
    );
    Mail {
        subject: said.title,
        text,
        html,
    }
}

/// The event as a webhook's body.
pub fn webhook_body(event: &Event, shape: WebhookShape, locale: Locale, app_url: &str) -> Value {
    let said = say(event, locale);
    match shape {
        WebhookShape::Generic => json!({
            "event": event.kind().name(),
            "key": event.key,
            "title": said.title,
            "text": said.body,
            "facts": event.facts,
            "link": app_url,
        }),
        WebhookShape::Teams => {
            // A block a line: a card's text does not keep single line breaks.
            let mut blocks = vec![
                json!({"type": "TextBlock", "text": said.title, "weight": "Bolder", "size": "Medium", "wrap": true}),
            ];
            blocks.extend(said.body.lines().filter(|l| !l.trim().is_empty()).map(
                |line| json!({"type": "TextBlock", "text": line, "wrap": true, "spacing": "None"}),
            ));
            json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": blocks,
                    "actions": [{"type": "Action.OpenUrl", "title": "CSP Costs", "url": app_url}]
                }
            }]
            })
        }
        WebhookShape::Slack => {
            // mrkdwn treats these three as markup.
            let plain = |t: &str| {
                t.replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
            };
            json!({
                "text": format!("*{}*\n{}\n<{}|CSP Costs>", plain(&said.title), plain(&said.body), app_url),
            })
        }
    }
}
