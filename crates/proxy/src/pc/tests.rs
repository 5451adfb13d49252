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
