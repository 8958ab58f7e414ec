//! The `godwit` binary: the CLI (`backup`, `restore`, `migrate`), the server and the installer.

mod cli;
mod install;
mod jobs;
mod output;
mod server;
mod writes;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    // Before any TLS client exists: kube and the S3 client would otherwise race to pick one.
    godwit_storage::install_crypto_provider();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            use clap::error::ErrorKind;
            if matches!(
                error.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = error.print();
                return if error.use_stderr() {
                    ExitCode::from(2)
                } else {
                    ExitCode::SUCCESS
                };
            }
            eprintln!("{}", cli::one_line_usage_error(&error));
            return ExitCode::from(2);
        }
    };
    init_tracing(matches!(cli.command, cli::Command::Server(_)));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}{}", unreachable_hint(&err));
            ExitCode::FAILURE
        }
    }
}

/// The way out when a request never reached the API server.
fn unreachable_hint(err: &anyhow::Error) -> &'static str {
    let unreachable = err.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<kube::Error>(),
            Some(kube::Error::Service(_) | kube::Error::HyperError(_))
        )
    });
    if unreachable {
        "; check the cluster is reachable and --kubeconfig/--kubecontext point at it"
    } else {
        ""
    }
}

/// Logs go to stderr, filtered by `RUST_LOG`. The server logs at info by default; the CLI
/// shows only warnings, and none from kube's client, whose errors the CLI reports itself in
/// one line.
fn init_tracing(server: bool) {
    let default = if server {
        "info"
    } else {
        "warn,kube_client=off"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour only for a person at a terminal: server logs usually go to a file or collector.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
