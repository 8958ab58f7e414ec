//! The listener: accepts connections on 127.0.0.1, serves each over HTTP/1.1 with hyper, drops
//! a connection when a fault rule says so, and shuts down cleanly.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch as signal;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::catalog::Catalog;
use crate::faults::Faults;
use crate::persistence::{Journal, Snapshot};
use crate::profiles::Profile;
use crate::state::State;
use crate::tls::{HANDSHAKE, Tls};
use crate::{Error, Options, Running};

/// Marks a response that must not be sent: the connection is closed instead.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by a kubesim fault rule")
    }
}

impl std::error::Error for DropConnection {}

/// What every request handler shares.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
    /// The bearer token.
    pub(crate) token: String,
    /// Fault rules.
    pub(crate) faults: Faults,
    /// Becomes `true` at shutdown.
    pub(crate) shutdown: signal::Receiver<bool>,
    /// `127.0.0.1:<port>`, as `/api` reports it.
    pub(crate) server_address: String,
    /// The profile served.
    pub(crate) profile: Profile,
}

impl Shared {
    /// Everything the handlers share.
    pub(crate) fn new(
        state: State,
        token: String,
        faults: Faults,
        shutdown: signal::Receiver<bool>,
        server_address: String,
        profile: Profile,
    ) -> Self {
        Self {
            state: Mutex::new(state),
            token,
            faults,
            shutdown,
            server_address,
            profile,
        }
    }

    /// The state, locked. Never held across an await.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent data: every write is a single
        // insert or remove at the end of an operation.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The catalog served right now.
    pub(crate) fn catalog(&self) -> Arc<Catalog> {
        self.lock().catalog()
    }
}

impl crate::watch::Source for Shared {
    fn current_rv(&self) -> u64 {
        self.lock().resource_version()
    }
}

/// Stops the server.
#[derive(Debug)]
pub(crate) struct Handle {
    stop: signal::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    shared: Arc<Shared>,
}

impl Handle {
    /// Stops accepting, ends connections and watches, and flushes persistence.
    pub(crate) async fn shutdown(self) {
        // Receivers live in `shared`, so the send cannot fail while we hold it.
        let _ = self.stop.send(true);
        let _ = self.task.await;
        self.shared.lock().close_journal();
    }
}

/// Binds, loads the data directory and starts serving.
pub(crate) async fn start(options: Options) -> Result<Running, Error> {
    let (start, end) = (
        *options.node_port_range.start(),
        *options.node_port_range.end(),
    );
    if start > end {
        return Err(Error::NodePortRange { start, end });
    }
    let (journal, snapshot) = match &options.data_dir {
        Some(dir) => {
            let dir = dir.clone();
            let opened = tokio::task::spawn_blocking(move || Journal::open(&dir))
                .await
                .map_err(|err| Error::Persistence {
                    path: options.data_dir.clone().unwrap_or_default(),
                    source: std::io::Error::other(err.to_string()),
                })??;
            (Some(opened.0), opened.1)
        }
        None => (None, Snapshot::default()),
    };
    let listener = TcpListener::bind(("127.0.0.1", options.port))
        .await
        .map_err(|source| Error::Bind {
            port: options.port,
            source,
        })?;
    let port = listener
        .local_addr()
        .map_err(|source| Error::Bind {
            port: options.port,
            source,
        })?
        .port();
    let tls = Tls::generate()?;
    let ca_pem = tls.ca_pem.clone();
    let state = State::new(
        options.profile,
        options.node_port_range.clone(),
        options.token.clone(),
        ca_pem.clone(),
        snapshot,
        journal,
    );
    let (stop, shutdown) = signal::channel(false);
    let faults = Faults::default();
    let shared = Arc::new(Shared::new(
        state,
        options.token.clone(),
        faults.clone(),
        shutdown.clone(),
        format!("127.0.0.1:{port}"),
        options.profile,
    ));
    let router = crate::handlers::router(Arc::clone(&shared));
    let task = tokio::spawn(accept_loop(listener, router, tls, shutdown));
    Ok(Running {
        port,
        token: options.token,
        ca_pem,
        faults,
        handle: Handle { stop, task, shared },
    })
}

async fn accept_loop(
    listener: TcpListener,
    router: axum::Router,
    tls: Tls,
    mut shutdown: signal::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                match accepted {
                    Ok((stream, _)) => {
                        // Small request/response pairs: do not wait to fill packets.
                        let _ = stream.set_nodelay(true);
                        connections.spawn(serve_connection(stream, router.clone(), tls.clone(), shutdown.clone()));
                    }
                    Err(err) => {
                        tracing::warn!(%err, "kubesim could not accept a connection");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
            _ = shutdown.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(Duration::from_secs(2), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.abort_all();
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    router: axum::Router,
    tls: Tls,
    shutdown: signal::Receiver<bool>,
) {
    // One port speaks both: a TLS handshake starts with its record type, HTTP with a method.
    let mut first = [0u8; 1];
    let is_tls = matches!(stream.peek(&mut first).await, Ok(1) if first[0] == HANDSHAKE);
    if is_tls {
        match tls.acceptor.accept(stream).await {
            Ok(stream) => serve_http(TokioIo::new(stream), router, shutdown).await,
            Err(err) => tracing::debug!(%err, "kubesim TLS handshake failed"),
        }
    } else {
        serve_http(TokioIo::new(stream), router, shutdown).await;
    }
}

async fn serve_http<I>(io: I, router: axum::Router, mut shutdown: signal::Receiver<bool>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let router = router.clone();
        async move {
            let response = match router.oneshot(request.map(Body::new)).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            if response.extensions().get::<DropConnection>().is_some() {
                // An error from the service makes hyper close the connection unanswered.
                return Err(DropConnection);
            }
            Ok(response)
        }
    });
    let connection = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        _ = shutdown.changed() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

#[cfg(test)]
mod tests;
