//! kubesim: a simulated Kubernetes API server for godwit's end-to-end tests and demos.
//!
//! It listens on `127.0.0.1` and wants a bearer token on every request (except `/healthz`,
//! `/livez`, `/readyz` and `/version`). One port speaks both plain HTTP (what
//! [`Running::url`] and [`Running::client`] use) and TLS with a self-signed certificate made at
//! start (what the kubeconfig from [`Running::kubeconfig_yaml`] points at, with the certificate
//! as its authority): kubectl sends bearer tokens only over TLS. It answers the way a real
//! kube-apiserver does for everything godwit touches (status codes, `Status` bodies and
//! messages, recorded from kube-apiserver 1.36 under `fixtures/apiserver/`):
//!
//! - discovery: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/<group>`, `/apis/<group>/<version>`
//!   (legacy documents), and aggregated discovery (`apidiscovery.k8s.io/v2`) for profile 1.33;
//! - the built-in resources of a [`Profile`] (Kubernetes 1.25 or 1.33, default-enabled APIs),
//!   stored generically as JSON, plus a fresh cluster's namespaces, node and `kubernetes` Service;
//! - CustomResourceDefinitions that change what is served at once, with `NamesAccepted` and
//!   `Established` conditions and `status.storedVersions`; the preferred version is the
//!   highest-priority served one; objects are read at any served version with only
//!   `apiVersion` rewritten (the `None` conversion, also used between built-in versions such as
//!   `autoscaling/v1` and `v2`); an unserved version answers a plain `404 page not found`;
//!   the version each custom object was last written at: an unchanged update of an object
//!   stored at an older version writes it again (new resourceVersion), an object stored at a
//!   version no longer in `spec.versions` answers 500 (`request to convert CR from an invalid
//!   group/version`, a 429 for an unpaged list), and a write of the CRD itself cannot drop a
//!   version `status.storedVersions` lists (a `/status` write is not checked; an empty list
//!   becomes the storage version). Which version an object is stored at is not persisted: after
//!   a restart every object counts as stored at its CRD's storage version;
//! - create (`generateName`, `dryRun=All`), get, list (label selectors, field selectors on
//!   `metadata.name`/`metadata.namespace` and a few per-resource fields, `limit`/`continue` with
//!   `remainingItemCount`; later pages show the first page's snapshot while the watch history
//!   reaches back, 16384 changes), replace (409 on a stale `resourceVersion`), JSON merge patch,
//!   JSON patch, strategic merge patch (applied as a JSON merge patch: lists are replaced, not
//!   merged by key), delete (with preconditions and finalizers), delete-collection, watch
//!   (`resourceVersion`, bookmarks every second, `timeoutSeconds`, `sendInitialEvents`), the
//!   `status` subresource (and `scale` for the built-in workloads);
//! - server-set metadata: `uid`, one `resourceVersion` counter, `creationTimestamp`,
//!   `generation`, and `managedFields` for Update operations (derived from the built-in types'
//!   shapes, see `managed_fields.rs`);
//! - Service cluster IPs (10.96.0.0/12, a single-stack IPv4 cluster), node ports from a
//!   configurable range, health-check node ports, with the API server's 422 errors;
//! - fault injection ([`Faults`], or `/kubesim/faults` over HTTP): latency, 429 with
//!   `Retry-After`, 500/503, dropped connections, a plain `404 page not found`, for a share of
//!   requests, a path or a method.
//!   kube clients retry 429, 503 and 504 themselves (up to 15 times with growing delays), so a
//!   rule that always answers 503 makes a kube call take minutes;
//! - optional persistence in a data directory (an append-only journal, compacted at start), so
//!   a standalone server keeps its objects and counter across restarts.
//!
//! What it does not fake: admission (no defaulting beyond what is listed here, no webhooks, no
//! schema validation), controllers (nothing schedules pods, fills endpoints or garbage-collects
//! owned objects; a namespace or CRD takes its objects with it at once), conversion between
//! versions beyond `apiVersion`, RBAC (the one token may do everything; self-subject reviews
//! always allow), server-side apply (415), tables (`as=Table` gets a plain list; kubectl prints
//! names and ages), protobuf (only the bodies kubectl's `create configmap|secret|namespace|
//! serviceaccount|service`, `delete` and `auth` commands send are read; JSON is always written),
//! YAML, and OpenAPI (`/openapi/v2` and `/openapi/v3` answer 404, so `kubectl apply` and
//! `kubectl create -f` need `--validate=false`).

mod catalog;
mod crds;
mod discovery;
mod error;
mod faults;
mod handlers;
mod kubeconfig;
mod managed_fields;
mod objects;
mod patch;
mod persistence;
mod profiles;
mod protobuf;
mod scale;
mod selectors;
mod server;
mod services;
mod state;
mod status;
mod store;
mod time;
mod tls;
mod watch;

use std::path::{Path, PathBuf};

pub use error::Error;
pub use faults::{Fault, FaultRule, Faults};
pub use profiles::Profile;

/// How to start a kubesim server.
#[derive(Debug, Clone)]
pub struct Options {
    /// Which Kubernetes minor's built-in resources to serve.
    pub profile: Profile,
    /// The port to listen on at 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The bearer token every request must carry.
    pub token: String,
    /// Where to keep objects across restarts; `None` keeps them in memory only.
    pub data_dir: Option<PathBuf>,
    /// The node ports Services may use.
    pub node_port_range: std::ops::RangeInclusive<u16>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            profile: Profile::V1_33,
            port: 0,
            token: "kubesim-token".to_owned(),
            data_dir: None,
            node_port_range: 30000..=32767,
        }
    }
}

/// Starts a server and returns once it accepts connections.
pub async fn start(options: Options) -> Result<Running, Error> {
    server::start(options).await
}

/// A running kubesim server.
pub struct Running {
    port: u16,
    token: String,
    ca_pem: String,
    faults: Faults,
    handle: server::Handle,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("url", &self.url())
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

impl Running {
    /// The base URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The bearer token the server wants.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// A kubeconfig with one cluster, user and context named `kubesim`, set as current. It
    /// points at `https://127.0.0.1:<port>` (the same port also speaks TLS, with a self-signed
    /// certificate made at start and included as the certificate authority), because kubectl
    /// sends bearer tokens only over TLS.
    pub fn kubeconfig_yaml(&self) -> String {
        kubeconfig::render(
            &format!("https://127.0.0.1:{}", self.port),
            &self.token,
            &self.ca_pem,
        )
    }

    /// Writes [`Running::kubeconfig_yaml`] to a file.
    pub fn write_kubeconfig(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.kubeconfig_yaml())
    }

    /// A kube client for this server over plain HTTP with the bearer token (must be called
    /// inside a tokio runtime).
    pub fn client(&self) -> Result<kube::Client, Error> {
        kubeconfig::client(&self.url(), &self.token)
    }

    /// The fault-injection handle; changes take effect on the next request.
    pub fn faults(&self) -> Faults {
        self.faults.clone()
    }

    /// Stops serving, ends open watches and flushes persistence.
    pub async fn shutdown(self) {
        self.handle.shutdown().await;
    }
}
