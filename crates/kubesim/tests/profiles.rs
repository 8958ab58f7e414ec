//! Two kubesim instances side by side, profiles 1.25 and 1.33: their discovery differs where the
//! real 1.25 and 1.33 API servers differ.

#![allow(clippy::unwrap_used)]

use godwit_kubesim::{Options, Profile, Running};
use kube::Client;
use serde_json::{Value, json};

async fn start(profile: Profile) -> Running {
    godwit_kubesim::start(Options {
        profile,
        ..Options::default()
    })
    .await
    .unwrap()
}

/// `GET path` as `(status, body)`.
async fn get(client: &Client, path: &str) -> (u16, String) {
    let request = http::Request::get(path)
        .body(kube::client::Body::empty())
        .unwrap();
    let response = client.send(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect_bytes().await.unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

async fn get_json(client: &Client, path: &str) -> Value {
    let (status, body) = get(client, path).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// `(versions, preferred)` of a group as `/apis/<group>` lists them.
async fn group_versions(client: &Client, group: &str) -> (Vec<String>, String) {
    let doc = get_json(client, &format!("/apis/{group}")).await;
    let versions = doc["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap().to_string())
        .collect();
    let preferred = doc["preferredVersion"]["version"]
        .as_str()
        .unwrap()
        .to_string();
    (versions, preferred)
}

/// One group on both profiles: versions highest priority first, the first one preferred.
struct GroupCase {
    group: &'static str,
    v1_25: &'static [&'static str],
    v1_33: &'static [&'static str],
}

const GROUPS: &[GroupCase] = &[
    // autoscaling/v2beta2 was last served by 1.25; v2beta1 went in 1.25. v1 stayed preferred
    // until 1.27 (kubernetes/kubernetes#114358).
    GroupCase {
        group: "autoscaling",
        v1_25: &["v1", "v2", "v2beta2"],
        v1_33: &["v2", "v1"],
    },
    // flowcontrol: 1.25 serves v1beta2 and v1beta1; v1 arrived in 1.29, v1beta3 left in 1.32.
    GroupCase {
        group: "flowcontrol.apiserver.k8s.io",
        v1_25: &["v1beta2", "v1beta1"],
        v1_33: &["v1"],
    },
    // storage.k8s.io/v1beta1 (CSIStorageCapacity) was served until 1.27.
    GroupCase {
        group: "storage.k8s.io",
        v1_25: &["v1", "v1beta1"],
        v1_33: &["v1"],
    },
    // batch/v1beta1 (CronJob) and policy/v1beta1 (PodSecurityPolicy) went in 1.25.
    GroupCase {
        group: "batch",
        v1_25: &["v1"],
        v1_33: &["v1"],
    },
    GroupCase {
        group: "policy",
        v1_25: &["v1"],
        v1_33: &["v1"],
    },
];

#[tokio::test(flavor = "multi_thread")]
async fn profiles_1_25_and_1_33_serve_what_the_real_versions_serve() {
    let (old, new) = tokio::join!(start(Profile::V1_25), start(Profile::V1_33));
    assert_ne!(old.port(), new.port());
    let old_client = old.client().unwrap();
    let new_client = new.client().unwrap();

    for (client, minor) in [(&old_client, "25"), (&new_client, "33")] {
        let version = get_json(client, "/version").await;
        assert_eq!(version["major"], "1");
        assert_eq!(version["minor"], minor);
        let git_version = version["gitVersion"].as_str().unwrap();
        assert!(
            git_version.starts_with(&format!("v1.{minor}.")),
            "{git_version}"
        );
    }

    for case in GROUPS {
        for (client, expected, profile) in [
            (&old_client, case.v1_25, "1.25"),
            (&new_client, case.v1_33, "1.33"),
        ] {
            let (versions, preferred) = group_versions(client, case.group).await;
            assert_eq!(versions, expected, "{} on {profile}", case.group);
            assert_eq!(preferred, expected[0], "{} on {profile}", case.group);
        }
    }

    // The version only 1.25 has is fully served there and, on 1.33, a 404 Status from the
    // API server's own handlers of the group.
    let hpa = get_json(&old_client, "/apis/autoscaling/v2beta2").await;
    assert_eq!(hpa["groupVersion"], "autoscaling/v2beta2");
    let names: Vec<&str> = hpa["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"horizontalpodautoscalers"), "{names:?}");
    let (status, body) = get(&new_client, "/apis/autoscaling/v2beta2").await;
    assert_eq!(status, 404, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body["message"],
        "the server could not find the requested resource"
    );
    let (status, _) = get(&old_client, "/apis/flowcontrol.apiserver.k8s.io/v1").await;
    assert_eq!(status, 404, "flowcontrol v1 arrived in 1.29");

    // /apis agrees with /apis/<group> on each profile.
    for client in [&old_client, &new_client] {
        let list = get_json(client, "/apis").await;
        for case in GROUPS {
            let listed = list["groups"]
                .as_array()
                .unwrap()
                .iter()
                .find(|g| g["name"] == case.group)
                .unwrap_or_else(|| panic!("/apis lacks {}", case.group))
                .clone();
            let mut doc = get_json(client, &format!("/apis/{}", case.group)).await;
            let doc = doc.as_object_mut().unwrap();
            doc.remove("kind");
            doc.remove("apiVersion");
            assert_eq!(listed, Value::Object(doc.clone()), "{}", case.group);
        }
    }

    // An object written on one does not exist on the other: separate stores.
    let path = "/api/v1/namespaces/default/configmaps";
    let body = serde_json::to_vec(&json!({"metadata": {"name": "only-old"}})).unwrap();
    let request = http::Request::post(path)
        .header("content-type", "application/json")
        .body(kube::client::Body::from(body))
        .unwrap();
    let response = old_client.send(request).await.unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let (status, _) = get(&new_client, &format!("{path}/only-old")).await;
    assert_eq!(status, 404);

    old.shutdown().await;
    new.shutdown().await;
}

#[test]
fn profile_names_parse_and_print() {
    for (text, profile) in [("1.25", Profile::V1_25), ("1.33", Profile::V1_33)] {
        assert_eq!(text.parse::<Profile>().unwrap(), profile);
        assert_eq!(profile.to_string(), text);
    }
    let error = "1.99".parse::<Profile>().unwrap_err().to_string();
    assert!(
        error.contains("1.25") && error.contains("1.33"),
        "the error lists the known profiles: {error}"
    );
}
