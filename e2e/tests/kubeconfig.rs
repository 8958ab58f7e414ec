//! The kubeconfig path end to end, as CI runs it: two standalone `godwit-kubesim` processes
//! (1.25 and 1.33) started here, handed to the harness as `kubeconfig:SRC,DST`, every scenario
//! run through two `godwit server` processes and the `godwit` CLI, and the run's leftovers
//! cleaned up afterwards.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

mod support;

use godwit_e2e::args::{Args, ClusterMode};
use godwit_e2e::{clusters, harness, kubeapi, objects, report, scenarios};

async fn leftover_crds(kubeconfig: &Path) -> Vec<String> {
    let client = kubeapi::client(kubeconfig).await.unwrap();
    let crds = kube::Api::<kube::core::DynamicObject>::all_with(
        client,
        &objects::custom_resource_definitions(),
    )
    .list(&Default::default())
    .await
    .unwrap();
    crds.items
        .into_iter()
        .filter_map(|crd| crd.metadata.name)
        .filter(|name| name.ends_with(scenarios::GROUP_DOMAIN))
        .collect()
}

fn args(source: &Path, target: &Path, godwit: PathBuf, work_dir: PathBuf) -> Args {
    Args {
        clusters: Some(ClusterMode::Kubeconfig {
            source: source.to_path_buf(),
            target: target.to_path_buf(),
        }),
        keep: false,
        cases: Vec::new(),
        json: None,
        in_cluster: false,
        ready_timeout: 180,
        godwit,
        kubesim: None,
        envtest_assets: Vec::new(),
        work_dir: Some(work_dir),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_scenario_passes_against_two_standalone_kubesims() {
    let (godwit, kubesim) = support::binaries();
    let dir = tempfile::tempdir().unwrap();
    let (_source, source) = clusters::start_kubesim(&kubesim, "1.25", "src", dir.path())
        .await
        .unwrap();
    let (_target, target) = clusters::start_kubesim(&kubesim, "1.33", "dst", dir.path())
        .await
        .unwrap();
    let rows = harness::run(&args(&source, &target, godwit, dir.path().join("work")))
        .await
        .unwrap();
    let table = report::render_table(&rows);
    assert_eq!(rows.len(), scenarios::SCENARIOS.len(), "{table}");
    assert!(
        rows.iter().all(|row| row.verdict == report::Verdict::Pass),
        "{table}"
    );
    // Re-runnable: the run's CRDs are gone from both clusters.
    assert_eq!(leftover_crds(&source).await, Vec::<String>::new());
    assert_eq!(leftover_crds(&target).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn one_cluster_twice_runs_what_one_cluster_can() {
    let (godwit, kubesim) = support::binaries();
    let dir = tempfile::tempdir().unwrap();
    let (_cluster, kubeconfig) = clusters::start_kubesim(&kubesim, "1.33", "one", dir.path())
        .await
        .unwrap();
    let rows = harness::run(&args(
        &kubeconfig,
        &kubeconfig,
        godwit,
        dir.path().join("work"),
    ))
    .await
    .unwrap();
    let table = report::render_table(&rows);
    let verdicts: Vec<(&str, report::Verdict)> = rows
        .iter()
        .map(|row| (row.scenario.as_str(), row.verdict))
        .filter(|(_, verdict)| *verdict != report::Verdict::Skip)
        .collect();
    assert_eq!(
        verdicts,
        [
            ("namespace-mapping", report::Verdict::Pass),
            ("existing-none", report::Verdict::Pass),
            ("existing-update", report::Verdict::Pass),
            ("control-plane-objects", report::Verdict::Pass),
            ("deprecated-apis", report::Verdict::Pass),
            ("pitfalls", report::Verdict::Pass),
            ("backup-lifecycle", report::Verdict::Pass),
            ("storage-version", report::Verdict::Pass),
        ],
        "{table}"
    );
    assert!(report::all_passed(&rows), "{table}");
}
