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
    }
    made {
        trial_days_left: fn(i64) -> String,
        trial_ended: fn(&str) -> String,
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
