//! The key sealing app keys at rest: rotated, every stored key opens with
//! the new one and no longer with the old, and the store never holds a key
//! in plain text.

mod common;

use common::{config, upstream};
use proxy::AppState;
use proxy::cli::rotate_sealing_key;
use proxy::crypto::Sealer;
use proxy::onboarding::seal_context;
use proxy::secret::Secret;

#[tokio::test]
async fn a_rotated_sealing_key_reseals_every_stored_app_key() {
    let up = upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    let c = config(&up, data.path());
    let other = up
        .emulator
        .demo()
        .partners
        .into_iter()
        .find(|p| p.tenant_id != up.credentials.tenant)
        .unwrap();
    let app_id = "0f8fad5b-d9cb-469f-a165-70867728950e";
    let value = "an-app-key-value-that-must-stay-secret";
    let (partner, before) = {
        let state = AppState::new(&c).await.unwrap();
        let partner = state.store.partner(&other.tenant_id).await.unwrap();
        let sealed = state.sealer.seal(
            &Secret::new(value.to_string()),
            &seal_context(&other.tenant_id, app_id),
        );
        state
            .store
            .set_connection(partner, app_id, &sealed)
            .await
            .unwrap();
        (partner, sealed)
    };
    let key_file = c.key_file();
    let old_text = std::fs::read_to_string(&key_file).unwrap();

    let store = common::open_store(data.path()).await;
    let report = rotate_sealing_key(&store, &key_file).await.unwrap();
    assert!(report.starts_with("1 app key(s) sealed"), "{report}");
    drop(store);

    let new_text = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(new_text, old_text);
    let old_file = key_file.with_extension("key.old");
    assert_eq!(std::fs::read_to_string(&old_file).unwrap(), old_text);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the new key file is private");
    }

    // A restart opens the resealed key with the new file...
    let state = AppState::new(&c).await.unwrap();
    let connection = state
        .connection_of(partner)
        .await
        .expect("the stored connection opened");
    assert_eq!(connection.credentials.secret.expose(), value);
    // ...and the old key no longer opens what is stored.
    let sealed = state
        .store
        .connections()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.partner_id == partner)
        .unwrap()
        .sealed_secret;
    assert_ne!(sealed, before);
    let old = Sealer::from_base64(&old_text).unwrap();
    assert!(
        old.open(&sealed, &seal_context(&other.tenant_id, app_id))
            .is_err()
    );
    // Nowhere in the store in plain text.
    for entry in std::fs::read_dir(data.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().contains("sqlite") {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(value.len()).any(|w| w == value.as_bytes()),
                "{}",
                path.display()
            );
        }
    }
}

#[tokio::test]
async fn sessions_expire_and_their_tokens_are_long_and_random() {
    let up = upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    let mut c = config(&up, data.path());
    c.session_hours = 0; // a sign-in that has already run out
    let state = AppState::new(&c).await.unwrap();
    let tokens: Vec<String> = futures_util::future::join_all((0..3).map(|_| {
        proxy::identity::open_session(
            &state.identity,
            &state.store,
            &up.credentials.tenant,
            "a@b.example",
            &[],
        )
    }))
    .await
    .into_iter()
    .map(Result::unwrap)
    .collect();
    // 32 random bytes, URL-safe base64: 43 characters, all different.
    assert!(tokens.iter().all(|t| t.len() >= 43));
    assert_ne!(tokens[0], tokens[1]);
    let client = common::client_as(&state, &[]).await;
    let base = common::serve(state, data.path()).await;
    // Expired: nobody is signed in, and a page of data is refused.
    let res = client
        .get(format!("{base}/api/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = client
        .get(format!("{base}/api/customers"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let e: model::api::ErrorBody = res.json().await.unwrap();
    assert_eq!(e.error.code, "not_signed_in");
}

/// The store and its directory are the proxy's user's alone: other users
/// of the machine read neither the costs nor the sealed keys.
#[cfg(unix)]
#[tokio::test]
async fn the_store_is_created_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let up = upstream("2026-11-20").await;
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("store");
    let state = AppState::new(&config(&up, &data)).await.unwrap();
    // A write, so that the WAL file exists too.
    state
        .store
        .partner("tenant-for-the-mode-test")
        .await
        .unwrap();
    if common::test_database(&data).is_some() {
        // The store is PostgreSQL's: nothing of it is written here.
        assert!(!data.join("proxy.sqlite3").exists());
        return;
    }
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the directory");
    for name in ["proxy.sqlite3", "proxy.sqlite3-wal", "proxy.sqlite3-shm"] {
        let path = data.join(name);
        if name == "proxy.sqlite3" || path.exists() {
            assert_eq!(mode(&path), 0o600, "{name}");
        }
    }
    assert!(
        data.join("proxy.sqlite3-wal").exists(),
        "WAL mode writes a -wal file"
    );
}

/// A stored key that does not open (sealed with another key) costs its own
/// partner only: the proxy starts and serves the others.
#[tokio::test]
async fn a_key_that_does_not_open_costs_only_its_partner() {
    let up = upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    let c = config(&up, data.path());
    let other = up
        .emulator
        .demo()
        .partners
        .into_iter()
        .find(|p| p.tenant_id != up.credentials.tenant)
        .unwrap();
    let app_id = "0f8fad5b-d9cb-469f-a165-70867728950e";
    let partner = {
        let state = AppState::new(&c).await.unwrap();
        let partner = state.store.partner(&other.tenant_id).await.unwrap();
        let stranger = Sealer::from_base64(&base64_key(7)).unwrap();
        let sealed = stranger.seal(
            &Secret::new("sealed-with-another-key".to_string()),
            &seal_context(&other.tenant_id, app_id),
        );
        state
            .store
            .set_connection(partner, app_id, &sealed)
            .await
            .unwrap();
        partner
    };
    let state = AppState::new(&c).await.expect("the proxy starts");
    assert!(state.connection_of(partner).await.is_none());
    let configured = state.connection.as_ref().unwrap().partner;
    assert!(
        state.connection_of(configured).await.is_some(),
        "the others are served"
    );
}

fn base64_key(byte: u8) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode([byte; 32])
}

/// `proxy key rotate` beside a running proxy would reseal the keys under it
/// (the proxy keeps using the old key it has in memory): refused, and the
/// key file untouched; once the proxy is stopped, it rotates.
#[tokio::test]
async fn the_sealing_key_is_not_rotated_under_a_running_proxy() {
    let up = upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    let key_file = config(&up, data.path()).key_file();
    let rotate = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_proxy"))
            .args(["key", "rotate"])
            .env("PROXY_DATA_DIR", data.path())
            .env_remove("PROXY_SECRET_KEY")
            .output()
            .unwrap()
    };
    let proxy = common::start_proxy(env!("CARGO_BIN_EXE_proxy"), &up, data.path(), None).await;
    let before = std::fs::read_to_string(&key_file).unwrap();
    let refused = rotate();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("a proxy is serving from"), "{said}");
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), before);
    drop(proxy);
    let done = rotate();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert_ne!(std::fs::read_to_string(&key_file).unwrap(), before);
}
