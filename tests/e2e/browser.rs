//! A headless Chromium driven over WebDriver, for the browser test of the
//! web pages: Debian's `chromium` and `chromium-driver`, which `.ci/run`
//! installs. The WebDriver protocol is plain JSON over HTTP, spoken here
//! with the suite's own HTTP client.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

/// One Chromium session; it and its driver end when this is dropped.
pub struct Browser {
    driver: Child,
    addr: String,
    session: String,
    _profile: tempfile::TempDir,
}

/// The arguments a headless Chromium needs on a machine without a display
/// or an outside network (without the background-networking ones it keeps
/// trying to reach Google's hosts).
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=412,915",
];

impl Browser {
    /// Starts chromedriver on a free port and opens a Chromium session.
    pub fn start() -> Browser {
        let chromium = std::env::var("STAMPCARD_CHROMIUM").unwrap_or("/usr/bin/chromium".into());
        let chromedriver =
            std::env::var("STAMPCARD_CHROMEDRIVER").unwrap_or("/usr/bin/chromedriver".into());
        let (driver, port) = start_driver(&chromedriver);
        let profile = tempfile::tempdir().expect("profile folder");
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| a.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let mut browser = Browser {
            driver,
            addr: format!("127.0.0.1:{port}"),
            session: String::new(),
            _profile: profile,
        };
        let created = browser.call(
            "POST",
            "/session",
            json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": chromium, "args": args},
            }}}),
        );
        browser.session = created["sessionId"]
            .as_str()
            .expect("a session id")
            .to_string();
        browser
    }

    /// One WebDriver command; its `value`, or the test fails with the
    /// driver's error.
    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let body = body.to_string();
        let r = crate::http_request(
            &self.addr,
            method,
            path,
            &[("Content-Type", "application/json; charset=utf-8")],
            (method != "GET").then_some(body.as_str()),
        );
        let reply: Value = serde_json::from_str(&r.body)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: not JSON ({e}): {}", r.body));
        assert_eq!(r.status, 200, "WebDriver {method} {path}: {reply}");
        reply["value"].clone()
    }

    fn session_path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    /// Loads a page and waits until it has loaded.
    pub fn open(&self, url: &str) {
        self.call("POST", &self.session_path("/url"), json!({"url": url}));
    }

    /// The address of the page shown.
    pub fn url(&self) -> String {
        let v = self.call("GET", &self.session_path("/url"), Value::Null);
        v.as_str().unwrap_or_default().to_string()
    }

    /// The element a CSS selector finds first (the test fails without one).
    fn element(&self, css: &str) -> String {
        let found = self.call(
            "POST",
            &self.session_path("/element"),
            json!({"using": "css selector", "value": css}),
        );
        // The reply is {"element-6066-…": id}: one key, the W3C element name.
        found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_string()
    }

    /// Types text into a field, as a user would.
    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.call(
            "POST",
            &self.session_path(&format!("/element/{id}/value")),
            json!({ "text": text }),
        );
    }

    /// Clicks an element.
    pub fn click(&self, css: &str) {
        let id = self.element(css);
        self.call(
            "POST",
            &self.session_path(&format!("/element/{id}/click")),
            json!({}),
        );
    }

    /// Runs a script in the page and returns what it returns.
    pub fn script(&self, source: &str) -> Value {
        self.call(
            "POST",
            &self.session_path("/execute/sync"),
            json!({"script": source, "args": []}),
        )
    }

    /// The page as a PNG image.
    pub fn screenshot(&self) -> Vec<u8> {
        let v = self.call("GET", &self.session_path("/screenshot"), Value::Null);
        let b64 = v.as_str().expect("a base64 screenshot");
        openssl::base64::decode_block(b64).expect("base64 PNG")
    }
}

/// How many times the driver is started before the test gives up.
/// Given port 0, chromedriver takes a free IPv4 port and then binds the
/// same number on `::1`; when another process of this parallel suite holds
/// that IPv6 port, the driver exits at once ("Address already in use").
/// That is the driver's start-up, not what the test checks, so a fresh
/// driver (a fresh port) is tried; anything else still fails the test.
const DRIVER_ATTEMPTS: usize = 5;

/// Starts chromedriver on port 0 and returns it with the port it printed;
/// panics with everything it said when no attempt starts.
fn start_driver(chromedriver: &str) -> (Child, String) {
    let mut said = Vec::new();
    for attempt in 1..=DRIVER_ATTEMPTS {
        // Its own process group, with the Chromium it starts: a failed test
        // ends them all (killing the driver alone leaves Chromium running).
        let mut driver = Command::new(chromedriver)
            .arg("--port=0")
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {chromedriver} ({e}): the browser test needs Debian's \
                     chromium and chromium-driver (.ci/run installs them)"
                )
            });
        let (tx, rx) = std::sync::mpsc::channel();
        let readers = [
            driver
                .stdout
                .take()
                .map(|o| Box::new(o) as Box<dyn std::io::Read + Send>),
            driver
                .stderr
                .take()
                .map(|e| Box::new(e) as Box<dyn std::io::Read + Send>),
        ];
        for reader in readers.into_iter().flatten() {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(reader).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        drop(tx);
        // "ChromeDriver was started successfully on port 38247."
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(port) = line
                        .split("successfully on port ")
                        .nth(1)
                        .map(|p| p.trim_end_matches('.').trim().to_string())
                    {
                        return (driver, port);
                    }
                    said.push(format!("attempt {attempt}: {line}"));
                }
                // Both pipes closed: the driver ended without a port.
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    let _ = driver.kill();
                    panic!(
                        "chromedriver printed no port within 30 s; it said:\n{}",
                        said.join("\n")
                    );
                }
            }
        }
        let status = driver.wait().map(|s| s.to_string()).unwrap_or_default();
        said.push(format!("attempt {attempt}: the driver ended ({status})"));
    }
    panic!(
        "chromedriver did not start in {DRIVER_ATTEMPTS} attempts; it said:\n{}",
        said.join("\n")
    );
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = crate::http_request(
                &self.addr,
                "DELETE",
                &format!("/session/{}", self.session),
                &[],
                None,
            );
        }
        if let Ok(group) = i32::try_from(self.driver.id()) {
            // SAFETY: kill(2) with a negative pid signals that process group
            // (the driver's own, made at spawn); no memory is involved.
            unsafe { libc::kill(-group, libc::SIGKILL) };
        }
        let _ = self.driver.wait();
    }
}
