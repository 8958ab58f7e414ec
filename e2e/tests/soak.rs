//! The soak at a small size against kubesim in this process, as `cargo test` runs it: 200
//! ConfigMaps backed up and restored through the fault proxy at 20% faults, every object
//! accounted for. `cargo xtask soak` runs the full size on a real control plane.
#![allow(clippy::unwrap_used)]

use godwit_e2e::fault_proxy::FaultKind;
use godwit_e2e::soak;

#[tokio::test(flavor = "multi_thread")]
async fn a_small_soak_through_faults_restores_every_object_once() {
    let dir = tempfile::tempdir().unwrap();
    let kubesim = godwit_kubesim::start(godwit_kubesim::Options::default())
        .await
        .unwrap();
    let kubeconfig = dir.path().join("kubesim.kubeconfig");
    kubesim.write_kubeconfig(&kubeconfig).unwrap();
    let mut options = soak::SoakOptions::new(200, 0.2, 15, dir.path().join("soak"));
    options.existing_every = 20;
    // Lists of 20 so the backup meets faults too; short slow answers keep the test quick.
    options.page_size = 20;
    options.schedule.slow_min = std::time::Duration::from_millis(50);
    options.schedule.slow_max = std::time::Duration::from_millis(200);

    let report = soak::run(&kubeconfig, "kubesim", &options).await.unwrap();
    println!("{}", soak::render(&report));

    assert!(report.passed(), "{:?}", report.violations);
    let figures = &report.figures;
    assert_eq!(report.preexisting, 10);
    assert_eq!((figures.created, figures.skipped), (190, 10));
    assert_eq!(figures.created_on_wire, 190);
    assert_eq!(figures.in_target, 200);
    assert_eq!((figures.duplicates, figures.changed_live), (0, 0));
    assert!(report.tarballs.identical() && report.tarballs.entries > 200);
    // At 20% of some 300 requests, faults come in every kind; the client retried each one
    // but the slow answers.
    let (backup, restore) = (&report.backup.proxy, &report.restore.proxy);
    assert!(backup.total() > 0, "{backup:?}");
    assert!(restore.creates_unanswered > 0, "{restore:?}");
    let retried =
        |counts: &godwit_e2e::fault_proxy::FaultCounts| counts.total() - counts.of(FaultKind::Slow);
    assert_eq!(
        report.backup.retries + report.restore.retries,
        retried(backup) + retried(restore)
    );
    kubesim.shutdown().await;
}
