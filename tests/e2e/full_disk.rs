//! A full disk: writes fail cleanly (503, nothing acknowledged lost),
//! `/healthz` and the console's Settings tab say the store cannot write,
//! and once space returns writes resume by themselves — no restart — and
//! the webhook consumer delivers what was acknowledged. Runs on a small tmpfs, so it needs root (or
//! passwordless sudo); without it the test fails saying so.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use stampcard_e2e::wait;
use stampcard_e2e::webhook_receiver::Receiver;

use crate::Shop;

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut mount = Command::new("mount");
        mount.args([
            "-t",
            "tmpfs",
            "-o",
            &format!("size={size},mode=0700"),
            "tmpfs",
        ]);
        mount.arg(dir.path());
        let ok = if is_root() {
            mount.status().is_ok_and(|s| s.success())
        } else {
            Command::new("sudo")
                .arg("-n")
                .arg("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
                .arg(dir.path())
                .status()
                .is_ok_and(|s| s.success())
        };
        assert!(
            ok,
            "this test mounts a small tmpfs to fill it: run it as root (as .ci/run does) \
             or with passwordless sudo"
        );
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file until the file system is full; returns its path.
    fn fill(&self) -> PathBuf {
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).expect("filler");
        for chunk in [1 << 20, 4096, 1] {
            let block = vec![0x5a_u8; chunk];
            while file.write_all(&block).is_ok() {}
        }
        let _ = file.sync_all();
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let mut umount = if is_root() {
            Command::new("umount")
        } else {
            let mut c = Command::new("sudo");
            c.args(["-n", "umount"]);
            c
        };
        let _ = umount.arg("-l").arg(self.dir.path()).status();
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn a_full_disk_refuses_writes_cleanly_and_writing_resumes_when_space_returns() {
    let disk = Tmpfs::mount("48m");
    let shop = Shop::demo_in(disk.path());
    let receiver = Receiver::start(true);
    shop.json(&[
        "webhook",
        "create",
        "--url",
        &receiver.url("/cards"),
        "--events",
        "card_issued",
    ]);
    let server = shop.serve(&[("STAMPCARD_OUTBOX__RETRY_SECS", "0.2")]);
    let key = format!("Bearer {}", shop.api_key("till", "staff"));
    let headers = [
        ("Authorization", key.as_str()),
        ("Content-Type", "application/json"),
    ];
    let cards_before = shop
        .json(&["card", "list", "--limit", "10000"])
        .as_array()
        .map_or(0, Vec::len);
    let mut made = Vec::new();
    let issue = |n: usize| {
        let body = format!(r#"{{"template_id": 1, "customer": {{"name": "Disk Guest {n}"}}}}"#);
        server.request("POST", "/api/v1/cards", &headers, Some(&body))
    };
    let r = issue(0);
    assert_eq!(r.status, 201, "{}", r.body);
    made.push(r.json()["card_id"].as_u64().expect("card id"));

    // The disk fills up: sooner or later a write is refused with 503.
    let filler = disk.fill();
    let mut refused = None;
    for n in 1..5000 {
        let r = issue(n);
        match r.status {
            201 => made.push(r.json()["card_id"].as_u64().expect("card id")),
            _ => {
                refused = Some(r);
                break;
            }
        }
    }
    let refused = refused.expect("a write fails once the disk is full");
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert!(
        refused.json()["error"]["message"].is_string(),
        "{}",
        refused.body
    );
    let (status, health) = server.get("/healthz");
    assert_eq!(status, 503, "{health}");
    assert!(health.contains("cannot write"), "{health}");
    // Further writes are refused fast and change nothing; reads still work.
    let r = issue(9999);
    assert_eq!(r.status, 503, "{}", r.body);
    let shown = shop.run(&["card", "show", &made[0].to_string()]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    // The owner signs in to the console and its Settings tab says so.
    let tmux = crate::console::admin_console(&shop, "LANG=C.UTF-8");
    tmux.keys(&["8"]);
    tmux.wait_for("Store: CANNOT WRITE");
    tmux.quit();

    // Space comes back: writes resume by themselves.
    std::fs::remove_file(&filler).expect("free the disk");
    wait::until(
        Duration::from_secs(30),
        || (server.get("/healthz").0 == 200).then_some(()),
        || format!("healthz: {:?}", server.get("/healthz")),
    );
    let r = issue(10_000);
    assert_eq!(r.status, 201, "{}", r.body);
    made.push(r.json()["card_id"].as_u64().expect("card id"));

    // Every acknowledged card exists once, and the webhook consumer, which
    // saw writes fail, delivered each of them.
    let cards = shop.json(&["card", "list", "--limit", "10000"]);
    let ids: Vec<u64> = cards
        .as_array()
        .expect("cards")
        .iter()
        .filter_map(|c| c["id"].as_u64())
        .collect();
    for id in &made {
        assert_eq!(ids.iter().filter(|i| *i == id).count(), 1, "card {id}");
    }
    assert!(
        ids.len() <= cards_before + made.len() + 1,
        "{} cards for {} acknowledged",
        ids.len(),
        made.len()
    );
    let delivered = || -> Vec<u64> {
        receiver
            .received()
            .iter()
            .filter_map(|d| d.json()["event"]["card_id"].as_u64())
            .collect()
    };
    wait::until(
        Duration::from_secs(30),
        || {
            let got = delivered();
            made.iter().all(|id| got.contains(id)).then_some(())
        },
        || format!("delivered {:?} for acknowledged {made:?}", delivered()),
    );
    server.stop();
    // And they are on disk.
    let after = shop
        .json(&["card", "list", "--limit", "10000"])
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(after, ids.len());
}
