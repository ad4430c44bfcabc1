//! `stampcard`: the binary and composition root.
//!
//! - `cli`: the command line (clap).
//! - `config`: `stampcard.toml` with environment overrides.
//! - `app`: opening a data folder, printing for people and scripts.
//! - `commands/`: one file per group of subcommands.

/// mimalloc instead of glibc malloc: the stamp and campaign paths allocate
/// from several threads at once, and glibc's arena locks showed at the top
/// of their profiles (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod admin;
mod api;
mod app;
mod campaigns;
mod cli;
mod commands;
mod config;
mod console_host;
mod email;
mod export;
mod http;
mod metrics;
mod nodes;
mod output;
mod passes;
mod prompt;
mod reminders;
mod schedule;
mod scrub;
mod services;
mod shop_settings;
mod telegram_webhook;
mod upgrade;
mod wallet_doctor;
mod webhooks;

use clap::Parser;

/// Keeps the resident set close to what is live.
///
/// - glibc's malloc (still used by C code) gets at most 2 arenas: with one
///   per thread, freed memory stays fragmented across them (BENCHMARKS.md,
///   run 4).
/// - No transparent huge pages for this process: mimalloc's arenas are
///   2 MiB-aligned, and the kernel backs partly used ones with whole huge
///   pages. At 1,000,000 cards with 10,000 resident card actors this cost
///   40–55 MB (BENCHMARKS.md, run 22), with no measurable gain in speed.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is called once,
    // before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_THP_DISABLE only sets a flag of this process.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() -> std::process::ExitCode {
    tune_allocator();
    // Everything this process creates — the store, backups, exports, logs —
    // is its owner's alone (0700 folders, 0600 files), whoever made the
    // data folder and whatever the shell's umask.
    // SAFETY: umask only sets this process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("STAMPCARD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        // Colour only for a person: no escape codes in a log file or journald.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
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
    let code = runtime.block_on(commands::main(cli));
    // The console reads its keys with a blocking read of standard input,
    // which cannot be cancelled: waiting for it would keep the process (and
    // its data folder's lock) alive until the next key. Everything else has
    // stopped (and every change was flushed when it was acknowledged).
    runtime.shutdown_background();
    std::process::ExitCode::from(code)
}
