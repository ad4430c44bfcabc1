//! End-to-end tests of the `stampcard` binary, started the way users start it.

mod api;
mod architecture;
mod backup;
mod bot;
mod browser;
mod campaigns;
mod cli;
mod console;
mod crash;
mod email;
mod first_use;
mod full_disk;
mod google_wallet;
mod input;
mod language;
mod leader;
mod metrics;
mod nodes;
mod openapi;
mod outbox;
mod postgres;
mod privacy;
mod readme;
mod serve;
mod ssh;
mod trust;
mod wallet;
mod web;
mod webhooks;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A data folder in a temporary directory, driven through the real binary.
pub struct Shop {
    pub dir: tempfile::TempDir,
}

/// What one run printed.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

/// A file of the shared test data in `fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_stampcard"))
}

impl Shop {
    /// A fresh demo shop in UTC.
    pub fn demo() -> Shop {
        let shop = Shop::empty();
        shop.init(&["--demo", "--timezone", "UTC", "--history-days", "0"]);
        shop
    }

    /// `init` with these arguments, on PostgreSQL (a new database) when
    /// `STAMPCARD_TEST_STORE=postgres` selects it.
    pub fn init(&self, args: &[&str]) -> Run {
        let mut all = vec!["init"];
        all.extend_from_slice(args);
        let url;
        if stampcard_e2e::postgres::selected() {
            url = stampcard_e2e::postgres::shared().database();
            all.extend(["--store", url.as_str()]);
        }
        self.run(&all).ok()
    }

    /// A fresh demo shop in UTC, its folder under `parent` (a small file
    /// system, say).
    pub fn demo_in(parent: &Path) -> Shop {
        let shop = Shop {
            dir: tempfile::tempdir_in(parent).expect("tempdir"),
        };
        shop.init(&["--demo", "--timezone", "UTC", "--history-days", "0"]);
        shop
    }

    /// A temp dir without a data folder yet.
    pub fn empty() -> Shop {
        Shop {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(binary());
        c.arg("--data").arg(self.data()).args(args);
        c.env_remove("STAMPCARD_DATA").current_dir(self.dir.path());
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("run stampcard"))
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.run(&all).ok().json()
    }

    pub fn card_code(&self, id: u64) -> String {
        self.json(&["card", "show", &id.to_string()])["code"]
            .as_str()
            .expect("code")
            .to_string()
    }

    pub fn stamps(&self, id: u64) -> u64 {
        self.json(&["card", "show", &id.to_string()])["progress"]["stamps"]
            .as_u64()
            .expect("stamps")
    }

    pub fn event_count(&self) -> usize {
        self.json(&["journal", "--limit", "100000"])
            .as_array()
            .map(|a| a.len())
            .unwrap_or(0)
    }

    /// Creates an API key (`role`: staff or admin) and returns its token.
    pub fn api_key(&self, name: &str, role: &str) -> String {
        let k = self.json(&["api-key", "create", "--name", name, "--role", role]);
        k["token"].as_str().expect("token").to_string()
    }

    /// Issues a fresh card of a template to a new customer: (id, code).
    pub fn new_card(&self, template: u64, name: &str) -> (u64, String) {
        let card = self.json(&[
            "card",
            "issue",
            "--template",
            &template.to_string(),
            "--name",
            name,
        ]);
        let id = card["card_id"].as_u64().expect("card id");
        (id, card["code"].as_str().expect("code").to_string())
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

pub fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write file");
}

/// A running `stampcard serve` on a shop's data folder.
pub struct Server {
    pub child: Child,
    /// `host:port` of its HTTP listener.
    pub http: String,
    /// `host:port` of its SSH console.
    pub ssh: String,
    /// What it printed on stderr up to its ready line.
    pub startup: Vec<String>,
    lines: mpsc::Receiver<String>,
}

impl Shop {
    /// Starts `serve` (HTTP on port 0) with extra environment, and waits until it is ready.
    pub fn serve(&self, env: &[(&str, &str)]) -> Server {
        let mut c = self.command(&["serve"]);
        c.env("STAMPCARD_HTTP__LISTEN", "127.0.0.1:0");
        c.env("STAMPCARD_SSH__LISTEN", "127.0.0.1:0");
        for (k, v) in env {
            c.env(k, v);
        }
        let mut child = c
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn serve");
        let stderr = child.stderr.take();
        let (tx, lines) = mpsc::channel();
        let mut server = Server {
            child,
            http: String::new(),
            ssh: String::new(),
            startup: Vec::new(),
            lines,
        };
        std::thread::spawn(move || {
            for line in BufReader::new(stderr.expect("stderr"))
                .lines()
                .map_while(Result::ok)
            {
                let _ = tx.send(line);
            }
        });
        loop {
            let line = server
                .lines
                .recv_timeout(Duration::from_secs(60))
                .expect("serve prints its ready line");
            assert!(
                !line.contains('\x1b'),
                "no colour codes when stderr is not a terminal: {line:?}"
            );
            server.startup.push(line.clone());
            if let Some(rest) = line.split("http http://").nth(1) {
                assert!(line.contains("ready"), "{line}");
                server.http = rest
                    .split([',', ' '])
                    .next()
                    .unwrap_or_default()
                    .to_string();
                server.ssh = line
                    .split(", ssh ")
                    .nth(1)
                    .and_then(|r| r.split([',', ' ']).next())
                    .unwrap_or_default()
                    .to_string();
                return server;
            }
        }
    }
}

impl Server {
    /// Stops the server with SIGTERM and waits for a clean exit.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(sent.success());
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "serve exited with {status:?}");
    }

    /// Kills the server with SIGKILL.
    pub fn kill9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("wait");
    }

    /// Waits for a server that kills itself (a crash point) and checks
    /// that SIGKILL ended it.
    pub fn wait_killed(mut self) {
        use std::os::unix::process::ExitStatusExt;
        let status = stampcard_e2e::wait::until(
            Duration::from_secs(60),
            || self.child.try_wait().ok().flatten(),
            || "the server is still running".into(),
        );
        assert_eq!(status.signal(), Some(9), "{status:?}");
    }

    /// The next line it prints on stderr.
    pub fn next_line(&self) -> Option<String> {
        self.lines.recv_timeout(Duration::from_secs(30)).ok()
    }

    /// The next line it prints on stderr within `wait`, if any.
    pub fn next_line_within(&self, wait: Duration) -> Option<String> {
        self.lines.recv_timeout(wait).ok()
    }

    /// GET a path: status code and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        let r = self.request("GET", path, &[], None);
        (r.status, r.body)
    }

    /// One HTTP/1.1 request (the connection closes after it).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> HttpResponse {
        http_request(&self.http, method, path, headers, body)
    }
}

/// One HTTP/1.1 request to `addr` (the connection closes after it).
pub fn http_request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> HttpResponse {
    let mut s = std::net::TcpStream::connect(addr).expect("connect HTTP");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head += &format!("{k}: {v}\r\n");
    }
    if let Some(body) = body {
        head += &format!("Content-Length: {}\r\n", body.len());
    }
    head += "\r\n";
    s.write_all(head.as_bytes()).expect("send request");
    s.write_all(body.unwrap_or("").as_bytes())
        .expect("send body");
    // Until the server closes, or the body has its Content-Length (a server
    // may keep the connection open even so: chromedriver does).
    let mut raw = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = s.read(&mut chunk).expect("read response");
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&chunk[..n]);
        if let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let length = String::from_utf8_lossy(&raw[..split])
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())
                        .flatten()
                });
            if length.is_some_and(|len| raw.len() >= split + 4 + len) {
                break;
            }
        }
    }
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let bytes = raw.get(split + 4..).unwrap_or_default().to_vec();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    HttpResponse {
        status,
        head: head.to_lowercase(),
        raw_head: head,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes,
    }
}

/// What an HTTP request got back.
#[derive(Debug)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Status line and headers, lower-cased.
    pub head: String,
    /// Status line and headers as sent.
    pub raw_head: String,
    /// The body (lossy UTF-8).
    pub body: String,
    /// The body as sent.
    pub bytes: Vec<u8>,
}

impl HttpResponse {
    /// Status and body.
    pub fn into_parts(self) -> (u16, String) {
        (self.status, self.body)
    }

    /// A header's value as sent (its name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.raw_head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Stamps cards through the CLI in a loop on its own thread, like a busy
/// counter, until stopped; counts the stamps that were acknowledged.
pub struct Stamper {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<usize>,
}

impl Stamper {
    pub fn start(shop: &Shop, codes: &[String]) -> Stamper {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (flag, codes, data) = (stop.clone(), codes.to_vec(), shop.data());
        let thread = std::thread::spawn(move || {
            let (mut i, mut acknowledged) = (0, 0);
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                let ok = Command::new(binary())
                    .arg("--data")
                    .arg(&data)
                    .args(["stamp", &codes[i % codes.len()]])
                    .output()
                    .map(|o| o.status.success())
                    .unwrap_or(false);
                acknowledged += usize::from(ok);
                i += 1;
            }
            acknowledged
        });
        Stamper { stop, thread }
    }

    /// Stops and returns how many stamps were acknowledged.
    pub fn stop(self) -> usize {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().expect("stamper thread")
    }
}

/// A tmux server of its own, killed on drop.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Runs `stampcard --data <shop> <args>` in a new tmux server.
    pub fn start(shop: &Shop, args: &[&str]) -> Tmux {
        let mut cmd = vec![
            binary().display().to_string(),
            "--data".into(),
            shop.data().display().to_string(),
        ];
        cmd.extend(args.iter().map(|a| a.to_string()));
        Tmux::run(&cmd.join(" "))
    }

    /// Runs a shell command line in a new tmux server (100×30).
    pub fn run(command: &str) -> Tmux {
        let socket = format!(
            "stampcard-test-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        );
        let status = Command::new(stampcard_e2e::tools::require("tmux"))
            .args(["-L", &socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-x", "100", "-y", "30"])
            .args(["-e", "STAMPCARD_HTTP__LISTEN=127.0.0.1:0"])
            .args(["-e", "STAMPCARD_SSH__LISTEN=127.0.0.1:0"])
            .arg(command)
            .status()
            .expect("tmux runs (install it: apt-get install tmux)");
        assert!(status.success());
        Tmux { socket }
    }

    /// Types a PIN at the lock screen and waits until `name` is signed in.
    pub fn sign_in(self, pin: &str, name: &str) -> Tmux {
        self.wait_for("PIN");
        self.keys(&["-l", pin]);
        self.keys(&["Enter"]);
        self.wait_for(&format!("Signed in as {name}"));
        self
    }

    pub fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys"])
            .args(keys)
            .status()
            .expect("send-keys");
        assert!(status.success());
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the screen until it shows `text` (with a timeout).
    pub fn wait_for(&self, text: &str) -> String {
        stampcard_e2e::wait::until(
            Duration::from_secs(30),
            || Some(self.screen()).filter(|s| s.contains(text)),
            || format!("never saw {text:?} on:\n{}", self.screen()),
        )
    }

    /// Quits the program with Ctrl-C and waits until it has exited (its
    /// session ends with it), so its data folder is free again.
    pub fn quit(&self) {
        self.keys(&["C-c"]);
        stampcard_e2e::wait::until(
            Duration::from_secs(30),
            || {
                let alive = Command::new("tmux")
                    .args(["-L", &self.socket, "has-session"])
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                (!alive).then_some(())
            },
            || format!("still running after Ctrl-C:\n{}", self.screen()),
        );
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .stderr(Stdio::null())
            .status();
    }
}
