//! View models: a card as the customer sees it. The console's Customer view,
//! the bot and the web card all draw from these.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::CoreResult;
use crate::model::{CodeFormat, Platform, Progress, Voucher, VoucherState};
use crate::shop::Cards;
use crate::shop::news_cache::{Heard, Seen};

/// A voucher as shown to the customer and staff.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VoucherView {
    /// Voucher id.
    pub id: u64,
    /// Its code (to scan or type).
    pub code: String,
    /// What it gives.
    pub description: String,
    /// How the code is shown.
    pub format: CodeFormat,
    /// A fixed code shown beside it.
    pub fixed_code: Option<String>,
    /// When issued.
    pub issued_at: DateTime<Utc>,
    /// Expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// State now.
    pub state: VoucherState,
}

/// A card as the customer sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CardView {
    /// Card number.
    pub card_id: u64,
    /// The code staff scan.
    pub code: String,
    /// The card's web page (its link token inside).
    pub url: String,
    /// Template id.
    pub template_id: u64,
    /// Template version.
    pub template_version: u32,
    /// Card name.
    pub title: String,
    /// Business name.
    pub business_name: String,
    /// Holder's name.
    pub customer_name: String,
    /// Holder's id.
    pub customer_id: u64,
    /// Holder's language code from their profile (e.g. "ru"), if known: the
    /// web card and the pass speak it.
    pub language: Option<String>,
    /// Progress in the cycle.
    pub progress: Progress,
    /// Progress as stamp symbols, e.g. ●●●○○○○○.
    pub stamps_line: String,
    /// The reward.
    pub reward: String,
    /// Simple rewards waiting to be handed over.
    pub rewards_pending: u32,
    /// Lottery spins available.
    pub spins_available: u32,
    /// Vouchers, active first.
    pub vouchers: Vec<VoucherView>,
    /// Platforms the card is held on.
    pub platforms: Vec<Platform>,
    /// When issued.
    pub created_at: DateTime<Utc>,
    /// Last stamp.
    pub last_stamp_at: Option<DateTime<Utc>>,
    /// Deleted.
    pub deleted: bool,
    /// Flagged by the anti-fraud rules.
    pub flagged: bool,
    /// Terms.
    pub terms: String,
    /// The newest campaign message that reached the card (any channel).
    pub news: Option<CardNews>,
}

/// A campaign's message as the card's web page shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CardNews {
    /// The campaign.
    pub campaign_id: u64,
    /// Its text, with the campaign markup (`**bold**`, `_italic_`, links).
    pub text: String,
    /// When it reached the card.
    pub at: DateTime<Utc>,
}

/// Card events looked back over for the newest campaign message.
const NEWS_LOOKBACK: usize = 30;

/// Progress as stamp symbols: filled for collected, hollow for missing.
pub fn stamps_line(progress: Progress, icon: &str) -> String {
    let filled = progress.stamps.min(progress.of) as usize;
    let missing = progress.of.saturating_sub(progress.stamps) as usize;
    format!("{}{}", icon.repeat(filled), "○".repeat(missing))
}

impl Cards {
    /// A voucher's view.
    pub fn voucher_view(&self, v: &Voucher) -> VoucherView {
        VoucherView {
            id: v.id,
            code: self.voucher_code(v),
            description: v.description.clone(),
            format: v.format,
            fixed_code: v.fixed_code.clone(),
            issued_at: v.issued_at,
            expires_at: v.expires_at,
            state: v.state(self.clock().now()),
        }
    }

    /// The newest campaign message that reached a card: a delivered
    /// message or wallet news among its last `NEWS_LOOKBACK` events. Reads
    /// only the events written since the card was last viewed.
    pub fn card_news(&self, card_id: u64) -> CoreResult<Option<CardNews>> {
        self.news_with(card_id, &[])
    }

    /// [`Cards::card_news`], where `quiet` are events known to carry no
    /// news (the ones a command just wrote): they are not read.
    fn news_with(&self, card_id: u64, quiet: &[u64]) -> CoreResult<Option<CardNews>> {
        let known = self.news.get(card_id);
        let (seen, fresh) = self.news_since(card_id, known, quiet)?;
        let news = match (fresh, seen.news) {
            (Some(news), _) => Some(news),
            (None, Some(h)) if h.after < NEWS_LOOKBACK => match self.campaign(h.campaign_id) {
                Ok(c) => Some(CardNews {
                    campaign_id: h.campaign_id,
                    text: c.text,
                    at: h.at,
                }),
                // The campaign is gone since: look through the card's
                // events again, as if it were never seen.
                Err(_) => {
                    let (seen, fresh) = self.news_since(card_id, None, &[])?;
                    self.news.put(card_id, seen);
                    return Ok(fresh);
                }
            },
            _ => None,
        };
        self.news.put(card_id, seen);
        Ok(news)
    }

    /// Looks at a card's events newer than `known` (all of its last
    /// `NEWS_LOOKBACK` when nothing is known), newest first, reading each
    /// one not in `quiet`: what they say about news, and the news itself
    /// when one of them carries it.
    fn news_since(
        &self,
        card_id: u64,
        known: Option<Seen>,
        quiet: &[u64],
    ) -> CoreResult<(Seen, Option<CardNews>)> {
        let after = known.map_or(0, |k| k.newest);
        let ids = self.store().card_event_ids(card_id, after, NEWS_LOOKBACK)?;
        // Fewer than the look-back: the walk met what was known (or the
        // chain's start), so what was known still holds below these.
        let reached = ids.len() < NEWS_LOOKBACK;
        let mut newer = 0;
        let mut fresh = None;
        for &id in &ids {
            if !quiet.contains(&id) {
                let e = self.event(id)?;
                if let Some((campaign_id, Ok(c))) =
                    e.kind.news_of().map(|id| (id, self.campaign(id)))
                {
                    fresh = Some((
                        Heard {
                            event: e.id,
                            campaign_id,
                            at: e.at,
                            after: newer,
                        },
                        CardNews {
                            campaign_id,
                            text: c.text,
                            at: e.at,
                        },
                    ));
                    break;
                }
            }
            newer += 1;
        }
        let known = known.filter(|_| reached);
        let newest = ids.first().copied().unwrap_or(after);
        Ok(match fresh {
            Some((heard, news)) => (
                Seen {
                    newest,
                    news: Some(heard),
                },
                Some(news),
            ),
            None => (
                Seen {
                    newest,
                    news: known.and_then(|k| k.news).map(|h| Heard {
                        after: h.after + newer,
                        ..h
                    }),
                },
                None,
            ),
        })
    }

    /// The card as its customer sees it.
    pub fn card_view(&self, card_id: u64) -> CoreResult<CardView> {
        self.view_of(&self.card(card_id)?)
    }

    /// The view of a card already at hand (e.g. the card a command returned).
    pub fn view_of(&self, card: &crate::model::Card) -> CoreResult<CardView> {
        self.view_with(card, None, &[])
    }

    /// The view of the card a command returned, with the vouchers its actor
    /// knows (read from the store when it knows none).
    pub fn view_of_outcome(&self, outcome: &crate::actors::CardOutcome) -> CoreResult<CardView> {
        let quiet = match outcome.known.events_without_news {
            true => &outcome.event_ids[..],
            false => &[],
        };
        self.view_with(&outcome.card, outcome.known.vouchers.as_deref(), quiet)
    }

    /// The view, with the vouchers and the news-free events at hand.
    fn view_with(
        &self,
        card: &crate::model::Card,
        known: Option<&[Voucher]>,
        quiet: &[u64],
    ) -> CoreResult<CardView> {
        let card_id = card.id;
        let t = self.template_arc(card.template_id)?;
        let customer = self.customer(card.customer_id)?;
        let progress = Progress {
            stamps: card.stamps,
            of: t.stamps_required,
        };
        let read;
        let card_vouchers = match known {
            Some(known) => known,
            None => {
                read = self.vouchers_of_card(card_id)?;
                &read[..]
            }
        };
        let mut vouchers: Vec<VoucherView> =
            card_vouchers.iter().map(|v| self.voucher_view(v)).collect();
        vouchers.sort_by_key(|v| (v.state != VoucherState::Active, std::cmp::Reverse(v.id)));
        Ok(CardView {
            card_id,
            code: self.card_code(card),
            url: self.links().card_url(card),
            template_id: t.id,
            template_version: t.version,
            title: t.name.clone(),
            business_name: t.business_name.clone(),
            customer_name: customer.name,
            customer_id: customer.id,
            language: customer.language,
            progress,
            stamps_line: stamps_line(progress, &t.branding.stamp_icon),
            reward: t.reward.summary(),
            rewards_pending: card.rewards_pending,
            spins_available: card.spins_available,
            vouchers,
            platforms: card.platforms.iter().copied().collect(),
            created_at: card.created_at,
            last_stamp_at: card.last_stamp_at,
            deleted: card.deleted,
            flagged: card.flagged,
            terms: t.terms.clone(),
            news: self.news_with(card_id, quiet)?,
        })
    }
}
