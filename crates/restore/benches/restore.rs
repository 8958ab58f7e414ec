//! Restore throughput against kubesim: 10,000 ConfigMaps (set `GODWIT_BENCH_OBJECTS` for another
//! count; `GODWIT_BENCH_LATENCY_MS` adds that much latency to every request, closer to a real API
//! server than loopback kubesim) restored with the default concurrency and with concurrency 1 (Velero's one object at a
//! time), each into a fresh kubesim. Prints items per second, the ratio, and the executor's CPU
//! time per item without the server's.
//!
//! How CPU time is split: kubesim runs on its own single-threaded tokio runtime in its own OS
//! thread; the executor (planning, restore actions, the kube client and its connection tasks)
//! runs on a single-threaded runtime in the main thread. Each side's CPU time is read from
//! Linux's `/proc/self/task/<tid>/schedstat` (nanoseconds on CPU) before and after a run, so the
//! executor figure excludes the server entirely. Reading the backup from disk and planning are
//! part of the executor's figure, as they are part of a restore.

#![allow(clippy::unwrap_used)]

use std::sync::mpsc;
use std::time::{Duration, Instant};

use godwit_kubesim::{Fault, FaultRule, Options, Profile};
use godwit_restore::{ExecuteOptions, Phase, RestoreSpec, restore};
use godwit_tarball::{BackupWriter, ExtractedBackup, Item, Limits, extract};
use godwit_versioning::GroupResource;
use serde_json::json;

const NAMESPACES: usize = 10;

fn latency_ms() -> u64 {
    std::env::var("GODWIT_BENCH_LATENCY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// This thread's id, from `/proc/thread-self` (a link to `<pid>/task/<tid>`).
fn thread_id() -> String {
    let link = std::fs::read_link("/proc/thread-self").unwrap();
    link.file_name().unwrap().to_string_lossy().into_owned()
}

/// CPU time of a thread of this process, from the first field of its schedstat.
fn cpu_time(tid: &str) -> Duration {
    let text = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")).unwrap();
    let nanos: u64 = text.split_whitespace().next().unwrap().parse().unwrap();
    Duration::from_nanos(nanos)
}

fn backup(objects: usize) -> (tempfile::TempDir, ExtractedBackup) {
    let configmaps = GroupResource::new("", "configmaps");
    let namespaces = GroupResource::new("", "namespaces");
    let mut writer = BackupWriter::new(Vec::new()).unwrap();
    for n in 0..NAMESPACES {
        let name = format!("bench-{n}");
        let item = Item {
            group_resource: &namespaces,
            namespace: None,
            name: &name,
            version: "v1",
            preferred_version: "v1",
        };
        writer
            .append(&item, &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {"bench": "yes"}}}))
            .unwrap();
    }
    for i in 0..objects {
        let namespace = format!("bench-{}", i % NAMESPACES);
        let name = format!("cm-{i:05}");
        let item = Item {
            group_resource: &configmaps,
            namespace: Some(&namespace),
            name: &name,
            version: "v1",
            preferred_version: "v1",
        };
        let object = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace, "uid": "0b1c", "resourceVersion": "42",
                "labels": {"app": "bench", "shard": (i % 7).to_string()}},
            "data": {"index": i.to_string(), "payload": "x".repeat(200)}});
        writer.append(&item, &object).unwrap();
    }
    let (bytes, _) = writer.finish().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let extracted = extract(
        bytes.as_slice(),
        &dir.path().join("backup"),
        &Limits::default(),
    )
    .unwrap();
    (dir, extracted)
}

/// A kubesim on its own thread and runtime; returns its kubeconfig and thread id, and a sender
/// that stops it.
fn start_server() -> (
    String,
    String,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    let (ready_tx, ready_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let handle = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let running = godwit_kubesim::start(Options {
                profile: Profile::V1_33,
                ..Options::default()
            })
            .await
            .unwrap();
            if latency_ms() > 0 {
                running.faults().add(FaultRule {
                    fault: Fault::Latency {
                        millis: latency_ms(),
                    },
                    fraction: 1.0,
                    path_contains: None,
                    method: None,
                });
            }
            ready_tx
                .send((running.kubeconfig_yaml(), thread_id()))
                .unwrap();
            let _ = stop_rx.await;
            running.shutdown().await;
        });
    });
    let (kubeconfig, tid) = ready_rx.recv().unwrap();
    (kubeconfig, tid, stop_tx, handle)
}

struct Measured {
    concurrency: usize,
    wall: Duration,
    executor_cpu: Duration,
    server_cpu: Duration,
}

fn run(backup: &ExtractedBackup, objects: usize, concurrency: usize) -> Measured {
    let (kubeconfig, server_tid, stop, handle) = start_server();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let me = thread_id();
    let measured = runtime.block_on(async {
        let config = kube::Config::from_custom_kubeconfig(
            kube::config::Kubeconfig::from_yaml(&kubeconfig).unwrap(),
            &kube::config::KubeConfigOptions::default(),
        )
        .await
        .unwrap();
        let client = kube::Client::try_from(config).unwrap();
        let options = ExecuteOptions {
            concurrency,
            ..ExecuteOptions::default()
        };
        let spec = RestoreSpec::new("bench", format!("bench-c{concurrency}"));
        let (cpu_before, server_before, start) =
            (cpu_time(&me), cpu_time(&server_tid), Instant::now());
        let result = restore(&client, backup, spec, &options).await;
        let wall = start.elapsed();
        let (executor_cpu, server_cpu) = (
            cpu_time(&me) - cpu_before,
            cpu_time(&server_tid) - server_before,
        );
        assert_eq!(result.phase, Phase::Completed, "{:?}", result.errors);
        assert_eq!(result.counts.created, objects + NAMESPACES);
        Measured {
            concurrency,
            wall,
            executor_cpu,
            server_cpu,
        }
    });
    drop(runtime);
    let _ = stop.send(());
    handle.join().unwrap();
    measured
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument other than ours means "not this one".
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with("--") && !"restore".contains(a.as_str()))
    {
        return;
    }
    let objects: usize = std::env::var("GODWIT_BENCH_OBJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let (_dir, backup) = backup(objects);
    let default_concurrency = ExecuteOptions::default().concurrency;
    let results = [
        run(&backup, objects, default_concurrency),
        run(&backup, objects, 1),
    ];

    println!(
        "godwit-restore: {objects} ConfigMaps in {NAMESPACES} namespaces restored into kubesim 1.33, \
         {} ms added latency per request",
        latency_ms()
    );
    println!("(executor and kubesim each on one single-threaded runtime in its own OS thread)");
    println!();
    println!(
        "{:<26} {:>9} {:>10} {:>23} {:>22}",
        "concurrency", "wall (s)", "items/s", "executor CPU/item (µs)", "kubesim CPU/item (µs)"
    );
    for m in &results {
        let label = match m.concurrency {
            1 => "1 (Velero: one at a time)".to_owned(),
            n => format!("{n} (default)"),
        };
        println!(
            "{:<26} {:>9.2} {:>10.0} {:>23.1} {:>22.1}",
            label,
            m.wall.as_secs_f64(),
            objects as f64 / m.wall.as_secs_f64(),
            m.executor_cpu.as_secs_f64() * 1e6 / objects as f64,
            m.server_cpu.as_secs_f64() * 1e6 / objects as f64,
        );
    }
    let ratio = results[1].wall.as_secs_f64() / results[0].wall.as_secs_f64();
    println!();
    println!("speed-up of concurrency {default_concurrency} over 1: {ratio:.2}x");
}
