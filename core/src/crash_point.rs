//! Crash points for the crash tests. With `STAMPCARD_CRASH_AT=<point>:<n>`
//! in its environment, the process kills itself with SIGKILL the `n`-th time
//! it passes `<point>`, so a test can stop the real binary at one exact step
//! (for example between two planning batches of a campaign) instead of
//! racing it with a kill from outside. Unset, a point costs one load.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable that arms a crash point.
pub const VARIABLE: &str = "STAMPCARD_CRASH_AT";

/// The armed point and after how many passes it fires.
static ARMED: OnceLock<Option<(String, u64)>> = OnceLock::new();
/// Passes of the armed point so far.
static PASSED: AtomicU64 = AtomicU64::new(0);

/// Reads `<point>:<n>` (`n` ≥ 1; a bare `<point>` means 1).
fn parse(value: &str) -> Option<(String, u64)> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    match value.rsplit_once(':') {
        Some((point, n)) => Some((point.to_string(), n.parse().ok().filter(|n| *n >= 1)?)),
        None => Some((value.to_string(), 1)),
    }
}

/// Passes the named point: kills the process with SIGKILL if it is armed
/// and this is the pass it was armed for.
pub fn reached(point: &str) {
    let armed = ARMED.get_or_init(|| std::env::var(VARIABLE).ok().as_deref().and_then(parse));
    let Some((name, n)) = armed else {
        return;
    };
    if name == point && PASSED.fetch_add(1, Ordering::SeqCst) + 1 == *n {
        tracing::warn!("{VARIABLE}: killing the process at {point} (pass {n})");
        // SAFETY: kill(2) on our own pid has no memory effects; SIGKILL
        // cannot be caught, so nothing runs after it.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn points_are_read_with_their_pass() {
        assert_eq!(
            parse("campaign-batch:2"),
            Some(("campaign-batch".into(), 2))
        );
        assert_eq!(parse("campaign-batch"), Some(("campaign-batch".into(), 1)));
        assert_eq!(parse("campaign-batch:0"), None);
        assert_eq!(parse("campaign-batch:x"), None);
        assert_eq!(parse(" "), None);
    }
}
