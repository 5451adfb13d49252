//! A customer's own view through the proxy: the partner's admin lets a user
//! of the customer in; that user signs in on the emulator's page from the
//! customer's own tenant and sees that customer alone, at the customer's
//! price, and nothing of the partner's (cost, margin, other customers).

mod common;
#[path = "focus/csv.rs"]
mod csv;

use common::{admin_client, client_as, get_json, serve, sign_in_at, upstream};
use model::api::{CustomerDetail, CustomerList, CustomerUser, ErrorBody, OwnCosts, SessionInfo};
use model::cube::Cube;
use model::onboarding::Role;
use proxy::sync::SyncKind;
use serde_json::json;

const CUSTOMER_LOGIN: &str = "/api/auth/login?as=customer&returnTo=/";

#[tokio::test]
async fn a_customer_user_sees_its_own_costs_at_its_price_and_nothing_else() {
    let up = upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    let state = common::state(&up, data.path()).await;
    let partner = state.connection.clone().unwrap();
    assert_eq!(
        state
            .sync
            .run(&partner, SyncKind::Full)
            .await
            .unwrap()
            .errors,
        0
    );
    let admin = admin_client(&state).await;
    let billing = client_as(&state, &[Role::BillingAdmin]).await;
    let base = serve(state, data.path()).await;
    let demo = up.emulator.demo();
    let ours = demo
        .partners
        .iter()
        .find(|p| p.tenant_id == partner.credentials.tenant)
        .unwrap();
    let (it, other) = (&ours.customer_users[0], &ours.customer_users[1]);
    let customer = it.customer_id.clone();

    // The partner prices this customer 12.5 % over its cost.
    let res = admin
        .put(format!("{base}/api/customers/{customer}/markup"))
        .json(&json!({ "basis": "partnerCost", "percent": "12.5" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // Not invited yet: the sign-in is refused and opens no session.
    let refused = sign_in_at(&base, CUSTOMER_LOGIN, &it.user_name, &it.password)
        .await
        .err()
        .expect("no session before the invitation");
    assert!(refused.contains("signInError="), "{refused}");

    // Inviting: managers only, a real address, one of the partner's customers.
    let users = format!("{base}/api/customers/{customer}/users");
    let invite = |client: &reqwest::Client, user: &str| {
        client
            .post(&users)
            .json(&json!({ "userName": user }))
            .send()
    };
    assert_eq!(invite(&billing, &it.user_name).await.unwrap().status(), 403);
    let bad = invite(&admin, "not an address").await.unwrap();
    assert_eq!(bad.status(), 400);
    let bad: ErrorBody = bad.json().await.unwrap();
    assert!(bad.error.message.contains("name@company.com"));
    let unknown = admin
        .post(format!(
            "{base}/api/customers/00000000-0000-0000-0000-00000000abcd/users"
        ))
        .json(&json!({ "userName": it.user_name }))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let res = invite(&admin, &it.user_name.to_uppercase()).await.unwrap();
    assert_eq!(res.status(), 201);
    let listed: Vec<CustomerUser> = res.json().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].user_name, it.user_name.to_lowercase());
    assert_eq!(listed[0].invited_by, "someone@partner.example");
    let listed: Vec<CustomerUser> = get_json(&admin, &users).await;
    assert_eq!(listed.len(), 1);

    // Another customer's user is still refused.
    assert!(
        sign_in_at(&base, CUSTOMER_LOGIN, &other.user_name, &other.password)
            .await
            .is_err()
    );

    let me = sign_in_at(&base, CUSTOMER_LOGIN, &it.user_name, &it.password)
        .await
        .expect("the invited user signs in");
    let session: SessionInfo = me.json(reqwest::Method::GET, "/api/session", None).await;
    let own = session.customer.clone().expect("a customer's session");
    assert_eq!(own.id, customer);
    assert_eq!(own.name, it.company_name);
    assert!(session.roles.is_empty() && !session.can_manage);

    // Its figures are the partner's figures for it, at the customer's price.
    let detail: CustomerDetail =
        get_json(&admin, &format!("{base}/api/customers/{customer}")).await;
    let res = me.call(reqwest::Method::GET, "/api/my", None).await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    for partner_only in ["partnerCost", "margin", "listCost", "budget", "markup"] {
        assert!(!text.contains(partner_only), "{partner_only} in {text}");
    }
    let mine: OwnCosts = serde_json::from_str(&text).unwrap();
    let s = &detail.summary;
    assert_eq!(mine.name, s.name);
    assert_eq!(mine.month_to_date, s.month_to_date.customer_price);
    assert_eq!(mine.last_month, s.last_month.customer_price);
    assert_eq!(mine.forecast, s.forecast.customer_price);
    assert!(mine.month_to_date > 0);
    // 12.5 % over the cost, to the millionth of the currency per line.
    let expected = s.month_to_date.partner_cost as i128 * 1125 / 1000;
    assert!((mine.month_to_date as i128 - expected).abs() <= 1_000);
    assert_ne!(mine.month_to_date, s.month_to_date.partner_cost);

    // The cube: its rows only, its price only, whatever customer is asked for.
    let partner_cube: Cube =
        get_json(&admin, &format!("{base}/api/usage?customer={customer}")).await;
    let other_customer = other.customer_id.clone();
    for path in [
        "/api/my/usage".to_string(),
        format!("/api/my/usage?customer={other_customer}"),
    ] {
        let cube: Cube = me.json(reqwest::Method::GET, &path, None).await;
        assert_eq!(cube.len(), partner_cube.len(), "{path}");
        assert!(cube.partner_cost.is_empty() && cube.list_cost.is_empty());
        assert!(cube.pec_basis_points.is_empty());
        assert_eq!(
            cube.values(&model::cube::Dim::Customer),
            vec![it.company_name.clone()]
        );
        assert_eq!(cube.customer_price, partner_cube.customer_price);
        assert_eq!(cube.customer_price.iter().sum::<i64>(), mine.month_to_date);
        // The bytes the app asks for hold the same, and no partner column.
        let res = me
            .http
            .get(format!("{}{path}", me.base))
            .header("cookie", &me.cookie)
            .header("Accept", model::cube::CUBE_MEDIA_TYPE)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let binary = Cube::from_bytes(&res.bytes().await.unwrap()).unwrap();
        assert_eq!(binary, cube);
    }

    // The CSV: its price per line, no partner column.
    let res = me
        .call(reqwest::Method::GET, "/api/my/line-items.csv", None)
        .await;
    assert_eq!(res.status(), 200);
    let csv = res.text().await.unwrap();
    assert!(!csv.contains("Partner cost") && !csv.contains("Margin"));
    let mut rows = csv::records(&csv).into_iter();
    let header: Vec<String> = rows.next().unwrap().into_iter().flatten().collect();
    assert_eq!(header.last().map(String::as_str), Some("Price"));
    let at = |name: &str| header.iter().position(|c| c == name).unwrap();
    let (quantity, unit_price, price) = (at("Quantity"), at("Unit price"), at("Price"));
    let mut price_micros = 0;
    for row in rows {
        let cell = |i: usize| row[i].as_deref().unwrap();
        let micros = model::Amount::parse_decimal(cell(price)).unwrap().micros();
        // Exact: the unit price times the quantity is the price.
        assert_eq!(
            common::product_micros(cell(unit_price), cell(quantity)),
            micros,
            "{row:?}"
        );
        price_micros += micros;
    }
    assert_eq!(price_micros, mine.month_to_date);

    // Every route of the partner's refuses this session.
    let partner_routes = [
        ("GET", "/api/customers".to_string()),
        ("GET", format!("/api/customers/{customer}")),
        ("GET", format!("/api/customers/{customer}/users")),
        ("GET", "/api/overview".to_string()),
        ("GET", format!("/api/usage?customer={customer}")),
        ("GET", format!("/api/line-items?customer={customer}")),
        ("GET", "/api/margin".to_string()),
        ("GET", "/api/exports/line-items.csv".to_string()),
        ("GET", "/api/exports/focus.csv".to_string()),
        ("GET", "/api/settings/reporting".to_string()),
        ("GET", "/api/onboarding".to_string()),
        ("GET", "/api/sync".to_string()),
        ("GET", "/api/sync/events".to_string()),
        ("POST", "/api/sync".to_string()),
        ("PUT", format!("/api/customers/{customer}/markup")),
        ("PUT", format!("/api/customers/{customer}/budget")),
        ("POST", format!("/api/customers/{customer}/users")),
    ];
    for (method, path) in &partner_routes {
        let res = me
            .call(method.parse().unwrap(), path, Some(json!({})))
            .await;
        assert_eq!(res.status(), 403, "{method} {path}");
        let e: ErrorBody = res.json().await.unwrap();
        assert_eq!(e.error.code, "partner_only", "{method} {path}");
    }
    // And the partner's people have no customer view.
    let res = admin.get(format!("{base}/api/my")).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let list: CustomerList = get_json(&admin, &format!("{base}/api/customers")).await;
    assert!(list.customers.len() > 1, "the partner still sees them all");

    // Access taken away: the open session ends at once.
    let user_url = format!("{users}/{}", it.user_name);
    let res = admin.delete(&user_url).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(
        me.call(reqwest::Method::GET, "/api/my", None)
            .await
            .status(),
        401
    );
    assert_eq!(admin.delete(&user_url).send().await.unwrap().status(), 404);
    assert!(
        sign_in_at(&base, CUSTOMER_LOGIN, &it.user_name, &it.password)
            .await
            .is_err()
    );
}
