//! The log channel: writes each message as one JSON line to a file. It
//! stands in for real channels until they land, and proves the outbox end to
//! end: the file shows exactly what was delivered, once.

use std::io::BufRead;
use std::path::Path;

use super::AppendFile;
use super::{BoxFuture, Channel, OutboxEntry, RateLimits, Recovery, SendError, SendOutcome};

/// One delivered message in the file (`entry` first: recovery looks for it).
#[derive(serde::Serialize)]
struct LogLine<'a> {
    entry: u64,
    to: &'a str,
    card: Option<u64>,
    event: Option<u64>,
    subject: Option<&'a str>,
    text: &'a str,
}

/// Appends messages to a file, durably.
pub struct LogChannel {
    file: AppendFile,
    limits: RateLimits,
}

impl LogChannel {
    /// A log channel writing to `path`.
    pub fn new(path: &Path, limits: RateLimits) -> Self {
        Self {
            file: AppendFile::new(path),
            limits,
        }
    }
}

impl Channel for LogChannel {
    fn name(&self) -> &str {
        "log"
    }

    fn limits(&self) -> RateLimits {
        self.limits
    }

    fn send<'a>(&'a self, entry: &'a OutboxEntry) -> BoxFuture<'a, Result<SendOutcome, SendError>> {
        Box::pin(async move {
            let mut line = serde_json::to_vec(&LogLine {
                entry: entry.id,
                to: &entry.message.recipient,
                card: entry.message.card_id,
                event: entry.message.source_event,
                subject: entry.message.subject.as_deref(),
                text: &entry.message.text,
            })
            .map_err(|e| SendError::Permanent(e.to_string()))?;
            line.push(b'\n');
            self.file.append(&line).map_err(|e| SendError::Retry {
                reason: format!("cannot write {}: {e}", self.file.path().display()),
                after: None,
            })?;
            Ok(SendOutcome::Confirmed {
                receipt: Some(format!("entry {}", entry.id)),
            })
        })
    }

    fn was_delivered<'a>(&'a self, entry: &'a OutboxEntry) -> BoxFuture<'a, Recovery> {
        Box::pin(async move {
            let file = match std::fs::File::open(self.file.path()) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Recovery::NotSent,
                Err(_) => return Recovery::Unknown,
            };
            let needle = format!("{{\"entry\":{},", entry.id);
            for line in std::io::BufReader::new(file).lines() {
                match line {
                    // In the file: delivered, as a send would have said.
                    Ok(l) if l.starts_with(&needle) => {
                        return Recovery::Delivered(SendOutcome::Confirmed {
                            receipt: Some(format!("entry {}", entry.id)),
                        });
                    }
                    Ok(_) => {}
                    Err(_) => return Recovery::Unknown,
                }
            }
            Recovery::NotSent
        })
    }
}

/// Routes every customer's card news to the log channel.
pub struct LogRoute;

impl crate::consumers::Route for LogRoute {
    fn channel(&self) -> &str {
        "log"
    }

    fn recipient(
        &self,
        customer: &crate::model::Customer,
        _card: &crate::model::Card,
        _purpose: super::Purpose,
    ) -> Option<String> {
        Some(format!("customer:{}", customer.id))
    }
}
