//! Tests of the readiness verdict and the pod description.

use serde_json::json;

use super::*;

fn check_ready(deployment: serde_json::Value, expected: bool) {
    let parsed: Deployment = serde_json::from_value(deployment.clone()).unwrap();
    assert_eq!(deployment_ready(&parsed), expected, "{deployment}");
}

#[test]
fn a_deployment_is_ready_with_its_replicas_ready_for_its_current_spec() {
    check_ready(json!({ "metadata": { "name": "godwit" } }), false);
    check_ready(
        json!({ "metadata": { "name": "godwit", "generation": 1 }, "status": {} }),
        false,
    );
    check_ready(
        json!({
            "metadata": { "name": "godwit", "generation": 1 },
            "spec": { "replicas": 1, "selector": {}, "template": {} },
            "status": { "observedGeneration": 1, "readyReplicas": 1 },
        }),
        true,
    );
    // Ready replicas of an older spec do not count.
    check_ready(
        json!({
            "metadata": { "name": "godwit", "generation": 2 },
            "status": { "observedGeneration": 1, "readyReplicas": 1 },
        }),
        false,
    );
    check_ready(
        json!({
            "metadata": { "name": "godwit", "generation": 2 },
            "status": { "readyReplicas": 1 },
        }),
        false,
    );
    check_ready(
        json!({
            "metadata": { "name": "godwit" },
            "spec": { "replicas": 2, "selector": {}, "template": {} },
            "status": { "readyReplicas": 1 },
        }),
        false,
    );
    // Scaled to zero is still not a running server.
    check_ready(
        json!({
            "metadata": { "name": "godwit" },
            "spec": { "replicas": 0, "selector": {}, "template": {} },
            "status": { "readyReplicas": 0 },
        }),
        false,
    );
}

fn check_pods(pods: serde_json::Value, expected: &str) {
    let parsed: Vec<Pod> = serde_json::from_value(pods).unwrap();
    assert_eq!(describe_pods(&parsed), expected);
}

#[test]
fn describes_what_each_pod_is_doing() {
    check_pods(
        json!([]),
        "no pod with label app.kubernetes.io/name=godwit exists",
    );
    check_pods(json!([{ "metadata": {} }]), "pod <unnamed>: Unknown");
    check_pods(
        json!([{
            "metadata": { "name": "godwit-1" },
            "status": {
                "phase": "Pending",
                "containerStatuses": [{
                    "name": "godwit", "image": "godwit:e2e-x", "imageID": "",
                    "ready": false, "restartCount": 0,
                    "state": { "waiting": { "reason": "ErrImageNeverPull", "message": "not present" } },
                }],
            },
        }]),
        "pod godwit-1: Pending; container godwit waiting (ErrImageNeverPull: not present), 0 restarts",
    );
    check_pods(
        json!([
            {
                "metadata": { "name": "godwit-1" },
                "status": {
                    "phase": "Running",
                    "message": "node pressure",
                    "containerStatuses": [{
                        "name": "godwit", "image": "i", "imageID": "",
                        "ready": false, "restartCount": 3,
                        "state": { "terminated": { "exitCode": 1, "reason": "Error" } },
                    }],
                },
            },
            {
                "metadata": { "name": "godwit-2" },
                "status": {
                    "phase": "Running",
                    "containerStatuses": [{
                        "name": "godwit", "image": "i", "imageID": "",
                        "ready": false, "restartCount": 0, "state": { "running": {} },
                    }],
                },
            },
        ]),
        "pod godwit-1: Running; node pressure; container godwit terminated (exit code 1, Error), 3 restarts\n\
         pod godwit-2: Running; container godwit running, not ready, 0 restarts",
    );
}
