//! The proxy behind a reverse proxy or load balancer that ends HTTPS: its
//! cookies take the `__Host-` and `__Secure-` prefixes, the client's address
//! comes from `X-Forwarded-For` of trusted proxies only, and it will not
//! listen off loopback without knowing its public address.

mod common;

use common::{config, set_cookie_named, upstream};
use proxy::{AppState, Config};

const PUBLIC: &str = "https://costs.contoso.example";

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn under_https_the_cookies_are_prefixed_and_secure_and_only_those_count() {
    let up = upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    let mut c = config(&up, data.path());
    c.public_url = Some(PUBLIC.into());
    let base = common::serve(AppState::new(&c).await.unwrap(), data.path()).await;
    let admin = up
        .emulator
        .demo()
        .partners
        .iter()
        .find(|p| !p.apps.is_empty())
        .unwrap()
        .users[0]
        .clone();
    let http = no_redirects();

    // Up to the callback, which Entra sends to the public address; the
    // reverse proxy forwards it here.
    let start = async || {
        let res = http
            .get(format!("{base}/api/auth/login?returnTo=/"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let set: Vec<String> = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        assert!(
            set.iter()
                .any(|c| c.starts_with("__Secure-csp_signin=") && c.contains("; Secure")),
            "{set:?}"
        );
        let binding = set_cookie_named(&res, "__Secure-csp_signin").unwrap();
        let authorize = reqwest::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
        let mut form: Vec<(String, String)> = authorize
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let redirect = form.iter().find(|(k, _)| k == "redirect_uri").unwrap();
        assert_eq!(redirect.1, format!("{PUBLIC}/api/auth/callback"));
        form.push(("login".into(), admin.user_name.clone()));
        form.push(("passwd".into(), admin.password.clone()));
        let mut post_to = authorize.clone();
        post_to.set_query(None);
        let res = http.post(post_to).form(&form).send().await.unwrap();
        assert_eq!(res.status(), 302);
        let callback = res.headers()["location"].to_str().unwrap().to_string();
        let forwarded = callback.replacen(PUBLIC, &base, 1);
        assert_ne!(forwarded, callback);
        (forwarded, binding)
    };

    // The binding cookie under its plain name is not the one.
    let (callback, binding) = start().await;
    let plain = binding.replacen("__Secure-", "", 1);
    let res = http
        .get(&callback)
        .header("cookie", &plain)
        .send()
        .await
        .unwrap();
    assert!(set_cookie_named(&res, "__Host-csp_session").is_none());
    assert!(set_cookie_named(&res, "csp_session").is_none());

    let (callback, binding) = start().await;
    let res = http
        .get(&callback)
        .header("cookie", &binding)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let full = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("__Host-csp_session="))
        .expect("a __Host- session cookie");
    // What the prefix requires of it: Secure, Path=/, no Domain.
    assert!(
        full.contains("; Secure") && full.contains("Path=/;"),
        "{full}"
    );
    assert!(!full.to_ascii_lowercase().contains("domain="), "{full}");
    let session = set_cookie_named(&res, "__Host-csp_session").unwrap();
    let token = session.split_once('=').unwrap().1.to_string();

    let me = |cookie: String| {
        let http = http.clone();
        let base = base.clone();
        async move {
            http.get(format!("{base}/api/session"))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(me(format!("__Host-csp_session={token}")).await, 200);
    // A plain-named cookie (one a sibling subdomain could plant) is not
    // read: nobody is signed in.
    assert_eq!(me(format!("csp_session={token}")).await, 204);
}

/// Sign-in attempts counted per client: from a trusted balancer, per the
/// address it forwards; from anyone else, per connection address, whatever
/// the request says.
#[tokio::test]
async fn the_sign_in_limit_counts_the_client_a_trusted_proxy_names() {
    let up = upstream("2026-11-20").await;
    let limited = |trusted: &[&str]| {
        let data = tempfile::tempdir().unwrap();
        let mut c: Config = config(&up, data.path());
        c.sign_ins_per_minute = 2;
        c.trusted_proxies = trusted.iter().map(|s| s.to_string()).collect();
        (c, data)
    };
    let attempts = async |base: &str, from: &str, n: usize| {
        let http = no_redirects();
        let mut statuses = Vec::new();
        for _ in 0..n {
            let res = http
                .get(format!("{base}/api/auth/login?returnTo=/"))
                .header("x-forwarded-for", from)
                .send()
                .await
                .unwrap();
            statuses.push(res.status().as_u16());
        }
        statuses
    };

    let (c, data) = limited(&["127.0.0.1"]);
    let base = common::serve(AppState::new(&c).await.unwrap(), data.path()).await;
    assert_eq!(attempts(&base, "203.0.113.1", 3).await, [303, 303, 429]);
    // Another client behind the same balancer is not locked out.
    assert_eq!(attempts(&base, "203.0.113.2", 2).await, [303, 303]);
    // A client that names itself before the real hop gains nothing.
    assert_eq!(attempts(&base, "198.51.100.7, 203.0.113.1", 1).await, [429]);

    // Untrusted: the header is ignored, every attempt is the connection's.
    let (c, data) = limited(&[]);
    let base = common::serve(AppState::new(&c).await.unwrap(), data.path()).await;
    assert_eq!(attempts(&base, "203.0.113.1", 2).await, [303, 303]);
    assert_eq!(attempts(&base, "203.0.113.2", 1).await, [429]);
}

#[test]
fn off_loopback_the_public_address_is_required_and_settings_are_checked() {
    let data = tempfile::tempdir().unwrap();
    let mut c = Config::with_data_dir(data.path().to_path_buf());
    assert!(c.check().is_ok(), "127.0.0.1 by default");
    c.host = "0.0.0.0".into();
    let e = c.check().unwrap_err();
    assert!(e.contains("--public-url") && e.contains("0.0.0.0"), "{e}");
    c.public_url = Some(PUBLIC.into());
    assert!(c.check().is_ok());
    c.public_url = Some("costs.contoso.example".into());
    assert!(c.check().unwrap_err().contains("not an address"));
    c.public_url = Some(PUBLIC.into());
    c.trusted_proxies = vec!["10.0.0.0/8".into(), "10.0.0.0/40".into()];
    assert!(c.check().unwrap_err().contains("--trusted-proxies"));
    c.host = "::1".into();
    c.public_url = None;
    c.trusted_proxies.clear();
    assert!(c.check().is_ok(), "IPv6 loopback");
}
