//! Where the two clusters come from: two kubesim processes (`sim`), two kind clusters (`kind`)
//! or two kubeconfigs (`kubeconfig:SRC,DST`), and taking them down again.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use tokio::io::AsyncBufReadExt as _;
use tokio::process::{Child, Command};

use crate::args::{ClusterMode, Tools};

/// The kind clusters kind mode creates, source then target.
pub const KIND_CLUSTERS: [&str; 2] = ["godwit-e2e-src", "godwit-e2e-dst"];

/// The node images of the kind clusters, source then target: two Kubernetes minors whose
/// `autoscaling` group differs (1.25 prefers v1 and still serves v2beta2; 1.33 prefers v2).
pub const KIND_NODE_IMAGES: [&str; 2] = ["kindest/node:v1.25.16", "kindest/node:v1.33.1"];

/// The kubesim profiles of sim mode, source then target.
pub const SIM_PROFILES: [&str; 2] = ["1.25", "1.33"];

/// Where `--in-cluster` mounts the shared backup storage inside every kind node (and so where
/// the installed servers' hostPath volume points).
pub const NODE_STORAGE_DIR: &str = "/var/lib/godwit-e2e";

/// The Dockerfile of the godwit image, relative to the repository root.
pub const DOCKERFILE: &str = "deploy/Dockerfile";

/// The tag `--in-cluster` builds the godwit image under for run `run`: never `latest`, so the
/// installed Deployment's `IfNotPresent` pull policy takes the image kind loaded.
pub fn image_tag(run: &str) -> String {
    format!("godwit:e2e-{run}")
}

/// The kind cluster configuration of `--in-cluster`: one control-plane node that mounts the
/// host directory `storage` at [`NODE_STORAGE_DIR`], so both clusters share one store.
pub fn kind_config(storage: &Path) -> String {
    // JSON is YAML, and serde_json quotes the path whatever it holds.
    let host_path = serde_json::Value::String(storage.display().to_string());
    format!(
        "kind: Cluster\n\
         apiVersion: kind.x-k8s.io/v1alpha4\n\
         nodes:\n\
         - role: control-plane\n  \
           extraMounts:\n  \
           - hostPath: {host_path}\n    \
             containerPath: {NODE_STORAGE_DIR}\n"
    )
}

/// The repository root this harness was built from (where `deploy/Dockerfile` lives).
pub fn repo_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or_else(|| manifest_dir.to_path_buf(), Path::to_path_buf)
}

/// Builds the godwit image from `deploy/Dockerfile` under `tag`.
pub async fn build_image(repo_root: &Path, tag: &str) -> anyhow::Result<()> {
    let dockerfile = repo_root.join(DOCKERFILE);
    if !dockerfile.is_file() {
        bail!(
            "{} not found; run from a godwit checkout or drop --in-cluster",
            dockerfile.display()
        );
    }
    let dockerfile = dockerfile.to_string_lossy().into_owned();
    let context = repo_root.to_string_lossy().into_owned();
    println!("building image {tag} from {dockerfile}");
    run_tool("docker", &["build", "-f", &dockerfile, "-t", tag, &context]).await?;
    Ok(())
}

/// Loads the locally built image `tag` into each kind cluster of `names`.
pub async fn load_image(tag: &str, names: &[&str]) -> anyhow::Result<()> {
    for name in names {
        println!("loading image {tag} into kind cluster {name}");
        run_tool("kind", &["load", "docker-image", tag, "--name", name]).await?;
    }
    Ok(())
}

/// One side of the run.
pub struct Cluster {
    /// `src` or `dst`.
    pub side: &'static str,
    /// Its kubeconfig file.
    pub kubeconfig: PathBuf,
    /// A client for it.
    pub client: kube::Client,
}

/// Both sides, and what to undo at the end.
pub struct Clusters {
    /// The cluster backed up from.
    pub source: Cluster,
    /// The cluster restored into.
    pub target: Cluster,
    teardown: Teardown,
}

enum Teardown {
    /// kubesim processes, killed when dropped.
    Processes(Vec<Child>),
    /// envtest control planes, stopped unless kept.
    ControlPlanes(Vec<crate::envtest::ControlPlane>),
    /// kind clusters to delete.
    Kind(Vec<&'static str>),
    /// Clusters the user owns.
    Nothing,
}

/// Looks for docker and kind (and asks docker whether its engine answers).
pub fn detect_tools() -> Tools {
    let docker_on_path = on_path("docker");
    let docker_running = docker_on_path
        && std::process::Command::new("docker")
            .arg("info")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
    Tools {
        docker_on_path,
        docker_running,
        kind_on_path: on_path("kind"),
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// Brings up (or connects to) the two clusters of `mode`; kind clusters it creates get the
/// cluster configuration file `kind_config` when one is given.
pub async fn provide(
    mode: &ClusterMode,
    kubesim: Option<&Path>,
    envtest_assets: &[PathBuf],
    kind_config: Option<&Path>,
    work_dir: &Path,
    keep: bool,
) -> anyhow::Result<Clusters> {
    match mode {
        ClusterMode::Sim => {
            let kubesim = kubesim.ok_or_else(|| {
                anyhow!("sim mode needs the godwit-kubesim binary; pass --kubesim or run through cargo xtask e2e")
            })?;
            let mut processes = Vec::new();
            let mut kubeconfigs = Vec::new();
            for (side, profile) in ["src", "dst"].into_iter().zip(SIM_PROFILES) {
                let (child, kubeconfig) = start_kubesim(kubesim, profile, side, work_dir).await?;
                processes.push(child);
                kubeconfigs.push(kubeconfig);
            }
            let [source, target] = <[PathBuf; 2]>::try_from(kubeconfigs)
                .map_err(|_| anyhow!("kubesim did not start twice"))?;
            connect(source, target, Teardown::Processes(processes)).await
        }
        ClusterMode::Envtest => {
            let [source_assets, target_assets] = envtest_assets else {
                bail!(
                    "envtest mode needs two --envtest-assets directories (source, then target); \
                     run it through cargo xtask e2e --clusters envtest, which builds them"
                );
            };
            let (source_dir, target_dir) =
                (work_dir.join("envtest-src"), work_dir.join("envtest-dst"));
            let (source, target) = tokio::try_join!(
                crate::envtest::start(source_assets, &source_dir, "src", keep),
                crate::envtest::start(target_assets, &target_dir, "dst", keep),
            )?;
            for plane in [&source, &target] {
                println!(
                    "control plane {} ({}): Kubernetes {} at {}",
                    plane.name,
                    if plane.name == "src" {
                        "source"
                    } else {
                        "target"
                    },
                    plane.version,
                    plane.url
                );
            }
            let kubeconfigs = (source.kubeconfig.clone(), target.kubeconfig.clone());
            connect(
                kubeconfigs.0,
                kubeconfigs.1,
                Teardown::ControlPlanes(vec![source, target]),
            )
            .await
        }
        ClusterMode::Kind => {
            let mut kubeconfigs = Vec::new();
            for (name, image) in KIND_CLUSTERS.into_iter().zip(KIND_NODE_IMAGES) {
                match create_kind_cluster(name, image, kind_config, work_dir).await {
                    Ok(kubeconfig) => kubeconfigs.push(kubeconfig),
                    Err(err) => {
                        // Half a pair is no use to anyone: take down what was made.
                        if !keep {
                            for name in &KIND_CLUSTERS[..kubeconfigs.len()] {
                                let _ =
                                    run_tool("kind", &["delete", "cluster", "--name", name]).await;
                            }
                        }
                        return Err(err);
                    }
                }
            }
            let [source, target] = <[PathBuf; 2]>::try_from(kubeconfigs)
                .map_err(|_| anyhow!("kind did not create two clusters"))?;
            connect(source, target, Teardown::Kind(KIND_CLUSTERS.to_vec())).await
        }
        ClusterMode::Kubeconfig { source, target } => {
            for path in [source, target] {
                if !path.is_file() {
                    bail!(
                        "kubeconfig {} not found; pass kubeconfig:SRC,DST with two existing files",
                        path.display()
                    );
                }
            }
            connect(source.clone(), target.clone(), Teardown::Nothing).await
        }
    }
}

async fn connect(source: PathBuf, target: PathBuf, teardown: Teardown) -> anyhow::Result<Clusters> {
    Ok(Clusters {
        source: Cluster {
            side: "src",
            client: crate::kubeapi::client(&source).await?,
            kubeconfig: source,
        },
        target: Cluster {
            side: "dst",
            client: crate::kubeapi::client(&target).await?,
            kubeconfig: target,
        },
        teardown,
    })
}

/// Starts one standalone kubesim and waits until it prints its URL (it is serving then).
pub async fn start_kubesim(
    kubesim: &Path,
    profile: &str,
    side: &str,
    work_dir: &Path,
) -> anyhow::Result<(Child, PathBuf)> {
    let kubeconfig = work_dir.join(format!("kubesim-{side}.kubeconfig"));
    let log = std::fs::File::create(work_dir.join(format!("kubesim-{side}.log")))
        .context("cannot create the kubesim log file")?;
    let mut child = Command::new(kubesim)
        .args(["--profile", profile, "--port", "0", "--kubeconfig-out"])
        .arg(&kubeconfig)
        .stdout(Stdio::piped())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", kubesim.display()))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow!("kubesim's stdout is not piped"))?;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .map_err(|_| anyhow!("kubesim ({profile}) printed no URL within 30s"))?
        .context("cannot read kubesim's output")?
        .ok_or_else(|| {
            anyhow!(
                "kubesim ({profile}) exited before serving; see {}",
                work_dir.join(format!("kubesim-{side}.log")).display()
            )
        })?;
    println!("kubesim {profile} ({side}) serving at {}", url.trim());
    Ok((child, kubeconfig))
}

async fn run_tool(program: &str, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .await
        .with_context(|| format!("cannot run {program}"))?;
    if !output.status.success() {
        bail!(
            "`{program} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Creates a kind cluster (or reuses one a `--keep` run left) and writes its kubeconfig.
async fn create_kind_cluster(
    name: &str,
    image: &str,
    config: Option<&Path>,
    work_dir: &Path,
) -> anyhow::Result<PathBuf> {
    let kubeconfig = work_dir.join(format!("{name}.kubeconfig"));
    let path = kubeconfig.to_string_lossy().into_owned();
    let existing = run_tool("kind", &["get", "clusters"]).await?;
    if existing.lines().any(|line| line.trim() == name) {
        println!("kind cluster {name} exists (left by --keep); reusing it");
        run_tool(
            "kind",
            &[
                "export",
                "kubeconfig",
                "--name",
                name,
                "--kubeconfig",
                &path,
            ],
        )
        .await?;
    } else {
        println!("creating kind cluster {name} ({image})");
        let mut args = vec![
            "create",
            "cluster",
            "--name",
            name,
            "--image",
            image,
            "--kubeconfig",
            &path,
            "--wait",
            "180s",
        ];
        let config = config.map(|config| config.to_string_lossy().into_owned());
        if let Some(config) = &config {
            args.extend(["--config", config.as_str()]);
        }
        run_tool("kind", &args).await?;
    }
    Ok(kubeconfig)
}

impl Clusters {
    /// Stops kubesim, or deletes the kind clusters unless `keep`.
    pub async fn tear_down(self, keep: bool) -> anyhow::Result<()> {
        match self.teardown {
            Teardown::Processes(children) => {
                for mut child in children {
                    // The processes are ours and hold nothing worth flushing.
                    let _ = child.kill().await;
                }
                Ok(())
            }
            Teardown::ControlPlanes(planes) if !keep => {
                for plane in planes {
                    plane.stop().await;
                }
                Ok(())
            }
            Teardown::ControlPlanes(planes) => {
                for plane in &planes {
                    println!(
                        "--keep: control plane {} (Kubernetes {}) runs on at {}: kubeconfig {}, \
                         stop it with `kill {}`",
                        plane.name,
                        plane.version,
                        plane.url,
                        plane.kubeconfig.display(),
                        plane
                            .pids()
                            .iter()
                            .map(u32::to_string)
                            .collect::<Vec<_>>()
                            .join(" ")
                    );
                }
                // Dropping the handles leaves the processes running (they were not started
                // with kill-on-drop).
                Ok(())
            }
            Teardown::Kind(names) if !keep => {
                for name in names {
                    run_tool("kind", &["delete", "cluster", "--name", name]).await?;
                }
                Ok(())
            }
            Teardown::Kind(names) => {
                println!("--keep: leaving kind clusters {}", names.join(", "));
                Ok(())
            }
            Teardown::Nothing => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_config_mounts_the_storage_into_the_node() {
        assert_eq!(
            kind_config(Path::new("/tmp/run 1/storage")),
            "kind: Cluster\n\
             apiVersion: kind.x-k8s.io/v1alpha4\n\
             nodes:\n\
             - role: control-plane\n  \
               extraMounts:\n  \
               - hostPath: \"/tmp/run 1/storage\"\n    \
                 containerPath: /var/lib/godwit-e2e\n"
        );
    }

    #[test]
    fn the_image_tag_is_never_latest() {
        assert_eq!(image_tag("a1b2c3"), "godwit:e2e-a1b2c3");
    }

    #[test]
    fn the_repo_root_holds_the_dockerfile() {
        assert!(repo_root().join(DOCKERFILE).is_file());
        assert!(repo_root().join("e2e").join("Cargo.toml").is_file());
    }
}
