//! The card actor's pass commands: devices registering for and removing the
//! card's wallet pass, and campaign news posted to it. The pass record, the
//! card's platforms and the journal event are one write, serialized with
//! every other change of the card.

use super::commands::{CardOutcome, Ctx};
use crate::error::{CoreError, CoreResult};
use crate::model::{EventKind, PassDevice, PassNews, Platform};
use crate::store::{Key, Mutation, Record};

/// The index key of a device library identifier.
pub fn device_hash(device: &str) -> u64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(device.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(b)
}

/// Registers (`push_token` set) or unregisters a device; `None` when that
/// changes nothing (already registered with that token, or not registered).
pub(super) fn pass_device(
    ctx: &Ctx<'_>,
    device: String,
    push_token: Option<String>,
) -> CoreResult<Option<(Mutation, CardOutcome)>> {
    let card = &ctx.state.card;
    let mut pass = match ctx.state.deps.store.get(&Key::Pass(card.id))? {
        Some(Record::Pass(p)) => p,
        _ => return Err(CoreError::not_found("pass of card", card.id)),
    };
    let at = pass.devices.iter().position(|d| d.device == device);
    let index = Key::PassOfDevice(device_hash(&device), card.id);
    let mut m = Mutation::new();
    let mut c = card.clone();
    let kind = match (push_token, at) {
        (Some(token), Some(i)) => {
            if pass.devices[i].push_token == token {
                return Ok(None);
            }
            // A new push token for a known device: no news for the journal.
            pass.devices[i].push_token = token;
            m.put(Key::Pass(c.id), Record::Pass(pass));
            return Ok(Some((m, CardOutcome::of(c))));
        }
        (Some(token), None) => {
            pass.devices.push(PassDevice {
                device,
                push_token: token,
                registered_at: ctx.now,
            });
            m.put(index, Record::Index(c.id));
            c.platforms.insert(Platform::AppleWallet);
            EventKind::PassSaved {
                platform: Platform::AppleWallet,
            }
        }
        (None, None) => return Ok(None),
        (None, Some(i)) => {
            pass.devices.remove(i);
            m.deletes.push(index);
            if pass.devices.is_empty() {
                c.platforms.remove(&Platform::AppleWallet);
            }
            EventKind::PassRemoved {
                platform: Platform::AppleWallet,
            }
        }
    };
    let t = ctx.template()?;
    m.put(Key::Pass(c.id), Record::Pass(pass));
    m.put(Key::Card(c.id), Record::Card(c.clone()));
    m.event(ctx.event(&c, &t, kind));
    Ok(Some((m, CardOutcome::of(c))))
}

/// Posts a campaign's text to the pass; `None` when that campaign's news is
/// there already (a resend after a crash) or the card has no pass.
pub(super) fn pass_news(
    ctx: &Ctx<'_>,
    campaign_id: u64,
    text: String,
) -> CoreResult<Option<(Mutation, CardOutcome)>> {
    let card = &ctx.state.card;
    let mut pass = match ctx.state.deps.store.get(&Key::Pass(card.id))? {
        Some(Record::Pass(p)) => p,
        _ => return Ok(None),
    };
    if pass
        .news
        .as_ref()
        .is_some_and(|n| n.campaign_id == campaign_id)
    {
        return Ok(None);
    }
    // The same text again must still change the value, or Wallet stays silent.
    let repeat = match &pass.news {
        Some(old) if old.text == text => !old.repeat,
        _ => false,
    };
    pass.news = Some(PassNews {
        campaign_id,
        text,
        at: ctx.now,
        repeat,
    });
    let t = ctx.template()?;
    let mut m = Mutation::new();
    m.put(Key::Pass(card.id), Record::Pass(pass));
    m.event(ctx.event(card, &t, EventKind::WalletNews { campaign_id }));
    Ok(Some((m, CardOutcome::of(card.clone()))))
}
