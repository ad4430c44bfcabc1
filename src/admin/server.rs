//! The server side: accepts admin-socket connections inside `serve`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use clap::Parser;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;

use super::{Reply, Request, socket_path};
use crate::app::App;
use crate::cli::Cli;
use crate::output::Out;

/// Opens the admin socket of a data folder whose store this process holds.
pub fn bind(data: &Path) -> Result<UnixListener> {
    let path = socket_path(data);
    // We hold the store's lock, so a socket file here is a stale one left by
    // a crashed server: remove it.
    match std::fs::remove_file(&path) {
        Ok(()) => tracing::info!(path = %path.display(), "removed a stale admin socket"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot remove {}", path.display())),
    }
    let listener = UnixListener::bind(&path)
        .with_context(|| format!("cannot open the admin socket {}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot restrict {}", path.display()))?;
    Ok(listener)
}

/// Serves admin connections until `stop` turns true, then removes the socket.
pub async fn serve(
    base: App,
    listener: UnixListener,
    mut stop: watch::Receiver<bool>,
    gate: std::sync::Arc<stampcard_core::listen::Gate>,
) {
    let accept = || async {
        let (stream, _) = listener.accept().await?;
        Ok((stream, None))
    };
    while let Some((stream, admitted)) = gate.next(&mut stop, accept).await {
        let app = base.clone();
        tokio::spawn(async move {
            let _admitted = admitted;
            if let Err(e) = handle(app, stream).await {
                tracing::warn!("admin connection: {e:#}");
            }
        });
    }
    let _ = std::fs::remove_file(socket_path(&base.data));
}

async fn handle(base: App, stream: UnixStream) -> Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = String::new();
    if reader.read_line(&mut line).await? == 0 {
        return Ok(()); // a probe: the client only checked that a server runs
    }
    let request: Request =
        serde_json::from_str(&line).map_err(|e| anyhow!("malformed admin request: {e}"))?;
    match request {
        Request::Run { args, cwd, user } => {
            let reply = run(base, args, cwd, user).await;
            let mut line = serde_json::to_vec(&reply)?;
            line.push(b'\n');
            write.write_all(&line).await?;
            write.shutdown().await?;
        }
        Request::Console {
            user,
            size: Some((cols, rows)),
        } => {
            let _ = user; // the console signs staff in by PIN
            let host = crate::console_host::AppHost::shared(&base);
            stampcard_tui::run(base.shop.clone(), reader, write, cols, rows, Some(host)).await?;
        }
        Request::Console { user, size: None } => {
            let app = App { user, ..base };
            crate::commands::console::session(&app, reader, write).await?;
        }
    }
    Ok(())
}

/// Runs one forwarded command line with captured output.
async fn run(base: App, args: Vec<String>, cwd: PathBuf, user: String) -> Reply {
    let cli = match Cli::try_parse_from(std::iter::once("stampcard".to_string()).chain(args)) {
        Ok(cli) => cli,
        Err(e) => {
            return Reply {
                stdout: String::new(),
                stderr: e.render().to_string(),
                exit: 2,
            };
        }
    };
    let (out, buffer) = Out::captured();
    let mut command = cli.command;
    command.absolutize(&cwd);
    let app = App {
        out: out.clone(),
        json: cli.json,
        user,
        ..base
    };
    let result = crate::commands::dispatch(&app, command).await;
    let exit = out.finish(result, cli.json);
    let captured = buffer.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Reply {
        stdout: String::from_utf8_lossy(&captured.stdout).into_owned(),
        stderr: captured.stderr,
        exit,
    }
}
