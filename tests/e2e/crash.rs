//! Crash test in the style of sled's `test_crash_recovery`: the real binary
//! stamps in a child process and is killed with SIGKILL at random moments.
//! Afterwards every acknowledged stamp is present exactly once and the
//! journal agrees with the card's state.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::Rng;

use crate::Shop;

#[test]
fn acknowledged_stamps_survive_sigkill() {
    let shop = Shop::empty();
    shop.init(&["--timezone", "UTC"]);
    shop.run(&[
        "template",
        "create",
        "--name",
        "Crash",
        "--business",
        "Test",
        "--stamps",
        "100",
        "--reward",
        "A prize",
    ])
    .ok();
    let card = shop.json(&["card", "issue", "--template", "1", "--name", "Crash"]);
    let (id, code) = (
        card["card_id"].as_u64().unwrap(),
        card["code"].as_str().unwrap().to_string(),
    );
    let mut rng = rand::rng();
    let mut acknowledged = Vec::new();
    // Time a few complete stamps, so kills land inside a run on any machine.
    let mut runs = Vec::new();
    for warm in 0..3 {
        let key = format!("warm-{warm}");
        let start = Instant::now();
        shop.run(&["stamp", &code, "--idempotency-key", &key]).ok();
        runs.push(start.elapsed());
        acknowledged.push(key);
    }
    runs.sort();
    // Kill within 1.2 × the median run: most rounds die mid-run, some complete.
    let window = (runs[1].as_micros() * 6 / 5).max(1000) as u64;
    let mut killed = 0;
    for round in 0..60 {
        let key = format!("crash-{round}");
        let mut child = shop
            .command(&["--json", "stamp", &code, "--idempotency-key", &key])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        let deadline = Instant::now() + Duration::from_micros(rng.random_range(0..window));
        let mut exited = None;
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait().expect("wait") {
                exited = Some(status);
                break;
            }
            std::thread::yield_now();
        }
        match exited {
            Some(status) => {
                let out = child.wait_with_output().expect("output");
                assert!(
                    status.success(),
                    "stamp failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                acknowledged.push(key);
            }
            None => {
                child.kill().expect("SIGKILL");
                let out = child.wait_with_output().expect("reap");
                if !out.stdout.is_empty() {
                    // It printed its acknowledgement before the kill landed.
                    acknowledged.push(key);
                }
                killed += 1;
            }
        }
    }
    println!(
        "{killed} of 60 rounds killed mid-run; {} stamps acknowledged",
        acknowledged.len()
    );
    assert!(killed >= 20, "only {killed} rounds were killed mid-run");
    let journal = shop.json(&[
        "journal",
        "--card",
        &id.to_string(),
        "--type",
        "stamp_added",
        "--limit",
        "100000",
    ]);
    let mut per_key: HashMap<String, usize> = HashMap::new();
    for e in journal.as_array().unwrap() {
        let key = e["idempotency_key"].as_str().unwrap_or_default();
        let key = key.rsplit('|').next().unwrap_or_default().to_string();
        *per_key.entry(key).or_default() += 1;
    }
    for key in &acknowledged {
        assert_eq!(
            per_key.get(key),
            Some(&1),
            "acknowledged stamp {key} must be present exactly once"
        );
    }
    assert!(
        per_key.values().all(|n| *n == 1),
        "no stamp twice: {per_key:?}"
    );
    let stamps = shop.stamps(id) as usize;
    assert_eq!(stamps, per_key.len(), "card state agrees with the journal");
    assert!(stamps >= acknowledged.len());
}
