//! kubesim as a program and as a library: the `godwit-kubesim` binary serving `kubectl`, its
//! `--data-dir` persistence across a restart, and the library's kubeconfig, persistence and
//! node-port-range options.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use godwit_kubesim::Options;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::{Value, json};

/// A running `godwit-kubesim` process, stopped with SIGTERM (or killed) when dropped.
struct Server {
    child: Option<Child>,
    url: String,
    kubeconfig: PathBuf,
}

impl Server {
    /// Starts the binary and waits until it prints its URL (it is serving then).
    fn start(kubeconfig: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_godwit-kubesim"))
            .args(["--profile", "1.33", "--port", "0", "--kubeconfig-out"])
            .arg(kubeconfig)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = sender.send(line);
            // Keep draining so the server never blocks on a full pipe.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let mut server = Server {
            child: Some(child),
            url: String::new(),
            kubeconfig: kubeconfig.to_path_buf(),
        };
        let line = receiver
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("godwit-kubesim printed no URL within 30 s"));
        server.url = line.trim().to_string();
        assert!(
            server.url.starts_with("http://127.0.0.1:"),
            "first stdout line is the URL, got {line:?}"
        );
        assert!(kubeconfig.exists(), "--kubeconfig-out was written");
        server
    }

    /// Sends SIGTERM and waits for a clean exit.
    fn stop(mut self) -> ExitStatus {
        let mut child = self.child.take().unwrap();
        let terminated = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(terminated.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("godwit-kubesim did not exit within 15 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs kubectl against `kubeconfig` with a private discovery cache; returns stdout.
fn kubectl(kubeconfig: &Path, cache: &Path, args: &[&str]) -> String {
    let output = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(cache)
        .args(args)
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "kubectl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn kubectl_available() -> bool {
    Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|output| output.status.success())
}

#[test]
fn binary_serves_kubectl() {
    if !kubectl_available() {
        println!("note: binary_serves_kubectl skipped: kubectl is not on PATH");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let cache = dir.path().join("cache");
    let server = Server::start(&kubeconfig, &["--token", "conformance-token"]);
    let config_text = std::fs::read_to_string(&kubeconfig).unwrap();
    assert!(config_text.contains("conformance-token"));
    // The kubeconfig may name the server over http or https; the address is the same.
    let address = server.url.trim_start_matches("http://");
    assert!(config_text.contains(address), "{config_text}");

    let apis: Value =
        serde_json::from_str(&kubectl(&kubeconfig, &cache, &["get", "--raw", "/apis"])).unwrap();
    assert_eq!(apis["kind"], "APIGroupList");
    let autoscaling = apis["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|group| group["name"] == "autoscaling")
        .unwrap();
    assert_eq!(autoscaling["preferredVersion"]["version"], "v2");

    let version: Value =
        serde_json::from_str(&kubectl(&kubeconfig, &cache, &["get", "--raw", "/version"])).unwrap();
    assert_eq!(version["minor"], "33");

    let resources = kubectl(&kubeconfig, &cache, &["api-resources"]);
    let rows: Vec<Vec<&str>> = resources
        .lines()
        .map(|line| line.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows[0],
        ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    );
    for expected in [
        &["configmaps", "cm", "v1", "true", "ConfigMap"][..],
        &["namespaces", "ns", "v1", "false", "Namespace"],
        &["secrets", "v1", "true", "Secret"],
        &["deployments", "deploy", "apps/v1", "true", "Deployment"],
        &[
            "horizontalpodautoscalers",
            "hpa",
            "autoscaling/v2",
            "true",
            "HorizontalPodAutoscaler",
        ],
        &[
            "customresourcedefinitions",
            "crd,crds",
            "apiextensions.k8s.io/v1",
            "false",
            "CustomResourceDefinition",
        ],
    ] {
        assert!(
            rows.iter().any(|row| row.as_slice() == expected),
            "kubectl api-resources lists {expected:?}:\n{resources}"
        );
    }

    let namespaces = kubectl(&kubeconfig, &cache, &["get", "namespaces", "-o", "name"]);
    for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(
            namespaces
                .lines()
                .any(|line| line == format!("namespace/{name}")),
            "{namespaces}"
        );
    }

    let faults: Value = serde_json::from_str(&kubectl(
        &kubeconfig,
        &cache,
        &["get", "--raw", "/kubesim/faults"],
    ))
    .unwrap();
    assert_eq!(faults, json!({"rules": [], "injected": 0}));

    let status = server.stop();
    assert!(status.success(), "exits cleanly on SIGTERM: {status}");
}

async fn client_for(kubeconfig: &Path) -> Client {
    let kubeconfig = Kubeconfig::read_from(kubeconfig).unwrap();
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    Client::try_from(config).unwrap()
}

/// A request through `client`: `(status, body as JSON or Null)`.
async fn call(client: &Client, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let bytes = body
        .map(|b| serde_json::to_vec(&b).unwrap())
        .unwrap_or_default();
    let content_type = if method == "PATCH" {
        "application/merge-patch+json"
    } else {
        "application/json"
    };
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type)
        .body(kube::client::Body::from(bytes))
        .unwrap();
    let response = client.send(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect_bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn rv(object: &Value) -> u64 {
    object["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn widget_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.persist.example.io"},
        "spec": {
            "group": "persist.example.io",
            "names": {"plural": "widgets", "kind": "Widget"},
            "scope": "Namespaced",
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {
                    "type": "object", "x-kubernetes-preserve-unknown-fields": true,
                }},
            }],
        },
    })
}

/// Writes a namespace, a CRD with one object and a ConfigMap (patched once); returns the
/// ConfigMap as stored.
async fn write_state(client: &Client) -> Value {
    let namespace = json!({"metadata": {"name": "persist"}});
    assert_eq!(
        call(client, "POST", "/api/v1/namespaces", Some(namespace))
            .await
            .0,
        201
    );
    let (status, body) = call(
        client,
        "POST",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        Some(widget_crd()),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let widgets = "/apis/persist.example.io/v1/namespaces/persist/widgets";
    let deadline = Instant::now() + Duration::from_secs(10);
    while call(client, "GET", widgets, None).await.0 != 200 {
        assert!(Instant::now() < deadline, "CRD never served");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let widget = json!({
        "apiVersion": "persist.example.io/v1", "kind": "Widget",
        "metadata": {"name": "w1"}, "spec": {"size": 3},
    });
    assert_eq!(call(client, "POST", widgets, Some(widget)).await.0, 201);

    let config_maps = "/api/v1/namespaces/persist/configmaps";
    let config_map = json!({"metadata": {"name": "c1"}, "data": {"k": "v"}});
    let (status, created) = call(client, "POST", config_maps, Some(config_map)).await;
    assert_eq!(status, 201, "{created}");
    let (status, patched) = call(
        client,
        "PATCH",
        &format!("{config_maps}/c1"),
        Some(json!({"data": {"k2": "v2"}})),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert!(rv(&patched) > rv(&created));
    patched
}

/// Checks everything `write_state` wrote is back, and new writes continue the counter.
async fn check_state(client: &Client, before: &Value) {
    let config_maps = "/api/v1/namespaces/persist/configmaps";
    let (status, after) = call(client, "GET", &format!("{config_maps}/c1"), None).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(
        &after, before,
        "the object survives unchanged, resourceVersion included"
    );

    let (status, widget) = call(
        client,
        "GET",
        "/apis/persist.example.io/v1/namespaces/persist/widgets/w1",
        None,
    )
    .await;
    assert_eq!(status, 200, "the CRD and its objects survive: {widget}");
    assert_eq!(widget["spec"]["size"], 3);

    let (status, created) = call(
        client,
        "POST",
        config_maps,
        Some(json!({"metadata": {"name": "c2"}})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert!(
        rv(&created) > rv(before),
        "the resourceVersion counter survives: {} after {}",
        rv(&created),
        rv(before)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn binary_data_dir_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();

    let first = Server::start(&dir.path().join("kubeconfig-1"), &["--data-dir", data_arg]);
    let client = client_for(&first.kubeconfig).await;
    let before = write_state(&client).await;
    drop(client);
    let status = first.stop();
    assert!(status.success(), "exits cleanly on SIGTERM: {status}");

    let second = Server::start(&dir.path().join("kubeconfig-2"), &["--data-dir", data_arg]);
    let client = client_for(&second.kubeconfig).await;
    check_state(&client, &before).await;
    let status = second.stop();
    assert!(status.success(), "exits cleanly on SIGTERM: {status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn library_data_dir_survives_shutdown_and_start() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        data_dir: Some(dir.path().join("data")),
        ..Options::default()
    };
    let first = godwit_kubesim::start(options.clone()).await.unwrap();
    let before = write_state(&first.client().unwrap()).await;
    first.shutdown().await;

    let second = godwit_kubesim::start(options).await.unwrap();
    check_state(&second.client().unwrap(), &before).await;
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_data_dir_nothing_survives() {
    let first = godwit_kubesim::start(Options::default()).await.unwrap();
    write_state(&first.client().unwrap()).await;
    first.shutdown().await;
    let second = godwit_kubesim::start(Options::default()).await.unwrap();
    let (status, _) = call(
        &second.client().unwrap(),
        "GET",
        "/api/v1/namespaces/persist",
        None,
    )
    .await;
    assert_eq!(status, 404);
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn written_kubeconfig_names_kubesim_and_works() {
    let running = godwit_kubesim::start(Options {
        token: "library-token".into(),
        ..Options::default()
    })
    .await
    .unwrap();
    assert_eq!(running.token(), "library-token");
    assert_eq!(
        running.url(),
        format!("http://127.0.0.1:{}", running.port())
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    running.write_kubeconfig(&path).unwrap();
    let parsed = Kubeconfig::read_from(&path).unwrap();
    assert_eq!(parsed.current_context.as_deref(), Some("kubesim"));
    let clusters: Vec<&str> = parsed.clusters.iter().map(|c| c.name.as_str()).collect();
    let users: Vec<&str> = parsed.auth_infos.iter().map(|a| a.name.as_str()).collect();
    let contexts: Vec<&str> = parsed.contexts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(clusters, ["kubesim"]);
    assert_eq!(users, ["kubesim"]);
    assert_eq!(contexts, ["kubesim"]);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        running.kubeconfig_yaml()
    );
    let client = client_for(&path).await;
    let (status, body) = call(&client, "GET", "/api", None).await;
    assert_eq!(status, 200, "{body}");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn node_port_range_option_shapes_allocation_and_errors() {
    let running = godwit_kubesim::start(Options {
        node_port_range: 31000..=31010,
        ..Options::default()
    })
    .await
    .unwrap();
    let client = running.client().unwrap();
    let services = "/api/v1/namespaces/default/services";
    let service = |name: &str, node_port: Option<u16>| {
        let mut port = json!({"port": 80});
        if let Some(node_port) = node_port {
            port["nodePort"] = json!(node_port);
        }
        json!({
            "metadata": {"name": name},
            "spec": {"type": "NodePort", "ports": [port]},
        })
    };
    let (status, body) = call(&client, "POST", services, Some(service("auto", None))).await;
    assert_eq!(status, 201, "{body}");
    let port = body["spec"]["ports"][0]["nodePort"].as_u64().unwrap();
    assert!((31000..=31010).contains(&port), "nodePort {port}");

    let (status, body) = call(&client, "POST", services, Some(service("low", Some(30080)))).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["message"],
        "Service \"low\" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port \
         is not in the valid range. The range of valid ports is 31000-31010"
    );
    running.shutdown().await;
}
