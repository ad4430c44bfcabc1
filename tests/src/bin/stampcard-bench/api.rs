//! `--api-requests N`: durable stamp requests over loopback HTTP/1.1 with
//! keep-alive against the real `stampcard serve`, beside a trivial axum
//! endpoint in its own process (the baseline) and the server's `/healthz`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use rand::Rng;
use stampcard_e2e::http_load::{self, Load, MakeRequest};

/// Cards the stamps spread over (each stays under its daily cap).
const CARDS: u64 = 2_000;

fn cli(bin: &Path, data: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new(bin)
        .arg("--data")
        .arg(data)
        .args(args)
        .stdin(Stdio::null())
        .output()?;
    if !out.status.success() {
        bail!(
            "stampcard {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A child process killed when dropped.
pub(super) struct Kill(Child);

impl Kill {
    /// The process id.
    pub(super) fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a process and reads its stderr until a line gives the address.
fn start(
    mut command: Command,
    find: impl Fn(&str) -> Option<String>,
) -> Result<(Kill, SocketAddr)> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr = child.stderr.take().context("stderr")?;
    let child = Kill(child);
    for line in BufReader::new(stderr).lines() {
        let line = line?;
        if let Some(addr) = find(&line) {
            return Ok((child, addr.parse()?));
        }
    }
    bail!("the process ended before it was ready")
}

pub(super) fn post(
    addr: SocketAddr,
    path: &str,
    token: &str,
    body: String,
) -> Request<Full<Bytes>> {
    Request::post(path)
        .header("host", addr.to_string())
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

/// An admin client of a running server: POSTs JSON, answers the JSON
/// reply (an error for a status other than 2xx).
pub(super) struct ApiClient {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    addr: SocketAddr,
    token: String,
}

impl ApiClient {
    /// Connects to `addr` with the bearer `token`.
    pub(super) async fn connect(addr: SocketAddr, token: &str) -> Result<Self> {
        Ok(Self {
            sender: stampcard_e2e::http_load::connect(addr).await?,
            addr,
            token: token.to_string(),
        })
    }

    /// POSTs `body` to `path`.
    pub(super) async fn post(&mut self, path: &str, body: String) -> Result<serde_json::Value> {
        use http_body_util::BodyExt;
        self.sender.ready().await?;
        let response = self
            .sender
            .send_request(post(self.addr, path, &self.token, body))
            .await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        let v: serde_json::Value = serde_json::from_slice(&bytes)?;
        if !status.is_success() {
            bail!("{path}: {status} {v}");
        }
        Ok(v)
    }
}

/// The trivial baseline server (`--trivial-server`): `POST /` answers a
/// small JSON body; multi-threaded like `stampcard serve`.
pub fn trivial_server() -> Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let app = axum::Router::new().route(
                "/",
                axum::routing::post(|| async { axum::Json(serde_json::json!({"ok": true})) }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            eprintln!("listening {}", listener.local_addr()?);
            axum::serve(listener, app).await?;
            anyhow::Ok(())
        })
}

/// A new shop in `dir/shop` with one 10-stamp template (no cooldown, a
/// high daily cap) and an API key of `role`; returns the folder and the token.
pub(super) fn bench_shop(bin: &Path, dir: &Path, role: &str) -> Result<(PathBuf, String)> {
    let data = dir.join("shop");
    cli(
        bin,
        &data,
        &["init", "--name", "Bench", "--timezone", "UTC"],
    )?;
    let template = dir.join("bench.toml");
    std::fs::write(
        &template,
        "name = \"Bench card\"\nbusiness_name = \"Bench\"\nstamps_required = 10\n\
         [reward]\nkind = \"simple\"\ndescription = \"A coffee\"\n\
         [rules]\ncooldown_secs = 0\ndaily_cap = 1000\n",
    )?;
    cli(
        bin,
        &data,
        &["template", "create", "--file", &template.to_string_lossy()],
    )?;
    let key: serde_json::Value = serde_json::from_str(&cli(
        bin,
        &data,
        &[
            "api-key", "create", "--name", "bench", "--role", role, "--json",
        ],
    )?)?;
    let token = key["token"].as_str().context("token")?.to_string();
    Ok((data, token))
}

/// Starts `stampcard serve` on free ports with extra environment; returns
/// it (killed when dropped) and its HTTP address.
pub(super) fn serve(bin: &Path, data: &Path, env: &[(&str, &str)]) -> Result<(Kill, SocketAddr)> {
    let mut serve = Command::new(bin);
    serve
        .arg("--data")
        .arg(data)
        .arg("serve")
        .env("STAMPCARD_HTTP__LISTEN", "127.0.0.1:0")
        .env("STAMPCARD_SSH__LISTEN", "127.0.0.1:0")
        .envs(env.iter().copied());
    start(serve, |l| {
        l.split("http http://")
            .nth(1)
            .and_then(|r| r.split([',', ' ']).next())
            .map(str::to_string)
    })
}

/// Runs the API benchmark.
pub async fn api_bench(dir: &Path, requests: u64, connections: usize) -> Result<f64> {
    let bin = super::stampcard_binary()
        .context("the stampcard binary is missing: cargo build --release --workspace")?;
    let (data, token) = bench_shop(&bin, dir, "staff")?;
    let (_server, addr) = serve(&bin, &data, &[])?;
    let mut trivial = Command::new(std::env::current_exe()?);
    trivial.arg("--trivial-server");
    let (_trivial, trivial_addr) = start(trivial, |l| {
        l.strip_prefix("listening ").map(str::to_string)
    })?;

    let codes = Arc::new(issue_cards(addr, &token, CARDS).await?);
    if codes.len() as u64 != CARDS {
        bail!("expected {CARDS} card codes, got {}", codes.len());
    }
    println!(
        "api: {requests} requests over {connections} keep-alive connections (closed loop), stamps spread over {CARDS} cards"
    );
    let stamp: MakeRequest = {
        let (codes, token) = (codes.clone(), token.clone());
        Arc::new(move |_| {
            let code = &codes[rand::rng().random_range(0..codes.len())];
            post(
                addr,
                "/api/v1/stamps",
                &token,
                format!(r#"{{"code": "{code}"}}"#),
            )
        })
    };
    let trivial_req: MakeRequest = Arc::new(move |_| {
        Request::post("/")
            .header("host", trivial_addr.to_string())
            .body(Full::new(Bytes::from_static(b"{}")))
            .unwrap_or_default()
    });
    let health: MakeRequest = Arc::new(move |_| {
        Request::get("/healthz")
            .header("host", addr.to_string())
            .body(Full::new(Bytes::new()))
            .unwrap_or_default()
    });
    // Warm-up, then the measured runs.
    http_load::run(addr, connections, requests / 10, stamp.clone()).await?;
    let stamps = http_load::run(addr, connections, requests, stamp).await?;
    let base = http_load::run(trivial_addr, connections, requests, trivial_req).await?;
    let healthz = http_load::run(addr, connections, requests, health).await?;
    report(&stamps, &base, &healthz)?;
    Ok(stamps.per_sec)
}

/// Issues `n` cards through the API; returns their codes from the answers.
async fn issue_cards(addr: SocketAddr, token: &str, n: u64) -> Result<Vec<String>> {
    use http_body_util::BodyExt;
    let mut sender = http_load::connect(addr).await?;
    let mut codes = Vec::new();
    for _ in 0..n {
        let body = r#"{"template_id": 1, "customer": {"name": "Bench"}}"#.to_string();
        sender.ready().await?;
        let response = sender
            .send_request(post(addr, "/api/v1/cards", token, body))
            .await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        let card: serde_json::Value = serde_json::from_slice(&bytes)?;
        match card["code"].as_str() {
            Some(code) if status == 201 => codes.push(code.to_string()),
            _ => bail!("issuing a card: {status} {card}"),
        }
    }
    Ok(codes)
}

fn report(stamps: &Load, base: &Load, healthz: &Load) -> Result<()> {
    println!("{}", stamps.line("POST /api/v1/stamps (durable)"));
    println!("{}", base.line("trivial axum endpoint (baseline)"));
    println!("{}", healthz.line("GET /healthz (same server)"));
    println!(
        "ratio: stamps / trivial axum = {:.2}   stamps / healthz = {:.2}",
        stamps.per_sec / base.per_sec,
        stamps.per_sec / healthz.per_sec
    );
    if stamps.statuses.keys().any(|s| *s != 200) {
        bail!("some stamp requests failed: {:?}", stamps.statuses);
    }
    Ok(())
}
