//! What every conformance test needs: the cluster to talk to (kubesim or a real one), unique
//! names, raw requests through the kube client, and the recorded kube-apiserver responses.

use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, PostParams};
use kube::client::Body;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::{Value, json};

/// Names a kubeconfig of a real cluster to run the suite against instead of kubesim.
pub const KUBECONFIG_ENV: &str = "KUBESIM_CONFORMANCE_KUBECONFIG";

/// The cluster a test talks to, and what it created there (removed again on a real cluster).
pub struct Cluster {
    /// The client every test uses: the kube defaults, retries included.
    pub client: Client,
    /// The kubesim instance when the suite runs locally; `None` against a real cluster.
    pub kubesim: Option<godwit_kubesim::Running>,
    kubeconfig_yaml: String,
    kubeconfig_path: Option<PathBuf>,
    created_namespaces: Mutex<Vec<String>>,
    created_crds: Mutex<Vec<String>>,
}

/// The cluster under test: a fresh kubesim (profile 1.33), or the real cluster named by
/// `KUBESIM_CONFORMANCE_KUBECONFIG`.
pub async fn cluster() -> Cluster {
    match std::env::var_os(KUBECONFIG_ENV) {
        Some(path) => {
            let path = PathBuf::from(path);
            let kubeconfig_yaml = std::fs::read_to_string(&path).unwrap();
            let client = client_from_yaml(&kubeconfig_yaml, true).await;
            Cluster {
                client,
                kubesim: None,
                kubeconfig_yaml,
                kubeconfig_path: Some(path),
                created_namespaces: Mutex::new(Vec::new()),
                created_crds: Mutex::new(Vec::new()),
            }
        }
        None => {
            let running = godwit_kubesim::start(godwit_kubesim::Options::default())
                .await
                .unwrap();
            let client = running.client().unwrap();
            let kubeconfig_yaml = running.kubeconfig_yaml();
            Cluster {
                client,
                kubesim: Some(running),
                kubeconfig_yaml,
                kubeconfig_path: None,
                created_namespaces: Mutex::new(Vec::new()),
                created_crds: Mutex::new(Vec::new()),
            }
        }
    }
}

/// A kube client from a kubeconfig; `retry` keeps kube's default retries of 429/503/504.
pub async fn client_from_yaml(kubeconfig_yaml: &str, retry: bool) -> Client {
    let config = config_from_yaml(kubeconfig_yaml).await;
    client_from_config(config, retry)
}

async fn config_from_yaml(kubeconfig_yaml: &str) -> Config {
    let kubeconfig = Kubeconfig::from_yaml(kubeconfig_yaml).unwrap();
    Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap()
}

fn client_from_config(mut config: Config, retry: bool) -> Client {
    config.default_retry = retry;
    Client::try_from(config).unwrap()
}

impl Cluster {
    /// The PEM of the certificate authority the kubeconfig trusts for the API server.
    pub fn kubeconfig_ca_pem(&self) -> String {
        use base64::Engine as _;
        let kubeconfig = Kubeconfig::from_yaml(&self.kubeconfig_yaml).unwrap();
        let context_name = kubeconfig.current_context.clone().unwrap();
        let context = kubeconfig
            .contexts
            .iter()
            .find(|context| context.name == context_name)
            .and_then(|context| context.context.clone())
            .unwrap();
        let cluster = kubeconfig
            .clusters
            .iter()
            .find(|cluster| cluster.name == context.cluster)
            .and_then(|cluster| cluster.cluster.clone())
            .unwrap();
        let data = cluster.certificate_authority_data.unwrap();
        let pem = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .unwrap();
        String::from_utf8(pem).unwrap()
    }

    /// Whether the suite runs against kubesim.
    pub fn is_kubesim(&self) -> bool {
        self.kubesim.is_some()
    }

    /// The kubesim handle, or `None` with a printed note that the test is skipped against a
    /// real cluster (fault injection exists only in kubesim).
    pub fn kubesim_or_skip(&self, test: &str) -> Option<&godwit_kubesim::Running> {
        if self.kubesim.is_none() {
            println!("note: {test} skipped: fault injection needs kubesim, not a real cluster");
        }
        self.kubesim.as_ref()
    }

    /// A client that shows every response as it came (kube's automatic retries switched off).
    pub async fn client_without_retries(&self) -> Client {
        client_from_yaml(&self.kubeconfig_yaml, false).await
    }

    /// A client that sends `token` instead of the kubeconfig's credentials.
    pub async fn client_with_token(&self, token: &str) -> Client {
        let mut config = config_from_yaml(&self.kubeconfig_yaml).await;
        config.auth_info = kube::config::AuthInfo {
            token: Some(token.to_string().into()),
            ..Default::default()
        };
        client_from_config(config, false)
    }

    /// Creates a namespace named after `base` plus the run's suffix, removed again at the end
    /// when the cluster is real.
    pub async fn namespace(&self, base: &str) -> String {
        let name = unique(base);
        let namespaces: Api<Namespace> = Api::all(self.client.clone());
        let namespace: Namespace =
            serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
        namespaces
            .create(&PostParams::default(), &namespace)
            .await
            .unwrap();
        self.created_namespaces.lock().unwrap().push(name.clone());
        self.namespace_populated(&name).await;
        name
    }

    /// Waits until a namespace holds what the controller manager puts into every namespace (a
    /// real one does so a moment after the create; kubesim with it), and returns the
    /// `kube-root-ca.crt` ConfigMap.
    pub async fn namespace_populated(&self, namespace: &str) -> Value {
        let root_ca = format!("/api/v1/namespaces/{namespace}/configmaps/{ROOT_CA_CONFIG_MAP}");
        let service_account = format!("/api/v1/namespaces/{namespace}/serviceaccounts/default");
        eventually(
            &format!("ServiceAccount default and ConfigMap {ROOT_CA_CONFIG_MAP} in {namespace}"),
            || async {
                let config_map = self.raw("GET", &root_ca, None).await;
                let account = self.raw("GET", &service_account, None).await;
                (config_map.status == 200 && account.status == 200).then(|| config_map.json())
            },
        )
        .await
    }

    /// Remembers a namespace the test created itself, to delete at the end on a real cluster.
    pub fn remember_namespace(&self, name: &str) {
        self.created_namespaces
            .lock()
            .unwrap()
            .push(name.to_string());
    }

    /// Remembers a CRD to delete at the end when the cluster is real.
    pub fn remember_crd(&self, name: &str) {
        self.created_crds.lock().unwrap().push(name.to_string());
    }

    /// A raw request through the test's client, the answer as it came.
    pub async fn raw(&self, method: &str, path: &str, body: Option<&Value>) -> Raw {
        raw(&self.client, method, path, body, "application/json").await
    }

    /// A raw request with an explicit content type (patches).
    pub async fn raw_typed(
        &self,
        method: &str,
        path: &str,
        body: &Value,
        content_type: &str,
    ) -> Raw {
        raw(&self.client, method, path, Some(body), content_type).await
    }

    /// A CRD created from `crd` and waited for until `Established`; returns the established
    /// object as the server shows it.
    pub async fn create_crd(&self, crd: &Value) -> (Raw, Value) {
        let name = crd["metadata"]["name"].as_str().unwrap().to_string();
        let created = self
            .raw(
                "POST",
                "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                Some(crd),
            )
            .await;
        assert_eq!(created.status, 201, "create CRD {name}: {}", created.body);
        self.remember_crd(&name);
        let path = format!("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}");
        let established = eventually(&format!("CRD {name} established"), || async {
            let got = self.raw("GET", &path, None).await;
            let object = got.json();
            let conditions = object["status"]["conditions"].as_array().cloned();
            let established = conditions.unwrap_or_default().iter().any(|condition| {
                condition["type"] == "Established" && condition["status"] == "True"
            });
            established.then_some(object)
        })
        .await;
        // A real server serves the new group a moment after Established; wait for discovery so
        // the tests that follow see a settled state.
        let group = crd["spec"]["group"].as_str().unwrap().to_string();
        let group_path = format!("/apis/{group}");
        eventually(&format!("discovery of {group}"), || async {
            (self.raw("GET", &group_path, None).await.status == 200).then_some(())
        })
        .await;
        (created, established)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let Some(path) = self.kubeconfig_path.clone() else {
            return;
        };
        let namespaces = std::mem::take(&mut *self.created_namespaces.lock().unwrap());
        let crds = std::mem::take(&mut *self.created_crds.lock().unwrap());
        if namespaces.is_empty() && crds.is_empty() {
            return;
        }
        // Drop cannot await and the test's runtime may be going away: clean up from a thread
        // with a runtime and a client of its own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let yaml = std::fs::read_to_string(&path).unwrap();
                let client = client_from_yaml(&yaml, true).await;
                let ns_api: Api<Namespace> = Api::all(client.clone());
                for name in namespaces {
                    if let Err(err) = ns_api.delete(&name, &DeleteParams::default()).await {
                        eprintln!("cleanup: delete namespace {name}: {err}");
                    }
                }
                let crd_api: Api<
                    k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
                > = Api::all(client);
                for name in crds {
                    if let Err(err) = crd_api.delete(&name, &DeleteParams::default()).await {
                        eprintln!("cleanup: delete CRD {name}: {err}");
                    }
                }
            });
        });
        if cleanup.join().is_err() {
            eprintln!(
                "cleanup of the real cluster failed; remove the *-{} objects by hand",
                suffix()
            );
        }
    }
}

/// A response as it came from the server.
#[derive(Debug)]
pub struct Raw {
    /// HTTP status code.
    pub status: u16,
    /// Response headers.
    pub headers: http::HeaderMap,
    /// Response body as text.
    pub body: String,
}

impl Raw {
    /// The body parsed as JSON; panics with the body when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|err| {
            panic!(
                "response ({}) is not JSON: {err}: {}",
                self.status, self.body
            )
        })
    }

    /// A header as text, if present.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    }
}

/// A raw request through `client`; panics when no response arrives at all.
pub async fn raw(
    client: &Client,
    method: &str,
    path: &str,
    body: Option<&Value>,
    content_type: &str,
) -> Raw {
    try_raw(client, method, path, body, content_type)
        .await
        .unwrap_or_else(|err| panic!("{method} {path}: no response: {err}"))
}

/// A raw request through `client`; `Err` when the connection failed without a response.
pub async fn try_raw(
    client: &Client,
    method: &str,
    path: &str,
    body: Option<&Value>,
    content_type: &str,
) -> Result<Raw, kube::Error> {
    let bytes = body
        .map(|b| serde_json::to_vec(b).unwrap())
        .unwrap_or_default();
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::ACCEPT, "application/json")
        .header(http::header::CONTENT_TYPE, content_type)
        .body(Body::from(bytes))
        .unwrap();
    let response = client.send(request).await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect_bytes().await?;
    Ok(Raw {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    })
}

/// This run's random suffix, shared by every name the suite creates.
pub fn suffix() -> &'static str {
    static SUFFIX: OnceLock<String> = OnceLock::new();
    SUFFIX.get_or_init(|| {
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        format!("{:06x}", random & 0xff_ffff)
    })
}

/// `base` made unique for this run (a valid namespace or object name).
pub fn unique(base: &str) -> String {
    format!("{base}-{}", suffix())
}

/// A CRD group unique for this run, e.g. `resp-1a2b3c.example.io`.
pub fn unique_group(base: &str) -> String {
    format!("{base}-{}.example.io", suffix())
}

/// A recorded kube-apiserver response body as text.
pub fn sample_text(name: &str) -> String {
    String::from_utf8(godwit_fixtures::read(&format!("apiserver/{name}"))).unwrap()
}

/// A recorded kube-apiserver response body as JSON, with strings replaced (`(from, to)`) first,
/// e.g. the recording's namespace `resp-demo` by the test's own.
pub fn sample(name: &str, replacements: &[(&str, &str)]) -> Value {
    let mut text = sample_text(name);
    for (from, to) in replacements {
        text = text.replace(from, to);
    }
    serde_json::from_str(&text).unwrap()
}

/// `value` without the members at the given JSON pointers (absent ones are fine).
pub fn without(value: &Value, pointers: &[&str]) -> Value {
    let mut value = value.clone();
    for pointer in pointers {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        if let Some(object) = value.pointer_mut(parent).and_then(Value::as_object_mut) {
            object.remove(key);
        }
    }
    value
}

/// The members the server sets on every object and that differ between runs.
pub const VOLATILE: &[&str] = &[
    "/metadata/uid",
    "/metadata/resourceVersion",
    "/metadata/creationTimestamp",
    "/metadata/managedFields",
];

/// Polls `probe` every 50 ms until it returns `Some`, failing after 60 s (a real server on a
/// loaded machine can be slow to settle).
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A resourceVersion as a number: real servers (etcd revisions) and kubesim both use integers.
pub fn rv_number(rv: &Value) -> u64 {
    rv.as_str()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| panic!("resourceVersion {rv} is not a decimal string"))
}

/// The minor version the server reports in `/version` (e.g. 33).
pub async fn server_minor(cluster: &Cluster) -> u32 {
    let version = cluster.raw("GET", "/version", None).await.json();
    let minor = version["minor"].as_str().unwrap();
    // Some distributions append a `+` to the minor ("33+").
    minor.trim_end_matches('+').parse().unwrap()
}

/// The ConfigMap kube-controller-manager publishes the cluster CA in, in every namespace.
pub const ROOT_CA_CONFIG_MAP: &str = "kube-root-ca.crt";

/// Asserts `raw` is the 404 Status the API server's own handlers answer for a path under a
/// built-in group that nothing serves (an unknown version or resource).
pub fn assert_no_route(raw: &Raw, what: &str) {
    assert_eq!(raw.status, 404, "{what}: {}", raw.body);
    assert_eq!(
        raw.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "the server could not find the requested resource",
               "reason": "NotFound", "details": {}, "code": 404}),
        "{what}"
    );
}

/// The plain-text body of the real server's 404 for paths no API serves.
pub fn page_not_found() -> String {
    sample_text("cr-get-unknown-group.body")
}

/// Asserts `raw` is the real server's plain-text `404 page not found`.
pub fn assert_page_not_found(raw: &Raw, what: &str) {
    assert_eq!(raw.status, 404, "{what}: {}", raw.body);
    assert_eq!(raw.body, page_not_found(), "{what}: body");
    let content_type = raw.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("text/plain"),
        "{what}: content-type {content_type:?}, the real server answers text/plain"
    );
}

/// A ConfigMap as JSON.
pub fn config_map(name: &str, labels: Value, data: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels},
        "data": data,
    })
}

/// Creates a ConfigMap through the raw path and returns the server's answer (asserting 201).
pub async fn create_config_map(cluster: &Cluster, namespace: &str, body: &Value) -> Value {
    let path = format!("/api/v1/namespaces/{namespace}/configmaps");
    let created = cluster.raw("POST", &path, Some(body)).await;
    assert_eq!(created.status, 201, "create {body}: {}", created.body);
    created.json()
}

/// RFC 3339 in UTC with whole seconds, as the API server writes times: `2026-11-21T05:06:54Z`.
pub fn is_timestamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 20
        && text.ends_with('Z')
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            10 => *b == b'T',
            13 | 16 => *b == b':',
            19 => *b == b'Z',
            _ => b.is_ascii_digit(),
        })
}

/// A node port no Service of the cluster holds right now, picked at random (the suite's tests
/// run side by side and allocate ports themselves, so a fixed one would collide).
pub async fn unused_node_port(cluster: &Cluster) -> u16 {
    let services = cluster.raw("GET", "/api/v1/services", None).await.json();
    let taken: Vec<u64> = services["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|service| {
            service["spec"]["ports"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|port| port["nodePort"].as_u64())
        .collect();
    loop {
        let port = random_node_port();
        if !taken.contains(&u64::from(port)) {
            return port;
        }
    }
}

/// A node port in the default range, random per test so a real cluster's ports are unlikely to
/// be hit (the recordings used 30080).
fn random_node_port() -> u16 {
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    // 30100..=32699: inside 30000-32767, away from both ends.
    30100 + u16::try_from(random % 2600).unwrap()
}

/// `text` percent-encoded for a query string (everything but unreserved characters).
pub fn query_value(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
