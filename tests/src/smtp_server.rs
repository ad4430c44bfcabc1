//! A real SMTP server for tests and benches: aiosmtpd (PyPI) running
//! `tests/smtp/server.py` on 127.0.0.1, port chosen by the system. Each
//! message it receives is read back parsed (headers, decoded text parts)
//! by Python's email package.
//!
//! The Python comes from `STAMPCARD_PYTHON`, else the virtualenv `.ci/run`
//! makes (`$TMPDIR/stampcard-ci-venv`); without either, the first test
//! makes that virtualenv itself with `python3 -m venv` and installs aiosmtpd
//! from PyPI, so `cargo test --workspace` works on a fresh machine too.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// One received email.
#[derive(Debug, Clone)]
pub struct Email {
    /// The parsed message (`rcpt`, `headers` (lower-case name → values),
    /// `content_type`, `parts` [{type, text}]).
    pub parsed: serde_json::Value,
    /// The message as received.
    pub raw: String,
}

impl Email {
    /// The first value of a header (name in any case).
    pub fn header(&self, name: &str) -> Option<String> {
        self.parsed["headers"][name.to_lowercase()][0]
            .as_str()
            .map(str::to_string)
    }

    /// The envelope recipients.
    pub fn rcpt(&self) -> Vec<String> {
        self.parsed["rcpt"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The decoded text of the part with this content type.
    pub fn part(&self, content_type: &str) -> Option<String> {
        self.parsed["parts"].as_array()?.iter().find_map(|p| {
            (p["type"] == content_type).then(|| p["text"].as_str().unwrap_or("").to_string())
        })
    }
}

/// The running server; killed on drop.
pub struct SmtpServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

/// The aiosmtpd release the tests use (also pinned in `.ci/run`).
const AIOSMTPD: &str = "aiosmtpd==1.4.6";

fn has_aiosmtpd(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import aiosmtpd"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The Python with aiosmtpd (made once per machine when there is none).
pub fn python() -> PathBuf {
    static PYTHON: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PYTHON.get_or_init(find_or_install).clone()
}

fn find_or_install() -> PathBuf {
    if let Ok(p) = std::env::var("STAMPCARD_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = std::env::temp_dir().join("stampcard-ci-venv");
    let python = venv.join("bin/python");
    if has_aiosmtpd(&python) {
        return python;
    }
    // Test binaries run in parallel: one installs, under a lock directory.
    let lock = std::env::temp_dir().join("stampcard-ci-venv.lock");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while std::fs::create_dir(&lock).is_err() {
        if std::time::Instant::now() > deadline {
            let _ = std::fs::remove_dir(&lock);
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    if !has_aiosmtpd(&python) {
        eprintln!(
            "installing {AIOSMTPD} into {} for the email tests",
            venv.display()
        );
        let made = python.exists()
            || Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .is_ok_and(|s| s.success());
        if made {
            let _ = Command::new(venv.join("bin/pip"))
                .args([
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    AIOSMTPD,
                ])
                .status();
        }
    }
    let _ = std::fs::remove_dir(&lock);
    python
}

impl SmtpServer {
    /// Starts the server and waits until it listens.
    pub fn start() -> SmtpServer {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("smtp/server.py");
        let python = python();
        let mut child = Command::new(&python)
            .arg(&script)
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let Some(port) = line
            .trim()
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
        else {
            let _ = child.kill();
            panic!(
                "the SMTP test server did not start ({}): it needs aiosmtpd, which .ci/run \
                 installs into its virtualenv (or set STAMPCARD_PYTHON to a Python that has it)",
                python.display()
            );
        };
        SmtpServer { port, dir, child }
    }

    /// How many messages arrived so far (without reading them).
    pub fn count(&self) -> usize {
        self.arrived().len()
    }

    /// The parsed messages' files with their numbers (the .json comes last,
    /// so a listed message is complete).
    fn arrived(&self) -> Vec<(u64, PathBuf)> {
        std::fs::read_dir(self.dir.path())
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .filter_map(|p| {
                        let n = p.file_stem()?.to_str()?.parse().ok()?;
                        Some((n, p))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every message received so far, in arrival order.
    pub fn messages(&self) -> Vec<Email> {
        let mut numbered = self.arrived();
        numbered.sort();
        numbered
            .into_iter()
            .filter_map(|(_, p)| {
                let parsed = serde_json::from_slice(&std::fs::read(&p).ok()?).ok()?;
                let raw = std::fs::read_to_string(p.with_extension("eml")).unwrap_or_default();
                Some(Email { parsed, raw })
            })
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
