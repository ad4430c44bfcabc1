//! Hostile traffic against the real `serve`, started the way systemd
//! starts it under the usual open-files limit of 1,024: 1,500 idle and 500
//! slowloris connections to the HTTP port and 200 silent ones to the SSH
//! port, for 30 s. Meanwhile the CLI answers through the admin socket;
//! afterwards `/healthz`, a stamp and an SSH login work, and the log stays
//! small. Its own test binary: it holds thousands of sockets.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_stampcard"))
}

fn run(data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(binary())
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("STAMPCARD_DATA")
        .stdin(Stdio::null())
        .output()
        .expect("run stampcard")
}

fn ok(data: &Path, args: &[&str]) -> String {
    let out = run(data, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// This process may hold as many sockets as the machine allows.
fn raise_own_limit() {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit on this process with a valid struct.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut r);
        r.rlim_cur = r.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &r);
    }
    assert!(
        r.rlim_cur >= 4096,
        "the test needs 4,096 open files, has {}",
        r.rlim_cur
    );
}

/// `serve` with soft and hard open-files limits of 1,024, its log in a file.
// The child is handed to the caller, which stops it and waits for it.
#[allow(clippy::zombie_processes)]
fn serve(data: &Path, log: &Path) -> (Child, String, String) {
    let file = std::fs::File::create(log).expect("log file");
    let mut cmd = Command::new(binary());
    cmd.arg("--data")
        .arg(data)
        .arg("serve")
        .env_remove("STAMPCARD_DATA")
        .env("STAMPCARD_HTTP__LISTEN", "127.0.0.1:0")
        .env("STAMPCARD_SSH__LISTEN", "127.0.0.1:0")
        .env("STAMPCARD_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(file);
    // SAFETY: only setrlimit between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 1024,
                rlim_max: 1024,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let mut child = cmd.spawn().expect("spawn serve");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(line) = text
            .lines()
            .find(|l| l.contains("ready") && l.contains("http http://"))
        {
            let field = |name: &str| {
                line.split(&format!("{name} "))
                    .nth(1)
                    .and_then(|r| r.split([',', ' ']).next())
                    .unwrap_or_default()
                    .trim_start_matches("http://")
                    .to_string()
            };
            return (child, field("http"), field("ssh"));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve did not start: {text}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn get(addr: &str, path: &str) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&addr.parse().ok()?, Duration::from_secs(5)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

#[test]
fn idle_and_slow_connections_do_not_take_the_shop_down() {
    raise_own_limit();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    ok(
        &data,
        &["init", "--demo", "--timezone", "UTC", "--history-days", "0"],
    );
    let key = dir.path().join("owner_key");
    let keygen = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen (Debian's openssh-client; bash tests/run installs it)");
    assert!(keygen.success());
    ok(
        &data,
        &[
            "staff",
            "add-key",
            "Owner",
            &format!("{}.pub", key.display()),
        ],
    );
    let log = dir.path().join("serve.log");
    let (mut child, http, ssh) = serve(&data, &log);

    // The flood: idle and slowloris HTTP connections, silent SSH ones.
    let connect = |addr: &str| {
        TcpStream::connect_timeout(&addr.parse().expect("addr"), Duration::from_secs(1)).ok()
    };
    let idle: Vec<TcpStream> = (0..1500).filter_map(|_| connect(&http)).collect();
    let mut slow: Vec<TcpStream> = (0..500).filter_map(|_| connect(&http)).collect();
    let silent: Vec<TcpStream> = (0..200).filter_map(|_| connect(&ssh)).collect();
    assert!(idle.len() + slow.len() > 1200, "the flood connected");
    for s in &mut slow {
        let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n");
    }
    let start = Instant::now();
    let mut cli_answers = 0;
    while start.elapsed() < Duration::from_secs(30) {
        for s in &mut slow {
            let _ = s.write_all(b"X-Slow: 1\r\n");
        }
        let asked = Instant::now();
        let out = run(&data, &["--json", "card", "show", "100001"]);
        assert!(
            out.status.success() && asked.elapsed() < Duration::from_secs(10),
            "the CLI through the admin socket during the flood: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        cli_answers += 1;
        std::thread::sleep(Duration::from_secs(2));
    }
    assert!(cli_answers >= 5);
    drop(idle);
    drop(slow);
    drop(silent);

    // Afterwards: health, a stamp, an SSH login.
    let health = (0..20)
        .find_map(|_| {
            let r = get(&http, "/healthz").filter(|r| r.starts_with("HTTP/1.1 200"));
            if r.is_none() {
                std::thread::sleep(Duration::from_millis(500));
            }
            r
        })
        .expect("/healthz answers after the flood");
    assert!(health.contains("\"status\":\"ok\""), "{health}");
    let code: serde_json::Value =
        serde_json::from_str(&ok(&data, &["--json", "card", "show", "100001"])).expect("json");
    ok(&data, &["stamp", code["code"].as_str().expect("code")]);
    let (host, port) = ssh.rsplit_once(':').expect("host:port");
    let login = Command::new("ssh")
        .args(["-i"])
        .arg(&key)
        .args([
            "-p",
            port,
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "LogLevel=ERROR",
            "-tt",
        ])
        .arg(format!("counter@{host}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ssh");
    let mut login = login;
    let mut out = std::io::BufReader::new(login.stdout.take().expect("stdout"));
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while !seen.contains("Ember & Oak Coffee") && Instant::now() < deadline {
        match out.get_mut().read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
    let _ = login.kill();
    assert!(
        seen.contains("Ember & Oak Coffee"),
        "an SSH login after the flood: {seen:?}"
    );

    let size = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    assert!(size < 1_000_000, "the log grew to {size} bytes");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().expect("wait");
    assert!(
        status.success(),
        "serve exited with {status:?}: {}",
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .join("\n")
    );
    let _ = std::io::BufReader::new(std::fs::File::open(&log).expect("log"))
        .lines()
        .count();
}
