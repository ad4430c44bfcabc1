//! The client side: forwards a command line to a running server.

use std::io::ErrorKind;
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

use super::{Reply, Request, socket_path};

/// Connects to the server of a data folder; `None` when no server runs
/// (no socket, or a stale one left by a crash).
pub async fn connect(data: &Path) -> Result<Option<UnixStream>> {
    let path = socket_path(data);
    match UnixStream::connect(&path).await {
        Ok(s) => Ok(Some(s)),
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused) => {
            Ok(None)
        }
        Err(e) => Err(anyhow!(e))
            .with_context(|| format!("cannot reach the running server through {}", path.display())),
    }
}

/// Sends a request line.
pub async fn send(stream: &mut UnixStream, request: &Request) -> Result<()> {
    let mut line = serde_json::to_vec(request)?;
    line.push(b'\n');
    stream.write_all(&line).await?;
    Ok(())
}

/// Runs this process's command line inside the running server, prints what
/// it printed and returns its exit code; `None` when no server runs.
pub async fn forward(data: &Path) -> Result<Option<u8>> {
    let Some(mut stream) = connect(data).await? else {
        return Ok(None);
    };
    let args = std::env::args_os()
        .skip(1)
        .map(|a| {
            a.into_string()
                .map_err(|a| anyhow!("argument {a:?} is not valid UTF-8"))
        })
        .collect::<Result<Vec<_>>>()?;
    let request = Request::Run {
        args,
        cwd: std::env::current_dir().context("cannot read the working directory")?,
        user: crate::app::os_user(),
    };
    send(&mut stream, &request).await?;
    let mut line = String::new();
    BufReader::new(stream)
        .read_line(&mut line)
        .await
        .context("reading the server's answer")?;
    let reply: Reply = serde_json::from_str(&line)
        .context("the server closed the connection without an answer (see its log)")?;
    use std::io::Write;
    std::io::stdout().write_all(reply.stdout.as_bytes())?;
    std::io::stdout().flush()?;
    std::io::stderr().write_all(reply.stderr.as_bytes())?;
    Ok(Some(reply.exit))
}
