//! Every word in every language, and the sentences made from them.

use super::*;

#[test]
fn the_browsers_first_language_the_app_speaks_wins() {
    assert_eq!(Locale::negotiate(["zh-TW", "en-US"]), Locale::ZhTw);
    assert_eq!(Locale::negotiate(["zh-Hant-TW"]), Locale::ZhTw);
    assert_eq!(Locale::negotiate(["zh_HK"]), Locale::ZhTw);
    assert_eq!(Locale::negotiate(["fr-FR", "en-GB", "zh-TW"]), Locale::En);
    // Simplified Chinese is not Traditional: English rather than the wrong script.
    assert_eq!(Locale::negotiate(["zh-CN"]), Locale::En);
    assert_eq!(Locale::negotiate(["de"]), Locale::En);
    assert_eq!(Locale::negotiate([]), Locale::En);
    for l in Locale::ALL {
        assert_eq!(Locale::parse(l.tag()), Some(l));
    }
}

/// Names that stay as they are in every language: Microsoft's products
/// and terms, formats and the examples of what to type.
const KEPT: [&str; 15] = [
    "PartnerBilling.Read.All",
    "Entra ID",
    "MFA",
    "Microsoft Graph",
    "Microsoft",
    "Partner Center",
    "Azure",
    "CSP",
    "PEC",
    "FOCUS",
    "CSV",
    "UTC",
    "GUID",
    "Web",
    "0f8fad5b-d9cb-469f-a165-70867728950e",
];

fn english_in(text: &str) -> String {
    let mut rest = text.to_string();
    // Longer names first: `Web` would leave `hook` of `Webhook`.
    for kept in [
        "name@company.com",
        "Ctrl+C",
        "⌘C",
        "Mac",
        "z 分數",
        // Alerts: the formats and headers a receiver is set up with.
        "Webhook",
        "Microsoft Teams",
        "Slack",
        "JSON",
        "HMAC-SHA256",
        "X-Csp-Costs-Signature",
        "PROXY_SMTP_HOST",
        "https://",
    ]
    .iter()
    .chain(KEPT.iter())
    {
        rest = rest.replace(kept, "");
    }
    rest.chars().filter(|c| c.is_ascii_alphabetic()).collect()
}

#[test]
fn each_onboarding_failure_has_its_own_sentence_in_each_language() {
    use crate::api::ErrorCode::*;
    let codes = [
        NoServicePrincipal,
        PermissionMissing,
        ConsentNeeded,
        CannotGrantConsent,
        MfaRequired,
        KeyNeeded,
        SignInAgain,
        KeyWrong,
        KeyExpired,
        KeyRevoked,
        AppNotFound,
        AppNotRegistered,
    ];
    for locale in Locale::ALL {
        let t = locale.text();
        let mut seen = std::collections::HashSet::new();
        for code in codes {
            let sentence = t.error(code);
            assert_ne!(
                sentence, t.err_other,
                "{code} has no sentence in {locale:?}"
            );
            assert!(
                seen.insert(sentence)
                    || matches!(
                        code,
                        KeyWrong | KeyExpired | KeyRevoked | AppNotFound | AppNotRegistered
                    ),
                "{code} shares its sentence in {locale:?}"
            );
        }
    }
    assert!(
        Locale::ZhTw
            .text()
            .error(NoServicePrincipal)
            .contains("服務主體")
    );
    assert!(Locale::ZhTw.text().error(MfaRequired).contains("MFA"));
    assert!(
        Locale::En
            .text()
            .error(CannotGrantConsent)
            .contains("Global admin")
    );
}

#[test]
fn traditional_chinese_has_no_english_left() {
    let t = Locale::ZhTw.text();
    let made = [
        (t.trial_days_left)(1),
        (t.trial_ended)("1"),
        (t.invited)("1"),
        (t.access_removed)("1"),
        (t.daily_price_by)("1"),
        (t.dim_tag)("1"),
        (t.crossed)("1"),
        (t.rate_label)("1", "1"),
        (t.customers_count)(1),
        (t.page_of)(1, 1),
        (t.synced_customers)(1),
        (t.figures_up_to_utc)("1"),
        (t.all_customers_in)("1", "1"),
        (t.customers_billed_in)("1"),
        (t.missing_rates)("1"),
        (t.daily_partner_cost)("1"),
        (t.daily_partner_cost_60)("1"),
        (t.margin_from)("1", "1"),
        (t.anomaly_line)("1", "1", "1"),
        (t.customer_summary)(1, "1"),
        (t.partner_center_estimate)("1", "1"),
        (t.unusual_cost_on)("1"),
        (t.daily_partner_cost_by)("1"),
        (t.line_items_between)("1", "1", "1"),
        (t.summed_by_proxy)("1", "1"),
        (t.rows_shown_of)("1", "1"),
        (t.remove_filter)("1"),
        (t.measure_in_by)("1", "1", "1"),
        (t.measure_in)("1", "1"),
        (t.lost_pec_on)(1, "1"),
        (t.margin_against)("1", "1"),
        (t.meters_of)("1"),
        (t.largest_of_lines)("1", "1"),
        (t.lines_count)("1"),
        (t.step_of)(1),
        (t.copy_label)("1"),
        (t.reuse_app)("1"),
        (t.expires_on)("1"),
        (t.trial_runs_until)("1", 1),
        (t.problem_customer)("1"),
        (t.sync_failed)("1"),
        (t.sync_problems)("1"),
        (t.sync_problems_count)(1),
        (t.sync_counts)("1", "1", "1"),
        (t.about_left)("1"),
        (t.seconds_short)(1),
        (t.minutes_short)(1),
        (t.roles_needed)("1"),
        (t.enter_field)("1"),
        (t.must_be_guid)("1"),
        (t.month_to)("1", "1"),
        (t.customers_matching)(1, 2),
        (t.partner_cost_of)("1"),
        (t.revoke_confirm)("1"),
        (t.key_expires_in)("1", -1),
        (t.key_expires_in)("1", 0),
        (t.key_expires_in)("1", 1),
        (t.key_expires_in)("1", 9),
        (t.last_sync_on)("1"),
        (t.switched_to_new_key)("1"),
        (t.in_currency)("1"),
        (t.rates_used)("1", "1", "1"),
        (t.rates_used_undated)("1", "1"),
        (t.chart_one_currency)("1"),
        (t.forecast_to)("1", "1"),
        (t.previous_between)("1", "1"),
        (t.choose_customer)("1"),
        (t.chosen_count)(1),
        (t.chosen_count)(2),
        (t.budgets_set)(1, 2),
        (t.one_currency_only)("1"),
        (t.not_a_number)("1"),
        (t.attempts_summary)(0, "1"),
        (t.attempts_summary)(4, "1"),
    ];
    for text in t.words().into_iter().chain(made.iter().map(String::as_str)) {
        assert!(english_in(text).is_empty(), "English left in {text:?}");
    }
}

#[test]
fn names_keep_their_capitals_inside_sentences() {
    let en = Locale::En.text();
    assert_eq!(
        (en.daily_price_by)("Azure subscription"),
        "Daily price by Azure subscription"
    );
    assert_eq!(
        (en.daily_partner_cost_by)("Resource group"),
        "Daily partner cost by resource group"
    );
}

#[test]
fn labels_inside_sentences_keep_acronyms_and_counts_agree() {
    let en = Locale::En.text();
    assert_eq!((en.copy_label)("Key value"), "Copy key value");
    assert_eq!(
        (en.copy_label)("Application (client) ID"),
        "Copy application (client) ID"
    );
    assert_eq!((en.copy_label)("ID"), "Copy ID");
    assert_eq!(
        (en.customer_summary)(1, "Dec 1"),
        "1 Azure subscription · figures up to Dec 1 (UTC)"
    );
    assert_eq!(
        (en.customer_summary)(2, "Dec 1"),
        "2 Azure subscriptions · figures up to Dec 1 (UTC)"
    );
}

#[test]
fn every_english_word_is_translated() {
    // A copy-pasted English string in the Chinese table is caught above;
    // an identical one (a symbol, a name) is allowed only if it has no words.
    let (en, zh) = (Locale::En.text().words(), Locale::ZhTw.text().words());
    assert_eq!(en.len(), zh.len());
    for (e, z) in en.iter().zip(&zh) {
        assert!(
            e != z || english_in(e).is_empty(),
            "{e:?} is not translated"
        );
    }
}
