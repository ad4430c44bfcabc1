//! The admin socket: `<data>/stampcard.sock` (mode 0600). While `serve` runs,
//! every CLI command is sent through it and run inside the server, so its
//! output and exit code are exactly those of an offline run.
//!
//! Protocol: the client writes one JSON line ([`Request`]). For `Run` the
//! server answers with one JSON line ([`Reply`]); for `Console` the
//! connection becomes the console's input and output streams.

pub mod client;
pub mod server;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The admin socket of a data folder.
pub fn socket_path(data: &Path) -> PathBuf {
    data.join("stampcard.sock")
}

/// What a client asks of the server.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    /// Run one command line.
    Run {
        /// The arguments after the program name.
        args: Vec<String>,
        /// The client's working directory (relative paths are resolved in it).
        cwd: PathBuf,
        /// The OS user running the client.
        user: String,
    },
    /// Attach to the counter console.
    Console {
        /// The OS user running the client.
        user: String,
        /// The terminal's columns and rows for the full-screen console;
        /// `None` for the line-mode scanner (input is not a terminal).
        #[serde(default)]
        size: Option<(u16, u16)>,
    },
}

/// The server's answer to `Run`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Reply {
    /// What the command printed on standard output.
    pub stdout: String,
    /// What it printed on standard error.
    pub stderr: String,
    /// Its exit code.
    pub exit: u8,
}
