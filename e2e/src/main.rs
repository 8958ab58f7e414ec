//! The `godwit-e2e` binary: `cargo xtask e2e` builds and starts it.

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let args = godwit_e2e::args::Args::parse();
    godwit_e2e::block_on(async {
        Ok(match godwit_e2e::main_with(args).await? {
            true => ExitCode::SUCCESS,
            false => ExitCode::FAILURE,
        })
    })
}
