//! End-to-end tests of the `stampcard` binary, started the way users start it.

mod backup;
mod cli;
mod crash;
mod serve;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_stampcard"))
}

impl Shop {
    /// A fresh demo shop in UTC.
    pub fn demo() -> Shop {
        let shop = Shop::empty();
        shop.run(&["init", "--demo", "--timezone", "UTC"]).ok();
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

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

pub fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write file");
}
