//! The own entry's page as elements: the partner's app's shell and `/my`
//! page (app.rs, pages/own.rs) in the same markup, so the same stylesheet,
//! tests and words apply.

use model::api::{ErrorCode, OwnCosts, SessionInfo};
use model::cube::{
    Bucket, CHART_HEIGHT, CHART_PAD, CHART_WIDTH, Cube, Measure, OTHER, PivotQuery, tenths,
};
use model::i18n::Locale;

use super::dom::{El, el, svg};
use super::{BY, Load, Own, by, query};
use crate::api::{self, ApiError};
use crate::app::PRODUCT_NAME;
use crate::i18n::{dim_label, status_label, t};
use crate::{format, host};

/// The whole page: the shell around the customer's figures.
pub fn page(own: &Own) -> Vec<El> {
    let t = t();
    let session = match &own.session {
        Load::Ready(s) => Some(s),
        _ => None,
    };
    let partner = session.is_some_and(|s| s.customer.is_none());
    let own_link = el("a")
        .attr("href", &host::path("/my"))
        .attr("aria-current", "page")
        .text(t.nav_own);
    // The partner's pages are the other entry, offered only to a partner.
    let overview = partner.then(|| {
        el("a")
            .attr("href", &host::path("/"))
            .attr("rel", "external")
            .text(t.nav_overview)
    });
    let header = el("header").class("shell-header").children([
        el("span")
            .class("brand")
            .attr("translate", "no")
            .maybe(
                own.config
                    .logo
                    .as_deref()
                    .map(|src| el("img").class("logo").attr("src", src).attr("alt", "")),
            )
            .text(PRODUCT_NAME),
        el("nav")
            .attr("aria-label", t.nav_label)
            .child(own_link)
            .maybe(overview),
        language_picker(),
        account(&own.session),
    ]);
    let trial_ended = session
        .and_then(|s| s.trial.as_ref())
        .filter(|t| t.ended && !t.activated)
        .map(|trial| {
            el("div")
                .class("banner")
                .attr("role", "alert")
                .text(&(t.trial_ended)(
                    trial.ends_at.get(..10).unwrap_or_default(),
                ))
        });
    let mut page = vec![
        el("a")
            .class("skip-link")
            .attr("href", "#main")
            .text(t.skip_to_content),
        header,
    ];
    page.extend(trial_ended);
    page.extend(sign_in_problem());
    page.push(
        el("main")
            .attr("id", "main")
            .attr("tabindex", "-1")
            .children(gate(own)),
    );
    page.push(
        el("footer").class("shell-footer").children([
            el("span")
                .attr("translate", "no")
                .text(PRODUCT_NAME)
                .text(" ")
                .child(
                    el("span")
                        .class("version")
                        .text(concat!("v", env!("CARGO_PKG_VERSION"))),
                ),
            el("span").text(t.footer_days),
        ]),
    );
    page
}

/// The languages by their own names.
fn language_picker() -> El {
    let now = crate::i18n::current();
    el("label").class("language").children([
        el("span").class("visually-hidden").text(t().language),
        el("select")
            .attr("id", "language")
            .children(Locale::ALL.into_iter().map(|l| {
                el("option")
                    .attr("value", l.tag())
                    .attr("lang", l.tag())
                    .flag("selected", l == now)
                    .text(l.name())
            })),
    ])
}

/// Who is signed in and signing out, or the customer's sign-in.
fn account(session: &Load<SessionInfo>) -> El {
    let t = t();
    let account = el("div").class("account");
    match session {
        Load::Waiting => account,
        Load::Ready(s) => {
            let trial = s
                .trial
                .as_ref()
                .filter(|t| !t.activated && !t.ended)
                .map(|trial| {
                    el("a")
                        .class("trial-chip")
                        .attr("href", &host::path("/onboarding"))
                        .attr("title", t.trial_hint)
                        .text(&(t.trial_days_left)(trial.days_left))
                });
            let whose = s
                .customer
                .as_ref()
                .map(|c| &c.name)
                .or(s.partner_name.as_ref())
                .map(|p| format!(" · {p}"));
            account.maybe(trial).children([
                el("span")
                    .class("who")
                    .attr("translate", "no")
                    .text(&s.display_name)
                    .text(whose.as_deref().unwrap_or_default()),
                el("button")
                    .attr("type", "button")
                    .class("link")
                    .attr("data-do", "sign-out")
                    .text(t.sign_out),
            ])
        }
        Load::Failed(_) => account.child(sign_in_button()),
    }
}

fn sign_in_button() -> El {
    el("a")
        .class("button")
        .attr("rel", "external")
        .attr("href", &api::customer_sign_in_url("/my"))
        .text(t().sign_in)
}

/// That a sign-in did not finish, as the proxy sent the browser back: a
/// fixed sentence and Entra's code only (anyone can write such a link).
fn sign_in_problem() -> Option<El> {
    let t = t();
    let (sentence, why) = match (query("consentError"), query("signInError")) {
        (Some(why), _) => (t.consent_refused, why),
        (None, Some(why)) => (t.sign_in_problem, why),
        (None, None) => return None,
    };
    let code = model::onboarding::entra_code(&why)
        .map(|c| el("span").attr("translate", "no").text(&format!("({c})")));
    let banner = el("div")
        .class("banner")
        .attr("role", "alert")
        .attr("id", "sign-in-error")
        .text(sentence);
    Some(match code {
        Some(code) => banner.text(" ").child(code),
        None => banner,
    })
}

/// What this session may see here: the figures for a customer's user.
fn gate(own: &Own) -> Vec<El> {
    let t = t();
    match &own.session {
        Load::Waiting => vec![loading()],
        Load::Failed(e) if e.code() == Some(ErrorCode::NotSignedIn) => vec![
            el("h1").text(t.own_heading),
            el("div")
                .class("notice-box")
                .children([el("p").text(t.own_sign_in), sign_in_button()]),
        ],
        Load::Ready(s) if s.customer.is_none() => vec![
            el("h1").text(t.own_heading),
            el("p").class("notice").text(t.own_for_customers),
        ],
        _ => match &own.costs {
            Load::Waiting => vec![loading()],
            Load::Failed(e) => vec![el("h1").text(t.own_heading), problem(e, false)],
            Load::Ready(c) => costs(own, c),
        },
    }
}

fn loading() -> El {
    el("p").attr("aria-busy", "true").text(t().loading)
}

/// Why the figures cannot be shown, with the way forward.
fn problem(error: &ApiError, retry: bool) -> El {
    let t = t();
    let box_ = el("div").class("notice-box");
    let button = |href: String, text: &str| el("a").class("button").attr("href", &href).text(text);
    match error.code() {
        Some(ErrorCode::NotSignedIn) => box_.children([
            el("p").text(t.sign_in_to_see),
            button(api::customer_sign_in_url("/my"), t.sign_in).attr("rel", "external"),
        ]),
        Some(ErrorCode::NotConnected) => box_.children([
            el("p").text(t.not_connected),
            button(host::path("/onboarding"), t.set_up_connection),
        ]),
        Some(ErrorCode::PartnerOnly) => box_.children([
            el("p").text(t.partner_only),
            button(host::path("/my"), t.go_to_own),
        ]),
        _ => box_
            .child(
                el("p")
                    .class("error")
                    .attr("role", "alert")
                    .text(&error.to_string()),
            )
            .maybe(retry.then(|| {
                el("button")
                    .attr("type", "button")
                    .attr("data-do", "retry")
                    .text(t.try_again)
            })),
    }
}

/// The customer's figures, its subscriptions and the period's split.
fn costs(own: &Own, c: &OwnCosts) -> Vec<El> {
    let t = t();
    let currency = c.currency.as_deref().unwrap_or("USD");
    let money = |v: i64| format::money(v, currency);
    let subscriptions = c.azure_subscriptions.iter().map(|s| {
        let status = match status_label(&s.status) {
            Some(known) => el("span").class("status").text(known),
            None => el("span")
                .class("status")
                .attr("translate", "no")
                .text(&s.status),
        };
        el("li")
            .child(el("span").attr("translate", "no").text(&s.name))
            .text(" · ")
            .child(status)
    });
    let fact = |term: &str, value: &str, translate: bool| {
        let dd = el("dd").text(value);
        [
            el("dt").text(term),
            if translate {
                dd
            } else {
                dd.attr("translate", "no")
            },
        ]
    };
    let mut facts = el("dl").class("facts");
    for [dt, dd] in [
        fact(
            t.billed_by,
            c.partner_name.as_deref().unwrap_or_default(),
            false,
        ),
        fact(t.currency, currency, false),
        fact(
            t.figures_up_to,
            &format!("{} (UTC)", c.as_of.map(format::day).unwrap_or_default()),
            true,
        ),
    ] {
        facts = facts.child(dt).child(dd);
    }
    let totals = [
        (
            c.as_of
                .map(format::month_to)
                .unwrap_or_else(|| t.this_month.into()),
            money(c.month_to_date),
            Some("mtd"),
        ),
        (
            t.forecast_to_month_end.into(),
            money(c.forecast),
            Some("forecast"),
        ),
        (
            c.as_of
                .map(format::month_before)
                .unwrap_or_else(|| t.last_month.into()),
            money(c.last_month),
            None,
        ),
    ];
    let mut figures = el("dl");
    for (term, amount, class) in totals {
        let dd = el("dd").text(&amount);
        figures = figures.child(el("dt").text(&term)).child(match class {
            Some(class) => dd.class(class),
            None => dd,
        });
    }
    let (from, to) = own.period().unwrap_or_default();
    vec![
        el("h1").attr("translate", "no").text(&c.name),
        el("p").class("summary").text(t.own_intro),
        facts,
        el("div").class("cards").children([
            el("section")
                .class("card totals own")
                .child(el("h2").text(t.your_price))
                .child(figures),
            el("section").class("card").children([
                el("h2").text(t.azure_subscriptions),
                el("ul").class("plain").children(subscriptions),
            ]),
        ]),
        el("div").class("toolbar").children(period_picker(from, to)),
        cube(own),
        el("p").child(
            el("a")
                .attr(
                    "href",
                    &api::own_export_url(&from.to_string(), &to.to_string()),
                )
                .attr("download", "")
                .text(t.own_line_items_csv),
        ),
    ]
}

/// Preset, from and to (the address keeps them).
fn period_picker(from: chrono::NaiveDate, to: chrono::NaiveDate) -> Vec<El> {
    let t = t();
    let preset = query("period").unwrap_or_default();
    let presets = [
        ("", t.this_month),
        ("last-month", t.last_month),
        ("7d", t.last_7_days),
        ("30d", t.last_30_days),
        ("90d", t.last_90_days),
    ];
    let date = |id: &str, day: chrono::NaiveDate| {
        el("input")
            .attr("id", id)
            .attr("type", "date")
            .attr("value", &day.to_string())
    };
    vec![
        el("label").attr("for", "period").text(t.period),
        el("select")
            .attr("id", "period")
            .children(presets.into_iter().map(|(v, l)| {
                el("option")
                    .attr("value", v)
                    .flag("selected", preset == v)
                    .text(l)
            })),
        el("label").attr("for", "from").text(t.from),
        date("from", from),
        el("label").attr("for", "to").text(t.to),
        date("to", to),
    ]
}

/// The period's split as its cube arrives; the last one stays, marked as
/// old, while the next period's is on its way.
fn cube(own: &Own) -> El {
    let loaded = el("div").class(if own.reloading {
        "loaded stale"
    } else {
        "loaded"
    });
    let loaded = match &own.cube {
        Load::Waiting => loaded.child(loading()),
        Load::Failed(e) => loaded.child(problem(e, true)),
        Load::Ready(cube) => loaded.child(breakdown(cube)),
    };
    let reloading = own.reloading.then(|| {
        el("p")
            .class("reloading")
            .attr("aria-busy", "true")
            .attr("role", "status")
            .text(t().loading)
    });
    el("div").maybe(reloading).child(loaded)
}

/// Daily bars and a table of the price by the chosen split.
fn breakdown(cube: &Cube) -> El {
    let t = t();
    let by = by();
    let label = dim_label(&by);
    let daily = cube.pivot(&PivotQuery {
        group_by: vec![by.clone()],
        bucket: Bucket::Day,
        ..Default::default()
    });
    let currency = daily
        .totals
        .first()
        .map(|(c, _)| c.clone())
        .unwrap_or_else(|| "USD".into());
    let stack = daily.stack(Measure::CustomerPrice, &currency, 7);
    let pivot = cube.pivot(&PivotQuery {
        group_by: vec![by.clone()],
        ..Default::default()
    });
    let rows = pivot.rows.iter().map(|r| {
        el("tr").children([
            el("td").attr("translate", "no").text(&r.keys[0]),
            el("td")
                .class("num")
                .text(&format::money(r.total.customer_price, &r.currency)),
        ])
    });
    el("section").class("card").children([
        el("h2").text(t.where_the_cost_comes_from),
        el("div").class("toolbar").children([
            el("label").attr("for", "own-by").text(t.break_down_by),
            el("select")
                .attr("id", "own-by")
                .children(BY.iter().map(|d| {
                    el("option")
                        .attr("value", &d.name())
                        .flag("selected", *d == by)
                        .text(&dim_label(d))
                })),
        ]),
        stacked_bars(&stack, &currency, &(t.daily_price_by)(&label)),
        el("table").class("data breakdown").children([
            el("thead").child(el("tr").children([
                el("th").attr("scope", "col").text(&label),
                el("th").attr("scope", "col").class("num").text(t.price),
            ])),
            el("tbody").children(rows),
        ]),
    ])
}

/// The partner's app's `StackedBars`, from the same layout.
fn stacked_bars(stack: &model::cube::Stack, currency: &str, label: &str) -> El {
    let t = t();
    if stack.buckets.is_empty() || stack.series.is_empty() {
        return el("p").class("notice").text(t.no_usage_yet);
    }
    let bars = stack.bars();
    let format::StackTexts {
        days,
        amounts,
        names,
    } = format::stack_texts(stack, currency);
    let translate = |k: usize| {
        if stack.series[k].label == OTHER {
            "yes"
        } else {
            "no"
        }
    };
    let tick = |x: f64, y: f64, class: &str, text: &str| {
        svg("text")
            .attr("x", &tenths(x))
            .attr("y", &tenths(y))
            .class(class)
            .text(text)
    };
    let rects = bars.segments.iter().map(|g| {
        svg("rect")
            .attr("x", &tenths(g.x))
            .attr("y", &tenths(g.y))
            .attr("width", &tenths(g.width))
            .attr("height", &tenths(g.height))
            .class(&stack.series_class(g.series))
            .child(svg("title").text(&format!(
                "{} · {}: {}",
                days[g.bucket], names[g.series], amounts[g.series][g.bucket]
            )))
    });
    let zero = tenths(bars.zero);
    let chart = svg("svg")
        .attr(
            "viewBox",
            &format!("0 0 {} {}", CHART_WIDTH as u32, CHART_HEIGHT as u32),
        )
        .attr("role", "img")
        .attr("aria-label", label)
        .attr("preserveAspectRatio", "none")
        .child(svg("title").text(label))
        .children(rects)
        .child(
            svg("line")
                .attr("x1", &tenths(CHART_PAD))
                .attr("y1", &zero)
                .attr("x2", &tenths(CHART_WIDTH - CHART_PAD))
                .attr("y2", &zero)
                .class("axis"),
        )
        .children([
            tick(
                CHART_PAD,
                CHART_PAD - 8.0,
                "tick",
                &format::money(bars.top, currency),
            ),
            tick(
                CHART_PAD,
                CHART_HEIGHT - 8.0,
                "tick",
                days.first().map_or("", |d| d),
            ),
            tick(
                CHART_WIDTH - CHART_PAD,
                CHART_HEIGHT - 8.0,
                "tick end",
                days.last().map_or("", |d| d),
            ),
        ]);
    let legend = (0..stack.series.len()).map(|k| {
        el("li").children([
            el("span")
                .class(&format!("swatch {}", stack.series_class(k)))
                .attr("aria-hidden", "true"),
            el("span").attr("translate", translate(k)).text(&names[k]),
        ])
    });
    let heads = (0..stack.series.len()).map(|k| {
        el("th")
            .attr("scope", "col")
            .class("num")
            .attr("translate", translate(k))
            .text(&names[k])
    });
    let rows = stack
        .buckets
        .iter()
        .zip(&days)
        .enumerate()
        .map(|(i, (d, day))| {
            el("tr")
                .attr("data-day", &d.to_string())
                .child(el("th").attr("scope", "row").text(day))
                .children(amounts.iter().map(|a| el("td").class("num").text(&a[i])))
        });
    el("figure")
        .class("chart stacked")
        .attr("data-buckets", &stack.buckets.len().to_string())
        .attr("data-series", &stack.series.len().to_string())
        .children([
            chart,
            el("figcaption").text(label),
            el("ul").class("legend").children(legend),
            el("details").children([
                el("summary").text(t.same_numbers_table),
                el("table").class("data stacked-table").children([
                    el("thead").child(
                        el("tr")
                            .child(el("th").attr("scope", "col").text(t.day))
                            .children(heads),
                    ),
                    el("tbody").children(rows),
                ]),
            ]),
        ])
}
