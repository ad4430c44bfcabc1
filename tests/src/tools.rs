//! The outside tools the tests drive (tmux, ssh, openssl, rsvg-convert,
//! chromedriver, the Python tools …): found on the machine, or the test
//! fails and names the tool and how to get it. A missing tool never turns
//! a test into a pass; `bash tests/run` installs every one of them.

use std::path::PathBuf;
use std::process::Command;

/// What installs a tool, for the failure message.
fn how_to_get(name: &str) -> &'static str {
    match name {
        "rsvg-convert" => "Debian's librsvg2-bin",
        "tmux" => "Debian's tmux",
        "ssh" | "ssh-keygen" => "Debian's openssh-client",
        "openssl" => "Debian's openssl",
        "chromedriver" => "Debian's chromium-driver",
        "chromium" => "Debian's chromium",
        "zbarimg" => "Debian's zbar-tools",
        "schemathesis" | "openapi-spec-validator" | "openapi-python-client" => {
            "the PyPI package of that name (tests/run puts it in a virtualenv)"
        }
        _ => "its package",
    }
}

/// The command `name`: `STAMPCARD_<NAME>` (upper case, '-' as '_') when
/// set, else `name` on the PATH. Panics, naming the tool and its package,
/// when it cannot be run.
pub fn require(name: &str) -> PathBuf {
    let var = format!("STAMPCARD_{}", name.to_uppercase().replace('-', "_"));
    let path = std::env::var_os(&var)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(name));
    let found = Command::new(&path)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .output()
        .is_ok();
    assert!(
        found,
        "this test needs `{name}` ({}), which is not installed: run `bash tests/run`, \
         which installs what the tests need, or set {var} to the command",
        how_to_get(name)
    );
    path
}

#[cfg(test)]
mod tests {
    #[test]
    #[should_panic(expected = "this test needs `stampcard-no-such-tool`")]
    fn a_missing_tool_fails_and_names_itself() {
        super::require("stampcard-no-such-tool");
    }
}
