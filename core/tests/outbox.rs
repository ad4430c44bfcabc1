//! The outbox dispatcher against the real store, with a scripted channel:
//! retries honour `retry_after` and back off, permanent failures keep their
//! reason, rate limits space the sends. Time moves through the clock seam.
mod backend;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use stampcard_core::Shop;
use stampcard_core::clock::{Clock, ManualClock};
use stampcard_core::outbox::{
    BoxFuture, Channel, DeliveryState, Message, OutboxEntry, Purpose, RateLimits, SendError,
    SendOutcome, run_dispatcher,
};
use stampcard_core::settings::ShopSettings;
use stampcard_core::store::SledOptions;
use tokio::sync::watch;

/// A channel that answers from a script and records each send.
struct Scripted {
    script: Mutex<VecDeque<Result<SendOutcome, SendError>>>,
    sends: Mutex<Vec<(u64, String, Instant)>>,
    limits: RateLimits,
    ordered: bool,
    /// A recipient whose server is down: every send to it is retried later.
    dead: Option<String>,
}

impl Channel for Scripted {
    fn in_order_per_card(&self) -> bool {
        self.ordered
    }
    fn name(&self) -> &str {
        "scripted"
    }
    fn limits(&self) -> RateLimits {
        self.limits
    }
    fn send<'a>(&'a self, e: &'a OutboxEntry) -> BoxFuture<'a, Result<SendOutcome, SendError>> {
        self.sends
            .lock()
            .unwrap()
            .push((e.id, e.message.recipient.clone(), Instant::now()));
        if self.dead.as_deref() == Some(e.message.recipient.as_str()) {
            let down = SendError::Retry {
                reason: "connection refused".into(),
                after: Some(Duration::from_secs(3600)),
            };
            return Box::pin(async move { Err(down) });
        }
        let next = self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Ok(SendOutcome::Confirmed { receipt: None }));
        Box::pin(async move { next })
    }
}

fn message(to: &str) -> Message {
    Message {
        channel: "scripted".into(),
        recipient: to.into(),
        purpose: Purpose::Transactional,
        subject: None,
        text: "Hello".into(),
        data: serde_json::Value::Null,
        customer_id: None,
        card_id: None,
        source_event: None,
    }
}

struct Rig {
    shop: Shop,
    clock: Arc<ManualClock>,
    channel: Arc<Scripted>,
    stop: watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

async fn rig(script: Vec<Result<SendOutcome, SendError>>, limits: RateLimits) -> Rig {
    rig_with(script, limits, false).await
}

/// A shop in a temporary folder on a manual clock.
async fn open_shop() -> (Shop, Arc<ManualClock>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let t0: DateTime<Utc> = "2026-06-01T09:00:00Z".parse().expect("time");
    let clock = Arc::new(ManualClock::new(t0));
    let shop = crate::backend::open(
        dir.path(),
        ShopSettings::for_tests(),
        clock.clone(),
        SledOptions::default(),
    )
    .await
    .expect("open");
    (shop, clock, dir)
}

async fn rig_with(
    script: Vec<Result<SendOutcome, SendError>>,
    limits: RateLimits,
    ordered: bool,
) -> Rig {
    let (shop, clock, dir) = open_shop().await;
    let channel = Arc::new(Scripted {
        script: Mutex::new(script.into()),
        sends: Mutex::new(Vec::new()),
        limits,
        ordered,
        dead: None,
    });
    let (stop, stop_rx) = watch::channel(false);
    tokio::spawn(run_dispatcher(
        shop.outbox().clone(),
        channel.clone(),
        stop_rx,
    ));
    Rig {
        shop,
        clock,
        channel,
        stop,
        _dir: dir,
    }
}

/// Polls an entry until it satisfies `done` (with a timeout).
async fn wait_for(shop: &Shop, id: u64, done: impl Fn(&OutboxEntry) -> bool) -> OutboxEntry {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let e = shop.outbox().entry(id).expect("entry");
        if done(&e) {
            return e;
        }
        assert!(Instant::now() < deadline, "entry never got there: {e:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_then_the_message_is_delivered_once() {
    let limits = RateLimits {
        backoff: Duration::from_secs(10),
        ..Default::default()
    };
    let r = rig(
        vec![
            Err(SendError::Retry {
                reason: "429 Too Many Requests".into(),
                after: Some(Duration::from_secs(30)),
            }),
            Err(SendError::Retry {
                reason: "connection reset".into(),
                after: None,
            }),
        ],
        limits,
    )
    .await;
    let t0 = r.clock.now();
    let id = r
        .shop
        .outbox()
        .send_messages(vec![message("a")])
        .await
        .expect("queue")[0];

    let e = wait_for(&r.shop, id, |e| {
        e.attempts == 1 && e.state == DeliveryState::Queued
    })
    .await;
    assert_eq!(
        e.next_attempt_at,
        t0 + chrono::Duration::seconds(30),
        "retry_after"
    );
    assert_eq!(e.last_error.as_deref(), Some("429 Too Many Requests"));

    r.clock.advance(chrono::Duration::seconds(30));
    r.shop.outbox().wake();
    let e = wait_for(&r.shop, id, |e| {
        e.attempts == 2 && e.state == DeliveryState::Queued
    })
    .await;
    assert_eq!(
        e.next_attempt_at,
        t0 + chrono::Duration::seconds(30 + 20),
        "no retry_after: backoff doubles with the attempts (10 s, 20 s …)"
    );

    r.clock.advance(chrono::Duration::seconds(19));
    r.shop.outbox().wake();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        r.channel.sends.lock().unwrap().len(),
        2,
        "not before its time"
    );
    r.clock.advance(chrono::Duration::seconds(1));
    r.shop.outbox().wake();
    let e = wait_for(&r.shop, id, |e| e.state == DeliveryState::Confirmed).await;
    assert_eq!(e.attempts, 3);
    assert_eq!(r.channel.sends.lock().unwrap().len(), 3);
    let _ = r.stop.send(true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_failures_and_exhausted_retries_fail_with_the_reason() {
    let limits = RateLimits {
        max_attempts: 2,
        backoff: Duration::ZERO,
        ..Default::default()
    };
    let r = rig(
        vec![
            Err(SendError::Permanent(
                "403 Forbidden: bot was blocked by the user".into(),
            )),
            Err(SendError::Retry {
                reason: "timeout".into(),
                after: None,
            }),
            Err(SendError::Retry {
                reason: "timeout".into(),
                after: None,
            }),
        ],
        limits,
    )
    .await;
    let ids = r
        .shop
        .outbox()
        .send_messages(vec![message("blocked"), message("flaky")])
        .await
        .expect("queue");
    let blocked = wait_for(&r.shop, ids[0], |e| e.state == DeliveryState::Failed).await;
    assert_eq!(blocked.attempts, 1);
    assert!(
        blocked
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("blocked")
    );
    let flaky = wait_for(&r.shop, ids[1], |e| e.state == DeliveryState::Failed).await;
    assert_eq!(flaky.attempts, 2);
    assert!(
        flaky
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("gave up after 2 attempts"),
        "{flaky:?}"
    );
    let failed = r
        .shop
        .outbox()
        .entries(Some(DeliveryState::Failed), 10)
        .expect("list");
    assert_eq!(failed.len(), 2);
    let _ = r.stop.send(true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_space_the_sends() {
    let limits = RateLimits {
        per_second: 50.0,
        per_recipient: Duration::from_millis(100),
        ..Default::default()
    };
    let r = rig(Vec::new(), limits).await;
    let mut messages: Vec<Message> = (0..4).map(|_| message("same chat")).collect();
    messages.extend((0..6).map(|i| message(&format!("chat {i}"))));
    let ids = r
        .shop
        .outbox()
        .send_messages(messages)
        .await
        .expect("queue");
    for id in &ids {
        wait_for(&r.shop, *id, |e| e.state == DeliveryState::Confirmed).await;
    }
    let sends = r.channel.sends.lock().unwrap().clone();
    assert_eq!(sends.len(), 10, "each message sent once");
    for pair in sends.windows(2) {
        assert!(
            pair[1].2 - pair[0].2 >= Duration::from_millis(19),
            "at most 50 per second overall"
        );
    }
    let same: Vec<Instant> = sends
        .iter()
        .filter(|(_, to, _)| to == "same chat")
        .map(|(_, _, at)| *at)
        .collect();
    for pair in same.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(99),
            "one per 100 ms per chat"
        );
    }
    let _ = r.stop.send(true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_order_channel_holds_a_cards_later_messages_while_an_earlier_one_retries() {
    let limits = RateLimits {
        backoff: Duration::from_secs(60),
        ..Default::default()
    };
    let r = rig_with(
        vec![Err(SendError::Retry {
            reason: "receiver down".into(),
            after: None,
        })],
        limits,
        true,
    )
    .await;
    let about = |to: &str, card: u64| Message {
        card_id: Some(card),
        ..message(to)
    };
    let ids = r
        .shop
        .outbox()
        .send_messages(vec![
            about("hook", 7),
            about("hook", 7),
            about("hook", 8),
            about("other hook", 7),
            about("hook", 7),
        ])
        .await
        .expect("queue");
    // Card 8 and the other recipient do not wait for card 7's retry.
    wait_for(&r.shop, ids[2], |e| e.state == DeliveryState::Confirmed).await;
    wait_for(&r.shop, ids[3], |e| e.state == DeliveryState::Confirmed).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    for later in [ids[1], ids[4]] {
        let e = r.shop.outbox().entry(later).expect("entry");
        assert_eq!(
            (e.state, e.attempts),
            (DeliveryState::Queued, 0),
            "held while the first message of card 7 retries"
        );
    }
    r.clock.advance(chrono::Duration::seconds(60));
    r.shop.outbox().wake();
    wait_for(&r.shop, ids[4], |e| e.state == DeliveryState::Confirmed).await;
    let to_hook_card_7: Vec<u64> = r
        .channel
        .sends
        .lock()
        .unwrap()
        .iter()
        .filter(|(id, to, _)| to == "hook" && *id != ids[2])
        .map(|(id, _, _)| *id)
        .collect();
    assert_eq!(
        to_hook_card_7,
        vec![ids[0], ids[0], ids[1], ids[4]],
        "the failed message first, then the rest in queue order"
    );
    let _ = r.stop.send(true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_committed_after_a_later_one_is_still_delivered() {
    let r = rig(Vec::new(), RateLimits::default()).await;
    // Two writers take ids in one order and commit in the other (as the
    // pass updater and the notifier can on one stamp).
    let mut first = stampcard_core::store::Mutation::new();
    let early = r
        .shop
        .outbox()
        .enqueue(&mut first, message("early@example.org"))
        .expect("queued");
    let mut second = stampcard_core::store::Mutation::new();
    let late = r
        .shop
        .outbox()
        .enqueue(&mut second, message("late@example.org"))
        .expect("queued");
    assert!(early < late);
    r.shop.store().commit(second).await.expect("commit");
    r.shop.outbox().wake();
    wait_for(&r.shop, late, |e| e.state == DeliveryState::Confirmed).await;
    // The dispatcher has read past `early` already; it commits only now.
    r.shop.store().commit(first).await.expect("commit");
    r.shop.outbox().wake();
    wait_for(&r.shop, early, |e| e.state == DeliveryState::Confirmed).await;
    let sends = r.channel.sends.lock().unwrap().len();
    assert_eq!(sends, 2, "each once");
    let _ = r.stop.send(true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_waits_in_the_store_and_a_dead_recipient_leaves_room_for_the_others() {
    let limits = RateLimits {
        per_second: 0.0,
        memory_window: 200,
        recipient_share: 20,
        ..Default::default()
    };
    let (shop, _clock, _dir) = open_shop().await;
    // A backlog before the dispatcher starts (as after a restart): a dead
    // recipient's 3 shares, then the window's worth twice over for others,
    // a few cards each so the in-order rule has pairs to keep.
    let dead = "https://down.example.org/hook";
    let mut m = stampcard_core::store::Mutation::new();
    for _ in 0..60 {
        shop.outbox()
            .enqueue(&mut m, message(dead))
            .expect("queued");
    }
    let mut live = Vec::new();
    for i in 0..400_u64 {
        let mut msg = message(&format!("shop{}@example.org", i % 50));
        msg.card_id = Some(i % 7);
        live.push(shop.outbox().enqueue(&mut m, msg).expect("queued"));
    }
    shop.store().commit(m).await.expect("commit");
    let channel = Arc::new(Scripted {
        script: Mutex::new(VecDeque::new()),
        sends: Mutex::new(Vec::new()),
        limits,
        ordered: true,
        dead: Some(dead.into()),
    });
    let (stop, stop_rx) = watch::channel(false);
    tokio::spawn(run_dispatcher(
        shop.outbox().clone(),
        channel.clone(),
        stop_rx,
    ));
    // More arrive while it works.
    let mut m = stampcard_core::store::Mutation::new();
    for i in 0..100_u64 {
        live.push(
            shop.outbox()
                .enqueue(&mut m, message(&format!("late{i}@example.org")))
                .expect("queued"),
        );
    }
    shop.store().commit(m).await.expect("commit");
    shop.outbox().wake();

    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let confirmed = live
            .iter()
            .filter(|id| {
                shop.outbox()
                    .entry(**id)
                    .is_ok_and(|e| e.state == DeliveryState::Confirmed)
            })
            .count();
        if confirmed == live.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{confirmed} of {} delivered; stats {:?}",
            live.len(),
            shop.outbox().stats().snapshot()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stats = shop.outbox().stats().snapshot()["scripted"];
    assert!(
        stats.peak_in_memory <= 200,
        "at most the window in memory: {stats:?}"
    );
    assert!(stats.peak_in_memory >= 100, "the window is used: {stats:?}");
    let sends = channel.sends.lock().unwrap().clone();
    let to_dead = sends.iter().filter(|(_, to, _)| to == dead).count();
    assert_eq!(to_dead, 20, "only the dead recipient's share was tried");
    let mut ids: Vec<u64> = sends
        .iter()
        .filter(|(_, to, _)| to != dead)
        .map(|(id, _, _)| *id)
        .collect();
    // In order per (recipient, card): entries of one pair were sent in id order.
    let mut last_of_pair = std::collections::HashMap::new();
    for (id, to, _) in sends.iter().filter(|(_, to, _)| to != dead) {
        let card = shop.outbox().entry(*id).expect("entry").message.card_id;
        if let Some(prev) = last_of_pair.insert((to.clone(), card), *id) {
            assert!(prev < *id, "{to} card {card:?}: {prev} sent before {id}");
        }
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), live.len(), "each live message once");
    let pending = shop.outbox().depth().expect("depth")["scripted"];
    assert_eq!(
        pending, 60,
        "the dead recipient's backlog waits in the store"
    );
    let _ = stop.send(true);
}
