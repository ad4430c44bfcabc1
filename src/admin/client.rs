//! The client side: forwards a command line to a running server.

use std::io::ErrorKind;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
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
    let Some(reply) = run_remote(data, &request).await? else {
        return Ok(None);
    };
    use std::io::Write;
    std::io::stdout().write_all(reply.stdout.as_bytes())?;
    std::io::stdout().flush()?;
    std::io::stderr().write_all(reply.stderr.as_bytes())?;
    Ok(Some(reply.exit))
}

/// How long a command waits for a server that is stopping to be gone (or
/// back): a command typed as the console quits runs once it has quit.
const STOPPING_PATIENCE: Duration = Duration::from_secs(10);

/// Sends `request` to the running server and reads its answer; `None` when
/// no server runs. A server that went away before it read the request (it
/// was stopping) did not run it: the request is sent again once that server
/// is gone — to the next one, or run here when none is left.
pub async fn run_remote(data: &Path, request: &Request) -> Result<Option<Reply>> {
    let deadline = Instant::now() + STOPPING_PATIENCE;
    loop {
        match exchange(data, request).await? {
            Exchange::Answered(reply) => return Ok(Some(reply)),
            Exchange::NoServer => return Ok(None),
            Exchange::Unread if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Exchange::Unread => bail!(
                "the server running on {} keeps closing the admin socket without reading \
                 commands; is it stopping? Try again once it has stopped",
                data.display()
            ),
        }
    }
}

/// What one attempt to run a request in the server came to.
enum Exchange {
    Answered(Reply),
    NoServer,
    /// The server closed the connection without reading the request.
    Unread,
}

/// Whether an error on the socket means the server closed it with the
/// request unread: writing to a closed socket is a broken pipe, and Linux
/// resets a Unix socket closed with data still unread in it.
fn unread(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::BrokenPipe | ErrorKind::ConnectionReset)
}

async fn exchange(data: &Path, request: &Request) -> Result<Exchange> {
    let Some(mut stream) = connect(data).await? else {
        return Ok(Exchange::NoServer);
    };
    let mut line = serde_json::to_vec(request)?;
    line.push(b'\n');
    match stream.write_all(&line).await {
        Ok(()) => {}
        Err(e) if unread(&e) => return Ok(Exchange::Unread),
        Err(e) => return Err(anyhow!(e)).context("sending the command to the server"),
    }
    let mut answer = String::new();
    match BufReader::new(stream).read_line(&mut answer).await {
        Ok(_) => {}
        Err(e) if unread(&e) => return Ok(Exchange::Unread),
        Err(e) => return Err(anyhow!(e)).context("reading the server's answer"),
    }
    let reply: Reply = serde_json::from_str(&answer)
        .context("the server closed the connection without an answer (see its log)")?;
    Ok(Exchange::Answered(reply))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::UnixListener;

    fn request() -> Request {
        Request::Run {
            args: vec!["template".into(), "list".into()],
            cwd: "/".into(),
            user: "test".into(),
        }
    }

    /// Reads one request line and answers it with exit code 7.
    async fn answer(stream: UnixStream) {
        let (read, mut write) = stream.into_split();
        let mut line = String::new();
        BufReader::new(read).read_line(&mut line).await.unwrap();
        assert!(line.contains("template"), "{line}");
        let reply = Reply {
            stdout: "ran once\n".into(),
            stderr: String::new(),
            exit: 7,
        };
        let mut out = serde_json::to_vec(&reply).unwrap();
        out.push(b'\n');
        write.write_all(&out).await.unwrap();
    }

    #[tokio::test]
    async fn a_request_a_stopping_server_did_not_read_goes_to_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let listener = UnixListener::bind(socket_path(dir.path())).unwrap();
        let server = tokio::spawn(async move {
            // The stopping server: accepts, lets the request arrive, closes
            // without reading it.
            let (first, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            drop(first);
            // The next one answers.
            let (second, _) = listener.accept().await.unwrap();
            answer(second).await;
        });
        let reply = run_remote(dir.path(), &request()).await.unwrap();
        let reply = reply.expect("answered");
        assert_eq!((reply.exit, reply.stdout.as_str()), (7, "ran once\n"));
        server.await.unwrap();
    }

    #[tokio::test]
    async fn a_server_gone_with_the_request_unread_leaves_it_to_this_process() {
        let dir = tempfile::tempdir().unwrap();
        let path = socket_path(dir.path());
        let listener = UnixListener::bind(&path).unwrap();
        let server = tokio::spawn(async move {
            let (first, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            drop(first);
            // The process exits: its socket file stays, nobody listens.
            drop(listener);
        });
        assert!(run_remote(dir.path(), &request()).await.unwrap().is_none());
        server.await.unwrap();
        assert!(path.exists(), "a stale socket file, as a crash leaves it");
    }

    #[tokio::test]
    async fn a_request_the_server_read_is_never_sent_twice() {
        let dir = tempfile::tempdir().unwrap();
        let listener = UnixListener::bind(socket_path(dir.path())).unwrap();
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut line = String::new();
            let mut reader = BufReader::new(stream);
            reader.read_line(&mut line).await.unwrap();
            drop(reader);
            // A second connection would be a second run of the command.
            tokio::time::timeout(Duration::from_millis(500), listener.accept())
                .await
                .is_ok()
        });
        let e = run_remote(dir.path(), &request()).await.unwrap_err();
        assert!(format!("{e:#}").contains("without an answer"), "{e:#}");
        assert!(!server.await.unwrap(), "the command was sent again");
    }
}
