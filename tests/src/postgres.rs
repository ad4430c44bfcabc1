//! A real PostgreSQL for the tests: Debian's server (package `postgresql`),
//! started by the test process in a temporary folder and stopped after it.
//!
//! The server binaries live in the package's versioned folder, not on the
//! PATH: `STAMPCARD_PG_BIN` names it, else `pg_config --bindir`, else the
//! newest `/usr/lib/postgresql/<version>/bin`. PostgreSQL refuses to run as
//! root, so as root the server runs as the `postgres` user in a folder made
//! readable to it; as another user, as that user. It listens on 127.0.0.1
//! on a free port (passwords checked, scram-sha-256) and on a socket in its
//! own folder (trusted, for creating databases). A watchdog stops it and
//! removes its folder once the test process is gone, however it ended.
//!
//! Only the standard library: the core's tests include this file too.

#![allow(dead_code)]

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// The password of the `postgres` role over TCP.
pub const PASSWORD: &str = "test-only-pg-password";

/// A running server.
pub struct PgServer {
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    /// Its folder (data, socket, log).
    pub root: PathBuf,
    bin: PathBuf,
    /// The user it runs as when the tests run as root.
    run_as: Option<(u32, u32)>,
}

/// The folder with `initdb`, `pg_ctl` and `postgres`; panics naming the
/// package when there is none.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("STAMPCARD_PG_BIN") {
        return PathBuf::from(dir);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return dir;
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    versions.retain(|p| p.join("initdb").exists());
    versions.sort();
    versions.pop().unwrap_or_else(|| {
        panic!(
            "this test needs PostgreSQL's server (Debian's `postgresql` package), which is not installed: \
             run `bash tests/run`, which installs it, or set STAMPCARD_PG_BIN to the folder with initdb and pg_ctl"
        )
    })
}

fn id_of(user: &str, flag: &str) -> Option<u32> {
    let out = Command::new("id").args([flag, user]).output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl PgServer {
    /// Starts a new server (initdb, then pg_ctl start).
    pub fn start() -> Self {
        let bin = bin_dir();
        let root = std::env::temp_dir().join(format!(
            "stampcard-pg-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).expect("the server's folder");
        // SAFETY: geteuid has no preconditions.
        let root_user = unsafe { libc::geteuid() } == 0;
        let run_as = root_user.then(|| {
            let uid = id_of("postgres", "-u")
                .expect("running as root, the tests run PostgreSQL as the `postgres` user, which does not exist (Debian's postgresql package makes it)");
            let gid = id_of("postgres", "-g").unwrap_or(uid);
            (uid, gid)
        });
        if let Some((uid, gid)) = run_as {
            let c = std::ffi::CString::new(root.to_string_lossy().as_bytes()).expect("path");
            // SAFETY: chown on a NUL-terminated path this function made.
            unsafe { libc::chown(c.as_ptr(), uid, gid) };
        }
        let server = Self {
            port: free_port(),
            root,
            bin,
            run_as,
        };
        let pwfile = server.root.join("pwfile");
        std::fs::write(&pwfile, PASSWORD).expect("pwfile");
        server.chown(&pwfile);
        server.run(
            "initdb",
            &[
                "-D",
                &server.data().to_string_lossy(),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                &format!("--pwfile={}", pwfile.display()),
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        server.pg_ctl_start();
        server.watchdog();
        server
    }

    fn data(&self) -> PathBuf {
        self.root.join("data")
    }

    fn chown(&self, path: &Path) {
        if let Some((uid, gid)) = self.run_as {
            let c = std::ffi::CString::new(path.to_string_lossy().as_bytes()).expect("path");
            // SAFETY: chown on a NUL-terminated path.
            unsafe { libc::chown(c.as_ptr(), uid, gid) };
        }
    }

    fn command(&self, tool: &str) -> Command {
        let mut c = Command::new(self.bin.join(tool));
        c.current_dir(&self.root).stdin(Stdio::null());
        if let Some((uid, gid)) = self.run_as {
            c.uid(uid).gid(gid);
        }
        c
    }

    fn run(&self, tool: &str, args: &[&str]) -> String {
        let out = self
            .command(tool)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {tool}: {e}"));
        assert!(
            out.status.success(),
            "{tool} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn pg_ctl_start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on -c max_connections=200",
            self.port,
            self.root.display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data().to_string_lossy(),
                "-l",
                &self.root.join("log").to_string_lossy(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
    }

    /// Stops the server the hard way and starts it again (as a crash of
    /// the machine it runs on would, minus the disk).
    pub fn restart_immediate(&self) {
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data().to_string_lossy(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
        self.pg_ctl_start();
    }

    /// Stops the server and removes its folder once this process is gone.
    fn watchdog(&self) {
        let script = format!(
            "while [ -d /proc/{pid} ]; do sleep 1; done; \
             '{pg_ctl}' -D '{data}' -m immediate stop >/dev/null 2>&1; rm -rf '{root}'",
            pid = std::process::id(),
            pg_ctl = self.bin.join("pg_ctl").display(),
            data = self.data().display(),
            root = self.root.display(),
        );
        let mut c = Command::new("sh");
        c.args(["-c", &script])
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        if let Some((uid, gid)) = self.run_as {
            c.uid(uid).gid(gid);
        }
        // Not waited for: it outlives this process on purpose, and init
        // reaps it then.
        let watchdog = c.spawn().expect("the server's watchdog");
        std::mem::forget(watchdog);
    }

    /// Runs SQL as the superuser over the trusted socket.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        self.run(
            "psql",
            &[
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                &self.root.to_string_lossy(),
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                database,
                "-c",
                sql,
            ],
        )
    }

    /// A new empty database; its URL (TCP, with the password).
    pub fn database(&self) -> String {
        let name = format!(
            "shop_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
        self.url(&name)
    }

    /// The URL of a database on this server.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres:{PASSWORD}@127.0.0.1:{}/{database}",
            self.port
        )
    }
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// The server this test process shares (started on first use).
pub fn shared() -> &'static PgServer {
    static SERVER: OnceLock<PgServer> = OnceLock::new();
    SERVER.get_or_init(PgServer::start)
}

/// Whether the tests' shops run on PostgreSQL
/// (`STAMPCARD_TEST_STORE=postgres`) instead of sled.
pub fn selected() -> bool {
    std::env::var("STAMPCARD_TEST_STORE").is_ok_and(|v| v == "postgres")
}
