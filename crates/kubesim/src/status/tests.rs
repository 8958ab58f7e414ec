use super::*;

fn configmaps() -> GroupResource {
    GroupResource {
        group: String::new(),
        resource: "configmaps".to_owned(),
    }
}

/// The error's body equals a recorded API server body.
fn check(error: ApiError, code: u16, sample: &str) {
    let expected: Value = godwit_fixtures::read_json(&format!("apiserver/{sample}"));
    assert_eq!(error.code, code, "{sample}");
    assert_eq!(error.body, ErrorBody::Status(expected), "{sample}");
}

#[test]
fn statuses_match_the_recorded_bodies() {
    check(
        ApiError::already_exists(&configmaps(), "c1"),
        409,
        "cm-create-duplicate.body",
    );
    check(
        ApiError::not_found(&configmaps(), "nope"),
        404,
        "cm-get-missing.body",
    );
    let namespaces = GroupResource {
        group: String::new(),
        resource: "namespaces".to_owned(),
    };
    check(
        ApiError::not_found(&namespaces, "no-such-ns"),
        404,
        "cm-create-missing-namespace.body",
    );
    check(
        ApiError::conflict(&configmaps(), "c1", ApiError::STALE),
        409,
        "cm-replace-stale.body",
    );
}

#[test]
fn unrouted_paths_answer_plain_text() {
    let error = ApiError::page_not_found();
    let sample = godwit_fixtures::read("apiserver/cr-get-unknown-group.body");
    assert_eq!(error.body, ErrorBody::Text("404 page not found\n"));
    assert_eq!(sample, b"404 page not found\n");
}

#[test]
fn grouped_resources_are_qualified() {
    let deployments = GroupResource {
        group: "apps".to_owned(),
        resource: "deployments".to_owned(),
    };
    let ErrorBody::Status(body) = ApiError::already_exists(&deployments, "d").body else {
        panic!("status expected");
    };
    assert_eq!(body["message"], "deployments.apps \"d\" already exists");
    assert_eq!(body["details"]["group"], "apps");
    let success = delete_success(&deployments, "d", "u-1");
    assert_eq!(
        success["details"],
        serde_json::json!({"name": "d", "group": "apps", "kind": "deployments", "uid": "u-1"})
    );
    let invalid = ApiError::invalid(
        "CustomResourceDefinition",
        "apiextensions.k8s.io",
        "x",
        &[
            Cause {
                reason: "FieldValueRequired",
                message: "Required value".into(),
                field: "spec.group".into(),
            },
            Cause {
                reason: "FieldValueRequired",
                message: "Required value".into(),
                field: "spec.names.plural".into(),
            },
        ],
    );
    let ErrorBody::Status(body) = invalid.body else {
        panic!("status expected");
    };
    assert_eq!(
        body["message"],
        "CustomResourceDefinition.apiextensions.k8s.io \"x\" is invalid: [spec.group: Required value, spec.names.plural: Required value]"
    );
}

#[test]
fn injected_faults_carry_retry_after() {
    let busy = ApiError::too_many_requests(3);
    assert_eq!((busy.code, busy.retry_after), (429, Some(3)));
    assert_eq!(ApiError::server_error(503).code, 503);
    assert_eq!(ApiError::server_error(500).code, 500);
    assert_eq!(ApiError::server_error(502).code, 502);
}
