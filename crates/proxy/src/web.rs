//! The web policy the configuration sets, for every response and request
//! regardless of route: security headers (a Content-Security-Policy without
//! inline script), CORS for SPAs hosted on other origins, framing rules for
//! embedding, body size and time limits, and a limit on sign-in attempts
//! per client address. The middleware that applies them to `/api` is in
//! `api/middleware.rs`.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, Method, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Largest request body `/api` accepts: its bodies are small JSON objects.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Longest an `/api` request may take (the event stream excepted).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The policy the configuration sets.
#[derive(Debug)]
pub struct Policy {
    /// Origins allowed to call `/api` from a browser (CORS), exactly as sent.
    pub cors_origins: Vec<String>,
    /// Origins allowed to frame the app; empty: nobody.
    pub frame_ancestors: Vec<String>,
    pub sign_in: SignInLimiter,
    /// Open sync event streams per session.
    pub streams: StreamLimiter,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<crate::forwarded::Network>,
    /// Reads that walk a whole scope, at once per partner.
    pub heavy_reads: HeavyReads,
    /// Line items a cube carries as they are; past it, summed.
    pub cube_line_items: usize,
}

/// Reads that walk a whole scope (exports, margin, the Explorer's cube) at
/// once per partner: more wait their turn, so one partner's people asking
/// for many years at once cannot take every worker and store connection
/// from the other partners.
pub const HEAVY_READS_PER_PARTNER: usize = 2;

#[derive(Debug, Default)]
pub struct HeavyReads(Mutex<HashMap<i64, std::sync::Arc<tokio::sync::Semaphore>>>);

impl HeavyReads {
    /// A turn for one heavy read of `partner`, held until dropped.
    pub async fn turn(&self, partner: i64) -> tokio::sync::OwnedSemaphorePermit {
        let gate = self
            .0
            .lock()
            .expect("heavy reads poisoned")
            .entry(partner)
            .or_insert_with(|| {
                std::sync::Arc::new(tokio::sync::Semaphore::new(HEAVY_READS_PER_PARTNER))
            })
            .clone();
        gate.acquire_owned().await.expect("never closed")
    }
}

/// Most sync event streams one session may hold open (a tab each).
pub const STREAMS_PER_SESSION: usize = 6;

/// Most sync event streams from one client address: generous, since many
/// people may share an address behind a company's NAT (each with six
/// tabs), but a bound on what signing in many times from one place buys.
pub const STREAMS_PER_ADDRESS: usize = 120;

/// Counts the open event streams of each session and each client address,
/// so that neither can hold thousands of connections open.
#[derive(Debug, Default)]
pub struct StreamLimiter(std::sync::Arc<Mutex<HashMap<String, usize>>>);

/// One open stream; closing it (dropping this) frees its places.
#[derive(Debug)]
pub struct OpenStream {
    counts: std::sync::Arc<Mutex<HashMap<String, usize>>>,
    keys: Vec<String>,
}

/// Why no stream could be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamsFull {
    Session,
    Address,
}

impl StreamLimiter {
    /// A place for one more stream of `session` from `address`, or which
    /// of the two holds its most already.
    pub fn open(&self, session: &str, address: Option<IpAddr>) -> Result<OpenStream, StreamsFull> {
        let mut counts = self.0.lock().expect("streams poisoned");
        let session_key = format!("session {session}");
        if counts.get(&session_key).copied().unwrap_or(0) >= STREAMS_PER_SESSION {
            return Err(StreamsFull::Session);
        }
        let mut keys = vec![session_key];
        if let Some(address) = address {
            let address_key = format!("address {address}");
            if counts.get(&address_key).copied().unwrap_or(0) >= STREAMS_PER_ADDRESS {
                return Err(StreamsFull::Address);
            }
            keys.push(address_key);
        }
        for key in &keys {
            *counts.entry(key.clone()).or_default() += 1;
        }
        Ok(OpenStream {
            counts: self.0.clone(),
            keys,
        })
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().expect("streams poisoned");
        for key in &self.keys {
            if let Some(n) = counts.get_mut(key) {
                *n -= 1;
                if *n == 0 {
                    counts.remove(key);
                }
            }
        }
    }
}

impl Policy {
    pub fn new(
        cors_origins: &[String],
        frame_ancestors: &[String],
        sign_ins_per_minute: u32,
    ) -> Policy {
        let clean = |list: &[String]| -> Vec<String> {
            list.iter()
                .flat_map(|s| s.split([',', ' ']))
                .map(|s| s.trim().trim_end_matches('/').to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        Policy {
            cors_origins: clean(cors_origins),
            frame_ancestors: clean(frame_ancestors),
            sign_in: SignInLimiter::new(sign_ins_per_minute, Duration::from_secs(60)),
            streams: StreamLimiter::default(),
            trusted_proxies: Vec::new(),
            heavy_reads: HeavyReads::default(),
            cube_line_items: usize::MAX,
        }
    }

    /// CORS for the allowed origins, with credentials (the session cookie);
    /// no origin is allowed when none is configured.
    /// Where the sign-in may send the browser back to: a path of the app
    /// served here or an address on `own_origin`, or an address on an origin
    /// allowed by CORS (the app's files on a static host). Nothing else, so
    /// no open redirect.
    pub fn may_return_to(&self, target: &str, own_origin: &str) -> bool {
        if target.contains('\\') || target.chars().any(|c| c.is_control() || c == ' ') {
            return false;
        }
        if target.starts_with('/') {
            return !target.starts_with("//");
        }
        let own = own_origin.trim_end_matches('/');
        std::iter::once(own)
            .chain(self.cors_origins.iter().map(String::as_str))
            .any(|origin| {
                target
                    .strip_prefix(origin)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            })
    }

    /// Whether a page of `origin` may send a request that changes something:
    /// the proxy's own origin (its public URL, or the request's `Host`
    /// whatever the scheme in front of it), or one allowed by CORS. A
    /// reverse proxy that rewrites `Host` needs `--public-url`.
    pub fn may_write_from(
        &self,
        origin: &str,
        host: Option<&str>,
        public_url: Option<&str>,
    ) -> bool {
        let origin = origin.trim_end_matches('/');
        let authority = origin.split_once("://").map(|(_, rest)| rest);
        let public = public_url.and_then(|u| reqwest::Url::parse(u).ok());
        (authority.is_some() && authority == host)
            || public.is_some_and(|u| u.origin().ascii_serialization() == origin)
            || self.cors_origins.iter().any(|allowed| allowed == origin)
    }

    pub fn cors(&self) -> CorsLayer {
        let origins: Vec<HeaderValue> = self
            .cors_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_credentials(true)
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
            .allow_headers([header::CONTENT_TYPE])
            .max_age(Duration::from_secs(600))
    }

    /// The Content-Security-Policy for everything served: scripts only from
    /// this origin (plus the hashes of the page's own inline scripts, which
    /// trunk writes to start the wasm), no inline styles, no plugins.
    pub fn content_security_policy(&self, dist: &Path) -> String {
        // Both entries' pages: the partner's app and the customer's own view.
        let hashes: Vec<String> = ["index.html", "my/index.html"]
            .iter()
            .filter_map(|page| std::fs::read_to_string(dist.join(page)).ok())
            .flat_map(|html| {
                inline_scripts(&html)
                    .iter()
                    .map(|s| script_hash(s))
                    .collect::<Vec<_>>()
            })
            .collect();
        let ancestors = if self.frame_ancestors.is_empty() {
            "'none'".to_string()
        } else {
            self.frame_ancestors.join(" ")
        };
        let mut connect = vec!["'self'".to_string()];
        connect.extend(self.cors_origins.iter().cloned());
        format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{}; style-src 'self'; \
             img-src 'self' data:; connect-src {}; object-src 'none'; base-uri 'self'; \
             form-action 'self'; frame-ancestors {ancestors}",
            hashes.iter().map(|h| format!(" '{h}'")).collect::<String>(),
            connect.join(" ")
        )
    }
}

/// The bodies of a page's inline `<script>` elements (those without `src`).
pub fn inline_scripts(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else {
            break;
        };
        let tag = &after[..open_end];
        let body_start = open_end + 1;
        let Some(close) = after[body_start..].find("</script>") else {
            break;
        };
        if !tag.contains(" src=") {
            out.push(&after[body_start..body_start + close]);
        }
        rest = &after[body_start + close + "</script>".len()..];
    }
    out
}

/// A CSP source for a script body: `sha256-` and the base64 digest.
pub fn script_hash(body: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, body.as_bytes());
    format!("sha256-{}", STANDARD.encode(digest.as_ref()))
}

/// Sign-in attempts per client address in a sliding window.
#[derive(Debug)]
pub struct SignInLimiter {
    limit: u32,
    window: Duration,
    seen: Mutex<HashMap<Option<IpAddr>, VecDeque<Instant>>>,
}

impl SignInLimiter {
    pub fn new(limit: u32, window: Duration) -> SignInLimiter {
        SignInLimiter {
            limit,
            window,
            seen: Mutex::default(),
        }
    }

    /// Counts an attempt; `Err(wait)` when the address is over its limit.
    pub fn attempt(&self, from: Option<IpAddr>) -> Result<(), Duration> {
        let now = Instant::now();
        let mut seen = self.seen.lock().expect("sign-in limiter poisoned");
        // Forget quiet addresses so the map cannot grow without bound.
        if seen.len() > 10_000 {
            seen.retain(|_, times| times.back().is_some_and(|t| now - *t < self.window));
        }
        let times = seen.entry(from).or_default();
        while times.front().is_some_and(|t| now - *t >= self.window) {
            times.pop_front();
        }
        if times.len() >= self.limit as usize {
            let oldest = *times.front().expect("over a limit of at least one");
            return Err(self.window.saturating_sub(now - oldest));
        }
        times.push_back(now);
        Ok(())
    }
}

/// index.html with the app's base at the site's root.
pub fn rooted(html: &str) -> String {
    // `../` is the customer's own entry, one folder down (`my/index.html`).
    for relative in [r#"<base href="./""#, r#"<base href="../""#] {
        if html.contains(relative) {
            return html.replacen(relative, r#"<base href="/""#, 1);
        }
    }
    html.to_string()
}

#[cfg(test)]
mod tests {
    use super::{STREAMS_PER_ADDRESS, STREAMS_PER_SESSION, StreamLimiter, StreamsFull};

    /// Streams are counted per session and per client address; closing one
    /// frees both places.
    #[test]
    fn streams_are_capped_per_session_and_per_address() {
        let limiter = StreamLimiter::default();
        let here = Some("203.0.113.9".parse().unwrap());
        let there = Some("198.51.100.1".parse().unwrap());
        let mut open = Vec::new();
        for i in 0..STREAMS_PER_ADDRESS {
            let session = format!("s{}", i / STREAMS_PER_SESSION);
            open.push(limiter.open(&session, here).unwrap());
        }
        let extra = format!("s{}", STREAMS_PER_ADDRESS / STREAMS_PER_SESSION + 1);
        assert_eq!(
            limiter.open(&extra, here).unwrap_err(),
            StreamsFull::Address
        );
        let other = limiter.open(&extra, there).unwrap();
        assert_eq!(limiter.open("s0", there).unwrap_err(), StreamsFull::Session);
        drop(open.pop());
        let again = limiter.open(&extra, here).unwrap();
        drop((again, other, open));
        assert!(limiter.0.lock().unwrap().is_empty(), "every place freed");
    }

    /// Behind a reverse proxy that rewrites `Host`, the public URL names the
    /// proxy's own pages; nothing else but the CORS list is allowed to write.
    #[test]
    fn writes_come_from_the_proxys_own_pages_or_allowed_origins() {
        let policy = super::Policy::new(&["https://portal.example".to_string()], &[], 30);
        let public = Some("https://costs.partner.example/");
        for (origin, host, public_url, ok) in [
            ("http://127.0.0.1:8080", Some("127.0.0.1:8080"), None, true),
            (
                "https://costs.partner.example",
                Some("10.0.0.5:8080"),
                public,
                true,
            ),
            (
                "https://portal.example",
                Some("10.0.0.5:8080"),
                public,
                true,
            ),
            ("https://evil.example", Some("10.0.0.5:8080"), public, false),
            (
                "https://costs.partner.example.evil",
                Some("10.0.0.5:8080"),
                public,
                false,
            ),
            ("null", Some("127.0.0.1:8080"), None, false),
            ("http://127.0.0.1:1", Some("127.0.0.1:8080"), None, false),
        ] {
            assert_eq!(
                policy.may_write_from(origin, host, public_url),
                ok,
                "{origin}"
            );
        }
    }

    #[test]
    fn the_sign_in_returns_only_to_this_app() {
        let policy = super::Policy::new(&["http://127.0.0.1:9000".to_string()], &[], 30);
        for ok in [
            "/",
            "/customers/42?from=2026-11-01",
            "http://127.0.0.1:9000/tools/costs/",
            "http://127.0.0.1:9000",
            "http://127.0.0.1:8080/onboarding",
        ] {
            assert!(policy.may_return_to(ok, "http://127.0.0.1:8080"), "{ok}");
        }
        for bad in [
            "//evil.example.com/",
            "/\\evil.example.com",
            "https://evil.example.com/",
            "http://127.0.0.1:9000.evil.example.com/",
            "http://127.0.0.1:90001/",
            "http://127.0.0.1:80801/",
            "javascript:alert(1)",
            "/ok\nSet-Cookie: x",
        ] {
            assert!(!policy.may_return_to(bad, "http://127.0.0.1:8080"), "{bad}");
        }
    }

    #[test]
    fn the_own_entry_gets_its_base_at_the_root_too() {
        let html = r#"<head><base href="../" /><link rel="modulepreload" href="../own-1.js">"#;
        assert_eq!(
            super::rooted(html),
            r#"<head><base href="/" /><link rel="modulepreload" href="../own-1.js">"#
        );
    }

    #[test]
    fn deep_links_get_the_page_with_its_base_at_the_root() {
        let html =
            r#"<head><base href="./" /><script type="module">import init from './a.js';</script>"#;
        assert_eq!(
            super::rooted(html),
            r#"<head><base href="/" /><script type="module">import init from './a.js';</script>"#
        );
    }

    use super::*;

    #[test]
    fn inline_scripts_are_found_and_hashed() {
        let html = r#"<html><head><script src="/a.js"></script>
<script type="module">import init from '/app.js'; init();</script></head></html>"#;
        assert_eq!(
            inline_scripts(html),
            vec!["import init from '/app.js'; init();"]
        );
        // The digest of "alert(1)" as browsers compute it.
        assert_eq!(
            script_hash("alert(1)"),
            "sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI="
        );
    }

    #[test]
    fn sign_ins_are_limited_per_address() {
        let limiter = SignInLimiter::new(2, Duration::from_secs(60));
        let a = Some("10.0.0.1".parse().unwrap());
        let b = Some("10.0.0.2".parse().unwrap());
        assert!(limiter.attempt(a).is_ok());
        assert!(limiter.attempt(a).is_ok());
        let wait = limiter.attempt(a).unwrap_err();
        assert!(wait > Duration::from_secs(58) && wait <= Duration::from_secs(60));
        assert!(
            limiter.attempt(b).is_ok(),
            "another address has its own count"
        );
    }

    #[test]
    fn the_policy_names_the_allowed_origins() {
        let p = Policy::new(
            &["https://portal.contoso.example/, https://costs.contoso.example".into()],
            &[],
            30,
        );
        assert_eq!(
            p.cors_origins,
            vec![
                "https://portal.contoso.example",
                "https://costs.contoso.example"
            ]
        );
        let csp = p.content_security_policy(Path::new("/nonexistent"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("connect-src 'self' https://portal.contoso.example"));
        assert!(!csp.contains("unsafe-inline"));
    }
}
