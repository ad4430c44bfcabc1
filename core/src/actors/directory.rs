//! The card directory: activates card actors on demand and passivates idle
//! ones, so memory follows the active set rather than the number of cards.
//!
//! Every message to a card goes through the directory. To passivate a card
//! the directory sends `Passivate` through the card's own mailbox (so
//! everything queued before it is handled) and buffers any message for that
//! card until the actor has stopped; then a new incarnation, loaded from the
//! store, receives the buffered messages. No message is lost or reordered.
//!
//! Activation does not hold the directory up: the new actor loads its card
//! in its own task while the directory buffers that card's messages and
//! routes everyone else's; `Started` hands it the buffer.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ractor::{Actor, ActorId, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent};

use super::Deps;
use super::card::{CardActor, CardMsg};
use crate::error::CoreError;

/// Messages to the directory.
pub enum DirectoryMsg {
    /// Deliver a message to a card, activating it if needed.
    Route(u64, CardMsg),
    /// Passivate idle cards.
    Tick,
    /// Report resident actors.
    Stats(RpcReplyPort<DirectoryStats>),
    /// A card actor finished starting (or could not start).
    Started(u64, Result<ActorRef<CardMsg>, CoreError>),
}

/// Counters of the directory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DirectoryStats {
    /// Card actors running now.
    pub resident: usize,
    /// Activations since start.
    pub activations: u64,
    /// Passivations since start.
    pub passivations: u64,
}

enum Slot {
    Active {
        actor: ActorRef<CardMsg>,
        seq: u64,
        last_used: Instant,
    },
    Stopping {
        actor: ActorId,
        buffer: Vec<CardMsg>,
    },
    Starting {
        buffer: Vec<CardMsg>,
    },
}

/// The directory actor.
pub struct Directory;

/// State of the directory.
pub struct DirectoryState {
    deps: Arc<Deps>,
    slots: HashMap<u64, Slot>,
    by_actor: HashMap<ActorId, u64>,
    lru: BTreeMap<u64, u64>,
    seq: u64,
    stats: DirectoryStats,
}

impl DirectoryState {
    fn touch(&mut self, card: u64) {
        self.seq += 1;
        let seq = self.seq;
        if let Some(Slot::Active {
            seq: old,
            last_used,
            ..
        }) = self.slots.get_mut(&card)
        {
            self.lru.remove(old);
            *old = seq;
            *last_used = Instant::now();
            self.lru.insert(seq, card);
        }
    }

    fn passivate(&mut self, card: u64) {
        if let Some(Slot::Active { actor, seq, .. }) = self.slots.remove(&card) {
            self.lru.remove(&seq);
            let id = actor.get_id();
            if actor.cast(CardMsg::Passivate).is_ok() {
                self.slots.insert(
                    card,
                    Slot::Stopping {
                        actor: id,
                        buffer: Vec::new(),
                    },
                );
                self.stats.passivations += 1;
            } else {
                self.by_actor.remove(&id);
            }
        }
    }

    /// Starts a card's actor in its own task; `msgs` (and whatever arrives
    /// meanwhile) wait for it in the slot.
    fn activate(&mut self, myself: &ActorRef<DirectoryMsg>, card: u64, msgs: Vec<CardMsg>) {
        self.slots.insert(card, Slot::Starting { buffer: msgs });
        let (deps, directory) = (self.deps.clone(), myself.clone());
        tokio::spawn(async move {
            let spawned =
                Actor::spawn_linked(None, CardActor, (card, deps), directory.get_cell()).await;
            let result = spawned
                .map(|(actor, _)| actor)
                .map_err(|e| spawn_error(card, &e));
            if let Err(ractor::MessagingErr::SendErr(DirectoryMsg::Started(_, Ok(actor)))) =
                directory.cast(DirectoryMsg::Started(card, result))
            {
                // The directory is gone (the shop is closing).
                actor.stop(None);
            }
        });
    }

    /// A card's actor started: it gets the messages that waited for it.
    fn started(&mut self, card: u64, result: Result<ActorRef<CardMsg>, CoreError>) {
        let buffer = match self.slots.remove(&card) {
            Some(Slot::Starting { buffer }) => buffer,
            Some(other) => {
                // Not ours to replace (cannot happen: only `activate` makes
                // a Starting slot); keep what is there.
                self.slots.insert(card, other);
                if let Ok(actor) = result {
                    actor.stop(None);
                }
                return;
            }
            None => Vec::new(),
        };
        match result {
            Ok(actor) => {
                self.stats.activations += 1;
                self.seq += 1;
                self.by_actor.insert(actor.get_id(), card);
                self.lru.insert(self.seq, card);
                for msg in buffer {
                    if let Err(ractor::MessagingErr::SendErr(msg)) = actor.cast(msg) {
                        msg.fail(CoreError::Unavailable(card, "card actor stopped".into()));
                    }
                }
                self.slots.insert(
                    card,
                    Slot::Active {
                        actor,
                        seq: self.seq,
                        last_used: Instant::now(),
                    },
                );
                self.enforce_cap(card);
            }
            Err(error) => {
                for msg in buffer {
                    msg.fail(match &error {
                        CoreError::NotFound { .. } => CoreError::not_found("card", card),
                        other => CoreError::Unavailable(card, other.to_string()),
                    });
                }
            }
        }
    }

    fn enforce_cap(&mut self, keep: u64) {
        let cap = self.deps.settings.max_resident_actors.max(1);
        while self.lru.len() > cap {
            let Some((_, &oldest)) = self.lru.iter().next() else {
                break;
            };
            if oldest == keep {
                break;
            }
            self.passivate(oldest);
        }
    }
}

fn spawn_error(card: u64, e: &ractor::SpawnErr) -> CoreError {
    let text = e.to_string();
    if text.contains("not found") {
        CoreError::not_found("card", card)
    } else {
        CoreError::Unavailable(card, text)
    }
}

impl Actor for Directory {
    type Msg = DirectoryMsg;
    type State = DirectoryState;
    type Arguments = Arc<Deps>;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        deps: Arc<Deps>,
    ) -> Result<Self::State, ActorProcessingErr> {
        let every = (deps.settings.actor_idle / 2).max(Duration::from_millis(50));
        myself.send_interval(every, || DirectoryMsg::Tick);
        Ok(DirectoryState {
            deps,
            slots: HashMap::new(),
            by_actor: HashMap::new(),
            lru: BTreeMap::new(),
            seq: 0,
            stats: DirectoryStats::default(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            DirectoryMsg::Route(card, msg) => match state.slots.get_mut(&card) {
                Some(Slot::Active { actor, .. }) => {
                    if let Err(ractor::MessagingErr::SendErr(msg)) = actor.cast(msg) {
                        // The actor died underneath us: start a new one.
                        if let Some(Slot::Active { actor, seq, .. }) = state.slots.remove(&card) {
                            state.lru.remove(&seq);
                            state.by_actor.remove(&actor.get_id());
                        }
                        state.activate(&myself, card, vec![msg]);
                    } else {
                        state.touch(card);
                    }
                }
                Some(Slot::Stopping { buffer, .. } | Slot::Starting { buffer }) => buffer.push(msg),
                None => state.activate(&myself, card, vec![msg]),
            },
            DirectoryMsg::Started(card, result) => state.started(card, result),
            DirectoryMsg::Tick => {
                let idle = state.deps.settings.actor_idle;
                let now = Instant::now();
                let mut stale = Vec::new();
                for (_, card) in state.lru.iter() {
                    match state.slots.get(card) {
                        Some(Slot::Active { last_used, .. }) if now - *last_used >= idle => {
                            stale.push(*card)
                        }
                        _ => break,
                    }
                }
                for card in stale {
                    state.passivate(card);
                }
            }
            DirectoryMsg::Stats(port) => {
                let mut stats = state.stats;
                stats.resident = state.by_actor.len();
                let _ = port.send(stats);
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<Self::Msg>,
        event: SupervisionEvent,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let who = match &event {
            SupervisionEvent::ActorTerminated(cell, _, _) => cell.get_id(),
            SupervisionEvent::ActorFailed(cell, err) => {
                tracing::error!(error = %err, "card actor failed");
                cell.get_id()
            }
            _ => return Ok(()),
        };
        let Some(card) = state.by_actor.remove(&who) else {
            return Ok(());
        };
        match state.slots.remove(&card) {
            Some(Slot::Stopping { actor, buffer }) if actor == who && !buffer.is_empty() => {
                state.activate(&myself, card, buffer);
            }
            Some(Slot::Stopping { actor, .. }) if actor == who => {}
            Some(Slot::Active { actor, seq, .. }) if actor.get_id() == who => {
                state.lru.remove(&seq);
            }
            Some(other) => {
                state.slots.insert(card, other);
            }
            None => {}
        }
        Ok(())
    }
}
