//! The console over SSH with the real OpenSSH client and test keys made by
//! the test: keys map to staff accounts, admins see admin screens, staff do
//! not, unknown keys are refused, and disabling a staff member ends their
//! session. Sessions see each other's stamps live.

use std::process::Command;

use crate::{Shop, Tmux};

/// Makes an ed25519 key pair in the shop's temp dir; returns the private key path.
pub(crate) fn keygen(shop: &Shop, name: &str) -> String {
    let path = shop.path(name);
    let status = Command::new(stampcard_e2e::tools::require("ssh-keygen"))
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&path)
        .status()
        .expect("ssh-keygen runs (install openssh-client)");
    assert!(status.success());
    path.display().to_string()
}

fn ssh_args(key: &str, addr: &str) -> Vec<String> {
    let (host, port) = addr.rsplit_once(':').expect("host:port");
    [
        "-i",
        key,
        "-p",
        port,
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "LogLevel=ERROR",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("counter@{host}")])
    .collect()
}

/// An interactive SSH console in tmux; prints SESSION-ENDED when ssh exits.
pub(crate) fn console_over_ssh(key: &str, addr: &str) -> Tmux {
    let args = ssh_args(key, addr).join(" ");
    Tmux::run(&format!(
        "sh -c 'ssh -tt {args}; echo SESSION-ENDED; sleep 60'"
    ))
}

#[test]
fn ssh_keys_map_to_staff_with_their_role() {
    let shop = Shop::demo();
    let admin = keygen(&shop, "admin_key");
    let staff = keygen(&shop, "staff_key");
    let stranger = keygen(&shop, "stranger_key");
    shop.run(&["staff", "add-key", "Owner", &format!("{admin}.pub")])
        .ok();
    shop.run(&["staff", "add-key", "Jules", &format!("{staff}.pub")])
        .ok();
    // A key that is not a key is refused and changes nothing.
    let bad = shop.run(&["staff", "add-key", "Jules", "not-a-key"]);
    assert_ne!(bad.code, 0);
    let server = shop.serve(&[]);

    // An unknown key is refused.
    let refused = Command::new(stampcard_e2e::tools::require("ssh"))
        .args(ssh_args(&stranger, &server.ssh))
        .args(["-o", "BatchMode=yes", "true"])
        .output()
        .expect("ssh runs");
    assert_ne!(refused.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("Permission denied"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // The admin's key opens the admin screens; the journal is live.
    let admin_tmux = console_over_ssh(&admin, &server.ssh);
    admin_tmux.wait_for("owner (admin)");
    admin_tmux.keys(&["F5"]);
    admin_tmux.wait_for("Journal (live)");

    // Staff get the scanner but not the admin screens.
    let staff_tmux = console_over_ssh(&staff, &server.ssh);
    staff_tmux.wait_for("jules (staff)");
    staff_tmux.keys(&["F5"]);
    staff_tmux.wait_for("need an admin's SSH key");
    let (_, code) = shop.new_card(2, "Remote Guest");
    staff_tmux.keys(&[&code, "Enter"]);
    staff_tmux.wait_for("Remote Guest");
    // The admin session sees the staff member's stamp appear.
    let screen = admin_tmux.wait_for("stamp_added");
    assert!(screen.contains("Jules"), "{screen}");

    // Disabling Jules ends their session at once.
    shop.run(&["staff", "disable", "Jules"]).ok();
    staff_tmux.wait_for("SESSION-ENDED");
    // …and their key no longer gets in.
    let again = Command::new(stampcard_e2e::tools::require("ssh"))
        .args(ssh_args(&staff, &server.ssh))
        .args(["-o", "BatchMode=yes", "true"])
        .output()
        .expect("ssh runs");
    assert_ne!(again.status.code(), Some(0));
    admin_tmux.keys(&["C-c"]);
    admin_tmux.wait_for("SESSION-ENDED");
    server.stop();
}
