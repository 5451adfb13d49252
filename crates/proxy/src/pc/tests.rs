//! The client's link handling and lenient page reading.

use super::*;

fn client(api: &str) -> PartnerCenter {
    crate::init_tls();
    PartnerCenter::new(
        Endpoints {
            api: api.into(),
            login: "http://login.test".into(),
            graph: "http://graph.test".into(),
        },
        RetryPolicy::default(),
    )
}

#[test]
fn links_are_relative_to_v1_and_absolute_ones_stay_on_partner_center() {
    let pc = client("https://api.partnercenter.microsoft.com/");
    for (link, url) in [
        (
            "/v1/customers?size=40",
            "https://api.partnercenter.microsoft.com/v1/customers?size=40",
        ),
        (
            "/customers?size=40",
            "https://api.partnercenter.microsoft.com/v1/customers?size=40",
        ),
        (
            "customers?size=40",
            "https://api.partnercenter.microsoft.com/v1/customers?size=40",
        ),
        (
            "https://api.partnercenter.microsoft.com/v1/customers?seekOperation=Next",
            "https://api.partnercenter.microsoft.com/v1/customers?seekOperation=Next",
        ),
    ] {
        assert_eq!(pc.url_of(link).unwrap(), url, "{link}");
    }
    for away in [
        "https://evil.example/v1/customers",
        "http://api.partnercenter.microsoft.com/v1/customers",
        "https://api.partnercenter.microsoft.com.evil.example/v1/x",
    ] {
        assert!(pc.url_of(away).is_err(), "{away}");
    }
}

#[test]
fn a_page_keeps_what_it_can_read_and_decodes_its_next_link() {
    let body = br#"{ "totalCount": 3, "items": [
          { "id": "a", "companyProfile": { "companyName": "A" } },
          { "id": ["not", "text"] },
          { "id": "c", "relationshipToPartner": null, "futureField": {"x": 1} } ],
        "links": { "next": { "uri": "/customers?size=3&amp;seekOperation=Next", "method": "GET",
                              "headers": [ { "key": "MS-ContinuationToken", "value": "AQ&amp;A=" } ] } } }"#;
    let Verdict::Done(page) = read_page::<model::pc::Customer>(body, "customers") else {
        panic!("the page is read");
    };
    assert_eq!(
        page.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["a", "c"]
    );
    assert_eq!(page.unreadable.len(), 1);
    assert_eq!(page.unreadable[0].index, 1);
    assert!(
        page.unreadable[0].reason.starts_with("id:"),
        "{:?}",
        page.unreadable
    );
    let next = page.next.unwrap();
    assert_eq!(next.uri, "/customers?size=3&seekOperation=Next");
    assert_eq!(
        next.headers[0].value, "AQ&amp;A=",
        "a token is opaque: sent as given"
    );
}

#[test]
fn a_page_that_is_not_a_collection_is_refused_and_a_cut_one_retried() {
    assert!(matches!(
        read_page::<serde_json::Value>(br#"{"items": 3}"#, "x"),
        Verdict::Fail(PcError::BadResponse(_))
    ));
    assert!(matches!(
        read_page::<serde_json::Value>(br#"{"items": [1, 2"#, "x"),
        Verdict::Retry(_)
    ));
}

/// A loopback server that answers `status` `times` times, then 200.
async fn flaky(status: u16, times: usize) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let app = axum::Router::new().route(
        "/v1/thing",
        axum::routing::get(move || {
            let counter = counter.clone();
            async move {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                if n < times {
                    let status = axum::http::StatusCode::from_u16(status).unwrap();
                    (status, [("retry-after", "0")], "{}")
                } else {
                    (axum::http::StatusCode::OK, [("retry-after", "0")], "{}")
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

async fn fetch_thing(url: &str) -> Result<(), PcError> {
    let pc = client(url);
    let policy = RetryPolicy {
        max_attempts: 2,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        budget: Duration::from_secs(10),
        request_timeout: Duration::from_secs(5),
    };
    let address = format!("{url}/v1/thing");
    pc.execute(
        &policy,
        "tenant",
        Service::PartnerCenter,
        || pc.http().get(&address),
        |_, _, _| Verdict::Done(()),
    )
    .await
}

#[tokio::test]
async fn throttling_costs_time_not_attempts_and_other_failures_cost_attempts() {
    use std::sync::atomic::Ordering;
    // Throttled eight times with two attempts allowed: still read, within the time.
    let (url, seen) = flaky(429, 8).await;
    fetch_thing(&url).await.unwrap();
    assert_eq!(seen.load(Ordering::SeqCst), 9);

    // Failing eight times with two attempts allowed: given up after two.
    let (url, seen) = flaky(503, 8).await;
    let e = fetch_thing(&url).await.unwrap_err();
    assert!(matches!(e, PcError::Unavailable(_)), "{e:?}");
    assert_eq!(seen.load(Ordering::SeqCst), 2);
}
