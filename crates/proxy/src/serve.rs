//! The accept loop: hyper's connection builder under a cap on connections,
//! with a deadline for each request's head. `axum::serve` has neither, so
//! a client that opens connections and sends half a request (or nothing)
//! could hold every file the process may open, and a signed-in person's
//! request would then wait for ever.
//!
//! At the cap, the oldest connection with no request being answered (one
//! still sending its head, or a kept-alive one between requests) is closed
//! to make room, as web servers reclaim idle keep-alive connections: a
//! client that floods connections costs others at most a reconnect, never
//! an answer under way.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};
use tower::{Service, ServiceExt};

/// Files kept free for the store, upstream connections and the SPA's files
/// when the connection cap comes from the open-file limit.
const FILES_KEPT_FREE: u64 = 256;

/// How long an idle connection asked to close may take before it is dropped.
const CLOSING_IDLE: Duration = Duration::from_millis(200);

/// How long connections may take to finish after a shutdown is asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What clients may hold of the server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// From a connection's first byte (or its last answer) to the end of
    /// the next request's head.
    pub header_read: Duration,
    /// Connections open at once.
    pub connections: usize,
}

impl Limits {
    /// `connections` given, or what the open-file limit leaves room for.
    pub fn new(header_read: Duration, connections: Option<usize>) -> Limits {
        let connections = connections.unwrap_or_else(|| {
            let files = raise_open_file_limit();
            files.saturating_sub(FILES_KEPT_FREE).clamp(32, 100_000) as usize
        });
        Limits {
            header_read,
            connections: connections.max(1),
        }
    }
}

impl Default for Limits {
    /// Ten seconds for a request's head, the cap from the open-file limit.
    fn default() -> Limits {
        Limits::new(Duration::from_secs(10), None)
    }
}

/// Raises this process's soft limit on open files to its hard limit (a
/// service's limit is often 1,024 soft and far more hard) and returns the
/// limit in force.
#[allow(unsafe_code)]
pub fn raise_open_file_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write `limit` and
    // `raised`, plain structs owned by this frame.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    // rlim_t is u64 here, another width elsewhere.
    #[allow(clippy::unnecessary_cast)]
    let files = limit.rlim_cur as u64;
    files
}

/// How long a kept-alive connection may wait for its next request.
const KEEP_ALIVE_IDLE: Duration = Duration::from_secs(60);

/// One open connection: the answers it is sending, since when it has sent
/// none, and a bell that asks it to close once none is under way.
struct Connection {
    answering: AtomicUsize,
    /// When its last answer ended, or it was accepted; and whether any
    /// request came at all.
    idle_since: Mutex<(Instant, bool)>,
    close: Notify,
}

impl Connection {
    fn new() -> Connection {
        Connection {
            answering: AtomicUsize::new(0),
            idle_since: Mutex::new((Instant::now(), false)),
            close: Notify::new(),
        }
    }

    fn idle(&self) -> bool {
        self.answering.load(Ordering::Acquire) == 0
    }

    /// Resolves once the connection has been idle too long: a request head
    /// must come within `first` of connecting (hyper's own header timeout
    /// starts only at its first byte), the next one within
    /// [`KEEP_ALIVE_IDLE`] of the last answer.
    async fn idle_too_long(&self, first: Duration) {
        loop {
            let (since, used) = *self.idle_since.lock().expect("poisoned");
            let limit = if used { KEEP_ALIVE_IDLE } else { first };
            let left = (since + limit).saturating_duration_since(Instant::now());
            let idle = self.idle();
            if idle && left.is_zero() {
                return;
            }
            // While an answer is under way (an event stream, for hours),
            // look again after a whole limit, not in a tight loop; its end
            // restarts the idle time, so the next look is still on time.
            let wait = if idle { left } else { limit };
            tokio::time::sleep(wait.max(Duration::from_millis(100))).await;
        }
    }
}

/// The open connections, oldest first.
#[derive(Default)]
struct Connections(Mutex<BTreeMap<u64, Arc<Connection>>>);

impl Connections {
    fn add(&self, id: u64) -> Arc<Connection> {
        let connection = Arc::new(Connection::new());
        self.lock().insert(id, connection.clone());
        connection
    }

    fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Asks the oldest connection that is answering nothing to close (none
    /// when every connection is answering).
    fn close_oldest_idle(&self) {
        if let Some(idle) = self.lock().values().find(|c| c.idle()) {
            idle.close.notify_one();
        }
    }

    fn close_all(&self) {
        for c in self.lock().values() {
            c.close.notify_one();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Connection>>> {
        self.0.lock().expect("connections poisoned")
    }
}

/// Counts an answer as under way until its body has been sent (or dropped).
struct Answering(Arc<Connection>);

impl Answering {
    fn new(connection: &Arc<Connection>) -> Answering {
        connection.answering.fetch_add(1, Ordering::AcqRel);
        Answering(connection.clone())
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        // The idle time starts again before the count says idle.
        *self.0.idle_since.lock().expect("poisoned") = (Instant::now(), true);
        self.0.answering.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its connection counted as answering.
struct CountedBody {
    inner: Body,
    _answering: Answering,
}

impl http_body::Body for CountedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets open
/// connections finish for a few seconds.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    // The client's address is known to the sign-in limit.
    let mut make_service = app.into_make_service_with_connect_info::<SocketAddr>();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read);
    let builder = Arc::new(builder);
    let places = Arc::new(Semaphore::new(limits.connections));
    let open = Arc::new(Connections::default());
    tokio::pin!(shutdown);
    for id in 0u64.. {
        let place = match places.clone().try_acquire_owned() {
            Ok(place) => place,
            Err(_) => {
                // At the cap: make room by closing an idle connection, or
                // wait (new connections queue in the kernel meanwhile).
                open.close_oldest_idle();
                tokio::select! {
                    place = places.clone().acquire_owned() => place.expect("never closed"),
                    () = &mut shutdown => break,
                }
            }
        };
        let (socket, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of files or the like: try again in a moment
                    // rather than spin (what axum::serve does too).
                    tracing::warn!(error = %e, "accepting a connection failed");
                    open.close_oldest_idle();
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // A response written in two parts (head, then body) would otherwise
        // wait for the client's delayed ACK, about 40 ms per request.
        if let Err(e) = socket.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
        let router = match make_service.call(remote).await {
            Ok(router) => router,
            Err(never) => match never {},
        };
        let connection = open.add(id);
        let counted = {
            let connection = connection.clone();
            tower::service_fn(move |request: Request<hyper::body::Incoming>| {
                let answering = Answering::new(&connection);
                let router = router.clone();
                async move {
                    let response = router.oneshot(request).await?;
                    Ok::<Response, std::convert::Infallible>(response.map(|inner| {
                        Body::new(CountedBody {
                            inner,
                            _answering: answering,
                        })
                    }))
                }
            })
        };
        let builder = builder.clone();
        let open = open.clone();
        let header_read = limits.header_read;
        tokio::spawn(async move {
            let serving = builder.serve_connection_with_upgrades(
                TokioIo::new(socket),
                TowerToHyperService::new(counted),
            );
            tokio::pin!(serving);
            let result = tokio::select! {
                result = serving.as_mut() => result,
                () = async {
                    tokio::select! {
                        () = connection.close.notified() => {}
                        () = connection.idle_too_long(header_read) => {}
                    }
                } => {
                    // Finishes an answer under way, then closes; a client
                    // still sending a head gets a moment, then the socket
                    // is dropped (no answer is under way on it).
                    serving.as_mut().graceful_shutdown();
                    loop {
                        tokio::select! {
                            result = serving.as_mut() => break result,
                            () = tokio::time::sleep(CLOSING_IDLE) => {
                                if connection.idle() {
                                    break Ok(());
                                }
                            }
                        }
                    }
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, %remote, "connection ended with an error");
            }
            open.remove(id);
            drop(place);
        });
    }
    drop(listener);
    open.close_all();
    let everyone = u32::try_from(limits.connections).unwrap_or(u32::MAX);
    tokio::select! {
        _ = places.acquire_many(everyone) => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::info!("connections still open after the grace period are dropped");
        }
    }
}
