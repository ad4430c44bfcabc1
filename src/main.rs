//! `stampcard`: the binary and composition root.
//!
//! - `cli`: the command line (clap).
//! - `config`: `stampcard.toml` with environment overrides.
//! - `app`: opening a data folder, printing for people and scripts.
//! - `commands/`: one file per group of subcommands.

mod app;
mod cli;
mod commands;
mod config;

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
    let json = cli.json;
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            let core = e.downcast_ref::<stampcard_core::CoreError>();
            if json {
                let code = core.map(|c| c.code()).unwrap_or("error");
                println!(
                    "{}",
                    serde_json::json!({"error": {"code": code, "message": format!("{e:#}")}})
                );
            }
            eprintln!("error: {e:#}");
            // 1: refused or not found (a normal "no" at the counter); 2: anything else.
            std::process::ExitCode::from(if core.is_some() { 1 } else { 2 })
        }
    }
}
