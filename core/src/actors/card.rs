//! The card actor: serializes every command on one card.

use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use super::Deps;
use super::commands::{CardOutcome, CardRequest, execute};
use crate::error::{CoreError, CoreResult};
use crate::model::Card;
use crate::store::{Key, Record, StoreError};

/// Messages to a card actor.
pub enum CardMsg {
    /// A command, answered on the port.
    Request(CardRequest, RpcReplyPort<CoreResult<CardOutcome>>),
    /// Stop after everything queued before this message.
    Passivate,
}

impl CardMsg {
    /// Answers the request with an error without running it.
    pub fn fail(self, error: CoreError) {
        if let CardMsg::Request(_, port) = self {
            let _ = port.send(Err(error));
        }
    }
}

/// The card actor; its state is the card as stored.
pub struct CardActor;

/// State of a running card actor.
pub struct CardState {
    pub(crate) card: Card,
    pub(crate) deps: Arc<Deps>,
    /// Every voucher of the card, once a command needed them (all voucher
    /// writes go through this actor, so the list stays current).
    pub(crate) vouchers: Option<Vec<crate::model::Voucher>>,
    /// The card's version: the id of its newest journal event when this
    /// actor read it (0: none), kept where other processes write the store
    /// too. Every write there names it (the store's card-version guard), so
    /// a card changed by another node is read again and the command run
    /// again on it.
    pub(crate) version: u64,
    /// The latest version of the card's template when the current command
    /// started (guarded with the card version; kept on a shared store).
    pub(crate) template_seen: u32,
}

/// How often a command is run again on a card read afresh after another
/// writer changed the card first. Between tries the actor waits a random
/// moment (up to 1, 2, 4 … 32 ms), so two nodes stamping one card in step
/// do not keep colliding.
const CONFLICT_RETRIES: u32 = 32;

impl CardState {
    /// Notes the template version the next command runs with (for the
    /// template guard, on a shared store only).
    fn see_template(&mut self) {
        if self.deps.store.is_shared() {
            self.template_seen = self
                .deps
                .templates
                .get(self.card.template_id)
                .map_or(0, |t| t.version);
        }
    }

    /// Reads the card and its version from the store.
    fn load(card_id: u64, deps: Arc<Deps>) -> CoreResult<CardState> {
        // The version first: a write landing between the two reads then
        // fails the guard (and the command runs again), never passes it
        // with a card older than its version.
        let version = match deps.store.is_shared() {
            true => deps
                .store
                .card_event_ids(card_id, 0, 1)?
                .first()
                .copied()
                .unwrap_or(0),
            // Only guarded writes use it.
            false => 0,
        };
        match deps.store.get(&Key::Card(card_id))? {
            Some(Record::Card(card)) => Ok(CardState {
                card,
                deps,
                vouchers: None,
                version,
                template_seen: 0,
            }),
            _ => Err(CoreError::not_found("card", card_id)),
        }
    }
}

impl Actor for CardActor {
    type Msg = CardMsg;
    type State = CardState;
    type Arguments = (u64, Arc<Deps>);

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        (card_id, deps): (u64, Arc<Deps>),
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(CardState::load(card_id, deps)?)
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            CardMsg::Request(request, port) => {
                state.see_template();
                let mut result = execute(state, request.clone()).await;
                for attempt in 0..CONFLICT_RETRIES {
                    let card = state.card.id;
                    match &result {
                        Err(CoreError::Store(StoreError::Conflict(Key::Card(c)))) if *c == card => {
                        }
                        // Another node saved the template: read it again too.
                        Err(CoreError::Store(StoreError::Conflict(Key::Template(t)))) => {
                            if let Ok(Some(Record::Template(fresh))) =
                                state.deps.store.get(&Key::Template(*t))
                            {
                                state.deps.templates.put(fresh);
                            }
                        }
                        _ => break,
                    }
                    let most = 1u64 << attempt.min(5);
                    let pause = rand::random::<u64>() % (most * 1000 + 1);
                    tokio::time::sleep(std::time::Duration::from_micros(pause)).await;
                    match CardState::load(card, state.deps.clone()) {
                        Ok(fresh) => *state = fresh,
                        Err(e) => {
                            result = Err(e);
                            break;
                        }
                    }
                    state.see_template();
                    result = execute(state, request.clone()).await;
                }
                // Whether the write happened is unknown (a networked store
                // lost its connection during COMMIT): this actor's card may
                // be stale, so the next command reads it afresh.
                let unresolved = matches!(result, Err(CoreError::Store(StoreError::Unresolved(_))));
                let _ = port.send(result);
                if unresolved {
                    myself.stop(Some("the outcome of a write is unknown".into()));
                }
            }
            CardMsg::Passivate => myself.stop(None),
        }
        Ok(())
    }
}
