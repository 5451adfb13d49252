//! Browser tests: the app mounted in headless Chromium.
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use model::api::CustomerSummary;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn container() -> web_sys::HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let div = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&div).unwrap();
    div.unchecked_into()
}

/// Waits `ms` milliseconds of the browser's clock.
async fn pause(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

#[wasm_bindgen_test]
async fn the_shell_has_the_product_name_navigation_and_version() {
    let root = container();
    let _app = leptos::mount::mount_to(root.clone(), || view! { <csp_costs::App /> });
    leptos::task::tick().await;

    let brand = root.query_selector(".brand").unwrap().unwrap();
    assert_eq!(brand.text_content().unwrap(), "CSP Cost Tracker");
    let names = || {
        let links = root.query_selector_all("header nav a").unwrap();
        (0..links.length())
            .map(|i| links.item(i).unwrap().text_content().unwrap())
            .collect::<Vec<String>>()
    };
    // The sixth link waits for the session's answer (here none comes from
    // a proxy: not signed in, so the wizard).
    for _ in 0..200 {
        if names().len() == 7 {
            break;
        }
        pause(25).await;
    }
    assert_eq!(
        names(),
        [
            "Overview",
            "Customers",
            "Explorer",
            "Budgets",
            "Price and margin",
            "Onboarding",
            "Settings"
        ]
    );
    let version = root.query_selector("footer .version").unwrap().unwrap();
    assert_eq!(
        version.text_content().unwrap(),
        concat!("v", env!("CARGO_PKG_VERSION"))
    );
}

#[wasm_bindgen_test]
async fn the_customer_table_shows_one_row_per_customer() {
    let rows = vec![
        CustomerSummary {
            id: "b44bb1fb-c595-45b0-9e09-d657365580bf".into(),
            name: "Adatum Corporation".into(),
            domain: "adatumcorporation.onmicrosoft.com".into(),
            ..Default::default()
        },
        CustomerSummary {
            id: "eebd1b55-5360-4438-a11d-5c06918c3014".into(),
            name: "Coho Winery".into(),
            domain: "cohowinery.onmicrosoft.com".into(),
            ..Default::default()
        },
    ];
    let root = container();
    let _table = leptos::mount::mount_to(root.clone(), move || {
        view! { <csp_costs::pages::CustomerTable rows=rows.clone() /> }
    });
    leptos::task::tick().await;

    let body_rows = root.query_selector_all("tbody tr").unwrap();
    assert_eq!(body_rows.length(), 2);
    let second = root
        .query_selector("tr[data-customer-id='eebd1b55-5360-4438-a11d-5c06918c3014']")
        .unwrap()
        .expect("a row keyed by the customer ID");
    assert!(second.text_content().unwrap().contains("Coho Winery"));
}

/// Figures as a person reads them: counts with the locale's separators, no
/// minus before a figure that rounds to zero (`-0%`, `-$0.00`), a minus
/// before one that does not.
#[wasm_bindgen_test]
fn counts_have_separators_and_no_figure_reads_minus_zero() {
    use csp_costs::format;
    assert_eq!(format::number(132_904.0, 0), "132,904");
    assert!(
        !format::percent(-3).contains('-'),
        "{}",
        format::percent(-3)
    );
    assert!(format::percent(-1_500).contains('-'));
    assert!(
        !format::money(-1_000, "USD").contains('-'),
        "{}",
        format::money(-1_000, "USD")
    );
    assert!(format::money(-10_000, "USD").contains('-'));
}

/// Days are UTC days as Partner Center reports them, written by the
/// browser's Intl: the day itself whatever the machine's time zone, leap
/// days and the turn of a year included.
#[wasm_bindgen_test]
fn days_and_months_are_the_utc_days_written_in_the_language() {
    use chrono::NaiveDate;
    use csp_costs::format;
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    assert_eq!(format::day(d(2026, 11, 30)), "Nov 30, 2026");
    assert_eq!(format::day(d(2024, 2, 29)), "Feb 29, 2024");
    assert_eq!(format::day(d(1969, 12, 31)), "Dec 31, 1969");
    assert_eq!(format::month(d(2027, 1, 1)), "January 2027");
    assert_eq!(format::month_before(d(2026, 3, 1)), "February 2026");
}
