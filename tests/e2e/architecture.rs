//! ARCHITECTURE.md's rules, checked: `core` uses no network, UI or
//! messenger crate; the front-ends do not depend on each other; nothing of
//! the product outside `core/src/store/` uses sled or the PostgreSQL client; the rules never read
//! the wall clock; the outbox and the consumers never name the shop;
//! `impl Shop` is one block in one file, with at most 25 public functions
//! and no lock or signal of its own; every Rust file starts with a `//!` comment; every file
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
fn only_the_store_module_knows_a_backend_and_every_file_says_what_it_is() {
    let mut files = Vec::new();
    for dir in ["src", "core/src", "tui/src", "bot/src", "wallet/src"] {
        rust_files(&root().join(dir), &mut files);
    }
    let store = root().join("core/src/store");
    for file in &files {
        let text = std::fs::read_to_string(file).expect("source");
        if !file.starts_with(&store) {
            for backend in ["sled::", "tokio_postgres", "deadpool_postgres"] {
                assert!(
                    !text.contains(backend),
                    "{} uses {backend} outside the store module",
                    file.display()
                );
            }
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

/// Whether `text` has `word` standing alone (not inside a longer name).
fn names(text: &str, word: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        !text[..at].chars().next_back().is_some_and(ident)
            && !text[at + word.len()..].chars().next().is_some_and(ident)
    })
}

#[test]
fn the_outbox_and_the_consumers_do_not_know_the_shop() {
    for dir in ["core/src/outbox", "core/src/consumers"] {
        let mut files = Vec::new();
        rust_files(&root().join(dir), &mut files);
        assert!(files.len() > 2, "{dir} is where ARCHITECTURE.md says");
        for file in files {
            let text = std::fs::read_to_string(&file).expect("source");
            assert!(
                !names(&text, "Shop"),
                "{} names Shop: outbox and consumers take the context and the outbox, not the shop",
                file.display()
            );
        }
    }
}

/// Most public functions the shop's front door may have.
const SHOP_MAX_PUBLIC_FNS: usize = 25;

#[test]
fn the_shop_is_one_small_front_door() {
    let mut files = Vec::new();
    rust_files(&root().join("core/src"), &mut files);
    let with_impl: Vec<_> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).expect("source");
            text.lines().any(|l| {
                let l = l.trim_start();
                let head = l.split('{').next().unwrap_or_default();
                l.starts_with("impl") && names(head, "Shop")
            })
        })
        .collect();
    assert_eq!(
        with_impl.len(),
        1,
        "impl Shop must be in one file, found in {with_impl:?}: a service owns the rest"
    );
    let text = std::fs::read_to_string(with_impl[0]).expect("source");
    let block = text
        .split("\nimpl Shop {")
        .nth(1)
        .expect("one impl Shop block");
    let block = &block[..block.find("\n}").unwrap_or(block.len())];
    let public = block
        .lines()
        .filter(|l| l.starts_with("    pub fn ") || l.starts_with("    pub async fn "))
        .count();
    assert!(
        public <= SHOP_MAX_PUBLIC_FNS,
        "Shop has {public} public functions (at most {SHOP_MAX_PUBLIC_FNS}): put the new one on a service"
    );
    assert_eq!(
        text.matches("\nimpl Shop {").count(),
        1,
        "one impl Shop block"
    );
    for state in ["Mutex", "RwLock", "watch::Sender", "AtomicU"] {
        assert!(
            !text.contains(state),
            "{} holds a {state}: the shop keeps no state of its own, a service does",
            with_impl[0].display()
        );
    }
}
