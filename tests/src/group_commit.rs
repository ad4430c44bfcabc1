//! A group-commit loop for the benchmark baselines, with the same policy as
//! the store's committer (the same `take_group`): take everything waiting (up to a maximum), write it
//! in one transaction, make it durable once, then answer every caller.

use std::sync::mpsc;
use std::time::Duration;

use tokio::sync::oneshot;

/// A request to record one stamp on a card.
pub struct StampRequest {
    /// The card.
    pub card: u64,
    /// Answered once durable.
    pub reply: oneshot::Sender<()>,
}

/// Something that can durably apply a batch of stamps.
pub trait Backend: Send + 'static {
    /// Writes card state and a journal event per stamp, then makes them durable.
    fn apply(&mut self, cards: &[u64]);
}

/// Starts a committer thread over a backend; returns its request queue.
pub fn start<B: Backend>(
    mut backend: B,
    max_batch: usize,
    max_wait: Duration,
) -> mpsc::Sender<StampRequest> {
    let (tx, rx) = mpsc::channel::<StampRequest>();
    std::thread::spawn(move || {
        while let Some(batch) = stampcard_core::store::take_group(&rx, max_batch, max_wait) {
            let cards: Vec<u64> = batch.iter().map(|r| r.card).collect();
            backend.apply(&cards);
            for r in batch {
                let _ = r.reply.send(());
            }
        }
    });
    tx
}
