//! Campaigns: create (validated, named), preview the audience per channel,
//! plan (one outbox entry per recipient and channel, written in batches
//! that also store the resume point, so a crash mid-plan resumes without a
//! duplicate), and report delivery per channel and state.
//!
//! Marketing rules applied while planning: consent per channel (the
//! routes ask it), a per-customer frequency cap, and shop-local quiet hours
//! (messages planned inside them wait until they end).

use super::context::{Context, on_context};
use super::shop_lock::ShopLock;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, Utc};
use serde::Serialize;

use crate::actors::CardCommand;
use crate::consumers::{Route, WALLET_CHANNEL};
use crate::error::{CoreError, CoreResult};
use crate::model::{
    Actor, Campaign, CampaignBatch, CampaignState, CampaignVoucher, Card, Customer, EventKind,
    NewEvent, Segment, Template, Voucher, VoucherState,
};
use crate::outbox::{DeliveryState, Message, OutboxEntry, Purpose};
use crate::store::{Family, Key, Mutation, Record, Scan};

/// Channels a campaign may ask for.
pub const CAMPAIGN_CHANNELS: &[&str] = &["telegram", "email", "wallet", "log"];

/// Cards read per page when a segment is walked (counting the audience).
const SEGMENT_PAGE: usize = 10_000;

/// What a new campaign says and to whom.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignDraft {
    /// Name; `<templateId>_<dd.mm.yyyyHH:MM>` (shop-local) when `None`.
    pub name: Option<String>,
    /// Whose holders.
    pub template_id: u64,
    /// Which of them.
    pub segment: Segment,
    /// The wallet PUSH text (at most the configured limit).
    pub push_text: String,
    /// The message for Telegram, email and the web card.
    pub text: String,
    /// Channels.
    pub channels: Vec<String>,
    /// Send later (shop clock); `None` leaves it a draft until sent.
    pub scheduled_for: Option<DateTime<Utc>>,
    /// A voucher for each recipient.
    pub voucher: Option<CampaignVoucher>,
}

/// How many a campaign would reach, per channel (after consent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Audience {
    /// Cards in the segment.
    pub cards: u64,
    /// Of those, reachable per requested channel.
    pub per_channel: BTreeMap<String, u64>,
}

/// A campaign with its deliveries counted per channel and state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignStatus {
    /// The campaign.
    pub campaign: Campaign,
    /// channel → state (queued, sending, sent, confirmed, failed, n/a) → count.
    pub deliveries: BTreeMap<String, BTreeMap<String, u64>>,
}

/// One recipient of a planning batch: the channels that reach them.
struct Recipient {
    card: u64,
    customer: u64,
    language: Option<String>,
    reach: Vec<(String, String)>,
    /// The occasion an automation reaches them for (stored with the batch).
    occasion: Option<u64>,
}

/// Voucher commands issued at once while planning (they share flushes).
const VOUCHERS_AT_ONCE: usize = 64;

/// The next date (today or later) a birthday is celebrated; 29 February
/// falls on 28 February in other years.
/// An email's subject: the shop's name and the PUSH text, or without one
/// the start of the message itself (plain, on one line, at most 60
/// characters, cut at a word).
pub(crate) fn subject_line(shop: &str, push_text: &str, text: &str) -> String {
    if !push_text.trim().is_empty() {
        return format!("{shop}: {}", push_text.trim());
    }
    let plain = crate::markup::to_plain(text);
    let line = plain
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if line.is_empty() {
        return shop.to_string();
    }
    let mut short = String::new();
    for word in line.split_whitespace() {
        if short.chars().count() + word.chars().count() + 1 > 60 {
            short.push('…');
            break;
        }
        if !short.is_empty() {
            short.push(' ');
        }
        short.push_str(word);
    }
    if short.is_empty() {
        short = line.chars().take(59).collect::<String>() + "…";
    }
    format!("{shop}: {short}")
}

pub(crate) fn next_birthday(
    birthday: chrono::NaiveDate,
    today: chrono::NaiveDate,
) -> Option<chrono::NaiveDate> {
    let in_year = |y: i32| {
        birthday
            .with_year(y)
            .or_else(|| chrono::NaiveDate::from_ymd_opt(y, 2, 28))
    };
    let this = in_year(today.year())?;
    if this >= today {
        Some(this)
    } else {
        in_year(today.year() + 1)
    }
}

/// Campaigns, their automations, personal messages and voucher reminders.
#[derive(Clone)]
pub struct Campaigns {
    ctx: Context,
    /// One campaign planner or editor at a time.
    pub(super) lock: Arc<ShopLock>,
}

on_context!(Campaigns);

impl Campaigns {
    pub(super) fn new(ctx: Context) -> Self {
        Self {
            ctx,
            lock: Arc::new(ShopLock::new("campaigns")),
        }
    }
}

impl Campaigns {
    /// Creates a campaign (a draft, or scheduled).
    pub async fn create_campaign(&self, d: CampaignDraft, actor: &Actor) -> CoreResult<Campaign> {
        let c = self.new_campaign(d, actor, None)?;
        let mut m = Mutation::new();
        m.put(Key::Campaign(c.id), Record::Campaign(c.clone()));
        self.store().commit(m).await?;
        Ok(c)
    }

    /// A checked campaign with a fresh id, not stored yet.
    pub(crate) fn new_campaign(
        &self,
        d: CampaignDraft,
        actor: &Actor,
        automation: Option<u64>,
    ) -> CoreResult<Campaign> {
        actor.require_admin("campaigns are made by admins")?;
        let t = self.template(d.template_id)?;
        let limit = self.settings().campaigns.push_limit;
        let push = d.push_text.trim().to_string();
        let n = push.chars().count();
        if n > limit {
            return Err(CoreError::Invalid(format!(
                "the PUSH text is {n} characters long; at most {limit} fit on the lock screen"
            )));
        }
        crate::rules::validate_text("the PUSH text", &push, false, limit)?;
        crate::rules::validate_text("the message", &d.text, true, 4096)?;
        let mut channels: Vec<String> = Vec::new();
        for c in &d.channels {
            let c = c.trim().to_lowercase();
            if !CAMPAIGN_CHANNELS.contains(&c.as_str()) {
                return Err(CoreError::Invalid(format!(
                    "'{c}' is not a channel: {}",
                    CAMPAIGN_CHANNELS.join(", ")
                )));
            }
            if !channels.contains(&c) {
                channels.push(c);
            }
        }
        if channels.is_empty() {
            return Err(CoreError::Invalid("name at least one channel".into()));
        }
        if channels.contains(&"wallet".to_string()) && push.is_empty() {
            return Err(CoreError::Invalid(
                "the wallet channel needs a PUSH text".into(),
            ));
        }
        if let Some(v) = &d.voucher {
            crate::rules::validate_text("the voucher", v.description.trim(), false, 200)?;
            // Checked now as the card actors will check each one when sent.
            crate::rules::validate_voucher(v.description.trim(), v.valid_days)?;
        }
        let voucher = d.voucher.map(|v| CampaignVoucher {
            description: v.description.trim().to_string(),
            valid_days: v.valid_days,
        });
        let now = self.clock().now();
        let name = match d.name.map(|n| n.trim().to_string()) {
            Some(n) if !n.is_empty() => {
                crate::rules::validate_text("the name", &n, false, 100)?;
                n
            }
            _ => format!(
                "{}_{}",
                t.id,
                now.with_timezone(&self.settings().timezone)
                    .format("%d.%m.%Y%H:%M")
            ),
        };
        let c = Campaign {
            id: self.store().next_id(Family::Campaigns)?,
            name,
            template_id: t.id,
            segment: d.segment,
            push_text: push,
            text: d.text.trim().to_string(),
            channels,
            state: if d.scheduled_for.is_some() {
                CampaignState::Scheduled
            } else {
                CampaignState::Draft
            },
            scheduled_for: d.scheduled_for,
            planned_after: 0,
            recipients: 0,
            messages: 0,
            capped: 0,
            created_at: now,
            created_by: actor.clone(),
            sent_at: None,
            voucher,
            automation,
        };
        Ok(c)
    }

    /// One campaign.
    pub fn campaign(&self, id: u64) -> CoreResult<Campaign> {
        self.ctx.campaign(id)
    }

    /// Every campaign, newest first.
    pub fn campaigns(&self) -> CoreResult<Vec<Campaign>> {
        let scan = Scan {
            after: None,
            reverse: true,
            limit: usize::MAX,
        };
        Ok(self.store().scan_as(Family::Campaigns, scan)?)
    }

    /// Whether a card's holder is in the segment now.
    fn in_segment(&self, seg: Segment, card: &Card, t: &Template, customer: &Customer) -> bool {
        let now = self.clock().now();
        match seg {
            Segment::All => true,
            Segment::Card { id } => card.id == id,
            Segment::AlmostReady => card.stamps + 1 >= t.stamps_required,
            Segment::NotSeen { days } => {
                card.last_stamp_at.unwrap_or(card.created_at) < now - Duration::days(days.into())
            }
            Segment::JoinedWithin { days } => card.created_at >= now - Duration::days(days.into()),
            Segment::BirthdayWithin { days } => {
                let today = now.with_timezone(&self.settings().timezone).date_naive();
                customer
                    .birthday
                    .and_then(|b| next_birthday(b, today))
                    .is_some_and(|next| next <= today + Duration::days(days.into()))
            }
            Segment::BirthdayThisMonth => {
                let month = now.with_timezone(&self.settings().timezone).month();
                customer.birthday.is_some_and(|b| b.month() == month)
            }
            Segment::VoucherExpiring { days } => {
                let until = now + Duration::days(days.into());
                self.vouchers_of_card(card.id).is_ok_and(|vs| {
                    vs.iter().any(|v| {
                        v.state(now) == VoucherState::Active
                            && v.expires_at.is_some_and(|e| e <= until)
                    })
                })
            }
        }
    }

    /// Walks the cards of `template` in `segment` after card id `after`,
    /// at most `limit` cards examined; gives each (card, customer) in the
    /// segment to `f`. Returns the last card id examined (None: no more).
    fn segment_page(
        &self,
        template: &Template,
        segment: Segment,
        after: u64,
        limit: usize,
        f: &mut dyn FnMut(&Card, &Customer),
    ) -> CoreResult<Option<u64>> {
        // One card: read it alone (one page, then no more).
        let (after, limit) = match segment {
            Segment::Card { id } if after >= id => return Ok(None),
            Segment::Card { id } => (id - 1, 1),
            _ => (after, limit),
        };
        let scan = Scan {
            after: Some(after),
            reverse: false,
            limit,
        };
        let page = self.store().scan(Family::Cards, scan)?;
        let mut last = None;
        for (_, r) in page {
            let Record::Card(card) = r else { continue };
            last = Some(card.id);
            if card.deleted || card.template_id != template.id {
                continue;
            }
            let Ok(customer) = self.customer(card.customer_id) else {
                continue;
            };
            if customer.forgotten || !self.in_segment(segment, &card, template, &customer) {
                continue;
            }
            f(&card, &customer);
        }
        Ok(last)
    }

    /// Gives every (card, customer) of `template` in `segment` to `f`, page
    /// by page.
    pub(crate) fn walk_segment(
        &self,
        template: &Template,
        segment: Segment,
        f: &mut dyn FnMut(&Card, &Customer),
    ) -> CoreResult<()> {
        let mut after = 0;
        while let Some(last) = self.segment_page(template, segment, after, SEGMENT_PAGE, f)? {
            after = last;
        }
        Ok(())
    }

    /// The audience of a template's segment per channel, after consent.
    pub fn campaign_audience(
        &self,
        template_id: u64,
        segment: Segment,
        channels: &[String],
        routes: &[Arc<dyn Route>],
    ) -> CoreResult<Audience> {
        let t = self.template(template_id)?;
        let mut a = Audience::default();
        for c in channels {
            a.per_channel.insert(c.clone(), 0);
        }
        // A route picked by a campaign channel under another name (Google
        // Wallet under `wallet`) is counted under its own.
        for r in routes {
            if channels.iter().any(|c| c == r.picked_by()) {
                a.per_channel.entry(r.channel().to_string()).or_insert(0);
            }
        }
        self.walk_segment(&t, segment, &mut |card, cu| {
            a.cards += 1;
            for r in routes {
                if let Some(n) = a.per_channel.get_mut(r.channel())
                    && r.recipient(cu, card, Purpose::Marketing).is_some()
                {
                    *n += 1;
                }
            }
        })?;
        Ok(a)
    }

    /// When a marketing message planned now may go out: now, or the end of
    /// the shop's quiet hours.
    pub fn after_quiet_hours(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let Some((start, end)) = self.settings().campaigns.quiet_hours else {
            return now;
        };
        let tz = self.settings().timezone;
        let local = now.with_timezone(&tz);
        let t = local.time();
        let inside = if start <= end {
            t >= start && t < end
        } else {
            t >= start || t < end
        };
        if !inside {
            return now;
        }
        let day = if start > end && t >= start {
            local.date_naive() + Duration::days(1)
        } else {
            local.date_naive()
        };
        crate::clock::local_to_utc(&tz, day.and_time(end)).unwrap_or(now)
    }

    /// Marketing messages per customer since `since`, from campaigns other
    /// than `campaign` (a campaign touches a customer once), read from the
    /// planning batches of the campaigns sent (or being planned) since then.
    fn recent_touches(&self, since: DateTime<Utc>, campaign: u64) -> CoreResult<HashMap<u64, u32>> {
        let mut touches: HashMap<u64, u32> = HashMap::new();
        for c in self.campaigns()? {
            let recent = match c.state {
                CampaignState::Planning => true,
                CampaignState::Sent => c.sent_at.is_some_and(|t| t >= since),
                _ => false,
            };
            if c.id == campaign || !recent {
                continue;
            }
            let mut seen = HashSet::new();
            for b in self.campaign_batches(c.id)? {
                if b.at >= since {
                    for cu in b.customers {
                        if seen.insert(cu) {
                            *touches.entry(cu).or_insert(0) += 1;
                        }
                    }
                }
            }
        }
        Ok(touches)
    }

    /// A campaign's planning batches, in order.
    fn campaign_batches(&self, id: u64) -> CoreResult<Vec<CampaignBatch>> {
        Ok(self
            .store()
            .scan_as(Family::CampaignBatches(id), Default::default())?)
    }

    /// Starts sending a draft or scheduled campaign, or resumes one whose
    /// planning a crash interrupted; returns it once every message is queued.
    pub async fn send_campaign(
        &self,
        id: u64,
        routes: &[Arc<dyn Route>],
        actor: &Actor,
    ) -> CoreResult<Campaign> {
        actor.require_admin("campaigns are sent by admins")?;
        let _one_planner = self.lock.lock(&**self.store()).await?;
        let mut c = self.campaign(id)?;
        if c.state == CampaignState::Sent {
            return Err(CoreError::Invalid(format!(
                "campaign {id} was sent already"
            )));
        }
        let t = self.template(c.template_id)?;
        let subject = subject_line(&self.settings().name, &c.push_text, &c.text);
        // An automation's run reaches each card once per occasion.
        let automation = match c.automation {
            Some(id) => Some((id, self.automation(id)?.kind)),
            None => None,
        };
        let cap = self.settings().campaigns.frequency_cap;
        let window = Duration::days(self.settings().campaigns.frequency_days.into());
        // One card's holder (a personal message): no cap, and a coupon even
        // when no channel reaches them.
        let personal = matches!(c.segment, Segment::Card { .. });
        let capping = !personal && cap > 0 && window > Duration::zero();
        // Other campaigns' touches per customer within the window, and the
        // customers this run has planned (their one touch for this campaign).
        let start = self.clock().now();
        let recent = if capping {
            self.recent_touches(start - window, c.id)?
        } else {
            HashMap::new()
        };
        let mut touched: HashSet<u64> = HashSet::new();
        // The next batch's number (after the batches of an interrupted run).
        let mut batch_no = match self
            .store()
            .scan(
                Family::CampaignBatches(c.id),
                Scan {
                    after: None,
                    reverse: true,
                    limit: 1,
                },
            )?
            .first()
        {
            Some((Key::CampaignBatch(_, n), _)) => n + 1,
            _ => 0,
        };
        // The previous batch's commit, in flight while the next is planned.
        let mut inflight: Option<crate::store::CommitFuture> = None;
        loop {
            let now = self.clock().now();
            let at = self.after_quiet_hours(now);
            let mut m = Mutation::new();
            let mut batch: Vec<Recipient> = Vec::new();
            let mut result = Ok(());
            let last = self.segment_page(
                &t,
                c.segment,
                c.planned_after,
                self.settings().campaigns.plan_batch,
                &mut |card, cu| {
                    if result.is_err() {
                        return;
                    }
                    let occasion = match automation {
                        Some((id, kind)) => match self.new_occasion(id, kind, card, cu) {
                            Ok(Some(o)) => Some(o),
                            Ok(None) => return,
                            Err(e) => {
                                result = Err(e);
                                return;
                            }
                        },
                        None => None,
                    };
                    let reach: Vec<(String, String)> = routes
                        .iter()
                        .filter(|r| c.channels.iter().any(|ch| ch == r.picked_by()))
                        .filter_map(|r| {
                            r.recipient(cu, card, Purpose::Marketing)
                                .map(|to| (r.channel().to_string(), to))
                        })
                        .collect();
                    if reach.is_empty() && !(personal && c.voucher.is_some()) {
                        return;
                    }
                    if capping
                        && !touched.contains(&cu.id)
                        && recent.get(&cu.id).copied().unwrap_or(0) >= cap
                    {
                        c.capped += 1;
                        return;
                    }
                    touched.insert(cu.id);
                    batch.push(Recipient {
                        card: card.id,
                        customer: cu.id,
                        language: cu.language.clone(),
                        reach,
                        occasion,
                    });
                },
            )?;
            result?;
            // Each recipient's voucher first (idempotent per campaign and
            // card, so a resumed batch finds the vouchers it issued).
            let vouchers = match &c.voucher {
                Some(v) => self.campaign_vouchers(c.id, v, &batch, actor).await?,
                None => HashMap::new(),
            };
            let mut record = CampaignBatch {
                at: now,
                ..CampaignBatch::default()
            };
            for r in batch {
                let voucher = vouchers.get(&r.card);
                let text = match voucher {
                    Some(v) => format!(
                        "{}\n\n{}",
                        c.text,
                        self.voucher_line(v, r.language.as_deref())
                    ),
                    None => c.text.clone(),
                };
                let said = !r.reach.is_empty();
                for (channel, recipient) in r.reach {
                    let entry = self.outbox().enqueue_at(
                        &mut m,
                        Message {
                            channel: channel.clone(),
                            recipient,
                            purpose: Purpose::Marketing,
                            subject: Some(subject.clone()),
                            text: text.clone(),
                            data: serde_json::json!({
                                "campaign": c.id,
                                "push_text": c.push_text,
                                "language": r.language,
                                "voucher": voucher.map(|v| v.id),
                            }),
                            customer_id: Some(r.customer),
                            card_id: Some(r.card),
                            source_event: None,
                        },
                        at,
                    )?;
                    record.entries.push(entry);
                    if channel == WALLET_CHANNEL {
                        // Confirmed (✅✅) when a device fetches the pass.
                        m.put(Key::PushOfCard(r.card, entry), Record::Index(entry));
                    }
                    c.messages += 1;
                }
                if let (Some((id, _)), Some(o)) = (automation, r.occasion) {
                    m.put(Key::AutomationDone(id, r.card), Record::Index(o));
                }
                // One touch per customer and campaign (that said something).
                if said {
                    record.customers.push(r.customer);
                }
                c.recipients += 1;
            }
            if !record.entries.is_empty() || !record.customers.is_empty() {
                m.put(
                    Key::CampaignBatch(c.id, batch_no),
                    Record::CampaignBatch(record),
                );
                batch_no += 1;
            }
            match last {
                Some(last) => {
                    c.planned_after = last;
                    c.state = CampaignState::Planning;
                }
                None => {
                    c.state = CampaignState::Sent;
                    c.sent_at = Some(now);
                    m.event(NewEvent {
                        at: now,
                        kind: EventKind::CampaignSent {
                            campaign_id: c.id,
                            recipients: c.recipients,
                            messages: c.messages,
                        },
                        card_id: None,
                        customer_id: None,
                        template_id: Some(c.template_id),
                        code: None,
                        progress: None,
                        reward: None,
                        actor: actor.clone(),
                    });
                }
            }
            m.put(Key::Campaign(c.id), Record::Campaign(c.clone()));
            // Batches commit in order (a later resume point never lands
            // without the batches before it): the previous one first, then
            // this one goes to the store while the next one is planned.
            if let Some(previous) = inflight.take() {
                previous.await?;
                self.outbox().wake();
                // A batch is durable; the next one is planned, its
                // vouchers issued, its messages not yet stored.
                crate::crash_point::reached("campaign-batch");
            }
            let commit = self.store().commit(m);
            if c.state == CampaignState::Sent {
                commit.await?;
                self.outbox().wake();
                return Ok(c);
            }
            inflight = Some(commit);
        }
    }

    /// The campaign's voucher for each recipient of a batch, through each
    /// card's actor (a card that has it already answers with that one).
    async fn campaign_vouchers(
        &self,
        campaign_id: u64,
        v: &CampaignVoucher,
        batch: &[Recipient],
        actor: &Actor,
    ) -> CoreResult<HashMap<u64, Voucher>> {
        let mut out = HashMap::new();
        for chunk in batch.chunks(VOUCHERS_AT_ONCE) {
            let mut tasks = tokio::task::JoinSet::new();
            for r in chunk {
                let (shop, actor, card) = (self.clone(), actor.clone(), r.card);
                let command = CardCommand::CampaignVoucher {
                    campaign_id,
                    description: v.description.clone(),
                    valid_days: v.valid_days,
                };
                tasks.spawn(async move { (card, shop.command(card, command, &actor, None).await) });
            }
            while let Some(done) = tasks.join_next().await {
                let (card, outcome) =
                    done.map_err(|e| CoreError::Invalid(format!("voucher task: {e}")))?;
                match outcome {
                    Ok(o) => {
                        if let Some(voucher) = o.vouchers.into_iter().next() {
                            out.insert(card, voucher);
                        }
                    }
                    // A card deleted meanwhile gets no voucher (nor message text about one).
                    Err(CoreError::CardDeleted(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(out)
    }

    /// The line a campaign message adds about the recipient's voucher, in
    /// their language.
    fn voucher_line(&self, v: &Voucher, lang: Option<&str>) -> String {
        let code = self.voucher_code(v);
        match v.expires_at {
            Some(exp) => crate::texts::t(
                lang,
                "voucher.line",
                &[
                    ("description", &v.description),
                    ("code", &code),
                    (
                        "date",
                        &exp.with_timezone(&self.settings().timezone)
                            .format("%Y-%m-%d")
                            .to_string(),
                    ),
                ],
            ),
            None => crate::texts::t(
                lang,
                "voucher.line_open",
                &[("description", &v.description), ("code", &code)],
            ),
        }
    }

    /// Campaigns to send now: scheduled ones that are due, and any whose
    /// planning was interrupted.
    pub fn due_campaigns(&self) -> CoreResult<Vec<u64>> {
        let now = self.clock().now();
        Ok(self
            .campaigns()?
            .into_iter()
            .filter(|c| {
                c.state == CampaignState::Planning
                    || (c.state == CampaignState::Scheduled
                        && c.scheduled_for.is_some_and(|t| t <= now))
            })
            .map(|c| c.id)
            .rev()
            .collect())
    }

    /// A campaign's messages, in queue order.
    pub fn campaign_deliveries(&self, id: u64) -> CoreResult<Vec<OutboxEntry>> {
        let mut out = Vec::new();
        for b in self.campaign_batches(id)? {
            for entry in b.entries {
                out.push(self.outbox().entry(entry)?);
            }
        }
        Ok(out)
    }

    /// A campaign with its deliveries per channel and state; `n/a` counts
    /// recipients a requested channel does not reach.
    pub fn campaign_status(&self, id: u64) -> CoreResult<CampaignStatus> {
        self.status_of(self.campaign(id)?)
    }

    /// Every campaign with its deliveries, newest first.
    pub fn campaign_statuses(&self) -> CoreResult<Vec<CampaignStatus>> {
        self.campaigns()?
            .into_iter()
            .map(|c| self.status_of(c))
            .collect()
    }

    /// A campaign's deliveries counted per channel and state.
    fn status_of(&self, campaign: Campaign) -> CoreResult<CampaignStatus> {
        let id = campaign.id;
        let mut deliveries: BTreeMap<String, BTreeMap<String, u64>> = campaign
            .channels
            .iter()
            .map(|c| (c.clone(), BTreeMap::new()))
            .collect();
        for e in self.campaign_deliveries(id)? {
            let state = match e.state {
                DeliveryState::Sending => DeliveryState::Queued,
                s => s,
            };
            *deliveries
                .entry(e.message.channel.clone())
                .or_default()
                .entry(state.name().to_string())
                .or_insert(0) += 1;
        }
        for counts in deliveries.values_mut() {
            let reached: u64 = counts.values().sum();
            let na = campaign.recipients.saturating_sub(reached);
            if na > 0 {
                counts.insert("n/a".into(), na);
            }
        }
        Ok(CampaignStatus {
            campaign,
            deliveries,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::subject_line;

    #[test]
    fn an_email_without_a_push_text_gets_the_start_of_its_message_as_subject() {
        assert_eq!(
            subject_line("Corner Café", "Doubles on Friday", "x"),
            "Corner Café: Doubles on Friday"
        );
        assert_eq!(
            subject_line("Corner Café", "", "**New cakes** on Sunday!\nCome early."),
            "Corner Café: New cakes on Sunday!"
        );
        let long = subject_line("Shop", " ", &"word ".repeat(40));
        assert!(long.ends_with('…') && long.chars().count() <= 67, "{long}");
        assert_eq!(subject_line("Shop", "", "  \n "), "Shop");
    }
}
