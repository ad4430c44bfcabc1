//! The README's command blocks, run as a reader would type them, so the
//! README and the command line cannot drift apart. A block marked
//! `<!-- readme-test: run on the demo -->` runs line by line against one
//! demo shop (in reading order, state carrying over); `run in a new folder`
//! against a folder that does not exist yet; `file NAME` is written to NAME
//! first (the template definitions). `<card code>`, `<voucher code>`,
//! `<receipt code>` and `<event id>` are filled from the demo shop, and a
//! `# prints: TEXT` line checks the command before it. Every command must be
//! understood: exit 0, or 1 where the shop says no (the README says which).
//! Deployment, proxy, Telegram, Apple and API blocks are not marked.

use std::path::Path;
use std::process::Command;

use crate::binary;

/// A marked block.
struct Block {
    mark: String,
    text: String,
}

fn blocks(readme: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        let Some(mark) = line
            .trim()
            .strip_prefix("<!-- readme-test: ")
            .and_then(|m| m.strip_suffix(" -->"))
        else {
            continue;
        };
        let fence = lines.next().unwrap_or_default();
        assert!(
            fence.starts_with("```"),
            "a readme-test mark stands right above a code block: {mark}"
        );
        let text: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !l.starts_with("```"))
            .collect();
        out.push(Block {
            mark: mark.to_string(),
            text: text.join("\n"),
        });
    }
    out
}

/// One command of a block, with what it must print.
struct Step {
    line: String,
    prints: Option<String>,
}

fn steps(text: &str) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::new();
    let mut pending = String::new();
    for raw in text.lines() {
        let line = raw.trim();
        if let Some(expected) = line.strip_prefix("# prints: ") {
            if let Some(last) = out.last_mut() {
                last.prints = Some(expected.to_string());
            }
            continue;
        }
        if pending.is_empty() && (line.is_empty() || line.starts_with('#')) {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        out.push(Step {
            line: std::mem::take(&mut pending),
            prints: None,
        });
    }
    out
}

/// Runs a shell line with `stampcard` on the PATH and the data folder set.
fn sh(work: &Path, bin: &Path, data: &Path, line: &str) -> std::process::Output {
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("bash")
        .args(["-c", line])
        .current_dir(work)
        .env("PATH", path)
        .env("STAMPCARD_DATA", data)
        .env("STAMPCARD_HTTP__LISTEN", "127.0.0.1:0")
        .env("STAMPCARD_SSH__LISTEN", "127.0.0.1:0")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("bash: {e}"))
}

fn json(work: &Path, bin: &Path, data: &Path, line: &str) -> serde_json::Value {
    let out = sh(work, bin, data, line);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{line}: {e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The first string in a JSON value that is a code of this kind digit.
fn code_in(v: &serde_json::Value, kind: char) -> Option<String> {
    match v {
        serde_json::Value::String(s)
            if s.len() == 19 && s.starts_with(kind) && s.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Some(s.clone())
        }
        serde_json::Value::Array(a) => a.iter().find_map(|x| code_in(x, kind)),
        serde_json::Value::Object(o) => o.values().find_map(|x| code_in(x, kind)),
        _ => None,
    }
}

/// Fills a line's placeholders from the demo shop as it is now.
fn fill(line: &str, work: &Path, bin: &Path, demo: &Path) -> String {
    let mut line = line.to_string();
    if line.contains("<card code>") {
        let card = json(work, bin, demo, "stampcard --json card show 100001");
        let code = card["code"].as_str().expect("a card code").to_string();
        line = line.replace("<card code>", &code);
    }
    if line.contains("<voucher code>") {
        let coupon = json(
            work,
            bin,
            demo,
            "stampcard --json card coupon 100002 --description 'README coupon' --valid-days 7",
        );
        let code = code_in(&coupon, '2').unwrap_or_else(|| panic!("a voucher code in {coupon}"));
        line = line.replace("<voucher code>", &code);
    }
    if line.contains("<receipt code>") {
        let out = sh(
            work,
            bin,
            demo,
            "stampcard codes generate --template 1 --count 1",
        );
        let code = String::from_utf8_lossy(&out.stdout).trim().to_string();
        line = line.replace("<receipt code>", &code);
    }
    if line.contains("<event id>") {
        let newest = json(
            work,
            bin,
            demo,
            "stampcard --json journal --type stamp_added --limit 1",
        );
        let id = newest[0]["id"].as_u64().expect("a stamp event");
        line = line.replace("<event id>", &id.to_string());
    }
    line
}

#[test]
fn the_readmes_commands_run_as_written() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let blocks = blocks(&readme);
    let work = tempfile::tempdir().expect("tempdir");
    let bin = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(binary(), bin.path().join("stampcard")).expect("symlink");
    let (work, bin) = (work.path(), bin.path());
    for b in &blocks {
        if let Some(name) = b.mark.strip_prefix("file ") {
            std::fs::write(work.join(name), &b.text).expect("write file block");
        }
    }
    let demo = work.join("demo");
    let made = sh(work, bin, &demo, "stampcard init --demo --timezone UTC");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );

    let mut ran = 0;
    for b in &blocks {
        let data = match b.mark.as_str() {
            "run on the demo" => demo.clone(),
            "run in a new folder" => work.join(format!("new-{ran}")),
            m if m.starts_with("file ") => continue,
            other => panic!("unknown readme-test mark '{other}'"),
        };
        for step in steps(&b.text) {
            let line = fill(&step.line, work, bin, &demo);
            let out = sh(work, bin, &data, &line);
            let code = out.status.code().unwrap_or(-1);
            let (stdout, stderr) = (
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
            );
            assert!(
                code == 0 || code == 1,
                "the README's `{}` exited {code}:\n{stdout}{stderr}",
                step.line
            );
            if let Some(expected) = &step.prints {
                assert!(
                    stdout.contains(expected.as_str()),
                    "`{}` should print {expected}, printed:\n{stdout}{stderr}",
                    step.line
                );
            }
            eprintln!("readme [{code}] {}", step.line);
            if code == 1 {
                eprintln!("        the shop said no: {}", stderr.trim());
            }
            ran += 1;
        }
    }
    assert!(ran >= 50, "only {ran} README commands were found and run");
}

#[test]
fn the_readme_names_the_admin_tabs_in_the_consoles_order() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    for (i, tab) in stampcard_tui::admin::TABS.iter().enumerate() {
        let named = format!("**{}** (`{}`)", tab.label(), i + 1);
        assert!(
            readme.contains(&named),
            "the README names tab {} as {named}",
            i + 1
        );
    }
}
