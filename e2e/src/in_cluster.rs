//! `--in-cluster`: the godwit servers run as the Deployments `godwit install` creates, and the
//! harness waits until each is ready, saying what its pod is doing when it is not.

use std::time::Duration;

use anyhow::{Context as _, bail};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::ListParams;

use crate::clusters::{Cluster, NODE_STORAGE_DIR};
use crate::godwit::Godwit;

/// The name `godwit install` gives the server's Deployment.
pub const DEPLOYMENT: &str = "godwit";

/// The label `godwit install` puts on the server's pods.
pub const POD_SELECTOR: &str = "app.kubernetes.io/name=godwit";

/// Whether a Deployment has as many ready replicas as it wants (at least one) for its
/// current spec.
pub fn deployment_ready(deployment: &Deployment) -> bool {
    let wanted = deployment
        .spec
        .as_ref()
        .and_then(|spec| spec.replicas)
        .unwrap_or(1)
        .max(1);
    let Some(status) = &deployment.status else {
        return false;
    };
    let current = match (deployment.metadata.generation, status.observed_generation) {
        (Some(generation), Some(observed)) => observed >= generation,
        (Some(_), None) => false,
        (None, _) => true,
    };
    current && status.ready_replicas.unwrap_or(0) >= wanted
}

/// One line per pod saying its phase and why each container is not ready, or that there is
/// no pod at all.
pub fn describe_pods(pods: &[Pod]) -> String {
    if pods.is_empty() {
        return "no pod with label app.kubernetes.io/name=godwit exists".to_owned();
    }
    pods.iter().map(describe_pod).collect::<Vec<_>>().join("\n")
}

fn describe_pod(pod: &Pod) -> String {
    let name = pod.metadata.name.as_deref().unwrap_or("<unnamed>");
    let status = pod.status.as_ref();
    let phase = status
        .and_then(|status| status.phase.as_deref())
        .unwrap_or("Unknown");
    let mut parts = vec![format!("pod {name}: {phase}")];
    if let Some(message) = status.and_then(|status| status.message.as_deref()) {
        parts.push(message.to_owned());
    }
    for container in status
        .and_then(|status| status.container_statuses.as_deref())
        .unwrap_or_default()
    {
        let state = container.state.as_ref();
        let detail = if let Some(waiting) = state.and_then(|state| state.waiting.as_ref()) {
            format!(
                "waiting ({}{})",
                waiting.reason.as_deref().unwrap_or("no reason"),
                waiting
                    .message
                    .as_deref()
                    .map(|message| format!(": {message}"))
                    .unwrap_or_default()
            )
        } else if let Some(terminated) = state.and_then(|state| state.terminated.as_ref()) {
            format!(
                "terminated (exit code {}{})",
                terminated.exit_code,
                terminated
                    .reason
                    .as_deref()
                    .map(|reason| format!(", {reason}"))
                    .unwrap_or_default()
            )
        } else if container.ready {
            "ready".to_owned()
        } else {
            "running, not ready".to_owned()
        };
        parts.push(format!(
            "container {} {detail}, {} restarts",
            container.name, container.restart_count
        ));
    }
    parts.join("; ")
}

/// Where to read an installed server's log.
pub fn logs_hint(cluster: &Cluster, server_namespace: &str) -> String {
    format!(
        "kubectl --kubeconfig {} --namespace {server_namespace} logs deployment/{DEPLOYMENT}",
        cluster.kubeconfig.display()
    )
}

/// Installs a godwit server into `cluster` with `godwit install`, running `image`.
pub async fn install(
    godwit: &Godwit,
    cluster: &Cluster,
    server_namespace: &str,
    image: &str,
) -> anyhow::Result<()> {
    let output = godwit
        .install_server(cluster, server_namespace, image, NODE_STORAGE_DIR)
        .await?;
    print!("{}", output.stdout);
    if !output.success {
        bail!(
            "installing the godwit server into the {} cluster failed: {}",
            cluster.side,
            output.transcript()
        );
    }
    Ok(())
}

/// Waits up to `timeout` for the installed server's Deployment to be ready; when it is not,
/// the error names it and says what its pods are doing.
pub async fn wait_ready(
    cluster: &Cluster,
    server_namespace: &str,
    timeout: Duration,
) -> anyhow::Result<()> {
    let deployments: Api<Deployment> = Api::namespaced(cluster.client.clone(), server_namespace);
    let start = std::time::Instant::now();
    let last_error = loop {
        // Only the last probe's error is worth reporting: earlier ones may have passed.
        let error = match deployments.get_opt(DEPLOYMENT).await {
            Ok(Some(deployment)) if deployment_ready(&deployment) => return Ok(()),
            Ok(_) => None,
            Err(err) => Some(err.to_string()),
        };
        if start.elapsed() >= timeout {
            break error;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), server_namespace);
    let pods = pods
        .list(&ListParams::default().labels(POD_SELECTOR))
        .await
        .map(|list| describe_pods(&list.items))
        .with_context(|| {
            format!(
                "Deployment {server_namespace}/{DEPLOYMENT} in the {} cluster did not become \
                 ready, and its pods cannot be listed",
                cluster.side
            )
        })?;
    bail!(
        "Deployment {server_namespace}/{DEPLOYMENT} in the {} cluster did not become ready \
         within {}s{}; {pods}; see {} or raise --ready-timeout",
        cluster.side,
        timeout.as_secs(),
        last_error
            .map(|err| format!(" (last error: {err})"))
            .unwrap_or_default(),
        logs_hint(cluster, server_namespace)
    )
}

#[cfg(test)]
mod tests;
