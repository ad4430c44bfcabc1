//! The group-commit policy: which waiting writes share one flush.

use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Takes the next group from a queue: blocks for the first item, then takes
/// everything already waiting, up to `max`, waiting at most `max_wait` for
/// more. Returns `None` once the queue is closed and empty.
pub fn take_group<T>(rx: &mpsc::Receiver<T>, max: usize, max_wait: Duration) -> Option<Vec<T>> {
    match take_group_by(rx, max, max_wait, None) {
        Taken::Group(group) => Some(group),
        Taken::Idle | Taken::Closed => None,
    }
}

/// What [`take_group_by`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Taken<T> {
    /// A group of items.
    Group(Vec<T>),
    /// Nothing arrived before the deadline.
    Idle,
    /// The queue is closed and empty.
    Closed,
}

/// As [`take_group`], but waits for the first item only until `first_by`
/// (when given), so the taker can do other work while the queue is idle.
pub fn take_group_by<T>(
    rx: &mpsc::Receiver<T>,
    max: usize,
    max_wait: Duration,
    first_by: Option<Instant>,
) -> Taken<T> {
    let first = match first_by {
        None => match rx.recv() {
            Ok(item) => item,
            Err(_) => return Taken::Closed,
        },
        Some(by) => match rx.recv_timeout(by.saturating_duration_since(Instant::now())) {
            Ok(item) => item,
            Err(mpsc::RecvTimeoutError::Timeout) => return Taken::Idle,
            Err(mpsc::RecvTimeoutError::Disconnected) => return Taken::Closed,
        },
    };
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
    Taken::Group(group)
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

    #[test]
    fn an_idle_queue_returns_at_the_deadline() {
        let (tx, rx) = mpsc::channel::<u8>();
        let by = Some(Instant::now() + Duration::from_millis(20));
        assert_eq!(take_group_by(&rx, 3, Duration::ZERO, by), Taken::Idle);
        tx.send(7).unwrap();
        assert_eq!(
            take_group_by(&rx, 3, Duration::ZERO, by),
            Taken::Group(vec![7])
        );
        drop(tx);
        assert_eq!(take_group_by(&rx, 3, Duration::ZERO, by), Taken::Closed);
    }
}
