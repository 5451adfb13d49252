//! Connections a client may hold: the proxy binary itself, started with the
//! open-file limit many services run under (1,024), must answer a signed-in
//! person within a second while a thousand connections sit half-sent and a
//! hundred event streams are open; a request head that never ends is cut
//! off after the header timeout.

mod common;

use std::time::{Duration, Instant};

use common::{config, upstream};
use proxy::state::AppState;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Half a request head: the rest never comes.
const HALF_A_HEAD: &[u8] = b"GET /api/health HTTP/1.1\r\nHost: proxy\r\nX-Slow: ";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_request_is_answered_beside_a_thousand_idle_connections_and_a_hundred_streams()
{
    // This test holds some 2,200 sockets itself.
    assert!(proxy::serve::raise_open_file_limit() >= 4096);
    let up = upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(data.path().join("dist")).unwrap();
    std::fs::write(data.path().join("dist/index.html"), "<!doctype html>").unwrap();
    // Sessions are made through a state over the same store the proxy reads.
    let state = AppState::new(&config(&up, data.path())).await.unwrap();
    let mut people = Vec::new();
    for _ in 0..17 {
        people.push(common::admin_client(&state).await);
    }
    let proxy =
        common::start_proxy(env!("CARGO_BIN_EXE_proxy"), &up, data.path(), Some(1024)).await;
    let addr = proxy.base.trim_start_matches("http://").to_string();

    let mut idle = Vec::new();
    for _ in 0..1000 {
        let mut socket = TcpStream::connect(&addr).await.unwrap();
        socket.write_all(HALF_A_HEAD).await.unwrap();
        idle.push(socket);
    }
    // Six streams a session at most: 100 streams over 17 sessions.
    let mut streams = Vec::new();
    for i in 0..100 {
        let res = people[i / 6]
            .get(format!("{}/api/sync/events", proxy.base))
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .unwrap_or_else(|e| panic!("stream {i}: {e}"));
        assert_eq!(res.status(), 200, "stream {i}");
        streams.push(res);
    }

    let started = Instant::now();
    let res = people[16]
        .get(format!("{}/api/sync", proxy.base))
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(res.status(), 200);
    assert!(took < Duration::from_secs(1), "answered after {took:?}");
    // The streams are still open: a connection answering is never closed
    // to make room (each has sent its head and waits for events).
    let mut open = 0;
    for s in &mut streams {
        if tokio::time::timeout(Duration::from_millis(5), s.chunk())
            .await
            .map_or(true, |chunk| chunk.is_ok())
        {
            open += 1;
        }
    }
    assert_eq!(open, 100);
    drop(idle);
}

#[tokio::test]
async fn a_request_head_that_never_ends_is_cut_off() {
    let up = upstream("2026-11-20").await;
    let data = tempfile::tempdir().unwrap();
    let state = AppState::new(&config(&up, data.path())).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(proxy::serve::serve(
        listener,
        proxy::app(state, data.path().to_path_buf()),
        proxy::serve::Limits::new(Duration::from_secs(1), Some(100)),
        std::future::pending(),
    ));
    for what in ["half a head", "nothing"] {
        let mut socket = TcpStream::connect(addr).await.unwrap();
        if what == "half a head" {
            socket.write_all(HALF_A_HEAD).await.unwrap();
        }
        let started = Instant::now();
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut answer))
            .await
            .unwrap_or_else(|_| panic!("{what}: still open after 5 s"));
        assert!(read.is_ok() || answer.is_empty(), "{what}: {read:?}");
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(900),
            "{what}: closed after {took:?}, before the timeout"
        );
    }
}
