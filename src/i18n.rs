//! The language the app speaks now, picked once per browser. Components read
//! their words once when they render; a change of language renders the app
//! again (see `App`), so no string needs to be a signal.

use std::cell::Cell;

use model::api::ErrorCode;
use model::i18n::{Locale, Text};

thread_local! {
    static CURRENT: Cell<Locale> = const { Cell::new(Locale::En) };
    /// Traditional Chinese, once [`ready`] has its words.
    static ZH_TW: Cell<Option<&'static Text>> = const { Cell::new(None) };
    /// The language last asked for by [`switch`].
    static WANTED: Cell<Option<Locale>> = const { Cell::new(None) };
}

const KEY: &str = "csp-costs.locale";

/// The words of the current language.
pub fn t() -> &'static Text {
    match current() {
        Locale::En => &model::i18n::EN,
        Locale::ZhTw => ZH_TW.with(Cell::get).unwrap_or(&model::i18n::EN),
    }
}

/// Makes `locale`'s words ready, and says which language to speak: in the
/// split build (`--features split`) Traditional Chinese is a wasm file of
/// its own, fetched the first time it is spoken, so that the first load of
/// a person reading English carries no Chinese (issue 23). Should it fail
/// to arrive, English.
pub async fn ready(locale: Locale) -> Locale {
    if spoken(locale) == locale {
        return locale;
    }
    #[cfg(feature = "split")]
    let words = zh_tw_words().await;
    #[cfg(not(feature = "split"))]
    let words = zh_tw_words();
    match words {
        Ok(words) => {
            ZH_TW.with(|w| w.set(Some(words)));
            locale
        }
        Err(_) => Locale::En,
    }
}

/// `locale` if its words are ready, else English (for a page that cannot
/// wait for them).
pub fn spoken(locale: Locale) -> Locale {
    if locale == Locale::En || ZH_TW.with(Cell::get).is_some() {
        locale
    } else {
        Locale::En
    }
}

/// Speaks `locale` as soon as its words are ready (the page renders again
/// in it through `signal`), and remembers it in this browser if `keep`. Of
/// two switches in a row, the later wins, whichever words arrive first.
pub fn switch(signal: leptos::prelude::RwSignal<Locale>, locale: Locale, keep: bool) {
    use leptos::prelude::Set;
    WANTED.with(|w| w.set(Some(locale)));
    leptos::task::spawn_local(async move {
        let spoken = ready(locale).await;
        if WANTED.with(Cell::get) != Some(locale) {
            return;
        }
        if keep && spoken == locale {
            remember(spoken);
        }
        signal.set(spoken);
    });
}

#[cfg_attr(
    feature = "split",
    leptos::wasm_split::wasm_split(zh_tw, wasm_split_path = ::leptos::wasm_split, fallible)
)]
fn zh_tw_words() -> Result<&'static Text, WordsNotLoaded> {
    Ok(&model::i18n::ZH_TW)
}

/// A language's wasm file could not be fetched.
struct WordsNotLoaded;

impl From<leptos::wasm_split::SplitLoaderError> for WordsNotLoaded {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        WordsNotLoaded
    }
}

pub fn current() -> Locale {
    CURRENT.with(Cell::get)
}

/// Speaks `locale` from now on, and says so to the page (`lang`).
pub fn set(locale: Locale) {
    CURRENT.with(|c| c.set(locale));
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("lang", locale.tag());
    }
}

/// At start: the language picked in this browser before, else the first of
/// the browser's languages the app speaks, else English.
pub fn initial() -> Locale {
    remembered().unwrap_or_else(|| {
        let languages: Vec<String> = web_sys::window()
            .map(|w| w.navigator().languages())
            .map(|list| list.iter().filter_map(|v| v.as_string()).collect())
            .unwrap_or_default();
        Locale::negotiate(languages.iter().map(String::as_str))
    })
}

fn remembered() -> Option<Locale> {
    crate::host::stored(KEY).as_deref().and_then(Locale::parse)
}

/// Kept in this browser, for the next visit.
pub fn remember(locale: Locale) {
    crate::host::store(KEY, locale.tag());
}

/// A dimension's name in the current language.
pub fn dim_label(d: &model::cube::Dim) -> String {
    use model::cube::Dim;
    let t = t();
    match d {
        Dim::Customer => t.dim_customer.into(),
        Dim::Subscription => t.dim_subscription.into(),
        Dim::MeterCategory => t.dim_service.into(),
        Dim::MeterSubcategory => t.dim_meter_subcategory.into(),
        Dim::Meter => t.dim_meter.into(),
        Dim::Region => t.dim_region.into(),
        Dim::ResourceGroup => t.dim_resource_group.into(),
        Dim::Resource => t.dim_resource.into(),
        Dim::Tag(key) => (t.dim_tag)(key),
        Dim::Publisher => t.dim_publisher.into(),
        Dim::ChargeType => t.dim_charge_type.into(),
        Dim::Currency => t.dim_currency.into(),
        Dim::Unit => t.dim_unit.into(),
    }
}

/// A customer-list column's heading in the current language.
pub fn column_label(c: model::views::CustomerColumn) -> &'static str {
    use model::views::CustomerColumn;
    let t = t();
    match c {
        CustomerColumn::Name => t.dim_customer,
        CustomerColumn::Currency => t.currency,
        CustomerColumn::MonthToDate => t.partner_cost_mtd,
        CustomerColumn::Price => t.customer_price,
        CustomerColumn::Margin => t.margin,
        CustomerColumn::Forecast => t.forecast,
        CustomerColumn::LastMonth => t.last_month,
        CustomerColumn::BudgetUsed => t.budget_used,
    }
}

/// A group's key as shown: the pivot's own names for "the rest" and "no
/// tag" in the current language, anything else (data) as it is.
pub fn key_label(key: &str) -> String {
    match key {
        model::cube::OTHER => t().other.into(),
        model::cube::UNTAGGED => t().untagged.into(),
        _ => key.into(),
    }
}

/// The sentence for one of the proxy's error codes, in the current language.
pub fn error_text(code: ErrorCode) -> &'static str {
    t().error(code)
}

/// A subscription's status as Partner Center names it, in the current
/// language; a status this app does not know stays as it is (`None`).
pub fn status_label(status: &str) -> Option<&'static str> {
    let t = t();
    match status.to_ascii_lowercase().as_str() {
        "active" => Some(t.status_active),
        "suspended" => Some(t.status_suspended),
        "disabled" => Some(t.status_disabled),
        "deleted" => Some(t.status_deleted),
        "pending" => Some(t.status_pending),
        _ => None,
    }
}
