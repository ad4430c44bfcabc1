//! The full-screen console, end to end: the real binary inside tmux (its own
//! server socket), driven with keys, read back from the screen.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::Shop;

/// A tmux server of its own, killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(shop: &Shop, args: &[&str]) -> Tmux {
        let socket = format!("stampcard-test-{}", std::process::id())
            + &format!("-{}", rand::random::<u32>());
        let mut cmd = vec![
            crate::binary().display().to_string(),
            "--data".into(),
            shop.data().display().to_string(),
        ];
        cmd.extend(args.iter().map(|a| a.to_string()));
        let status = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "100",
                "-y",
                "30",
            ])
            .args(["-e", "STAMPCARD_HTTP__LISTEN=127.0.0.1:0"])
            .arg(cmd.join(" "))
            .status()
            .expect("tmux runs (install it: apt-get install tmux)");
        assert!(status.success());
        Tmux { socket }
    }

    fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys"])
            .args(keys)
            .status()
            .expect("send-keys");
        assert!(status.success());
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the screen until it shows `text` (with a timeout).
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "never saw {text:?} on:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

#[test]
fn staff_sign_in_and_stamp_a_card_in_the_console() {
    let shop = Shop::demo();
    let (_, code) = shop.new_card(2, "Screen Test");
    let tmux = Tmux::start(&shop, &["console"]);
    tmux.wait_for("The console is locked.");
    tmux.keys(&["2468", "Enter"]);
    tmux.wait_for("Scanner │ jules (staff)");
    tmux.keys(&[&code, "Enter"]);
    let screen = tmux.wait_for("Screen Test");
    assert!(screen.contains("1/"), "{screen}");
    tmux.keys(&["+"]);
    tmux.wait_for("2/");
    tmux.keys(&["C-c"]);
    // The stamps are in the store, under the staff member who added them.
    let journal = shop.json(&["journal", "--type", "stamp_added", "--limit", "2"]);
    assert_eq!(journal[0]["actor"]["name"], "Jules", "{journal}");
}

#[test]
fn the_console_attaches_to_a_running_server() {
    let shop = Shop::demo();
    let (card, code) = shop.new_card(2, "Attached");
    let server = shop.serve(&[]);
    let tmux = Tmux::start(&shop, &["console"]);
    tmux.wait_for("The console is locked.");
    tmux.keys(&["1234", "Enter"]);
    tmux.wait_for("owner (admin)");
    tmux.keys(&[&code, "Enter"]);
    tmux.wait_for("Attached");
    // The server saw it: the CLI (through the socket) reads the stamp.
    assert_eq!(shop.stamps(card), 1);
    tmux.keys(&["C-c"]);
    server.stop();
}

#[test]
fn disabling_a_staff_member_ends_their_session_at_once() {
    let shop = Shop::demo();
    let tmux = Tmux::start(&shop, &["console"]);
    tmux.wait_for("The console is locked.");
    tmux.keys(&["2468", "Enter"]);
    tmux.wait_for("jules (staff)");
    // An admin disables Jules from another terminal (through the console's socket).
    shop.run(&["staff", "disable", "Jules"]).ok();
    let screen = tmux.wait_for("Signed out: this staff account was disabled.");
    assert!(screen.contains("The console is locked."), "{screen}");
    tmux.keys(&["2468", "Enter"]);
    tmux.wait_for("Wrong PIN.");
    tmux.keys(&["C-c"]);
}
