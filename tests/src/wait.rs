//! Polling with a deadline, for tests that watch a running binary or
//! server: never a bare sleep, never an endless wait.

use std::time::{Duration, Instant};

/// Polls `probe` every 20 ms until it gives a value and returns it; after
/// `timeout` fails the test with `what()` (which may show the last state).
pub fn until<T>(
    timeout: Duration,
    mut probe: impl FnMut() -> Option<T>,
    what: impl Fn() -> String,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "gave up after {timeout:?}: {}",
            what()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
