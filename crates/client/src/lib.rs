//! Kubernetes clients with godwit's one request policy.
//!
//! kube's own retry layer (429, 503 and 504, fifteen times) is switched off, and this crate's
//! is put in its place, in front of every request a godwit client sends: a throttled request
//! (429) waits at least what the API server's `Retry-After` asks, a server error (500, 502,
//! 503, 504) and a connection dropped before the answer are tried again after an exponential
//! backoff with jitter, up to [`RequestPolicy::max_attempts`]. The engines above never retry on
//! their own, so a request is retried in exactly one place, and the count of retries is there
//! to read ([`Retries`]).
//!
//! Throttling is shared: a 429 from the API server (API Priority and Fairness rejecting a
//! request) pauses every request of the client for the `Retry-After` it names, not only the one
//! that was refused, so a restore with many requests in flight backs off together instead of
//! sending its other requests into the same refusal.
//!
//! Connections are made with Nagle's algorithm off (`TCP_NODELAY`), which kube 5 leaves on
//! (kube-rs issue 2056): with it on, the first request on every new connection waited out the
//! API server's delayed ACK, about 40 ms, behind the TLS handshake's last message, and any
//! request written in two parts could wait the same. Behind a proxy (`proxy-url` in the
//! kubeconfig) kube's own stack is used unchanged.
//!
//! A create retried after a dropped connection may have been applied the first time; callers
//! that create objects treat `AlreadyExists` accordingly (the restore checks the object's
//! restore label).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http::{Request, Response, StatusCode};
use kube::client::{Body, ClientBuilder};
use tower::BoxError;
use tower::retry::{Policy, RetryLayer};

/// Requests queued in front of kube's stack behind a `proxy-url` (far above any in-flight
/// limit godwit uses).
const BUFFER: usize = 1024;

/// How requests are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestPolicy {
    /// Attempts per request, the first included. Default 8.
    pub max_attempts: u32,
    /// The first retry waits about this long (doubling each time). Default 50 ms.
    pub initial_backoff: Duration,
    /// Waits never exceed this, unless the server asks for longer. Default 5 s.
    pub max_backoff: Duration,
}

impl Default for RequestPolicy {
    fn default() -> Self {
        RequestPolicy {
            max_attempts: 8,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// How many retries the clients sharing it have made.
#[derive(Debug, Clone, Default)]
pub struct Retries(Arc<AtomicU64>);

impl Retries {
    /// The retries made so far.
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// What an attempt came to, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The server answered with this status code, and this `Retry-After` (in seconds).
    Status(u16, Option<u64>),
    /// No answer: the connection failed or was dropped.
    NoAnswer,
}

impl RequestPolicy {
    /// The wait before attempt `attempt + 1`, or `None` when the answer is final or the
    /// attempts are spent.
    pub fn next_wait(&self, attempt: u32, answer: Answer) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let retry_after = match answer {
            Answer::Status(429, retry_after) => retry_after.map(Duration::from_secs),
            Answer::Status(500 | 502 | 503 | 504, _) | Answer::NoAnswer => None,
            Answer::Status(..) => return None,
        };
        Some(self.backoff(attempt, retry_after))
    }

    /// `initial * 2^(attempt-1)` capped at the maximum, jittered over its upper half so
    /// concurrent requests spread out; at least the server's `Retry-After`.
    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exponent = attempt.saturating_sub(1).min(20);
        let base = self
            .initial_backoff
            .saturating_mul(1u32 << exponent)
            .min(self.max_backoff);
        let jittered = base / 2 + base.mul_f64(random_fraction() / 2.0);
        retry_after.map_or(jittered, |server| server.max(jittered))
    }
}

/// A number in [0, 1) that differs per call, without a random-number crate: std's hasher keys
/// are random per `RandomState`.
fn random_fraction() -> f64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u8(0);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// When the client's requests may go again after a 429; shared by all of them.
#[derive(Debug, Clone, Default)]
struct Pause(Arc<std::sync::Mutex<Option<tokio::time::Instant>>>);

impl Pause {
    /// Holds every request until `until` at least.
    fn extend(&self, until: tokio::time::Instant) {
        let mut paused = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }

    /// The time requests wait for, if it is still ahead.
    fn until(&self) -> Option<tokio::time::Instant> {
        let paused = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        paused.filter(|until| *until > tokio::time::Instant::now())
    }
}

/// Holds each request while the client is paused, then sends it.
#[derive(Clone)]
struct Paused<S> {
    inner: S,
    pause: Pause,
}

impl<S, Req> tower::Service<Req> for Paused<S>
where
    S: tower::Service<Req> + Clone + Send + 'static,
    S::Future: Send + 'static,
    Req: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        let Some(until) = self.pause.until() else {
            return Box::pin(self.inner.call(request));
        };
        // The ready inner service is taken for this call; a fresh clone serves the next.
        let fresh = self.inner.clone();
        let mut ready = std::mem::replace(&mut self.inner, fresh);
        Box::pin(async move {
            tokio::time::sleep_until(until).await;
            ready.call(request).await
        })
    }
}

/// The layer of [`Paused`].
#[derive(Clone)]
struct PausedLayer(Pause);

impl<S> tower::Layer<S> for PausedLayer {
    type Service = Paused<S>;

    fn layer(&self, inner: S) -> Paused<S> {
        Paused {
            inner,
            pause: self.0.clone(),
        }
    }
}

/// The tower retry policy of one request (tower clones it per request).
#[derive(Clone)]
struct Retrying {
    policy: RequestPolicy,
    attempt: u32,
    retries: Retries,
    pause: Pause,
}

impl<B> Policy<Request<Body>, Response<B>, BoxError> for Retrying {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        request: &mut Request<Body>,
        result: &mut Result<Response<B>, BoxError>,
    ) -> Option<Self::Future> {
        self.attempt += 1;
        let answer = match result {
            Ok(response) => Answer::Status(
                response.status().as_u16(),
                response
                    .headers()
                    .get(http::header::RETRY_AFTER)
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.trim().parse().ok()),
            ),
            Err(_) => Answer::NoAnswer,
        };
        if matches!(answer, Answer::Status(code, _) if code < 400) {
            return None;
        }
        let wait = self.policy.next_wait(self.attempt, answer)?;
        self.retries.0.fetch_add(1, Ordering::Relaxed);
        if let Answer::Status(429, Some(seconds)) = answer {
            // The server asked for a pause: every request of the client takes it.
            self.pause
                .extend(tokio::time::Instant::now() + Duration::from_secs(seconds));
        }
        let outcome = match result {
            Ok(response) if response.status() == StatusCode::TOO_MANY_REQUESTS => "throttled",
            Ok(_) => "server error",
            Err(_) => "no answer",
        };
        tracing::debug!(
            method = %request.method(),
            uri = %request.uri(),
            attempt = self.attempt,
            ?wait,
            outcome,
            "retrying a request"
        );
        Some(tokio::time::sleep(wait))
    }

    fn clone_request(&mut self, request: &Request<Body>) -> Option<Request<Body>> {
        // Streaming bodies cannot be sent twice; kube sends none for API calls.
        let body = request.body().try_clone()?;
        let mut copy = Request::builder()
            .method(request.method().clone())
            .uri(request.uri().clone())
            .version(request.version())
            .body(body)
            .ok()?;
        *copy.headers_mut() = request.headers().clone();
        *copy.extensions_mut() = request.extensions().clone();
        Some(copy)
    }
}

/// A client for `config` that retries by `policy` (and by nothing else), counting its retries
/// into `retries`.
pub fn client(
    mut config: kube::Config,
    policy: RequestPolicy,
    retries: &Retries,
) -> Result<kube::Client, kube::Error> {
    config.default_retry = false;
    let pause = Pause::default();
    let layer = RetryLayer::new(Retrying {
        policy,
        attempt: 0,
        retries: retries.clone(),
        pause: pause.clone(),
    });
    // Retrying sends a request again through the inner service, which `stack` makes
    // cloneable. Every attempt, the first and the retries, waits out a pause.
    Ok(stack(config)?
        .with_layer(&PausedLayer(pause))
        .with_layer(&layer)
        .build())
}

/// kube's client without any retry layer, with `TCP_NODELAY` on its connections: what a bare
/// client (a benchmark's baseline) should be.
pub fn plain(config: kube::Config) -> Result<kube::Client, kube::Error> {
    Ok(stack(config)?.build())
}

/// The response body of [`stack`].
type BoxBody = Box<dyn http_body::Body<Data = bytes::Bytes, Error = BoxError> + Send + Unpin>;

/// The service under a godwit client: kube's `GenericService`, but cloneable, so the retry
/// layer can send a request again without a buffer (a task and a channel hop per request) in
/// between.
type Stack = tower::util::BoxCloneService<Request<Body>, Response<BoxBody>, BoxError>;

/// kube's client stack (`ClientBuilder::try_from`) with `TCP_NODELAY` on its connections: the
/// same connector (TLS from the kubeconfig, its timeouts), base URI, authentication and extra
/// headers, without kube's retry layer (off in godwit) and request tracing spans.
fn stack(config: kube::Config) -> Result<ClientBuilder<Stack>, kube::Error> {
    use http_body_util::BodyExt as _;
    use kube::client::ConfigExt as _;
    use tower::ServiceExt as _;

    if config.proxy_url.is_some() {
        // kube's own stack behind a proxy; it is not cloneable, so a buffer makes it so.
        return Ok(
            ClientBuilder::try_from(config)?.with_layer(&tower::layer::layer_fn(|service| {
                Stack::new(tower::buffer::Buffer::new(service, BUFFER))
            })),
        );
    }
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.enforce_http(false);
    connector.set_nodelay(true);
    let mut connector = hyper_timeout::TimeoutConnector::new(
        config.rustls_https_connector_with_connector(connector)?,
    );
    connector.set_connect_timeout(config.connect_timeout);
    connector.set_read_timeout(config.read_timeout);
    connector.set_write_timeout(config.write_timeout);
    connector.set_reset_reader_on_write(config.reset_reader_on_write);
    let client: hyper_util::client::legacy::Client<_, Body> =
        hyper_util::client::legacy::Builder::new(hyper_util::rt::TokioExecutor::new())
            .build(connector);
    let service = tower::ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .map_err(BoxError::from)
        .service(client)
        .map_response(|response: Response<hyper::body::Incoming>| {
            response.map(|body| Box::new(body.map_err(BoxError::from)) as BoxBody)
        })
        .boxed_clone();
    Ok(ClientBuilder::new(service, config.default_namespace))
}

/// A client for the current context of a kubeconfig's text, with the default policy.
pub async fn from_kubeconfig_yaml(
    yaml: &str,
    policy: RequestPolicy,
    retries: &Retries,
) -> Result<kube::Client, kube::Error> {
    let kubeconfig = kube::config::Kubeconfig::from_yaml(yaml)?;
    let config = kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &kube::config::KubeConfigOptions::default(),
    )
    .await?;
    client(config, policy, retries)
}

#[cfg(test)]
mod tests;
