//! The `godwit-kubesim` binary: starts a simulated API server, writes its kubeconfig, prints the
//! URL, and serves until SIGINT or SIGTERM.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use godwit_kubesim::{Options, Profile};

/// A simulated Kubernetes API server for godwit's end-to-end tests and demos.
#[derive(Debug, Parser)]
#[command(name = "godwit-kubesim", version)]
struct Args {
    /// Which Kubernetes minor's built-in resources to serve (1.25 or 1.33).
    #[arg(long, default_value = "1.33")]
    profile: Profile,
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Where to write a kubeconfig for kubectl and kube clients.
    #[arg(long, value_name = "PATH")]
    kubeconfig_out: Option<PathBuf>,
    /// Keep objects in this directory across restarts.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The bearer token clients must send.
    #[arg(long, default_value = "kubesim-token", env = "KUBESIM_TOKEN")]
    token: String,
    /// Node ports Services may use, as FIRST-LAST.
    #[arg(long, default_value = "30000-32767", value_parser = parse_range)]
    node_port_range: std::ops::RangeInclusive<u16>,
}

fn parse_range(text: &str) -> Result<std::ops::RangeInclusive<u16>, String> {
    let (start, end) = text
        .split_once('-')
        .ok_or_else(|| format!("{text:?} is not a range; write it as 30000-32767"))?;
    let parse = |part: &str| {
        part.trim()
            .parse::<u16>()
            .map_err(|err| format!("{part:?} in {text:?} is not a port: {err}"))
    };
    let (start, end) = (parse(start)?, parse(end)?);
    if start > end {
        return Err(format!("{text:?} is empty; give the lower port first"));
    }
    Ok(start..=end)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let running = godwit_kubesim::start(Options {
        profile: args.profile,
        port: args.port,
        token: args.token,
        data_dir: args.data_dir,
        node_port_range: args.node_port_range,
    })
    .await
    .context("starting kubesim")?;
    if let Some(path) = &args.kubeconfig_out {
        running
            .write_kubeconfig(path)
            .with_context(|| format!("writing the kubeconfig to {}", path.display()))?;
    }
    println!("{}", running.url());
    wait_for_signal().await?;
    running.shutdown().await;
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("listening for SIGTERM")?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result.context("listening for SIGINT")?,
        _ = terminate.recv() => {}
    }
    Ok(())
}
