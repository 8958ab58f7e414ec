//! Which cluster and which server namespace a command talks to (`--kubeconfig`,
//! `--kubecontext`, `-n`), and building a `kube::Client` from them with one-line errors.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use kube::config::{KubeConfigOptions, Kubeconfig};

/// The flags every server-backed command takes, named as Velero names them.
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// Path to the kubeconfig file to use to talk to the Kubernetes apiserver. If unset, try the
    /// environment variable KUBECONFIG, then ~/.kube/config.
    #[arg(
        long,
        global = true,
        env = "KUBECONFIG",
        value_name = "PATH",
        help_heading = "Cluster options"
    )]
    pub kubeconfig: Option<PathBuf>,

    /// The context to use to talk to the Kubernetes apiserver. If unset, the kubeconfig's
    /// current context.
    #[arg(
        long,
        global = true,
        value_name = "CONTEXT",
        help_heading = "Cluster options"
    )]
    pub kubecontext: Option<String>,

    /// The namespace in which the godwit (Velero) server runs.
    #[arg(
        short = 'n',
        long = "namespace",
        global = true,
        env = "GODWIT_NAMESPACE",
        default_value = godwit_api::DEFAULT_NAMESPACE,
        value_name = "NAMESPACE",
        help_heading = "Cluster options"
    )]
    pub server_namespace: String,
}

impl ClusterArgs {
    /// A client for the chosen cluster and context.
    pub async fn client(&self) -> anyhow::Result<kube::Client> {
        client(
            self.kubeconfig.as_deref(),
            self.kubecontext.as_deref(),
            "--kubeconfig",
        )
        .await
    }
}

/// A client from a kubeconfig (`None`: `$HOME/.kube/config`, or in-cluster when running in a
/// pod) and an optional context. `flag` names the flag the path came from, for the error.
pub async fn client(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
    flag: &str,
) -> anyhow::Result<kube::Client> {
    let config = config(kubeconfig, context, flag).await?;
    crate::writes::client(config).context("cannot build a Kubernetes client")
}

/// The client configuration [`client`] builds on (it also names the cluster's URL).
pub async fn config(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
    flag: &str,
) -> anyhow::Result<kube::Config> {
    let options = KubeConfigOptions {
        context: context.map(str::to_owned),
        ..KubeConfigOptions::default()
    };
    let config = match kubeconfig {
        Some(path) => {
            let kubeconfig = read_kubeconfig(path, flag)?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|err| {
                    anyhow!(
                        "cannot use kubeconfig {} ({flag}): {err}; check the file and the context",
                        path.display()
                    )
                })?
        }
        None if context.is_some() => kube::Config::from_kubeconfig(&options)
            .await
            .map_err(|err| anyhow!("cannot use the default kubeconfig: {err}; pass {flag}"))?,
        None => kube::Config::infer().await.map_err(|err| {
            anyhow!("no cluster to talk to: {err}; pass {flag} or set KUBECONFIG")
        })?,
    };
    Ok(config)
}

/// Reads a kubeconfig, or every file of a `:`-separated list (as KUBECONFIG allows), merged.
fn read_kubeconfig(path: &Path, flag: &str) -> anyhow::Result<Kubeconfig> {
    let text = path.to_string_lossy();
    let paths: Vec<PathBuf> = std::env::split_paths(text.as_ref())
        .filter(|p| !p.as_os_str().is_empty())
        .collect();
    let mut merged: Option<Kubeconfig> = None;
    for path in &paths {
        if !path.exists() {
            anyhow::bail!(
                "kubeconfig file {} not found ({flag}); pass an existing file",
                path.display()
            );
        }
        let config = Kubeconfig::read_from(path).map_err(|err| {
            anyhow!(
                "cannot read kubeconfig {} ({flag}): {err}; check the file is a kubeconfig",
                path.display()
            )
        })?;
        merged = Some(match merged {
            Some(done) => done
                .merge(config)
                .map_err(|err| anyhow!("cannot merge kubeconfigs ({flag}): {err}"))?,
            None => config,
        });
    }
    merged.ok_or_else(|| anyhow!("{flag} is empty; pass the path of a kubeconfig file"))
}
