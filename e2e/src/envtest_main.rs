//! The `godwit-envtest` binary: starts one real control plane (see `godwit_e2e::envtest`) from
//! a directory of envtest binaries, then runs a command against it with `KUBECONFIG` and
//! `KUBESIM_CONFORMANCE_KUBECONFIG` set, or waits for Ctrl-C. `cargo xtask envtest run` builds
//! and starts it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser as _;

/// What `godwit-envtest` takes.
#[derive(Debug, clap::Parser)]
#[command(
    name = "godwit-envtest",
    about = "Start a real Kubernetes control plane (etcd, kube-apiserver, \
             kube-controller-manager) on 127.0.0.1 and run a command against it"
)]
struct Args {
    /// The directory holding etcd, kube-apiserver and kube-controller-manager
    /// (`cargo xtask envtest install` prints it).
    #[arg(long, env = "KUBEBUILDER_ASSETS", value_name = "DIR")]
    assets: PathBuf,

    /// Where data, certificates, kubeconfig and logs go; a fresh temporary directory when
    /// absent (removed afterwards when the command succeeded).
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,

    /// The command to run against the control plane; without one, wait for Ctrl-C.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

fn main() -> ExitCode {
    godwit_e2e::block_on(run(Args::parse()))
}

async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let temporary = args.work_dir.is_none();
    let dir = args.work_dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!(
            "godwit-envtest-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..6]
        ))
    });
    let plane = godwit_e2e::envtest::start(&args.assets, &dir, "envtest", false).await?;
    println!(
        "control plane ready: Kubernetes {} at {}, kubeconfig {}",
        plane.version,
        plane.url,
        plane.kubeconfig.display()
    );
    let code = match args.command.split_first() {
        None => {
            println!("press Ctrl-C to stop it");
            stopped().await;
            ExitCode::SUCCESS
        }
        Some((program, rest)) => {
            let mut child = tokio::process::Command::new(program)
                .args(rest)
                .env("KUBECONFIG", &plane.kubeconfig)
                .env("KUBESIM_CONFORMANCE_KUBECONFIG", &plane.kubeconfig)
                .kill_on_drop(true)
                .spawn()
                .map_err(|err| anyhow::anyhow!("cannot run {program}: {err}"))?;
            tokio::select! {
                status = child.wait() => match status {
                    Ok(status) if status.success() => ExitCode::SUCCESS,
                    Ok(status) => {
                        eprintln!("`{}` failed ({status})", args.command.join(" "));
                        ExitCode::FAILURE
                    }
                    Err(err) => {
                        eprintln!("cannot wait for `{}`: {err}", args.command.join(" "));
                        ExitCode::FAILURE
                    }
                },
                () = stopped() => {
                    eprintln!("stopped before `{}` finished", args.command.join(" "));
                    child.kill().await.ok();
                    ExitCode::FAILURE
                }
            }
        }
    };
    plane.stop().await;
    if temporary && code == ExitCode::SUCCESS {
        std::fs::remove_dir_all(&dir).ok();
    } else {
        println!("control plane files and logs are in {}", dir.display());
    }
    Ok(code)
}

/// Resolves on Ctrl-C, on SIGTERM, or once the process that started this one is gone (a
/// `cargo xtask envtest run` interrupted on its own leaves this process to init): the control
/// plane must not outlive whoever asked for it.
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let parent = std::os::unix::process::parent_id();
        let orphaned = async {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                if std::os::unix::process::parent_id() != parent {
                    break;
                }
            }
        };
        let terminated = async {
            match signal(SignalKind::terminate()) {
                Ok(mut terminate) => {
                    terminate.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = terminated => {}
            () = orphaned => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await.ok();
}
