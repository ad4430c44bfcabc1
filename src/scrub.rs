//! Erasing a forgotten customer from the files the shop keeps beside its
//! store: the console's exports (`<data>/exports`) and the message log
//! (`[outbox] log_file`). After a forget every such file that holds the
//! customer's name, phone or email — as written raw, or escaped for CSV,
//! JSON or XML — is rewritten with `(forgotten)` in its place (a private
//! temporary file, synced, renamed over the old one).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use stampcard_core::model::Customer;

use crate::app::App;

/// What a forgotten value becomes.
const ERASED: &[u8] = b"(forgotten)";
/// Values shorter than this are not searched for (they would match
/// unrelated text).
const SHORTEST: usize = 3;

/// Registers the scrubber on the shop of `app`.
pub fn install(app: &App) {
    let files = Files {
        exports: app.data.join("exports"),
        log: (!app.config.outbox.log_file.is_empty())
            .then(|| app.data.join(&app.config.outbox.log_file)),
    };
    app.shop
        .customers()
        .on_forget(Arc::new(move |c: &Customer| match files.scrub(c) {
            Ok(0) => {}
            Ok(n) => tracing::info!(files = n, "erased a forgotten customer from files"),
            Err(e) => tracing::error!(
                error = %e,
                "could not erase a forgotten customer from every export or log file"
            ),
        }));
}

/// The files a forget scrubs.
struct Files {
    exports: PathBuf,
    log: Option<PathBuf>,
}

impl Files {
    /// Scrubs every file; returns how many were rewritten.
    fn scrub(&self, c: &Customer) -> std::io::Result<usize> {
        let needles = needles(c);
        if needles.is_empty() {
            return Ok(0);
        }
        let mut paths = Vec::new();
        match std::fs::read_dir(&self.exports) {
            Ok(dir) => {
                for entry in dir {
                    let entry = entry?;
                    if entry.file_type()?.is_file() {
                        paths.push(entry.path());
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        paths.extend(self.log.iter().filter(|p| p.is_file()).cloned());
        let mut n = 0;
        for path in paths {
            if scrub_file(&path, &needles)? {
                n += 1;
            }
        }
        Ok(n)
    }
}

/// The byte strings to erase: each value raw and as CSV, JSON and XML
/// write it; longest first, so a longer form is replaced whole.
fn needles(c: &Customer) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    let values = [
        Some(c.name.as_str()),
        c.phone.as_deref(),
        c.email.as_deref(),
    ];
    for v in values.into_iter().flatten().map(str::trim) {
        if v.chars().count() < SHORTEST {
            continue;
        }
        let json = serde_json::to_string(v).unwrap_or_default();
        let json = json
            .strip_prefix('"')
            .and_then(|j| j.strip_suffix('"'))
            .unwrap_or(v)
            .to_string();
        let xml = v
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&apos;");
        for form in [v.to_string(), v.replace('"', "\"\""), json, xml] {
            if !out.iter().any(|o| o == form.as_bytes()) {
                out.push(form.into_bytes());
            }
        }
    }
    out.sort_by_key(|n| std::cmp::Reverse(n.len()));
    out
}

/// Rewrites `path` without the needles; false when it held none.
fn scrub_file(path: &Path, needles: &[Vec<u8>]) -> std::io::Result<bool> {
    let bytes = std::fs::read(path)?;
    let mut text = bytes.clone();
    for needle in needles {
        text = replace_all(&text, needle, ERASED);
    }
    if text == bytes {
        return Ok(false);
    }
    let tmp = path.with_extension("scrubbing");
    let mut file = crate::export::private_file(&tmp)?;
    file.write_all(&text)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(true)
}

fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(at) = find(rest, needle) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(with);
        rest = &rest[at + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_written_form_of_a_value_is_erased_and_other_text_kept() {
        let c = Customer {
            name: "Ann \"Jo\" <O'Neil>".into(),
            phone: Some("+15550101".into()),
            email: Some("ann@example.org".into()),
            ..Customer::default()
        };
        let needles = needles(&c);
        let csv = b"1,\"Ann \"\"Jo\"\" <O'Neil>\",+15550101,ann@example.org,Bob";
        let json = br#"{"name":"Ann \"Jo\" <O'Neil>","email":"ann@example.org"}"#;
        let xml = b"<text>Ann &quot;Jo&quot; &lt;O&apos;Neil&gt;</text>";
        for (input, kept) in [
            (&csv[..], &b"Bob"[..]),
            (&json[..], &b"\"name\""[..]),
            (&xml[..], &b"<text>"[..]),
        ] {
            let mut out = input.to_vec();
            for n in &needles {
                out = replace_all(&out, n, ERASED);
            }
            let out = String::from_utf8(out).expect("utf-8");
            for gone in ["Jo", "Neil", "5550101", "ann@example.org"] {
                assert!(!out.contains(gone), "{gone} in {out}");
            }
            assert!(
                out.contains(std::str::from_utf8(kept).expect("utf-8")),
                "{out}"
            );
        }
    }

    #[test]
    fn short_values_are_left_alone() {
        let c = Customer {
            name: "Al".into(),
            ..Customer::default()
        };
        assert!(needles(&c).is_empty());
    }
}
