use super::*;
use crate::persistence::Snapshot;
use crate::profiles::Profile;
use crate::state::State;
use axum::http::Request as HttpRequest;
use serde_json::json;
use tower::ServiceExt;

fn segments(path: &str) -> Vec<String> {
    path.split('/').map(str::to_owned).collect()
}

/// Namespace, plural, name and subresource.
type Parts<'a> = (Option<&'a str>, &'a str, Option<&'a str>, Option<&'a str>);

fn check_path(path: &str, expected: Option<Parts<'_>>) {
    let got = parse_resource_path(&segments(path))
        .map(|p| (p.namespace, p.plural, p.name, p.subresource));
    let expected = expected.map(|(ns, plural, name, sub)| {
        (
            ns.map(str::to_owned),
            plural.to_owned(),
            name.map(str::to_owned),
            sub.map(str::to_owned),
        )
    });
    assert_eq!(got, expected, "{path}");
}

#[test]
fn resource_paths_split_like_the_api_server_routes() {
    check_path("pods", Some((None, "pods", None, None)));
    check_path("nodes/n1", Some((None, "nodes", Some("n1"), None)));
    check_path(
        "nodes/n1/status",
        Some((None, "nodes", Some("n1"), Some("status"))),
    );
    check_path("namespaces", Some((None, "namespaces", None, None)));
    check_path(
        "namespaces/team",
        Some((None, "namespaces", Some("team"), None)),
    );
    check_path(
        "namespaces/team/status",
        Some((None, "namespaces", Some("team"), Some("status"))),
    );
    check_path(
        "namespaces/team/finalize",
        Some((None, "namespaces", Some("team"), Some("finalize"))),
    );
    check_path(
        "namespaces/team/pods",
        Some((Some("team"), "pods", None, None)),
    );
    check_path(
        "namespaces/team/pods/p",
        Some((Some("team"), "pods", Some("p"), None)),
    );
    check_path(
        "namespaces/team/pods/p/status",
        Some((Some("team"), "pods", Some("p"), Some("status"))),
    );
    check_path("namespaces/team/pods/p/status/x", None);
    let watched = parse_resource_path(&segments("watch/namespaces/team/pods")).unwrap();
    assert!(watched.watch);
    assert_eq!(watched.namespace.as_deref(), Some("team"));
}

#[test]
fn queries_and_accept_headers() {
    let query = Query::parse(Some(
        "labelSelector=app%3Dweb%2Ctier+in+(a)&limit=2&watch=1&dryRun=All",
    ));
    assert_eq!(query.get("labelSelector"), Some("app=web,tier in (a)"));
    assert!(query.flag("watch"));
    assert!(query.dry_run().unwrap());
    let params = query.list_params().unwrap();
    assert_eq!(params.limit, Some(2));
    assert_eq!(params.labels.requirements.len(), 2);
    assert_eq!(
        Query::parse(Some("dryRun=Some"))
            .dry_run()
            .unwrap_err()
            .code,
        400
    );
    assert_eq!(
        Query::parse(Some("limit=x"))
            .list_params()
            .unwrap_err()
            .code,
        400
    );
    assert_eq!(percent_decode("system%3Aadmin", false), "system:admin");
    assert_eq!(percent_decode("100%", false), "100%");
    assert!(accepts_json(None));
    assert!(accepts_json(Some(
        "application/vnd.kubernetes.protobuf, */*"
    )));
    assert!(accepts_json(Some(
        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    )));
    assert!(!accepts_json(Some("application/vnd.kubernetes.protobuf")));
    assert!(!accepts_json(Some("application/yaml")));
}

fn router() -> Router {
    let state = State::new(
        Profile::V1_33,
        30000..=32767,
        "tok".to_owned(),
        "CA".to_owned(),
        Snapshot::default(),
        None,
    );
    let (_, shutdown) = tokio::sync::watch::channel(false);
    let shared = Arc::new(Shared::new(
        state,
        "tok".to_owned(),
        crate::faults::Faults::default(),
        shutdown,
        "127.0.0.1:1".to_owned(),
        Profile::V1_33,
    ));
    super::router(shared)
}

struct Answer {
    code: u16,
    content_type: String,
    body: Vec<u8>,
    retry_after: Option<String>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

async fn send(
    router: &Router,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut request = HttpRequest::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Body::from(body.to_owned())).unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let code = response.status().as_u16();
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header(header::CONTENT_TYPE).unwrap_or_default();
    let retry_after = header(header::RETRY_AFTER);
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Answer {
        code,
        content_type,
        body,
        retry_after,
    }
}

const AUTH: (&str, &str) = ("authorization", "Bearer tok");

#[tokio::test]
async fn tokens_are_required_except_for_health_and_version() {
    let router = router();
    let none = send(&router, "GET", "/api/v1/namespaces", &[], "").await;
    assert_eq!(none.code, 401);
    assert_eq!(none.json()["reason"], "Unauthorized");
    let wrong = send(
        &router,
        "GET",
        "/api/v1/namespaces",
        &[("authorization", "Bearer nope")],
        "",
    )
    .await;
    assert_eq!(wrong.code, 401);
    for path in ["/healthz", "/readyz", "/livez"] {
        let answer = send(&router, "GET", path, &[], "").await;
        assert_eq!(
            (answer.code, answer.body.as_slice()),
            (200, &b"ok"[..]),
            "{path}"
        );
    }
    assert_eq!(
        send(&router, "GET", "/version", &[], "").await.json()["minor"],
        "33"
    );
    assert_eq!(
        send(&router, "GET", "/kubesim/faults", &[], "").await.code,
        401
    );
}

#[tokio::test]
async fn unknown_paths_answer_as_the_api_server_does() {
    let router = router();
    let text = send(
        &router,
        "GET",
        "/apis/nosuch.example.io/v1/namespaces/resp-demo/things/x",
        &[AUTH],
        "",
    )
    .await;
    assert_eq!(text.code, 404);
    assert_eq!(
        text.body,
        godwit_fixtures::read("apiserver/cr-get-unknown-group.body")
    );
    assert!(text.content_type.starts_with("text/plain"));
    assert_eq!(
        send(&router, "GET", "/openapi/v2", &[AUTH], "").await.code,
        404
    );
    let builtin = send(&router, "GET", "/api/v1/foos", &[AUTH], "").await;
    assert_eq!(builtin.code, 404);
    assert_eq!(
        builtin.json()["message"],
        "the server could not find the requested resource"
    );
    let method = send(
        &router,
        "POST",
        "/api/v1/namespaces/default/configmaps/x",
        &[AUTH],
        "{}",
    )
    .await;
    assert_eq!(method.code, 405);
    assert_eq!(method.json()["reason"], "MethodNotAllowed");
    let protobuf_only = send(
        &router,
        "GET",
        "/api/v1/namespaces",
        &[AUTH, ("accept", "application/vnd.kubernetes.protobuf")],
        "",
    )
    .await;
    assert_eq!(protobuf_only.code, 406);
    let cluster_scoped_in_namespace = send(
        &router,
        "GET",
        "/api/v1/namespaces/default/nodes",
        &[AUTH],
        "",
    )
    .await;
    assert_eq!(cluster_scoped_in_namespace.code, 404);
}

#[tokio::test]
async fn discovery_serves_legacy_and_aggregated_documents() {
    let router = router();
    let legacy = send(
        &router,
        "GET",
        "/apis",
        &[AUTH, ("accept", "application/json, */*")],
        "",
    )
    .await;
    assert_eq!(legacy.json()["kind"], "APIGroupList");
    let aggregated = send(
        &router,
        "GET",
        "/apis",
        &[AUTH, ("accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json")],
        "",
    )
    .await;
    assert_eq!(aggregated.json()["kind"], "APIGroupDiscoveryList");
    assert_eq!(aggregated.content_type, discovery::AGGREGATED_CONTENT_TYPE);
    assert_eq!(
        send(&router, "GET", "/api", &[AUTH], "").await.json()["kind"],
        "APIVersions"
    );
    assert_eq!(
        send(&router, "GET", "/api/v1", &[AUTH], "").await.json()["groupVersion"],
        "v1"
    );
    assert_eq!(
        send(&router, "GET", "/apis/apps", &[AUTH], "").await.json()["kind"],
        "APIGroup"
    );
    assert_eq!(
        send(&router, "GET", "/apis/apps/v1", &[AUTH], "")
            .await
            .json()["groupVersion"],
        "apps/v1"
    );
    assert_eq!(
        send(&router, "GET", "/apis/apps/v2", &[AUTH], "")
            .await
            .code,
        404
    );
}

#[tokio::test]
async fn crud_over_http_with_unserved_versions_answering_plain_404() {
    let router = router();
    let mut crd = godwit_fixtures::read_json::<Value>("apiserver/crd-create.body");
    crd.as_object_mut().unwrap().remove("status");
    crd["metadata"] = json!({"name": "widgets.resp.example.io"});
    let created = send(
        &router,
        "POST",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        &[AUTH, ("content-type", "application/json")],
        &crd.to_string(),
    )
    .await;
    assert_eq!(created.code, 201);
    assert_eq!(created.json()["kind"], "CustomResourceDefinition");
    let widget = json!({"apiVersion": "resp.example.io/v1alpha1", "kind": "Widget", "metadata": {"name": "w1"}});
    let unserved = send(
        &router,
        "POST",
        "/apis/resp.example.io/v1alpha1/namespaces/default/widgets",
        &[AUTH],
        &widget.to_string(),
    )
    .await;
    assert_eq!(
        unserved.body,
        godwit_fixtures::read("apiserver/cr-create-unserved-v1alpha1.body")
    );
    let widget = json!({"apiVersion": "resp.example.io/v2beta1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 3}});
    let made = send(
        &router,
        "POST",
        "/apis/resp.example.io/v2beta1/namespaces/default/widgets",
        &[AUTH],
        &widget.to_string(),
    )
    .await;
    assert_eq!(made.code, 201);
    assert_eq!(made.json()["apiVersion"], "resp.example.io/v2beta1");
    let read = send(
        &router,
        "GET",
        "/apis/resp.example.io/v1/namespaces/default/widgets/w1",
        &[AUTH],
        "",
    )
    .await;
    assert_eq!(read.json()["apiVersion"], "resp.example.io/v1");
    assert_eq!(read.json()["spec"], json!({"size": 3}));
    let unknown = send(
        &router,
        "GET",
        "/apis/resp.example.io/v1/namespaces/default/gadgets",
        &[AUTH],
        "",
    )
    .await;
    assert_eq!(unknown.body, b"404 page not found\n");
    let patched = send(
        &router,
        "PATCH",
        "/apis/resp.example.io/v1/namespaces/default/widgets/w1",
        &[AUTH, ("content-type", "application/merge-patch+json")],
        r#"{"spec":{"size":4}}"#,
    )
    .await;
    assert_eq!(patched.json()["spec"]["size"], 4);
    let apply = send(
        &router,
        "PATCH",
        "/apis/resp.example.io/v1/namespaces/default/widgets/w1",
        &[AUTH, ("content-type", "application/apply-patch+yaml")],
        "spec: {}",
    )
    .await;
    assert_eq!(apply.code, 415);
    let deleted = send(
        &router,
        "DELETE",
        "/apis/resp.example.io/v1/namespaces/default/widgets/w1",
        &[AUTH],
        "",
    )
    .await;
    assert_eq!(deleted.json()["kind"], "Widget");
    let deleted_cm_missing = send(
        &router,
        "DELETE",
        "/api/v1/namespaces/default/configmaps/nope",
        &[AUTH],
        "",
    )
    .await;
    assert_eq!(deleted_cm_missing.code, 404);
}

#[tokio::test]
async fn kubectl_protobuf_create_is_understood() {
    let router = router();
    // kubectl create configmap x --from-literal=a=b, as kubectl 1.33 encodes it.
    let mut body = b"k8s\0".to_vec();
    let type_meta = [&[0x0a, 0x02][..], b"v1", &[0x12, 0x09], b"ConfigMap"].concat();
    let meta = [&[0x0a, 0x01][..], b"x"].concat();
    let data_entry = [&[0x0a, 0x01][..], b"a", &[0x12, 0x01], b"b"].concat();
    let raw = [
        &[0x0a, meta.len() as u8][..],
        &meta,
        &[0x12, data_entry.len() as u8],
        &data_entry,
    ]
    .concat();
    body.extend_from_slice(&[0x0a, type_meta.len() as u8]);
    body.extend_from_slice(&type_meta);
    body.extend_from_slice(&[0x12, raw.len() as u8]);
    body.extend_from_slice(&raw);
    let request = HttpRequest::builder()
        .method("POST")
        .uri("/api/v1/namespaces/default/configmaps")
        .header("authorization", "Bearer tok")
        .header("content-type", "application/vnd.kubernetes.protobuf")
        .header(
            "accept",
            "application/vnd.kubernetes.protobuf,application/json",
        )
        .body(Body::from(body))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let read = send(
        &router,
        "GET",
        "/api/v1/namespaces/default/configmaps/x",
        &[AUTH],
        "",
    )
    .await;
    assert_eq!(read.json()["data"], json!({"a": "b"}));
}

#[tokio::test]
async fn fault_rules_apply_to_matching_requests() {
    let router = router();
    let rule = json!({"fault": {"type": "tooManyRequests", "retry_after_secs": 2}, "path_contains": "/configmaps", "method": "GET"});
    let added = send(
        &router,
        "POST",
        "/kubesim/faults",
        &[AUTH],
        &rule.to_string(),
    )
    .await;
    assert_eq!(added.json()["rules"].as_array().unwrap().len(), 1);
    let busy = send(&router, "GET", "/api/v1/configmaps", &[AUTH], "").await;
    assert_eq!(busy.code, 429);
    assert_eq!(busy.retry_after.as_deref(), Some("2"));
    assert_eq!(busy.json()["reason"], "TooManyRequests");
    assert_eq!(
        send(&router, "GET", "/api/v1/secrets", &[AUTH], "")
            .await
            .code,
        200
    );
    let listed = send(&router, "GET", "/kubesim/faults", &[AUTH], "").await;
    assert_eq!(listed.json()["injected"], 1);
    assert_eq!(
        send(&router, "DELETE", "/kubesim/faults", &[AUTH], "")
            .await
            .json()["rules"],
        json!([])
    );
    assert_eq!(
        send(&router, "GET", "/api/v1/configmaps", &[AUTH], "")
            .await
            .code,
        200
    );
    assert_eq!(
        send(&router, "POST", "/kubesim/faults", &[AUTH], "{}")
            .await
            .code,
        400
    );
}

#[tokio::test]
async fn watches_stream_lines_until_their_timeout() {
    let router = router();
    let answer = send(&router, "GET", "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan", &[AUTH], "").await;
    assert_eq!(answer.code, 200);
    let lines: Vec<Value> = answer
        .body
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    // The initial events (the namespace's kube-root-ca.crt), then the bookmark ending them.
    assert_eq!(lines[0]["type"], "ADDED");
    assert_eq!(lines[0]["object"]["metadata"]["name"], "kube-root-ca.crt");
    assert_eq!(lines[1]["type"], "BOOKMARK");
    assert_eq!(
        lines[1]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    let too_old = send(
        &router,
        "GET",
        "/api/v1/configmaps?watch=1&resourceVersion=0&timeoutSeconds=1",
        &[AUTH],
        "",
    )
    .await;
    assert_eq!(too_old.code, 200);
}
