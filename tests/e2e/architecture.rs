//! ARCHITECTURE.md's rules, checked: `core` uses no network, UI or
//! messenger crate; the front-ends do not depend on each other; nothing of
//! the product outside `core/src/store/` uses sled; the rules never read
//! the wall clock; the outbox never names the shop; every Rust file starts with a `//!` comment; every file
//! the codemap's concern table names exists.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The dependency names of a manifest's `[dependencies]` table.
fn dependencies(manifest: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(manifest).expect("manifest");
    let toml: toml::Table = toml::from_str(&text).expect("manifest parses");
    toml.get("dependencies")
        .and_then(|d| d.as_table())
        .map(|d| d.keys().cloned().collect())
        .unwrap_or_default()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "target" && name != ".git" && name != "node_modules" {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn core_uses_no_network_ui_or_messenger_crate_and_front_ends_stand_apart() {
    let core = dependencies(&root().join("core/Cargo.toml"));
    for banned in [
        "axum",
        "ratatui",
        "crossterm",
        "teloxide",
        "russh",
        "a2",
        "hyper",
        "reqwest",
    ] {
        assert!(
            !core.contains(&banned.to_string()),
            "core depends on {banned}"
        );
    }
    for (front, others) in [
        ("tui", ["stampcard-bot", "stampcard-wallet"]),
        ("bot", ["stampcard-tui", "stampcard-wallet"]),
        ("wallet", ["stampcard-tui", "stampcard-bot"]),
    ] {
        let deps = dependencies(&root().join(front).join("Cargo.toml"));
        for other in others {
            assert!(
                !deps.contains(&other.to_string()),
                "{front} depends on {other}"
            );
        }
    }
}

#[test]
fn only_the_store_module_uses_sled_and_every_file_says_what_it_is() {
    let mut files = Vec::new();
    for dir in ["src", "core/src", "tui/src", "bot/src", "wallet/src"] {
        rust_files(&root().join(dir), &mut files);
    }
    let store = root().join("core/src/store");
    for file in &files {
        let text = std::fs::read_to_string(file).expect("source");
        if !file.starts_with(&store) {
            assert!(
                !text.contains("sled::"),
                "{} uses sled outside the store module",
                file.display()
            );
        }
    }
    let mut all = Vec::new();
    rust_files(&root(), &mut all);
    let undocumented: Vec<_> = all
        .iter()
        .filter(|f| {
            !std::fs::read_to_string(f)
                .expect("source")
                .trim_start()
                .starts_with("//!")
        })
        .collect();
    assert!(
        undocumented.is_empty(),
        "no //! comment atop {undocumented:?}"
    );
}

#[test]
fn every_file_the_concern_table_names_exists() {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut named = 0;
    for line in text.lines().filter(|l| l.starts_with('|')) {
        for (i, part) in line.split('`').enumerate() {
            let looks_like_path = i % 2 == 1
                && part.contains('/')
                && !part.contains(' ')
                && !part.starts_with('/')
                && !part.contains('<')
                && !part.contains('*')
                && (part.ends_with(".rs") || part.ends_with('/'));
            if looks_like_path {
                named += 1;
                assert!(
                    root().join(part).exists(),
                    "ARCHITECTURE.md names {part}, which does not exist"
                );
            }
        }
    }
    assert!(named > 30, "the concern table names files ({named} found)");
}

#[test]
fn the_rules_read_time_only_from_the_clock_they_are_given() {
    let mut files = Vec::new();
    rust_files(&root().join("core/src/rules"), &mut files);
    assert!(
        !files.is_empty(),
        "the rules module is where ARCHITECTURE.md says"
    );
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source");
        for wall in [
            "Utc::now",
            "Local::now",
            "SystemTime::now",
            "Instant::now",
            "thread::sleep",
        ] {
            assert!(
                !text.contains(wall),
                "{} reads the wall clock ({wall})",
                file.display()
            );
        }
    }
}

#[test]
fn the_outbox_does_not_know_the_shop() {
    let mut files = Vec::new();
    rust_files(&root().join("core/src/outbox"), &mut files);
    assert!(
        files.len() > 3,
        "the outbox module is where ARCHITECTURE.md says"
    );
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source");
        for name in ["crate::shop", "Shop"] {
            assert!(
                !text.contains(name),
                "{} names {name}: the outbox takes its own handle, not the shop",
                file.display()
            );
        }
    }
}
