//! The app's words in each language it speaks: one struct of strings per
//! language, so that a missing translation does not compile, and nothing is
//! parsed or looked up by key at run time. Product and Microsoft names
//! (Partner Center, Azure, CSP) stay as they are in every language.

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
        go_to_overview,
        sign_in_to_see,
        not_connected,
        set_up_connection,
        nav_own,
        loading,
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
    }
    made {
        trial_days_left: fn(i64) -> String,
        trial_ended: fn(&str) -> String,
        invited: fn(&str) -> String,
        access_removed: fn(&str) -> String,
        daily_price_by: fn(&str) -> String,
        dim_tag: fn(&str) -> String,
    }
}

pub static EN: Text = Text {
    skip_to_content: "Skip to content",
    nav_label: "Main",
    nav_overview: "Overview",
    nav_customers: "Customers",
    nav_explorer: "Explorer",
    nav_budgets: "Budgets",
    nav_margin: "Price and margin",
    nav_onboarding: "Onboarding",
    nav_settings: "Settings",
    sign_in: "Sign in",
    sign_out: "Sign out",
    trial_days_left: |days| format!("Trial: {days} days left"),
    trial_hint: "After the trial, the data views pause until the subscription is activated; your data is kept.",
    trial_ended: |day| {
        format!(
            "Your 30-day trial ended on {day}. The cost views are paused until the subscription is activated; \
             your data and settings are kept. Contact the product's operator to activate it."
        )
    },
    footer_days: "Days are UTC days, as Partner Center reports them.",
    language: "Language",
    appearance: "Appearance",
    theme: "Theme",
    theme_auto: "As the system",
    theme_light: "Light",
    theme_dark: "Dark",
    could_not_start: "The app could not start",
    page_not_found: "Page not found",
    no_page_here: "There is no page at this address.",
    go_to_overview: "Go to the overview",
    sign_in_to_see: "Sign in with your Partner Center account to see your customers' costs.",
    not_connected: "Your partner organization is not connected yet.",
    set_up_connection: "Set up the connection",
    nav_own: "Your costs",
    loading: "Loading…",
    own_heading: "Your Azure costs",
    own_sign_in: "Sign in with your work account to see your organization's Azure costs, as your Microsoft partner bills them.",
    own_for_customers: "This page is where a customer's invited people see their own costs. You are signed in for the partner: invite a customer's people from that customer's page.",
    own_intro: "Your Azure usage and what it costs you, at the price your Microsoft partner bills.",
    billed_by: "Billed by",
    currency: "Currency",
    figures_up_to: "Figures up to",
    your_price: "Your price",
    this_month: "This month",
    forecast_to_month_end: "Forecast to month end",
    last_month: "Last month",
    azure_subscriptions: "Azure subscriptions",
    own_line_items_csv: "Your line items (CSV)",
    where_the_cost_comes_from: "Where the cost comes from",
    break_down_by: "Break down by",
    price: "Price",
    customer_access: "Customer's own view",
    customer_access_hint: "People of this customer whom you invite sign in with their own work account and see this customer's costs at its price, never your cost or margin.",
    send_them_this_address: "Send them this address:",
    nobody_invited: "Nobody is invited yet.",
    remove: "Remove",
    sign_in_address: "Sign-in address",
    invite: "Invite",
    address_invalid: "The sign-in address must look like name@company.com, with no spaces.",
    partner_only: "You are signed in as a customer: this page is the partner's. Your own costs are on your page.",
    go_to_own: "Go to your costs",
    dim_customer: "Customer",
    dim_subscription: "Azure subscription",
    dim_service: "Service",
    dim_meter_subcategory: "Meter subcategory",
    dim_meter: "Meter",
    dim_region: "Region",
    dim_resource_group: "Resource group",
    dim_resource: "Resource",
    dim_publisher: "Publisher",
    dim_charge_type: "Charge type",
    dim_currency: "Currency",
    dim_unit: "Unit",
    invited: |user| format!("{user} is invited."),
    access_removed: |user| format!("{user} no longer has access."),
    daily_price_by: |by| format!("Daily price by {}", by.to_lowercase()),
    dim_tag: |key| format!("Tag {key}"),
};

pub static ZH_TW: Text = Text {
    skip_to_content: "跳到主要內容",
    nav_label: "主選單",
    nav_overview: "總覽",
    nav_customers: "客戶",
    nav_explorer: "成本分析",
    nav_budgets: "預算",
    nav_margin: "售價與毛利",
    nav_onboarding: "連線設定",
    nav_settings: "設定",
    sign_in: "登入",
    sign_out: "登出",
    trial_days_left: |days| format!("試用期剩 {days} 天"),
    trial_hint: "試用期結束後，成本檢視會暫停，直到訂閱啟用為止；您的資料會保留。",
    trial_ended: |day| {
        format!(
            "您的 30 天試用期已於 {day} 結束。成本檢視已暫停，直到訂閱啟用為止；\
             您的資料與設定都會保留。請聯絡本產品的管理者以啟用訂閱。"
        )
    },
    footer_days: "日期以 UTC 計，與 Partner Center 的報表一致。",
    language: "語言",
    appearance: "外觀",
    theme: "主題",
    theme_auto: "跟隨系統",
    theme_light: "淺色",
    theme_dark: "深色",
    could_not_start: "應用程式無法啟動",
    page_not_found: "找不到頁面",
    no_page_here: "這個網址沒有頁面。",
    go_to_overview: "前往總覽",
    sign_in_to_see: "請以您的 Partner Center 帳戶登入，以查看客戶的成本。",
    not_connected: "您的合作夥伴組織尚未連線。",
    set_up_connection: "設定連線",
    nav_own: "您的成本",
    loading: "載入中…",
    own_heading: "您的 Azure 成本",
    own_sign_in: "請以您的公司帳戶登入，查看貴組織由 Microsoft 合作夥伴計費的 Azure 成本。",
    own_for_customers: "此頁面供客戶受邀的使用者查看自己的成本。您目前以合作夥伴身分登入：請在該客戶的頁面邀請其使用者。",
    own_intro: "您的 Azure 使用量及其費用，以 Microsoft 合作夥伴向您計費的價格計算。",
    billed_by: "計費夥伴",
    currency: "幣別",
    figures_up_to: "資料截至",
    your_price: "您的價格",
    this_month: "本月",
    forecast_to_month_end: "月底預估",
    last_month: "上個月",
    azure_subscriptions: "Azure 訂用帳戶",
    own_line_items_csv: "您的明細（CSV）",
    where_the_cost_comes_from: "成本來源",
    break_down_by: "細分依據",
    price: "價格",
    customer_access: "客戶自助檢視",
    customer_access_hint: "您邀請的此客戶使用者以自己的公司帳戶登入，只會看到此客戶以其價格計算的成本，絕不會看到您的成本或毛利。",
    send_them_this_address: "請將此網址傳給他們：",
    nobody_invited: "尚未邀請任何人。",
    remove: "移除",
    sign_in_address: "登入帳戶",
    invite: "邀請",
    address_invalid: "登入帳戶的格式須如 name@company.com，且不可有空格。",
    partner_only: "您以客戶身分登入：此頁面屬於合作夥伴。您自己的成本在您的頁面上。",
    go_to_own: "前往您的成本",
    dim_customer: "客戶",
    dim_subscription: "Azure 訂用帳戶",
    dim_service: "服務",
    dim_meter_subcategory: "計量子類別",
    dim_meter: "計量",
    dim_region: "區域",
    dim_resource_group: "資源群組",
    dim_resource: "資源",
    dim_publisher: "發行者",
    dim_charge_type: "費用類型",
    dim_currency: "幣別",
    dim_unit: "單位",
    invited: |user| format!("已邀請 {user}。"),
    access_removed: |user| format!("{user} 已無法存取。"),
    daily_price_by: |by| format!("每日價格（依{by}）"),
    dim_tag: |key| format!("標籤 {key}"),
};

#[cfg(test)]
mod tests {
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

    #[test]
    fn traditional_chinese_has_no_english_left() {
        let t = Locale::ZhTw.text();
        let words = t.words();
        let made = [(t.trial_days_left)(12), (t.trial_ended)("2026-11-30")];
        for text in words.iter().copied().chain(made.iter().map(String::as_str)) {
            let latin: String = text
                .replace("Partner Center", "")
                .replace("UTC", "")
                .chars()
                .filter(|c| c.is_ascii_alphabetic())
                .collect();
            assert!(latin.is_empty(), "English left in {text:?}");
        }
    }
}
