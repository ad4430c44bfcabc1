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
        // Its own process group, with the Chromium it starts: a failed test
        // ends them all (killing the driver alone leaves Chromium running).
        let mut driver = Command::new(&chromedriver)
            .arg("--port=0")
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {chromedriver} ({e}): the browser test needs Debian's \
                     chromium and chromium-driver (.ci/run installs them)"
                )
            });
        let stdout = driver.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // "ChromeDriver was started successfully on port 38247."
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(port) = line
                    .split("successfully on port ")
                    .nth(1)
                    .map(|p| p.trim_end_matches('.').trim().to_string())
                {
                    let _ = tx.send(port);
                }
            }
        });
        let port = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("chromedriver printed its port");
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
