//! The app's words in each language it speaks: one struct of strings per
//! language, so that a missing translation does not compile, and nothing is
//! parsed or looked up by key at run time. Product and Microsoft names
//! (Partner Center, Azure, CSP) stay as they are in every language.

use crate::onboarding::Role;

/// A language the app speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Locale {
    #[default]
    En,
    /// Traditional Chinese as written in Taiwan.
    ZhTw,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::En, Locale::ZhTw];

    /// The BCP 47 tag, for `lang` and the browser's `Intl`.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::ZhTw => "zh-TW",
        }
    }

    /// The language's name in itself, for the switcher.
    pub fn name(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::ZhTw => "繁體中文",
        }
    }

    /// A tag as browsers and hosts write it; Traditional Chinese in any of
    /// its spellings (`zh-TW`, `zh-Hant`, `zh-HK`), English in any region.
    pub fn parse(tag: &str) -> Option<Locale> {
        let tag = tag.trim().to_ascii_lowercase().replace('_', "-");
        let mut parts = tag.split('-');
        match (parts.next(), parts.next()) {
            (Some("en"), _) => Some(Locale::En),
            (Some("zh"), Some("tw" | "hant" | "hk" | "mo")) => Some(Locale::ZhTw),
            _ => None,
        }
    }

    /// The first of the browser's languages the app speaks; English if none.
    pub fn negotiate<'a>(preferred: impl IntoIterator<Item = &'a str>) -> Locale {
        preferred
            .into_iter()
            .find_map(Locale::parse)
            .unwrap_or_default()
    }

    pub fn text(self) -> &'static Text {
        match self {
            Locale::En => &EN,
            Locale::ZhTw => &ZH_TW,
        }
    }
}

/// Declares `Text` from its fixed words and its made-up sentences, and
/// `Text::words` over the fixed ones (for the check that none is left in
/// English).
macro_rules! text {
    (words { $($word:ident),* $(,)? } made { $($made:ident: $ty:ty),* $(,)? }) => {
        /// Every string of the app, in one language.
        pub struct Text {
            $(pub $word: &'static str,)*
            $(pub $made: $ty,)*
        }

        impl Text {
            /// Every fixed string.
            pub fn words(&self) -> Vec<&'static str> {
                vec![$(self.$word),*]
            }
        }
    };
}

text! {
    words {
        skip_to_content,
        nav_label,
        nav_overview,
        nav_customers,
        nav_explorer,
        nav_budgets,
        nav_margin,
        nav_onboarding,
        nav_settings,
        sign_in,
        sign_out,
        trial_hint,
        footer_days,
        language,
        appearance,
        theme,
        theme_auto,
        theme_light,
        theme_dark,
        could_not_start,
        page_not_found,
        no_page_here,
        page_not_loaded,
        go_to_overview,
        sign_in_to_see,
        not_connected,
        set_up_connection,
        nav_own,
        loading,
        try_again,
        own_heading,
        own_sign_in,
        own_for_customers,
        own_intro,
        billed_by,
        currency,
        figures_up_to,
        your_price,
        this_month,
        forecast_to_month_end,
        last_month,
        azure_subscriptions,
        own_line_items_csv,
        where_the_cost_comes_from,
        break_down_by,
        price,
        customer_access,
        customer_access_hint,
        send_them_this_address,
        nobody_invited,
        remove,
        sign_in_address,
        invite,
        address_invalid,
        address_empty,
        partner_only,
        go_to_own,
        dim_customer,
        dim_subscription,
        dim_service,
        dim_meter_subcategory,
        dim_meter,
        dim_region,
        dim_resource_group,
        dim_resource,
        dim_publisher,
        dim_charge_type,
        dim_currency,
        dim_unit,
        budgets_notice,
        budget,
        month_to_date,
        used,
        forecast,
        state,
        alerts_at,
        over_budget,
        trending_over,
        within_budget,
        no_budget,
        export_csv,
        saved_prices_recomputed,
        default_markup,
        price_and_markup,
        default_markup_notice,
        markup_over,
        list_price,
        partner_cost_lower,
        markup_percent,
        save_markup,
        rates_saved,
        currency_and_rates,
        rates_notice,
        show_totals_in,
        save_rates,
        customer_price,
        partner_cost,
        margin,
        partner_cost_mtd,
        budget_used,
        search,
        name_or_domain,
        loading_customers,
        pages,
        previous,
        next,
        over_flag,
        trending_over_flag,
        domain,
        no_usage_yet,
        same_numbers_table,
        day,
        other,
        untagged,
        period,
        last_7_days,
        last_30_days,
        last_90_days,
        from,
        to,
        name,
        see_them_all,
        no_usage_sync,
        missing_rates_after,
        day_utc,
        top_customers,
        top_services,
        over_or_trending,
        none_over_budget,
        margin_fell,
        margin_fell_notice,
        margin_fell_why,
        none,
        anomalies_this_month,
        anomalies_notice,
        partner_cost_month_to_date,
        change_same_days,
        back_to_customers,
        fell_against_last_month,
        none_set,
        over_budget_lower,
        trending_over_budget_lower,
        within_budget_lower,
        no_budget_set,
        loading_usage,
        line_items_csv,
        focus_csv,
        clear,
        quantity,
        saved_in_partner_center,
        thresholds_invalid,
        monthly_budget,
        budget_notice,
        budget_amount,
        budget_alerts,
        save_budget,
        list_cost,
        cost_explorer,
        loading_line_items,
        summing_again,
        none_option,
        group_by,
        then_by,
        measure,
        chart,
        stacked_bars,
        line_of_total,
        days_as,
        days,
        weeks,
        months,
        totals_only,
        filtered_to,
        filter_to_this,
        show_more_rows,
        total,
        focus_of_period,
        margin_notice,
        customer_colon,
        show_all_customers,
        no_margin_fell,
        by_customer,
        margin_percent,
        before,
        pec_earned,
        pec_lost,
        meters,
        by_meter,
        lost_pec_lines,
        no_line_lost,
        subscription,
        step_before,
        step_sign_in,
        step_register,
        step_add_key,
        step_trial,
        connect_partner_center,
        onboarding_progress,
        done_mark,
        you_need,
        need_user_before,
        or,
        need_user_after,
        need_minutes,
        begin,
        sign_in_come_back,
        sign_in_with_pc,
        copied,
        copy_refused,
        commerce_id,
        app_id,
        key_value,
        commerce_id_notice,
        registered_before,
        reuse_hint,
        register_new,
        keys_caption,
        key,
        created,
        expires,
        actions,
        expired,
        expires_soon,
        key_lasts,
        one_year,
        two_years,
        create_key,
        new_key,
        copy_key_now,
        key_like_password,
        saved_continue,
        continue_on,
        start_free_trial,
        one_step_left,
        app_management,
        choose,
        register_existing_app,
        pick_app_then,
        trial_lasts,
        checking_with_pc,
        you_are_connected,
        subscription_active,
        reading_from_pc,
        role_global_admin,
        role_admin_agent,
        role_billing_admin,
        role_sales_agent,
        no_pc_role,
        key_empty,
        key_invalid,
        err_not_found,
        err_bad_request,
        err_not_connected,
        err_not_signed_in,
        err_forbidden,
        err_trial_ended,
        err_upstream_throttled,
        err_upstream_auth,
        err_upstream_unavailable,
        err_upstream_refused,
        err_internal,
        err_body_too_large,
        err_graph,
        err_sign_in_again,
        err_sign_in_failed,
        err_no_app,
        err_key_wrong,
        err_key_expired,
        err_key_revoked,
        err_app_not_found,
        err_app_not_registered,
        sign_in_problem,
        consent_refused,
        sync_failed_plain,
        step_billing,
        directory_access_why,
        allow_directory,
        billing_why,
        billing_declared,
        billing_principal,
        billing_consented,
        billing_verified,
        grant_billing,
        consent_link_intro,
        consent_link,
        consent_link_after,
        check_billing,
        billing_key_hint,
        check_done,
        check_todo,
        err_no_service_principal,
        err_permission_missing,
        err_consent_needed,
        err_cannot_grant_consent,
        err_mfa_required,
        err_key_needed,
        err_not_invited,
        err_view_closed,
        err_timeout,
        err_network,
        err_decode,
        err_other,
        figures_incomplete,
        figures_incomplete_notice,
        problem_customers,
        problem_invoices,
        problem_feed,
        problem_line_items,
        status_active,
        status_suspended,
        status_disabled,
        status_deleted,
        status_pending,
        revoke,
        no_customer_matches,
        ranked_within_currency,
        register_new_creates,
        revoke_confirm_keep,
        continue_needs_key,
        after_first_sync,
        nav_connection,
        web_app,
        key_in_use,
        key_in_use_unknown,
        key_expiry_warning,
        add_key_and_switch,
        add_key_and_switch_notice,
        create_and_switch,
        keys_need_directory,
        sign_in_directory,
        sync_heading,
        sync_now,
        no_sync_yet,
        in_use,
        focus_of_shown,
        accumulated_cost,
        keys_unlisted,
        saving_waits,
        link,
        share,
        amount_now,
        compare_previous,
        change,
        actual,
        budget_line,
        saved_views,
        save_view,
        view_name,
        no_saved_views,
        view_saved,
        delete,
        rates_of,
        set_several_budgets,
        set_several_notice,
        same_amount,
        percent_of_last_month,
        set_budgets,
        choose_all,
        no_cost_last_month,
        choose_customers_first,
        alerts_heading,
        alerts_notice,
        email_not_set_up,
        event_budget_threshold,
        event_budget_forecast,
        event_anomaly,
        event_margin_fell,
        event_credit_lost,
        event_key_expiry,
        event_sync_failing,
        event_sync_recovered,
        event_trial_ending,
        event_test,
        event_monthly_report,
        event_weekly_report,
        event_customer_budget,
        event_customer_report,
        channel_customer_users,
        customer_users_hint,
        alert_events,
        about_customer,
        all_customers,
        send_by,
        channel_email,
        channel_webhook,
        send_to,
        send_to_hint,
        webhook_format,
        shape_generic,
        shape_teams,
        shape_slack,
        message_language,
        add_rule,
        alert_rules,
        no_rules,
        send_test,
        test_queued,
        rule_added,
        signing_key,
        signing_key_once,
        sync_failing_after,
        save_hours,
        hours_saved,
        delivery_log,
        no_deliveries,
        when_created,
        message_subject,
        delivery_status,
        delivery_sent,
        delivery_pending,
        delivery_failed,
        refresh,
        choose_an_event,
    }
    made {
        trial_days_left: fn(i64) -> String,
        trial_ended: fn(&str) -> String,
        invited: fn(&str) -> String,
        access_removed: fn(&str) -> String,
        daily_price_by: fn(&str) -> String,
        dim_tag: fn(&str) -> String,
        crossed: fn(&str) -> String,
        rate_label: fn(&str, &str) -> String,
        customers_count: fn(usize) -> String,
        page_of: fn(usize, usize) -> String,
        synced_customers: fn(usize) -> String,
        figures_up_to_utc: fn(&str) -> String,
        all_customers_in: fn(&str, &str) -> String,
        customers_billed_in: fn(&str) -> String,
        missing_rates: fn(&str) -> String,
        daily_partner_cost: fn(&str) -> String,
        daily_partner_cost_60: fn(&str) -> String,
        margin_from: fn(&str, &str) -> String,
        anomaly_line: fn(&str, &str, &str) -> String,
        customer_summary: fn(usize, &str) -> String,
        partner_center_estimate: fn(&str, &str) -> String,
        unusual_cost_on: fn(&str) -> String,
        daily_partner_cost_by: fn(&str) -> String,
        line_items_between: fn(&str, &str, &str) -> String,
        summed_by_proxy: fn(&str, &str) -> String,
        rows_shown_of: fn(&str, &str) -> String,
        remove_filter: fn(&str) -> String,
        measure_in_by: fn(&str, &str, &str) -> String,
        measure_in: fn(&str, &str) -> String,
        lost_pec_on: fn(usize, &str) -> String,
        margin_against: fn(&str, &str) -> String,
        meters_of: fn(&str) -> String,
        largest_of_lines: fn(&str, &str) -> String,
        lines_count: fn(&str) -> String,
        step_of: fn(usize) -> String,
        copy_label: fn(&str) -> String,
        reuse_app: fn(&str) -> String,
        expires_on: fn(&str) -> String,
        trial_runs_until: fn(&str, i64) -> String,
        problem_customer: fn(&str) -> String,
        sync_failed: fn(&str) -> String,
        sync_problems: fn(&str) -> String,
        sync_problems_count: fn(usize) -> String,
        sync_counts: fn(&str, &str, &str) -> String,
        about_left: fn(&str) -> String,
        seconds_short: fn(u64) -> String,
        minutes_short: fn(u64) -> String,
        roles_needed: fn(&str) -> String,
        enter_field: fn(&str) -> String,
        must_be_guid: fn(&str) -> String,
        period_compared: fn(&str, &str, &str, &str) -> String,
        month_to: fn(&str, &str) -> String,
        customers_matching: fn(usize, usize) -> String,
        partner_cost_of: fn(&str) -> String,
        revoke_confirm: fn(&str) -> String,
        key_expires_in: fn(&str, i64) -> String,
        last_sync_on: fn(&str) -> String,
        switched_to_new_key: fn(&str) -> String,
        in_currency: fn(&str) -> String,
        rates_used: fn(&str, &str, &str) -> String,
        rates_used_undated: fn(&str, &str) -> String,
        chart_one_currency: fn(&str) -> String,
        forecast_to: fn(&str, &str) -> String,
        previous_between: fn(&str, &str) -> String,
        choose_customer: fn(&str) -> String,
        chosen_count: fn(usize) -> String,
        budgets_set: fn(usize, usize) -> String,
        one_currency_only: fn(&str) -> String,
        not_a_number: fn(&str) -> String,
        attempts_summary: fn(usize, &str) -> String,
    }
}

impl Text {
    /// An alert event's name.
    pub fn event(&self, kind: crate::alerts::EventKind) -> &'static str {
        use crate::alerts::EventKind as K;
        match kind {
            K::BudgetThreshold => self.event_budget_threshold,
            K::BudgetForecast => self.event_budget_forecast,
            K::Anomaly => self.event_anomaly,
            K::MarginFell => self.event_margin_fell,
            K::CreditLost => self.event_credit_lost,
            K::KeyExpiry => self.event_key_expiry,
            K::SyncFailing => self.event_sync_failing,
            K::SyncRecovered => self.event_sync_recovered,
            K::TrialEnding => self.event_trial_ending,
            K::MonthlyReport => self.event_monthly_report,
            K::WeeklyReport => self.event_weekly_report,
            K::CustomerBudget => self.event_customer_budget,
            K::CustomerReport => self.event_customer_report,
            K::Test => self.event_test,
        }
    }

    /// A Partner Center role's name.
    pub fn role(&self, role: Role) -> &'static str {
        match role {
            Role::GlobalAdmin => self.role_global_admin,
            Role::AdminAgent => self.role_admin_agent,
            Role::BillingAdmin => self.role_billing_admin,
            Role::SalesAgent => self.role_sales_agent,
        }
    }

    /// The sentence for one of the proxy's error codes.
    pub fn error(&self, code: crate::api::ErrorCode) -> &'static str {
        let t = self;
        use crate::api::ErrorCode::*;
        match code {
            NotFound => t.err_not_found,
            BadRequest | MethodNotAllowed | UnsupportedMediaType => t.err_bad_request,
            NotConnected => t.err_not_connected,
            NotSignedIn => t.err_not_signed_in,
            Forbidden => t.err_forbidden,
            PartnerOnly => t.partner_only,
            TrialEnded => t.err_trial_ended,
            UpstreamThrottled => t.err_upstream_throttled,
            UpstreamAuthFailed => t.err_upstream_auth,
            UpstreamUnavailable => t.err_upstream_unavailable,
            UpstreamRefused => t.err_upstream_refused,
            StoreError | InternalError => t.err_internal,
            BodyTooLarge => t.err_body_too_large,
            GraphUnavailable | GraphRefused => t.err_graph,
            SignInAgain => t.err_sign_in_again,
            SigninRefused | SigninUnavailable | AppRefused => t.err_sign_in_failed,
            NoApp => t.err_no_app,
            KeyWrong => t.err_key_wrong,
            KeyExpired => t.err_key_expired,
            KeyRevoked => t.err_key_revoked,
            AppNotFound => t.err_app_not_found,
            AppNotRegistered => t.err_app_not_registered,
            NoServicePrincipal => t.err_no_service_principal,
            PermissionMissing => t.err_permission_missing,
            ConsentNeeded => t.err_consent_needed,
            CannotGrantConsent => t.err_cannot_grant_consent,
            MfaRequired => t.err_mfa_required,
            KeyNeeded => t.err_key_needed,
            NotInvited => t.err_not_invited,
            ViewClosed => t.err_view_closed,
            Timeout => t.err_timeout,
            _ => t.err_other,
        }
    }

    /// Why someone with `roles` may not set up the connection.
    pub fn roles_needed_for(&self, roles: &[Role]) -> String {
        let held = if roles.is_empty() {
            self.no_pc_role.to_string()
        } else {
            roles
                .iter()
                .map(|r| self.role(*r))
                .collect::<Vec<_>>()
                .join(", ")
        };
        (self.roles_needed)(&held)
    }
}

/// A heading's words inside an English sentence: lower case, but a name
/// stays a name ("Azure subscription", not "azure subscription"). The
/// headings are the app's own English, so ASCII's case is theirs (and the
/// browser loads no Unicode case tables for it).
pub(super) fn in_sentence(heading: &str) -> String {
    let lower = heading.to_ascii_lowercase();
    lower.replacen("azure", "Azure", 1)
}

/// A label's first word in lower case inside a sentence ("Copy key value"),
/// unless it is an acronym or a name ("ID", "Azure").
pub(super) fn first_lower(label: &str) -> String {
    let mut chars = label.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second))
            if second.is_ascii_lowercase() && !label.starts_with("Azure") =>
        {
            first.to_ascii_lowercase().to_string() + &label[first.len_utf8()..]
        }
        _ => label.to_string(),
    }
}

mod en;
mod zh_tw;

pub use en::EN;
pub use zh_tw::ZH_TW;

#[cfg(test)]
mod tests;
