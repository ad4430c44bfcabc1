//! The card actor: serializes every command on one card.

use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use super::Deps;
use super::commands::{CardOutcome, CardRequest, execute};
use crate::error::{CoreError, CoreResult};
use crate::model::Card;
use crate::store::{Key, Record};

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
        match deps.store.get(&Key::Card(card_id))? {
            Some(Record::Card(card)) => Ok(CardState {
                card,
                deps,
                vouchers: None,
            }),
            _ => Err(Box::new(CoreError::not_found("card", card_id))),
        }
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            CardMsg::Request(request, port) => {
                let result = execute(state, request).await;
                // Whether the write happened is unknown (a networked store
                // lost its connection during COMMIT): this actor's card may
                // be stale, so the next command reads it afresh.
                let unresolved = matches!(
                    result,
                    Err(crate::error::CoreError::Store(
                        crate::store::StoreError::Unresolved(_)
                    ))
                );
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
