//! `stampcard serve` owns the data folder.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use crate::Shop;

#[test]
fn serve_owns_the_folder_and_stops_on_sigterm() {
    let shop = Shop::demo();
    let mut child = shop
        .command(&["serve"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let ready = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("serve prints a line");
    assert!(
        ready.contains("ready") && ready.contains("Ember & Oak Coffee"),
        "{ready}"
    );

    let busy = shop.run(&["card", "list"]);
    assert_eq!(busy.code, 2);
    assert!(
        busy.stderr.contains("in use by another stampcard process"),
        "{}",
        busy.stderr
    );

    let pid = child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let stopping = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("serve says it stops");
    assert!(stopping.contains("stopping"), "{stopping}");
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status:?}");
    // The folder is free again.
    shop.run(&["card", "list"]).ok();
}
