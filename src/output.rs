//! Where a command's output goes: the terminal, or a buffer that the admin
//! socket sends back to the client, so both print exactly the same text.

use std::sync::{Arc, Mutex};

/// Text a command printed while running behind the admin socket.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Captured {
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error.
    pub stderr: String,
}

/// A command's output streams.
#[derive(Debug, Clone, Default)]
pub enum Out {
    /// This process's stdout and stderr.
    #[default]
    Terminal,
    /// A buffer returned to an admin-socket client.
    Captured(Arc<Mutex<Captured>>),
}

impl Out {
    /// A fresh capturing output.
    pub fn captured() -> (Self, Arc<Mutex<Captured>>) {
        let buf = Arc::new(Mutex::new(Captured::default()));
        (Self::Captured(buf.clone()), buf)
    }

    /// Writes text to standard output.
    pub fn write(&self, text: &str) {
        match self {
            Self::Terminal => {
                use std::io::Write;
                let mut o = std::io::stdout().lock();
                let _ = o.write_all(text.as_bytes());
                let _ = o.flush();
            }
            Self::Captured(c) => c
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .stdout
                .extend_from_slice(text.as_bytes()),
        }
    }

    /// Writes raw bytes (a picture, a pass) to standard output.
    pub fn bytes(&self, data: &[u8]) {
        match self {
            Self::Terminal => {
                use std::io::Write;
                let mut o = std::io::stdout().lock();
                let _ = o.write_all(data);
                let _ = o.flush();
            }
            Self::Captured(c) => c
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .stdout
                .extend_from_slice(data),
        }
    }

    /// Writes one line to standard output.
    pub fn line(&self, text: &str) {
        self.write(&format!("{text}\n"));
    }

    /// Writes one line to standard error.
    pub fn err_line(&self, text: &str) {
        match self {
            Self::Terminal => eprintln!("{text}"),
            Self::Captured(c) => {
                let mut c = c.lock().unwrap_or_else(|e| e.into_inner());
                c.stderr.push_str(text);
                c.stderr.push('\n');
            }
        }
    }

    /// Whether progress bars may be drawn (a terminal, not a socket client).
    pub fn shows_progress(&self) -> bool {
        matches!(self, Self::Terminal)
    }

    /// A writer for large output (exports) on standard output.
    pub fn writer(&self) -> Box<dyn std::io::Write + '_> {
        match self {
            Self::Terminal => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            Self::Captured(c) => Box::new(CapturedWriter(c)),
        }
    }

    /// Reports a command's result the way the binary does: an error is
    /// printed (as JSON too when asked) and mapped to the exit code.
    pub fn finish(&self, result: anyhow::Result<()>, json: bool) -> u8 {
        match result {
            Ok(()) => 0,
            Err(e) => {
                let core = e.downcast_ref::<stampcard_core::CoreError>();
                if json {
                    let code = core.map(|c| c.code()).unwrap_or("error");
                    self.line(
                        &serde_json::json!({"error": {"code": code, "message": format!("{e:#}")}})
                            .to_string(),
                    );
                }
                self.err_line(&format!("error: {e:#}"));
                // 1: the shop said no to a well-formed request (a normal
                // "no" at the counter); 2: the request itself was wrong
                // (bad input, bad config) or the machine failed (I/O).
                use stampcard_core::CoreError as E;
                match core {
                    Some(E::Invalid(_) | E::BadValue { .. } | E::Store(_) | E::Unavailable(..))
                    | None => 2,
                    Some(_) => 1,
                }
            }
        }
    }
}

struct CapturedWriter<'a>(&'a Arc<Mutex<Captured>>);

impl std::io::Write for CapturedWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .stdout
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether a file argument (`-o -`) means standard output.
pub fn is_stdout(path: &std::path::Path) -> bool {
    path == std::path::Path::new("-")
}
