//! Each reader against serde's derive for the same text: the same value, or
//! an error from both.

use serde::de::DeserializeOwned;
use serde_json::json;

use super::*;

/// `read` agrees with serde_json on `value`; returns what it read.
fn agrees<T, E>(value: serde_json::Value, read: fn(&serde_json::Value) -> Result<T, E>) -> Option<T>
where
    T: DeserializeOwned + PartialEq + std::fmt::Debug,
    E: std::fmt::Debug,
{
    let serde = serde_json::from_value::<T>(value.clone());
    let ours = read(&value);
    match (&serde, &ours) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{value}"),
        (Err(_), Err(_)) => {}
        _ => panic!("{value}: serde {serde:?}, the reader {ours:?}"),
    }
    ours.ok()
}

fn costs() -> serde_json::Value {
    json!({
        "id": "c1", "name": "Contoso", "domain": "contoso.example",
        "partnerName": "Fabrikam", "currency": "EUR",
        "monthToDate": 123_456_789, "lastMonth": -5, "forecast": 0,
        "asOf": "2026-11-30",
        "azureSubscriptions": [{"id": "s1", "name": "Prod", "status": "active"}],
    })
}

fn session() -> serde_json::Value {
    json!({
        "userName": "ann@contoso.example", "displayName": "Ann",
        "roles": ["globalAdmin", "billingAdmin"], "canManage": true,
        "rolesMessage": null, "tenantId": "t1", "partnerName": "Fabrikam",
        "connected": true,
        "trial": {"startedAt": "2026-11-01T00:00:00Z", "endsAt": "2026-12-01T00:00:00Z",
                  "daysLeft": 3, "ended": false, "activated": false},
        "customer": {"id": "c1", "name": "Contoso"},
        "asOf": "2026-11-30",
    })
}

/// `value` with `key` set to `to` (or removed, for `None`).
fn with(
    mut value: serde_json::Value,
    key: &str,
    to: Option<serde_json::Value>,
) -> serde_json::Value {
    let object = value.as_object_mut().unwrap();
    match to {
        Some(v) => object.insert(key.into(), v),
        None => object.remove(key),
    };
    value
}

#[test]
fn the_customers_costs_read_as_serde_reads_them() {
    let read = agrees(costs(), OwnCosts::read).expect("read");
    assert_eq!(read.month_to_date, 123_456_789);
    assert_eq!(read.as_of, NaiveDate::from_ymd_opt(2026, 11, 30));
    for (key, to) in [
        ("partnerName", None),
        ("currency", Some(json!(null))),
        ("asOf", None),
        ("asOf", Some(json!(null))),
        ("asOf", Some(json!("30/11/2026"))),
        ("monthToDate", None),
        ("monthToDate", Some(json!("12"))),
        ("monthToDate", Some(json!(1.5))),
        ("name", Some(json!(null))),
        ("name", Some(json!(7))),
        ("azureSubscriptions", Some(json!([]))),
        ("azureSubscriptions", Some(json!(null))),
        (
            "azureSubscriptions",
            Some(json!([{"id": "s1", "name": "Prod"}])),
        ),
        ("azureSubscriptions", None),
        // A field a newer proxy adds is read past.
        ("newField", Some(json!({"any": [1]}))),
    ] {
        agrees(with(costs(), key, to), OwnCosts::read);
    }
    agrees(json!([costs()]), OwnCosts::read);
    agrees(json!(null), OwnCosts::read);
}

#[test]
fn an_amount_a_double_cannot_hold_exactly_is_refused_not_rounded() {
    let too_large = with(
        costs(),
        "monthToDate",
        Some(json!(9_007_199_254_740_993_i64)),
    );
    let e = OwnCosts::read(&too_large).unwrap_err();
    assert!(e.0.contains("monthToDate"), "{e}");
    let largest = with(
        costs(),
        "monthToDate",
        Some(json!(-9_007_199_254_740_991_i64)),
    );
    assert_eq!(
        OwnCosts::read(&largest).unwrap().month_to_date,
        -9_007_199_254_740_991
    );
}

#[test]
fn the_session_reads_as_serde_reads_it() {
    let read = agrees(session(), SessionInfo::read).expect("read");
    assert_eq!(read.customer.map(|c| c.name).as_deref(), Some("Contoso"));
    assert_eq!(read.trial.map(|t| t.days_left), Some(3));
    for (key, to) in [
        ("customer", None),
        ("customer", Some(json!(null))),
        ("customer", Some(json!({"id": "c1"}))),
        ("trial", Some(json!(null))),
        (
            "trial",
            Some(
                json!({"startedAt": "x", "endsAt": "y", "daysLeft": 1, "ended": "no", "activated": false}),
            ),
        ),
        ("roles", Some(json!([]))),
        ("roles", Some(json!(["owner"]))),
        ("roles", None),
        ("canManage", Some(json!(1))),
        ("connected", None),
        ("asOf", Some(json!("2026-02-30"))),
        ("rolesMessage", Some(json!("Ask an admin."))),
    ] {
        agrees(with(session(), key, to), SessionInfo::read);
    }
}

#[test]
fn an_error_reads_as_serde_reads_it_unknown_codes_included() {
    let known = json!({"error": {"code": "not_signed_in", "message": "Nobody is signed in."}});
    assert_eq!(
        agrees(known, ErrorBody::read).unwrap().error.code,
        ErrorCode::NotSignedIn
    );
    let newer = json!({"error": {"code": "from_a_newer_proxy", "message": "?"}});
    assert_eq!(
        agrees(newer, ErrorBody::read).unwrap().error.code,
        ErrorCode::Unknown
    );
    for code in ErrorCode::ALL {
        let body = json!({"error": {"code": code.as_str(), "message": ""}});
        assert_eq!(agrees(body, ErrorBody::read).unwrap().error.code, *code);
    }
    agrees(json!({"error": {"code": "timeout"}}), ErrorBody::read);
    agrees(json!({"message": "no"}), ErrorBody::read);
    agrees(json!("Bad gateway"), ErrorBody::read);
}

#[test]
fn config_json_reads_as_parse_reads_it() {
    let reads = |text: &str| {
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        let ours = AppConfig::read(&value);
        let theirs = AppConfig::parse(text);
        assert_eq!(ours.is_ok(), theirs.is_ok(), "{text}: {ours:?} {theirs:?}");
        if let (Ok(a), Ok(b)) = (&ours, &theirs) {
            assert_eq!(a, b);
        }
        ours
    };
    let full = reads(
        r##"{"apiBase":"https://api.example.com/","hostOrigins":["https://portal.example.com"],
            "accent":"#0a7","logo":"logo.svg","theme":"dark","basePath":"/portal/costs/"}"##,
    )
    .unwrap();
    assert_eq!(full.theme, Some(Theme::Dark));
    assert_eq!(reads("{}").unwrap(), AppConfig::default());
    assert_eq!(
        reads(r#"{"theme":null,"accent":null}"#).unwrap(),
        AppConfig::default()
    );
    for (bad, named) in [
        (r#"{"apiBsae":"https://api.example.com/"}"#, "apiBsae"),
        (r#"{"theme":"sepia"}"#, "sepia"),
        (
            r#"{"hostOrigins":"https://portal.example.com"}"#,
            "hostOrigins",
        ),
        (r#"{"hostOrigins":[1]}"#, "hostOrigins"),
        (r#"{"hostOrigins":null}"#, "hostOrigins"),
        (r#"{"apiBase":"javascript:alert(1)//"}"#, "apiBase"),
        (r#"{"accent":"red;background:url(x)"}"#, "accent"),
        (r#"{"basePath":"//evil.example.com"}"#, "basePath"),
        (r#"["apiBase"]"#, "config.json"),
    ] {
        let e = reads(bad).unwrap_err().to_string();
        assert!(e.contains(named), "{bad}: {e}");
    }
}

#[test]
fn a_day_is_year_month_day_and_a_real_one() {
    assert_eq!(day("2026-11-30"), NaiveDate::from_ymd_opt(2026, 11, 30));
    assert_eq!(day("2028-02-29"), NaiveDate::from_ymd_opt(2028, 2, 29));
    for bad in [
        "2026-02-30",
        "2026-13-01",
        "2026-1-05",
        "26-11-30",
        "2026/11/30",
        "2026-11-3x",
        "",
        "+2026-11-30",
    ] {
        assert_eq!(day(bad), None, "{bad}");
    }
}
