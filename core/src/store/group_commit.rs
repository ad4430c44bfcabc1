//! The group-commit policy: which waiting writes share one flush.

use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Takes the next group from a queue: blocks for the first item, then takes
/// everything already waiting, up to `max`, waiting at most `max_wait` for
/// more. Returns `None` once the queue is closed and empty.
pub fn take_group<T>(rx: &mpsc::Receiver<T>, max: usize, max_wait: Duration) -> Option<Vec<T>> {
    let first = rx.recv().ok()?;
    let mut group = vec![first];
    let deadline = Instant::now() + max_wait;
    while group.len() < max {
        match rx.try_recv() {
            Ok(item) => group.push(item),
            Err(mpsc::TryRecvError::Empty) => {
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                match rx.recv_timeout(deadline - now) {
                    Ok(item) => group.push(item),
                    Err(_) => break,
                }
            }
            Err(mpsc::TryRecvError::Disconnected) => break,
        }
    }
    Some(group)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_what_is_waiting_up_to_the_maximum() {
        let (tx, rx) = mpsc::channel();
        for i in 0..5 {
            tx.send(i).unwrap();
        }
        assert_eq!(take_group(&rx, 3, Duration::ZERO), Some(vec![0, 1, 2]));
        assert_eq!(take_group(&rx, 3, Duration::ZERO), Some(vec![3, 4]));
        drop(tx);
        assert_eq!(take_group(&rx, 3, Duration::ZERO), None);
    }
}
