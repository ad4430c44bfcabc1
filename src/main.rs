//! `stampcard`: the binary and composition root.
//!
//! - `cli`: the command line (clap).
//! - `config`: `stampcard.toml` with environment overrides.
//! - `app`: opening a data folder, printing for people and scripts.
//! - `commands/`: one file per group of subcommands.

mod admin;
mod app;
mod cli;
mod commands;
mod config;
mod http;
mod output;
mod schedule;
mod upgrade;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("STAMPCARD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    std::process::ExitCode::from(runtime.block_on(commands::main(cli)))
}
