//! Keeping a background task alive: a dispatcher or consumer that stops on
//! an error (a store that cannot write while the disk is full) is started
//! again after a growing pause, so it resumes from what the store holds once
//! the cause is gone, instead of staying dead in a live process.
//!
//! A task that is one of the shop's duties ([`supervise_duty`]) runs only
//! while this process holds the duty: on a database several nodes share,
//! one node at a time; it stops when the duty is lost and waits to get it
//! back.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

use crate::error::CoreResult;
use crate::store::Store;

/// The first pause after a failure.
const FIRST_PAUSE: Duration = Duration::from_secs(1);
/// How long a duty taken on a shared store waits before it starts.
const HANDOVER_PAUSE: Duration = Duration::from_secs(1);
/// The longest pause between restarts.
const LONGEST_PAUSE: Duration = Duration::from_secs(30);
/// A run that lasted this long resets the pause to the first one.
const HEALTHY_RUN: Duration = Duration::from_secs(60);

/// Runs `task` until it ends without an error or `stop` turns true; after
/// an error, logs it and starts the task again after a pause (1 s, doubling
/// up to 30 s; back to 1 s after a run of a minute). Returns how many times
/// it was restarted.
pub async fn supervise<F, Fut>(name: &str, mut stop: watch::Receiver<bool>, mut task: F) -> u32
where
    F: FnMut() -> Fut,
    Fut: Future<Output = CoreResult<()>>,
{
    let mut pause = FIRST_PAUSE;
    let mut restarts = 0;
    loop {
        let started = tokio::time::Instant::now();
        let result = task().await;
        if *stop.borrow() {
            return restarts;
        }
        let Err(e) = result else {
            return restarts;
        };
        if started.elapsed() >= HEALTHY_RUN {
            pause = FIRST_PAUSE;
        }
        tracing::error!(
            "the {name} stopped: {e}; starting it again in {} s",
            pause.as_secs()
        );
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.changed() => return restarts,
        }
        pause = (pause * 2).min(LONGEST_PAUSE);
        restarts += 1;
    }
}

/// Runs `task` (supervised, as [`supervise`] does) while this process holds
/// the duty `name` of the shop's store. The task gets a stop signal that
/// turns true on `stop` and when the duty is lost; after a loss the duty is
/// waited for again.
pub async fn supervise_duty<F, Fut>(
    name: &str,
    store: &dyn Store,
    mut stop: watch::Receiver<bool>,
    mut task: F,
) where
    F: FnMut(watch::Receiver<bool>) -> Fut,
    Fut: Future<Output = CoreResult<()>>,
{
    loop {
        let duty = tokio::select! {
            duty = store.hold_duty(name) => duty,
            _ = stop.wait_for(|s| *s) => return,
        };
        let duty = match duty {
            Ok(duty) => duty,
            Err(e) => {
                tracing::error!("cannot take the duty {name}: {e}; trying again");
                tokio::select! {
                    _ = tokio::time::sleep(FIRST_PAUSE) => continue,
                    _ = stop.wait_for(|s| *s) => return,
                }
            }
        };
        // A duty taken over from another node starts after one second: what
        // the other node did under Telegram's (or any) per-second limit has
        // passed, and a holder that lost its connection has stopped.
        if store.is_shared() {
            tokio::select! {
                _ = tokio::time::sleep(HANDOVER_PAUSE) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
        let _held = Held::new(name);
        let (inner_tx, inner) = watch::channel(false);
        let run = supervise(name, inner.clone(), || task(inner.clone()));
        tokio::pin!(run);
        let (finished, lost) = tokio::select! {
            _ = &mut run => (true, false),
            _ = duty.lost() => (false, true),
            _ = stop.wait_for(|s| *s) => (false, false),
        };
        inner_tx.send_replace(true);
        if !finished {
            run.await;
        }
        drop(duty);
        if *stop.borrow() || !lost {
            return;
        }
        tracing::warn!("the {name} stopped: this process lost its duty; waiting to get it back");
    }
}

/// The duties this process holds now, by name.
static HELD: std::sync::Mutex<std::collections::BTreeSet<String>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// The duties this process holds now (for its heartbeat).
pub fn held_duties() -> Vec<String> {
    HELD.lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .cloned()
        .collect()
}

/// A duty counted as held while this lives.
struct Held(String);

impl Held {
    fn new(name: &str) -> Self {
        HELD.lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string());
        Self(name.to_string())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        HELD.lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::error::CoreError;

    #[tokio::test(start_paused = true)]
    async fn a_failing_task_is_started_again_until_it_succeeds() {
        let (_tx, stop) = watch::channel(false);
        let runs = Arc::new(AtomicU32::new(0));
        let counted = runs.clone();
        let restarts = supervise("test task", stop, move || {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 3 {
                    Err(CoreError::Invalid("not yet".into()))
                } else {
                    Ok(())
                }
            }
        })
        .await;
        assert_eq!(restarts, 3);
        assert_eq!(runs.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stop_ends_the_pause() {
        let (tx, stop) = watch::channel(false);
        let handle = tokio::spawn(supervise("test task", stop, || async {
            Err(CoreError::Invalid("always".into()))
        }));
        tokio::time::sleep(Duration::from_secs(5)).await;
        tx.send_replace(true);
        let restarts = handle.await.expect("joins");
        assert!(restarts >= 1, "{restarts}");
    }
}
