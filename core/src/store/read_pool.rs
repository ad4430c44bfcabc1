//! [`ReadPool`]: how a networked store answers the seam's synchronous
//! reads. The store's reads (`get`, `scan`, `for_each`, `card_events`,
//! `next_id`) stay synchronous — sled answers them from memory in
//! microseconds — and a store whose reads travel over a network runs them
//! on a pool of its own: its own threads with their own runtime, on which
//! its async client and connections live. The caller's thread waits on a
//! plain channel for the answer. It never enters the caller's runtime
//! (`block_in_place` or `Handle::block_on` panic on a current-thread
//! runtime, and the tests and the console run on one), so a read works
//! from any thread, inside or outside tokio. ARCHITECTURE.md says why.

use std::future::Future;
use std::sync::mpsc;

use super::StoreError;

/// A small runtime of its own on which a store's reads run.
pub struct ReadPool {
    runtime: Option<tokio::runtime::Runtime>,
}

impl ReadPool {
    /// A pool of `threads` threads named `name`.
    pub fn new(name: &str, threads: usize) -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name(name)
            .enable_all()
            .build()
            .map_err(|e| StoreError::Io(format!("cannot start the {name} threads: {e}")))?;
        Ok(Self {
            runtime: Some(runtime),
        })
    }

    /// Runs `read` on the pool and waits for its answer on this thread.
    /// Must not be called from one of the pool's own threads (it would
    /// wait on itself).
    pub fn run<T, F>(&self, read: F) -> Result<T, StoreError>
    where
        F: Future<Output = Result<T, StoreError>> + Send + 'static,
        T: Send + 'static,
    {
        let runtime = self.runtime.as_ref().ok_or(StoreError::Closed)?;
        let (tx, rx) = mpsc::sync_channel(1);
        runtime.spawn(async move {
            let _ = tx.send(read.await);
        });
        rx.recv()
            .map_err(|_| StoreError::Io("a store read was dropped unanswered".into()))?
    }

    /// Runs `work` on the pool without waiting (a commit, whose caller
    /// awaits its own answer).
    pub fn spawn<F>(&self, work: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        if let Some(runtime) = &self.runtime {
            runtime.spawn(work);
        }
    }
}

impl Drop for ReadPool {
    fn drop(&mut self) {
        // Dropping a runtime waits for its threads, which panics inside
        // another runtime: let them go in the background.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
