//! The command line of `godwit-e2e` (what `cargo xtask e2e` passes on) and the choice of
//! cluster mode, kept pure so it can be tested without any cluster or tool.

use std::path::PathBuf;
use std::str::FromStr;

/// Where the two clusters come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterMode {
    /// Two `godwit-kubesim` processes on 127.0.0.1, source on 1.25 and target on 1.33.
    Sim,
    /// Two real control planes (etcd, kube-apiserver, kube-controller-manager) on 127.0.0.1,
    /// started from the `--envtest-assets` directories, source first.
    Envtest,
    /// Two kind clusters, `godwit-e2e-src` and `godwit-e2e-dst`, on pinned node images.
    Kind,
    /// Two existing clusters, each given by a kubeconfig file.
    Kubeconfig {
        /// The kubeconfig of the cluster backed up from.
        source: PathBuf,
        /// The kubeconfig of the cluster restored into.
        target: PathBuf,
    },
}

impl FromStr for ClusterMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim() {
            "sim" => Ok(ClusterMode::Sim),
            "envtest" => Ok(ClusterMode::Envtest),
            "kind" => Ok(ClusterMode::Kind),
            other => {
                let Some(paths) = other.strip_prefix("kubeconfig:") else {
                    return Err(format!(
                        "unknown cluster mode {other:?}; use sim, envtest, kind or \
                         kubeconfig:SRC,DST"
                    ));
                };
                match paths
                    .split(',')
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .as_slice()
                {
                    [source, target] if !source.is_empty() && !target.is_empty() => {
                        Ok(ClusterMode::Kubeconfig {
                            source: PathBuf::from(source),
                            target: PathBuf::from(target),
                        })
                    }
                    _ => Err(format!(
                        "kubeconfig mode {other:?} needs two paths; write kubeconfig:SRC,DST"
                    )),
                }
            }
        }
    }
}

impl std::fmt::Display for ClusterMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClusterMode::Sim => f.write_str("sim"),
            ClusterMode::Envtest => f.write_str("envtest"),
            ClusterMode::Kind => f.write_str("kind"),
            ClusterMode::Kubeconfig { source, target } => {
                write!(f, "kubeconfig:{},{}", source.display(), target.display())
            }
        }
    }
}

/// What `godwit-e2e` takes.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "godwit-e2e",
    about = "Back up SPEC.md section 4's version cases from one cluster with \
             EnableAPIGroupVersions, restore them into another, and check every object's version"
)]
pub struct Args {
    /// sim, envtest, kind or kubeconfig:SRC,DST; without it kind when docker and kind work,
    /// else sim.
    #[arg(long, value_name = "MODE")]
    pub clusters: Option<ClusterMode>,

    /// Leave clusters, namespaces and CRDs in place at the end (for a look around).
    #[arg(long)]
    pub keep: bool,

    /// Run only these scenarios (repeatable); all when absent.
    #[arg(long = "case", value_name = "NAME")]
    pub cases: Vec<String>,

    /// Also write the result rows as JSON to this file (`-` for standard output).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,

    /// kind only: build the godwit image from deploy/Dockerfile, load it into both kind
    /// clusters (whose nodes mount the work directory's shared storage) and deploy the servers
    /// with `godwit install` instead of running them here.
    #[arg(long)]
    pub in_cluster: bool,

    /// With --in-cluster: how many seconds each installed godwit Deployment may take to
    /// become ready.
    #[arg(long, value_name = "SECONDS", default_value_t = 180)]
    pub ready_timeout: u64,

    /// The godwit binary.
    #[arg(long, env = "GODWIT_E2E_GODWIT", value_name = "PATH")]
    pub godwit: PathBuf,

    /// The godwit-kubesim binary (sim mode).
    #[arg(long, env = "GODWIT_E2E_KUBESIM", value_name = "PATH")]
    pub kubesim: Option<PathBuf>,

    /// envtest mode: a directory holding etcd, kube-apiserver and kube-controller-manager;
    /// given twice, the source's (older Kubernetes) first, then the target's. `cargo xtask e2e
    /// --clusters envtest` builds them and passes them on.
    #[arg(long = "envtest-assets", value_name = "DIR")]
    pub envtest_assets: Vec<PathBuf>,

    /// Where kubeconfigs, the shared backup storage and server logs go; a fresh temporary
    /// directory when absent.
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
}

/// Whether the tools kind mode needs are usable here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tools {
    /// `docker` is on PATH.
    pub docker_on_path: bool,
    /// `docker info` answered: the engine runs and we may use it.
    pub docker_running: bool,
    /// `kind` is on PATH.
    pub kind_on_path: bool,
}

impl Tools {
    /// Each tool kind mode lacks, with what is wrong with it.
    pub fn missing(&self) -> Vec<&'static str> {
        let docker = if !self.docker_on_path {
            Some("docker (not found on PATH)")
        } else if !self.docker_running {
            Some("docker (`docker info` failed; is the engine running and may you use it?)")
        } else {
            None
        };
        let kind = (!self.kind_on_path).then_some("kind (not found on PATH)");
        [docker, kind].into_iter().flatten().collect()
    }

    /// What kind mode lacks, as one message naming each missing tool and the way out; `None`
    /// when nothing is missing.
    pub fn kind_missing(&self) -> Option<String> {
        let missing = self.missing();
        (!missing.is_empty()).then(|| {
            format!(
                "kind mode needs {}: install {} or use --clusters sim",
                missing.join(" and "),
                if missing.len() == 1 { "it" } else { "them" }
            )
        })
    }
}

/// The mode to run in and the first line to print, saying which and why.
pub fn choose_mode(requested: Option<&ClusterMode>, tools: &Tools) -> (ClusterMode, String) {
    match requested {
        Some(mode) => (mode.clone(), format!("clusters: {mode} (from --clusters)")),
        None => match tools.kind_missing() {
            None => (
                ClusterMode::Kind,
                "clusters: kind (docker and kind are available; --clusters sim to use kubesim)"
                    .to_owned(),
            ),
            Some(_) => (
                ClusterMode::Sim,
                format!(
                    "clusters: sim (no --clusters, and kind mode lacks {})",
                    tools.missing().join(" and ")
                ),
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Result<ClusterMode, &str>) {
        let parsed = text.parse::<ClusterMode>();
        match (parsed, expected) {
            (Ok(mode), Ok(want)) => assert_eq!(mode, want, "{text}"),
            (Err(err), Err(part)) => assert!(err.contains(part), "{text}: {err}"),
            (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn parses_cluster_modes() {
        check("sim", Ok(ClusterMode::Sim));
        check(" kind ", Ok(ClusterMode::Kind));
        check(
            "kubeconfig:/a/src.yaml,/b/dst.yaml",
            Ok(ClusterMode::Kubeconfig {
                source: "/a/src.yaml".into(),
                target: "/b/dst.yaml".into(),
            }),
        );
        check(
            "kubeconfig:same.yaml, same.yaml",
            Ok(ClusterMode::Kubeconfig {
                source: "same.yaml".into(),
                target: "same.yaml".into(),
            }),
        );
        check("kubeconfig:only.yaml", Err("needs two paths"));
        check("kubeconfig:a,b,c", Err("needs two paths"));
        check("kubeconfig:,b", Err("needs two paths"));
        check("envtest", Ok(ClusterMode::Envtest));
        check("minikube", Err("use sim, envtest, kind or"));
    }

    #[test]
    fn display_round_trips() {
        for text in ["sim", "envtest", "kind", "kubeconfig:a.yaml,b.yaml"] {
            let mode: ClusterMode = text.parse().unwrap();
            assert_eq!(mode.to_string(), text);
        }
    }

    #[test]
    fn parses_the_command_line() {
        use clap::Parser as _;
        let args = Args::try_parse_from([
            "godwit-e2e",
            "--clusters",
            "kubeconfig:s,d",
            "--keep",
            "--case",
            "case-a",
            "--case",
            "hpa",
            "--godwit",
            "/bin/godwit",
        ])
        .unwrap();
        assert_eq!(
            args.clusters,
            Some(ClusterMode::Kubeconfig {
                source: "s".into(),
                target: "d".into()
            })
        );
        assert!(args.keep);
        assert_eq!(args.cases, ["case-a", "hpa"]);
        assert!(!args.in_cluster);
        assert_eq!(args.ready_timeout, 180);
        let args = Args::try_parse_from([
            "godwit-e2e",
            "--in-cluster",
            "--ready-timeout",
            "5",
            "--godwit",
            "g",
        ])
        .unwrap();
        assert!(args.in_cluster);
        assert_eq!(args.ready_timeout, 5);
        assert!(
            Args::try_parse_from(["godwit-e2e", "--clusters", "k3d", "--godwit", "g"]).is_err()
        );
    }

    const ALL: Tools = Tools {
        docker_on_path: true,
        docker_running: true,
        kind_on_path: true,
    };

    #[test]
    fn kind_mode_names_what_is_missing() {
        assert_eq!(ALL.kind_missing(), None);
        let none = Tools {
            docker_on_path: false,
            docker_running: false,
            kind_on_path: false,
        };
        assert_eq!(
            none.kind_missing().unwrap(),
            "kind mode needs docker (not found on PATH) and kind (not found on PATH): \
             install them or use --clusters sim"
        );
        let stopped = Tools {
            docker_running: false,
            ..ALL
        };
        assert!(
            stopped
                .kind_missing()
                .unwrap()
                .contains("`docker info` failed")
        );
        let no_kind = Tools {
            kind_on_path: false,
            ..ALL
        };
        assert_eq!(
            no_kind.kind_missing().unwrap(),
            "kind mode needs kind (not found on PATH): install it or use --clusters sim"
        );
    }

    #[test]
    fn chooses_kind_only_when_it_can_run() {
        let (mode, line) = choose_mode(None, &ALL);
        assert_eq!(mode, ClusterMode::Kind);
        assert!(line.starts_with("clusters: kind"), "{line}");
        let (mode, line) = choose_mode(
            None,
            &Tools {
                docker_on_path: false,
                docker_running: false,
                kind_on_path: true,
            },
        );
        assert_eq!(mode, ClusterMode::Sim);
        assert_eq!(
            line,
            "clusters: sim (no --clusters, and kind mode lacks docker (not found on PATH))"
        );
        let (mode, line) = choose_mode(Some(&ClusterMode::Sim), &ALL);
        assert_eq!(mode, ClusterMode::Sim);
        assert_eq!(line, "clusters: sim (from --clusters)");
    }
}
