//! The console's state and its update function (the Elm architecture):
//! `update` turns a message into state changes and effects; effects (calls
//! into the core) run elsewhere and come back as messages. Nothing here
//! draws or awaits, so it is tested without a terminal or actors.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use stampcard_core::model::{Actor, Role, Staff};
use stampcard_core::views::CardView;

use crate::keys::Key;

/// How long a repeat of the same code counts as a double scan in autopilot.
pub const DOUBLE_SCAN_SECS: i64 = 2;
/// Rows kept in the autopilot log.
const LOG_ROWS: usize = 50;

/// The screen the console shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Locked: waiting for a PIN.
    Locked,
    /// The staff scanner.
    Scanner,
    /// One stamp per scanned code, no keystrokes.
    Autopilot,
    /// Customer-facing: scan your card, see progress and vouchers.
    Kiosk,
    /// Waiting for an admin PIN before the admin screens.
    AdminPin,
    /// The admin screens.
    Admin,
}

/// What the kiosk shows.
#[derive(Debug, Clone, PartialEq)]
pub enum KioskView {
    /// "Scan your card".
    Idle,
    /// A card, until the screen goes back to idle.
    Card(Box<CardView>),
    /// A voucher to redeem, waiting for the customer's confirm.
    Confirm {
        /// The voucher code.
        code: String,
        /// What it gives.
        description: String,
    },
    /// Staff typing their PIN to leave the kiosk.
    Leaving,
}

/// Seconds the kiosk shows a card before going back to idle.
pub const KIOSK_SHOW_SECS: i64 = 8;

/// A notice across the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alert {
    /// A goal was reached: hand over or show the reward.
    Goal(String),
    /// The shop said no.
    Refused(String),
    /// Something done.
    Info(String),
}

/// The signed-in staff member.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedIn {
    /// Their account.
    pub staff: Staff,
    /// How the journal names them.
    pub actor: Actor,
}

/// The last action, which `u` undoes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastAction {
    /// Its journal event.
    pub event: u64,
    /// What it was.
    pub label: String,
}

/// One autopilot scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRow {
    /// When.
    pub at: DateTime<Utc>,
    /// What happened.
    pub text: String,
    /// Whether it counted.
    pub ok: bool,
}

/// A call into the core, run outside `update`.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Check a PIN.
    SignIn(String),
    /// Stamp the card with this code.
    StampCode {
        /// The scanned code.
        code: String,
        /// Stamps.
        count: u32,
    },
    /// Stamp the shown card again.
    StampCard {
        /// Card id.
        card: u64,
        /// Stamps.
        count: u32,
    },
    /// Redeem a voucher code.
    Redeem(String),
    /// Hand over the shown card's reward.
    HandOver(u64),
    /// Play the shown card's spin.
    Spin(u64),
    /// Reverse an event (undo).
    Undo(u64),
    /// Find a customer's card by name or phone.
    Search(String),
    /// Look a code up without changing anything (kiosk).
    Show(String),
    /// Check a staff PIN to leave the kiosk.
    LeaveKiosk(String),
    /// Check an admin PIN for the admin screens.
    AdminSignIn(String),
    /// Load a card's history.
    CardHistory(u64),
    /// Read a shown card again (the journal moved: another till, the CLI,
    /// the bot or the API changed it).
    RefreshCard(u64),
    /// Issue a coupon (a voucher) to a card.
    Coupon {
        /// The card.
        card: u64,
        /// What it gives.
        description: String,
    },
    /// Reissue a card: new code, the old one refused.
    Reissue(u64),
    /// Delete a card.
    DeleteCard(u64),
    /// Load templates and POS keys for the codes tab.
    LoadCodes,
    /// Generate one-stamp receipt codes.
    GenerateCodes {
        /// Template.
        template: u64,
        /// How many.
        count: u32,
    },
    /// Create a POS key.
    CreatePosKey(String),
    /// Load the staff accounts.
    LoadStaff,
    /// Load the fraud alerts.
    LoadAlerts,
    /// Count the alerts nobody acknowledged (the admins' badge).
    LoadAlertCount,
    /// Acknowledge an alert.
    AckAlert(u64),
    /// Enable or disable a staff account.
    SetStaffEnabled {
        /// The account.
        id: u64,
        /// Enable (true) or disable.
        enabled: bool,
    },
    /// Load the card templates.
    LoadTemplates,
    /// Create (no id) or edit a template.
    SaveTemplate {
        /// The template edited.
        id: Option<u64>,
        /// The definition.
        draft: Box<stampcard_core::shop::TemplateDraft>,
    },
    /// Load the analytics of the last N days.
    LoadAnalytics(u32),
    /// Nothing (a prompt handled in place).
    None,
    /// Say no with this reason (bad input in a prompt).
    Refuse(String),
    /// Load what the settings tab shows (the last backup).
    LoadSettings,
    /// Load the webhooks with their latest deliveries (settings tab).
    LoadWebhooks,
    /// Take a backup now.
    BackupNow,
    /// Export a table into the shop's exports folder.
    ExportTable {
        /// customers, cards, vouchers or journal.
        table: String,
        /// JSON lines instead of CSV.
        json: bool,
    },
    /// Write printables (name, bytes) for the shop to print.
    Export(Vec<(String, Vec<u8>)>),
    /// Send a message to a card's holder.
    SendMessage {
        /// The card.
        card: u64,
        /// The text.
        text: String,
    },
    /// Add a staff account.
    AddStaff {
        /// Name.
        name: String,
        /// PIN.
        pin: String,
        /// With the admin role.
        admin: bool,
    },
    /// Let a staff member sign in over SSH with this key.
    AddSshKey {
        /// Staff id.
        staff: u64,
        /// The public key line.
        key: String,
    },
    /// Merge one customer into another (their cards move).
    Merge {
        /// The customer that goes away.
        from: u64,
        /// The customer that stays, as typed: their id, one of their card
        /// ids, or (a part of) their name or phone.
        into: String,
    },
    /// Issue a card to a walk-in customer.
    NewCard {
        /// Template id.
        template: u64,
        /// The customer's name (may be empty).
        name: String,
    },
    /// Load the campaigns with their delivery counts.
    LoadCampaigns,
    /// Open one campaign: its messages, one per recipient and channel.
    OpenCampaign(u64),
    /// Count a campaign's audience per channel (after consent).
    CampaignAudience {
        /// The template.
        template: u64,
        /// The segment as typed.
        segment: String,
        /// The channels.
        channels: Vec<String>,
    },
    /// Save a campaign, and send it unless it is scheduled.
    SaveCampaign(Box<stampcard_core::shop::CampaignDraft>),
    /// Send a draft campaign.
    SendCampaign(u64),
    /// Rename a campaign.
    RenameCampaign {
        /// The campaign.
        id: u64,
        /// Its new name.
        name: String,
    },
    /// Delete a draft or scheduled campaign.
    DeleteCampaign(u64),
    /// Load journal rows (newest first, older than `before`).
    LoadJournal {
        /// Only events older than this.
        before: Option<u64>,
        /// Which events.
        filter: crate::admin::journal::Filter,
    },
    /// Load the journal events newer than `after` (live updates).
    LoadJournalNewer {
        /// The newest event shown.
        after: u64,
        /// Which events.
        filter: crate::admin::journal::Filter,
    },
    /// Load a page of cards, or the cards of customers matching a search.
    LoadCards {
        /// Cards after this id.
        after: Option<u64>,
        /// Search text ("" for all).
        query: String,
    },
    /// Load a card's details panel.
    CardDetails(u64),
    /// Open the customer view of a card.
    ShowCard(u64),
    /// Reverse an event with a reason (admin).
    Reverse {
        /// The event.
        event: u64,
        /// Why.
        reason: String,
    },
}

/// What an effect brought back.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The PIN's staff member, if any.
    SignedIn(Option<Staff>),
    /// The fraud alerts, newest first.
    Alerts(Vec<stampcard_core::shop::AlertView>),
    /// Alerts nobody acknowledged yet.
    AlertCount(usize),
    /// A card after a change, with the event to undo and what to say.
    Card {
        /// The card now.
        view: Box<CardView>,
        /// The event an undo reverses.
        event: Option<u64>,
        /// What was done.
        label: String,
        /// Goals reached by it.
        goals: u32,
        /// The scanned code, for autopilot's log.
        code: Option<String>,
    },
    /// A staff member was added (their name), with the accounts now.
    StaffAdded(String, Vec<Staff>),
    /// A card found by search.
    Found(Box<CardView>),
    /// A scanned card the shop found but did not stamp (its printed code on
    /// a live-codes-only template, a cooldown …): shown, so staff see whose
    /// card it is, with why not.
    NotStamped {
        /// The card as it is.
        view: Box<CardView>,
        /// Why it was not stamped.
        reason: String,
    },
    /// A shown card as it is now (nothing to announce).
    Refreshed(Box<CardView>),
    /// An undo went through.
    Undone(Box<CardView>),
    /// The shop said no.
    Refused {
        /// What was tried.
        what: String,
        /// Why not.
        reason: String,
    },
    /// A looked-up voucher (kiosk): its code and what it gives.
    Voucher {
        /// The code.
        code: String,
        /// What it gives.
        description: String,
    },
    /// The staff member whose PIN leaves the kiosk, if any.
    KioskLeft(Option<Staff>),
    /// A wrong PIN at any prompt, or PINs locked on this machine.
    PinRefused {
        /// Until when every PIN prompt is locked, if it is.
        locked_until: Option<DateTime<Utc>>,
        /// Wrong PINs left before a lock-out.
        left: u32,
    },
    /// The admin whose PIN opens the admin screens, if any.
    AdminSignedIn(Option<Staff>),
    /// Campaigns with their counts, templates to make one for, and the
    /// PUSH text limit.
    Campaigns(
        Vec<stampcard_core::shop::CampaignStatus>,
        Vec<(u64, String)>,
        usize,
    ),
    /// One campaign and its messages.
    CampaignOpened(
        Box<stampcard_core::shop::CampaignStatus>,
        Vec<crate::admin::campaigns::Delivery>,
    ),
    /// An audience count, for the inputs it was asked for.
    Audience(
        crate::admin::campaign_form::AudienceKey,
        Result<stampcard_core::shop::Audience, String>,
    ),
    /// A campaign was saved (and sent): what to say.
    CampaignSaved(String),
    /// Journal rows.
    Journal(Vec<crate::admin::journal::Row>),
    /// Journal rows newer than those shown, oldest first.
    JournalNewer(Vec<crate::admin::journal::Row>),
    /// Card rows.
    Cards(Vec<crate::admin::cards::Row>),
    /// A card's details.
    Details(Box<CardView>),
    /// An event was reversed.
    Reversed(u64),
    /// A new card was issued.
    Issued(Box<CardView>),
    /// Staff accounts.
    Staff(Vec<Staff>),
    /// Card templates.
    Templates(Vec<stampcard_core::model::Template>),
    /// A template was saved.
    TemplateSaved(Box<stampcard_core::model::Template>),
    /// Analytics.
    Analytics(Box<stampcard_core::shop::Analytics>),
    /// A card's history.
    History(u64, Vec<crate::admin::journal::Row>),
    /// Templates (id, name) and POS keys.
    Codes(Vec<(u64, String)>, Vec<stampcard_core::model::PosKey>),
    /// A generated batch of receipt codes.
    Batch(Vec<String>),
    /// A new POS key (its secret is shown once).
    PosKeyCreated(stampcard_core::model::PosKey),
    /// The last backup (when, file), and what was just done.
    Backup(Option<(DateTime<Utc>, String)>, Option<String>),
    /// The settings tab's facts from the host: last backup, wallet status.
    Settings(Option<(DateTime<Utc>, String)>, String),
    /// Webhooks with their latest deliveries, newest first.
    Webhooks(
        Vec<(
            stampcard_core::model::Webhook,
            Vec<stampcard_core::outbox::OutboxEntry>,
        )>,
    ),
    /// A card changed by an admin action; the list reloads.
    CardChanged {
        /// What happened.
        label: String,
    },
    /// Something was done that changes nothing on screen (a file written,
    /// a message queued).
    Done(String),
}

/// The "New card" form in the scanner.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewCardForm {
    /// The customer's name so far.
    pub name: String,
    /// Index into the app's templates.
    pub template: usize,
}

/// A message to the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// A key.
    Key(Key),
    /// An effect's result.
    Done(Outcome),
    /// The clock moved.
    Tick(DateTime<Utc>),
    /// The signed-in staff member was disabled: end their session.
    Revoked,
    /// New events were committed.
    JournalChanged,
    /// The mouse, on a screen of this size.
    Mouse(crate::keys::Mouse, ratatui::layout::Rect),
}

/// The whole console state.
#[derive(Debug, Clone)]
pub struct App {
    /// Shop name for the header.
    pub shop_name: String,
    /// The current screen.
    pub mode: Mode,
    /// Who is signed in.
    pub signed_in: Option<SignedIn>,
    /// PIN typed so far (lock screen).
    pub pin: String,
    /// The input line (scanner and autopilot).
    pub input: String,
    /// The card shown in the scanner.
    pub card: Option<CardView>,
    /// What `u` undoes.
    pub last: Option<LastAction>,
    /// The notice on screen.
    pub alert: Option<Alert>,
    /// Autopilot's recent scans, newest first.
    pub log: VecDeque<LogRow>,
    /// Stamps autopilot added this session.
    pub autopilot_count: u32,
    /// Fraud alerts nobody acknowledged (shown to admins on every screen).
    pub alerts_new: usize,
    /// The last code autopilot saw, and when.
    pub last_scan: Option<(String, DateTime<Utc>)>,
    /// The kiosk's screen.
    pub kiosk: KioskView,
    /// When the kiosk last changed (it returns to idle after a while).
    pub kiosk_since: DateTime<Utc>,
    /// The admin screens.
    pub admin: crate::admin::Admin,
    /// Templates (id, name) for the New card form.
    pub templates: Vec<(u64, String)>,
    /// The New card form, when open.
    pub new_card: Option<NewCardForm>,
    /// Show the shown card's QR code (its web card link) big.
    pub show_qr: bool,
    /// Effects an outcome asked for (returned by `update`).
    pending: Vec<Effect>,
    /// The admin screens need loading.
    pending_load: bool,
    /// The session belongs to one staff member (an SSH login by key): no
    /// PIN switching, locking ends the session.
    pub fixed: bool,
    /// The key help is open.
    pub help: bool,
    /// The session should end.
    pub quit: bool,
    /// The time now (from the clock seam).
    pub now: DateTime<Utc>,
    /// The shop's time zone, for times on screen.
    pub tz: chrono_tz::Tz,
    /// The shop's public URL, for links shown as QR codes.
    pub public_url: String,
    /// The shop has no enabled staff member: no PIN can open it, and the
    /// lock screen says how to create the first admin.
    pub no_staff: bool,
    /// Wrong PINs typed in this session (each makes the next wait longer).
    pub pin_failures: u32,
    /// No PIN is sent before this (this session's own growing delay).
    pub pin_wait_until: Option<DateTime<Utc>>,
}

/// What the lock screen of a shop without staff says.
pub const NO_STAFF_HELP: &str = "This shop has no staff yet. Create the first admin \
    in a terminal: stampcard staff add --name Owner --role admin --pin <PIN>";

impl App {
    /// A locked console of a shop.
    pub fn for_shop(shop: &stampcard_core::Shop) -> Self {
        let mut app = Self::new(&shop.settings().name, shop.clock().now());
        app.tz = shop.settings().timezone;
        app.public_url = shop.settings().public_url.clone();
        app.templates = shop.templates().offered_templates();
        app.no_staff = shop
            .access()
            .staff()
            .is_ok_and(|staff| !staff.iter().any(|s| s.enabled));
        app
    }

    /// A locked console (times shown in UTC).
    pub fn new(shop_name: &str, now: DateTime<Utc>) -> Self {
        Self {
            shop_name: shop_name.to_string(),
            mode: Mode::Locked,
            signed_in: None,
            pin: String::new(),
            input: String::new(),
            card: None,
            last: None,
            alert: None,
            log: VecDeque::new(),
            autopilot_count: 0,
            alerts_new: 0,
            last_scan: None,
            kiosk: KioskView::Idle,
            kiosk_since: now,
            admin: crate::admin::Admin::default(),
            templates: Vec::new(),
            new_card: None,
            show_qr: false,
            pending: Vec::new(),
            pending_load: false,
            fixed: false,
            help: false,
            quit: false,
            now,
            tz: chrono_tz::Tz::UTC,
            public_url: String::new(),
            no_staff: false,
            pin_failures: 0,
            pin_wait_until: None,
        }
    }

    /// The card on screen now, if any: the scanner's, the kiosk's, or the
    /// admin screens' customer view.
    fn shown_card(&self) -> Option<u64> {
        match self.mode {
            Mode::Scanner | Mode::Autopilot => self.card.as_ref().map(|c| c.card_id),
            Mode::Kiosk => match &self.kiosk {
                KioskView::Card(v) => Some(v.card_id),
                _ => None,
            },
            Mode::Admin => self.admin.popup.as_ref().map(|c| c.card_id),
            _ => None,
        }
    }

    /// Puts a re-read card wherever that card is still shown.
    fn refreshed(&mut self, view: Box<CardView>) {
        if self
            .card
            .as_ref()
            .is_some_and(|c| c.card_id == view.card_id)
        {
            self.card = Some((*view).clone());
        }
        if let KioskView::Card(shown) = &mut self.kiosk
            && shown.card_id == view.card_id
        {
            *shown = view.clone();
        }
        if let Some(shown) = &mut self.admin.popup
            && shown.card_id == view.card_id
        {
            *shown = view;
        }
    }

    /// Whether an admin is signed in.
    pub fn is_admin(&self) -> bool {
        self.signed_in
            .as_ref()
            .is_some_and(|s| s.staff.role == Role::Admin)
    }

    /// Applies a message; returns the effects to run.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Tick(now) => {
                self.now = now;
                if self.mode == Mode::Kiosk
                    && matches!(self.kiosk, KioskView::Card(_) | KioskView::Confirm { .. })
                    && (now - self.kiosk_since).num_seconds() >= KIOSK_SHOW_SECS
                {
                    self.kiosk_show(KioskView::Idle);
                }
                Vec::new()
            }
            Msg::Done(outcome) => {
                self.done(outcome);
                if std::mem::take(&mut self.pending_load) {
                    self.pending.extend(self.admin.load());
                }
                std::mem::take(&mut self.pending)
            }
            Msg::Key(key) => self.key(key),
            Msg::Mouse(m, screen) => self.mouse(m, screen),
            Msg::JournalChanged => {
                let mut effects =
                    if self.mode == Mode::Admin && self.admin.tab == crate::admin::Tab::Journal {
                        self.admin.journal.changed()
                    } else {
                        Vec::new()
                    };
                // Whatever card is on screen follows the journal too.
                effects.extend(self.shown_card().map(Effect::RefreshCard));
                // An alert is raised in the journal: the admins' badge follows.
                if self.mode == Mode::Admin && self.admin.tab == crate::admin::Tab::Alerts {
                    effects.push(Effect::LoadAlerts);
                } else if self.is_admin() {
                    effects.push(Effect::LoadAlertCount);
                }
                effects
            }
            Msg::Revoked => {
                self.lock();
                self.alert = Some(Alert::Refused(
                    "Signed out: this staff account was disabled.".into(),
                ));
                Vec::new()
            }
        }
    }

    fn key(&mut self, key: Key) -> Vec<Effect> {
        if key == Key::Ctrl('c') || (key == Key::Ctrl('q')) {
            self.quit = true;
            return Vec::new();
        }
        if self.help {
            self.help = false;
            return Vec::new();
        }
        match self.mode {
            Mode::Locked => self.key_locked(key),
            Mode::Scanner => self.key_scanner(key),
            Mode::Autopilot => self.key_autopilot(key),
            Mode::Kiosk => self.key_kiosk(key),
            Mode::AdminPin => self.key_admin_pin(key),
            Mode::Admin => {
                if matches!(key, Key::F(_) | Key::Ctrl('l'))
                    || (key == Key::Char('?')
                        && self.admin.prompt.is_none()
                        && !self.admin.cards.searching)
                {
                    self.key_common(key);
                    return self.after_switch();
                }
                let tab = self.admin.tab;
                let effects = self.admin.key(key);
                // A message belongs to the tab it was said on (a POS key's
                // secret must not follow the admin around).
                if self.admin.tab != tab {
                    self.alert = None;
                }
                if let Some(why) = self.admin.error.take() {
                    self.alert = Some(Alert::Refused(why));
                }
                effects
            }
        }
    }

    /// Mouse: in the admin screens, a click picks a tab or a row and the
    /// wheel moves the selection; elsewhere the wheel scrolls like arrows.
    fn mouse(&mut self, m: crate::keys::Mouse, screen: ratatui::layout::Rect) -> Vec<Effect> {
        use crate::keys::Mouse;
        if self.help || self.admin.prompt.is_some() {
            return Vec::new();
        }
        match m {
            Mouse::ScrollUp(..) => self.key(Key::Up),
            Mouse::ScrollDown(..) => self.key(Key::Down),
            Mouse::Click(x, y) if self.mode == Mode::Admin => {
                let body = crate::view::body_area(self, screen);
                match crate::view::admin_hit(&self.admin, body, x, y) {
                    Some(crate::view::Hit::Tab(i)) => {
                        self.alert = None;
                        self.admin.key(Key::Char((b'1' + i as u8) as char))
                    }
                    Some(crate::view::Hit::Row(i)) => {
                        let delta = i as i64 - self.admin.selected() as i64;
                        let step = if delta >= 0 { Key::Down } else { Key::Up };
                        let mut effects = Vec::new();
                        for _ in 0..delta.unsigned_abs() {
                            effects = self.admin.key(step);
                        }
                        effects
                    }
                    None => Vec::new(),
                }
            }
            Mouse::Click(..) => Vec::new(),
        }
    }

    /// Entering the admin screens loads their data.
    fn after_switch(&mut self) -> Vec<Effect> {
        if self.mode == Mode::Admin {
            self.admin.load()
        } else {
            Vec::new()
        }
    }

    fn key_admin_pin(&mut self, key: Key) -> Vec<Effect> {
        match key {
            Key::Char(c) if c.is_ascii_digit() && self.pin.len() < 12 => self.pin.push(c),
            Key::Backspace => {
                self.pin.pop();
            }
            Key::Esc | Key::F(2) => self.switch(Mode::Scanner),
            Key::Enter if !self.pin.is_empty() => return self.submit_pin(Effect::AdminSignIn),
            _ => {}
        }
        Vec::new()
    }

    /// Sends the typed PIN, unless this session must still wait after its
    /// last wrong one.
    fn submit_pin(&mut self, effect: fn(String) -> Effect) -> Vec<Effect> {
        let pin = std::mem::take(&mut self.pin);
        if let Some(until) = self.pin_wait_until.filter(|t| *t > self.now) {
            let secs = (until - self.now).num_seconds().max(1);
            self.alert = Some(Alert::Refused(format!(
                "Wait {secs} s before the next PIN."
            )));
            return Vec::new();
        }
        vec![effect(pin)]
    }

    /// A wrong PIN, or PINs locked on this machine: this session waits
    /// longer after each (1, 2, 4 … 60 s), and says why.
    fn pin_refused(&mut self, locked_until: Option<DateTime<Utc>>, left: u32) {
        self.pin_failures += 1;
        let wait = 1i64 << self.pin_failures.saturating_sub(1).min(6);
        self.pin_wait_until = Some(self.now + chrono::Duration::seconds(wait.min(60)));
        let text = match locked_until {
            Some(until) => format!(
                "Too many wrong PINs on this machine: PINs are locked until {}.",
                until.with_timezone(&self.tz).format("%H:%M:%S")
            ),
            None if self.no_staff && self.mode == Mode::Locked => NO_STAFF_HELP.to_string(),
            None if self.mode == Mode::AdminPin => "That is not an admin PIN.".to_string(),
            None if left <= 2 => {
                format!("Wrong PIN. {left} more wrong PIN(s) lock every PIN prompt for a while.")
            }
            None => "Wrong PIN.".to_string(),
        };
        self.alert = Some(Alert::Refused(text));
        if self.mode == Mode::Kiosk {
            self.kiosk_show(KioskView::Leaving);
        }
    }

    fn kiosk_show(&mut self, view: KioskView) {
        self.kiosk = view;
        self.kiosk_since = self.now;
        self.input.clear();
        self.pin.clear();
    }

    /// The kiosk: customers scan; only a staff PIN leaves it.
    fn key_kiosk(&mut self, key: Key) -> Vec<Effect> {
        match (&self.kiosk, key) {
            (KioskView::Leaving, Key::Char(c)) if c.is_ascii_digit() && self.pin.len() < 12 => {
                self.pin.push(c)
            }
            (KioskView::Leaving, Key::Backspace) => {
                self.pin.pop();
            }
            (KioskView::Leaving, Key::Esc) => self.kiosk_show(KioskView::Idle),
            (KioskView::Leaving, Key::Enter) => return self.submit_pin(Effect::LeaveKiosk),
            (KioskView::Leaving, _) => {}
            (KioskView::Confirm { code, .. }, Key::Enter) => {
                let code = code.clone();
                self.kiosk_show(KioskView::Idle);
                return vec![Effect::Redeem(code)];
            }
            (KioskView::Confirm { .. }, Key::Esc) => self.kiosk_show(KioskView::Idle),
            (_, Key::F(2) | Key::F(12)) => self.kiosk_show(KioskView::Leaving),
            (_, Key::Esc) => self.kiosk_show(KioskView::Idle),
            (_, Key::Enter) => {
                let code = std::mem::take(&mut self.input).trim().to_string();
                if !code.is_empty() {
                    return vec![Effect::Show(code)];
                }
            }
            (_, Key::Backspace) => {
                self.input.pop();
            }
            (_, Key::Char(c)) if c.is_ascii_digit() && self.input.len() < 64 => self.input.push(c),
            _ => {}
        }
        Vec::new()
    }

    fn key_locked(&mut self, key: Key) -> Vec<Effect> {
        match key {
            Key::Char(c) if c.is_ascii_digit() && self.pin.len() < 12 => self.pin.push(c),
            Key::Backspace => {
                self.pin.pop();
            }
            Key::Esc => self.pin.clear(),
            Key::Enter if !self.pin.is_empty() => return self.submit_pin(Effect::SignIn),
            _ => {}
        }
        Vec::new()
    }

    /// Keys shared by the signed-in screens; `true` when handled.
    fn key_common(&mut self, key: Key) -> bool {
        match key {
            Key::F(1) => self.help = true,
            Key::Char('?') if self.input.is_empty() => self.help = true,
            Key::F(2) => self.switch(Mode::Scanner),
            Key::F(3) => self.switch(Mode::Autopilot),
            Key::F(4) => {
                self.switch(Mode::Kiosk);
                self.kiosk_show(KioskView::Idle);
            }
            Key::F(5) if self.fixed && !self.is_admin() => {
                self.alert = Some(Alert::Refused(
                    "The admin screens need an admin's SSH key.".into(),
                ));
            }
            Key::F(5) => {
                let mode = if self.is_admin() {
                    Mode::Admin
                } else {
                    Mode::AdminPin
                };
                self.switch(mode);
                self.pin.clear();
            }
            Key::F(12) | Key::Ctrl('l') => self.lock(),
            _ => return false,
        }
        true
    }

    fn switch(&mut self, mode: Mode) {
        self.mode = mode;
        self.input.clear();
        self.alert = None;
    }

    /// A console signed in for good as this staff member (SSH).
    pub fn signed_in_as(&mut self, staff: Staff) {
        let actor = stampcard_core::shop::Access::staff_actor(&staff);
        self.signed_in = Some(SignedIn { staff, actor });
        self.mode = Mode::Scanner;
        self.fixed = true;
    }

    /// Signs the staff member out; the console shows the lock screen (a
    /// session bound to one staff member ends instead).
    pub fn lock(&mut self) {
        if self.fixed {
            self.quit = true;
            return;
        }
        let (name, tz, templates, url) = (
            self.shop_name.clone(),
            self.tz,
            std::mem::take(&mut self.templates),
            std::mem::take(&mut self.public_url),
        );
        *self = App::new(&name, self.now);
        self.tz = tz;
        self.templates = templates;
        self.public_url = url;
    }

    fn key_new_card(&mut self, key: Key) -> Vec<Effect> {
        let count = self.templates.len().max(1);
        let Some(form) = &mut self.new_card else {
            return Vec::new();
        };
        match key {
            Key::Esc => self.new_card = None,
            Key::Tab | Key::Down => form.template = (form.template + 1) % count,
            Key::BackTab | Key::Up => form.template = (form.template + count - 1) % count,
            Key::Backspace => {
                form.name.pop();
            }
            Key::Char(c) if !c.is_control() && form.name.chars().count() < 64 => form.name.push(c),
            Key::Enter => {
                let Some((template, _)) = self.templates.get(form.template) else {
                    self.alert = Some(Alert::Refused("There is no card template yet.".into()));
                    self.new_card = None;
                    return Vec::new();
                };
                let effect = Effect::NewCard {
                    template: *template,
                    name: form.name.trim().to_string(),
                };
                self.new_card = None;
                return vec![effect];
            }
            _ => {}
        }
        Vec::new()
    }

    fn key_scanner(&mut self, key: Key) -> Vec<Effect> {
        if self.new_card.is_some() {
            return self.key_new_card(key);
        }
        if self.show_qr {
            self.show_qr = false;
            return Vec::new();
        }
        if self.key_common(key) {
            return self.after_switch();
        }
        if key == Key::F(6) {
            self.new_card = Some(NewCardForm::default());
            return Vec::new();
        }
        if key == Key::F(7) && self.card.is_some() {
            self.show_qr = true;
            return Vec::new();
        }
        let card = self.card.as_ref().map(|c| c.card_id);
        match key {
            Key::Enter => {
                let input = std::mem::take(&mut self.input);
                let input = input.trim();
                if input.is_empty() {
                    return Vec::new();
                }
                return vec![self.scanned(input)];
            }
            Key::Backspace => {
                self.input.pop();
            }
            Key::Esc => {
                self.input.clear();
                self.card = None;
                self.alert = None;
            }
            Key::Char(c) if self.input.is_empty() && card.is_some() && "+hsu".contains(c) => {
                let card = card.unwrap_or_default();
                return match c {
                    '+' => vec![Effect::StampCard { card, count: 1 }],
                    'h' => vec![Effect::HandOver(card)],
                    's' => vec![Effect::Spin(card)],
                    _ => self.undo(),
                };
            }
            Key::Char('u') if self.input.is_empty() => return self.undo(),
            Key::Char(c) if !c.is_control() && self.input.chars().count() < 64 => {
                self.input.push(c)
            }
            _ => {}
        }
        Vec::new()
    }

    fn undo(&mut self) -> Vec<Effect> {
        match self.last.take() {
            Some(last) => vec![Effect::Undo(last.event)],
            None => {
                self.alert = Some(Alert::Info("Nothing to undo.".into()));
                Vec::new()
            }
        }
    }

    /// What a scanned or typed input asks for: the kind digit tells a card
    /// from a voucher; anything else is a search by name or phone.
    fn scanned(&mut self, input: &str) -> Effect {
        let digits = input.chars().all(|c| c.is_ascii_digit());
        match input.as_bytes().first() {
            Some(b'2') if digits && input.len() > 12 => Effect::Redeem(input.to_string()),
            Some(_) if digits && input.len() > 12 => Effect::StampCode {
                code: input.to_string(),
                count: 1,
            },
            _ => Effect::Search(input.to_string()),
        }
    }

    fn key_autopilot(&mut self, key: Key) -> Vec<Effect> {
        if self.key_common(key) {
            return self.after_switch();
        }
        match key {
            Key::Enter => {
                let code = std::mem::take(&mut self.input).trim().to_string();
                if code.is_empty() {
                    return Vec::new();
                }
                if let Some((last, at)) = &self.last_scan
                    && *last == code
                    && (self.now - *at).num_seconds() < DOUBLE_SCAN_SECS
                {
                    self.push_log("double scan — not counted".into(), false);
                    return Vec::new();
                }
                self.last_scan = Some((code.clone(), self.now));
                return vec![Effect::StampCode { code, count: 1 }];
            }
            Key::Backspace => {
                self.input.pop();
            }
            Key::Esc => self.input.clear(),
            Key::Char(c) if c.is_ascii_digit() && self.input.len() < 64 => self.input.push(c),
            _ => {}
        }
        Vec::new()
    }

    fn push_log(&mut self, text: String, ok: bool) {
        self.log.push_front(LogRow {
            at: self.now,
            text,
            ok,
        });
        self.log.truncate(LOG_ROWS);
    }

    fn done(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::SignedIn(Some(staff)) => {
                let actor = stampcard_core::shop::Access::staff_actor(&staff);
                self.alert = Some(Alert::Info(format!("Signed in as {}.", staff.name)));
                self.signed_in = Some(SignedIn { staff, actor });
                self.mode = Mode::Scanner;
                self.no_staff = false;
                self.pin_failures = 0;
                if self.is_admin() {
                    self.pending.push(Effect::LoadAlertCount);
                }
            }
            Outcome::SignedIn(None) if self.no_staff => {
                self.alert = Some(Alert::Refused(NO_STAFF_HELP.into()));
            }
            Outcome::SignedIn(None) => {
                self.alert = Some(Alert::Refused("Wrong PIN.".into()));
            }
            Outcome::Card { view, label, .. } if self.mode == Mode::Kiosk => {
                self.alert = Some(Alert::Info(label));
                self.kiosk_show(KioskView::Card(view));
            }
            Outcome::Card {
                view,
                event,
                label,
                goals,
                code,
            } => {
                if self.mode == Mode::Autopilot {
                    self.autopilot_count += 1;
                    let mut text =
                        format!("{} — {} {}", view.customer_name, view.title, view.progress);
                    if goals > 0 {
                        text += "  ★ GOAL";
                    }
                    let _ = code;
                    self.push_log(text, true);
                }
                self.alert = Some(if goals > 0 {
                    Alert::Goal(format!(
                        "GOAL REACHED — {}: {}",
                        view.customer_name, view.reward
                    ))
                } else {
                    Alert::Info(label.clone())
                });
                self.last = event.map(|event| LastAction { event, label });
                self.card = Some(*view);
            }
            Outcome::AdminSignedIn(Some(staff)) => {
                self.pin_failures = 0;
                let actor = stampcard_core::shop::Access::staff_actor(&staff);
                self.signed_in = Some(SignedIn { staff, actor });
                self.switch(Mode::Admin);
                // Loading happens through the effects the caller runs next.
                self.pending_load = true;
            }
            Outcome::AdminSignedIn(None) => {
                self.alert = Some(Alert::Refused("That is not an admin PIN.".into()));
            }
            Outcome::JournalNewer(rows) => {
                let more = self.admin.journal.prepend(rows);
                self.pending.extend(more);
            }
            Outcome::Journal(rows) => {
                let more = self.admin.journal.loaded(rows);
                self.pending.extend(more);
            }
            Outcome::Cards(rows) => {
                self.pending.extend(self.admin.cards.loaded(rows));
            }
            Outcome::Details(view) => self.admin.cards.details = Some(view),
            Outcome::Staff(rows) => self.admin.staff.loaded(rows),
            Outcome::Alerts(rows) => {
                self.alerts_new = rows.iter().filter(|a| a.acknowledged.is_none()).count();
                self.admin.alerts.loaded(rows);
            }
            Outcome::AlertCount(n) => self.alerts_new = n,
            Outcome::StaffAdded(name, rows) => {
                self.alert = Some(Alert::Info(format!("{name} can sign in now.")));
                self.admin.staff.loaded(rows);
            }
            Outcome::Templates(rows) => {
                self.templates = rows
                    .iter()
                    .filter(|t| !t.archived)
                    .map(|t| (t.id, t.name.clone()))
                    .collect();
                self.templates.sort();
                self.admin.templates.loaded(rows)
            }
            Outcome::TemplateSaved(t) => {
                self.alert = Some(Alert::Info(format!(
                    "Template {} \"{}\" saved as version {}{}.",
                    t.id,
                    t.name,
                    t.version,
                    if t.version > 1 {
                        "; issued cards follow it and keep their stamps"
                    } else {
                        ""
                    }
                )));
                self.admin.templates.form = None;
                self.pending.push(self.admin.templates.load());
            }
            Outcome::Analytics(a) => self.admin.analytics = Some(a),
            Outcome::Settings(last, channels) => {
                self.admin.last_backup = Some(last);
                self.admin.channels_status = Some(channels);
            }
            Outcome::Backup(last, done) => {
                self.admin.last_backup = Some(last);
                if let Some(done) = done {
                    self.alert = Some(Alert::Info(done));
                }
            }
            Outcome::Webhooks(hooks) => self.admin.webhooks = Some(hooks),
            Outcome::History(card, rows) => self.admin.history = Some((card, rows)),
            Outcome::Campaigns(rows, templates, limit) => {
                let tab = &mut self.admin.campaigns;
                tab.selected = tab.selected.min(rows.len().saturating_sub(1));
                tab.rows = rows;
                tab.templates = templates;
                tab.push_limit = limit;
                tab.tz = self.tz;
            }
            Outcome::CampaignOpened(status, deliveries) => {
                let tab = &mut self.admin.campaigns;
                tab.open_selected = tab.open_selected.min(deliveries.len().saturating_sub(1));
                tab.open = Some((*status, deliveries));
            }
            Outcome::Audience(key, audience) => {
                // Counts run side by side: only the one for the form as it
                // is now is kept (an older one may arrive last).
                if let Some(form) = &mut self.admin.campaigns.form
                    && form.audience_key().as_ref() == Some(&key)
                {
                    form.audience = Some((key, audience));
                }
            }
            Outcome::CampaignSaved(label) => {
                self.admin.campaigns.form = None;
                self.alert = Some(Alert::Info(label));
                self.pending.push(Effect::LoadCampaigns);
            }
            Outcome::Codes(templates, keys) => {
                self.admin.codes.shop = (self.shop_name.clone(), self.public_url.clone());
                self.admin.codes.templates = templates;
                self.admin.codes.pos_keys = keys;
            }
            Outcome::Batch(codes) => {
                self.alert = Some(Alert::Info(format!(
                    "{} receipt codes made; Enter shows one's QR code.",
                    codes.len()
                )));
                self.admin.codes.batch = codes;
                self.admin.codes.selected = 0;
            }
            Outcome::PosKeyCreated(key) => {
                self.alert = Some(Alert::Info(format!(
                    "POS key {} \"{}\": secret {} — copy it into the POS now; it is not shown again.",
                    key.id, key.name, key.secret_hex
                )));
                self.pending.push(self.admin.codes.load());
            }
            Outcome::CardChanged { label } => {
                self.alert = Some(Alert::Info(label));
                self.pending.push(self.admin.cards.load());
            }
            Outcome::Done(label) => self.alert = Some(Alert::Info(label)),
            Outcome::Issued(view) => {
                self.alert = Some(Alert::Info(format!(
                    "New card {} for {}: let them scan the QR code.",
                    view.card_id, view.customer_name
                )));
                self.last = None;
                self.card = Some(*view);
                self.show_qr = true;
            }
            Outcome::Reversed(event) => {
                self.alert = Some(Alert::Info(format!("Event {event} reversed.")));
                self.pending.push(self.admin.journal.load());
            }
            Outcome::Found(view) if self.mode == Mode::Admin => {
                self.admin.popup = Some(view);
            }
            Outcome::Found(view) if self.mode == Mode::Kiosk => {
                self.kiosk_show(KioskView::Card(view));
            }
            Outcome::Voucher { code, description } => {
                self.kiosk_show(KioskView::Confirm { code, description });
            }
            // A session bound to an SSH key stays its key's staff member:
            // only that member's own PIN leaves its kiosk.
            Outcome::KioskLeft(Some(staff))
                if self.fixed
                    && self
                        .signed_in
                        .as_ref()
                        .is_some_and(|s| s.staff.id != staff.id) =>
            {
                self.kiosk_show(KioskView::Leaving);
                self.alert = Some(Alert::Refused(
                    "Only the PIN of this session's own staff member leaves its kiosk.".into(),
                ));
            }
            Outcome::KioskLeft(Some(staff)) => {
                self.pin_failures = 0;
                if !self.fixed {
                    let actor = stampcard_core::shop::Access::staff_actor(&staff);
                    self.signed_in = Some(SignedIn { staff, actor });
                }
                self.kiosk_show(KioskView::Idle);
                self.switch(Mode::Scanner);
            }
            Outcome::PinRefused { locked_until, left } => self.pin_refused(locked_until, left),
            Outcome::KioskLeft(None) => {
                self.kiosk_show(KioskView::Leaving);
                self.alert = Some(Alert::Refused("Wrong PIN.".into()));
            }
            Outcome::Found(view) => {
                self.alert = None;
                self.card = Some(*view);
            }
            Outcome::Refreshed(view) => self.refreshed(view),
            Outcome::Undone(view) => {
                self.alert = Some(Alert::Info("Undone.".into()));
                self.card = Some(*view);
            }
            Outcome::NotStamped { view, reason } => {
                if self.mode == Mode::Autopilot {
                    self.push_log(
                        format!("{} — {}: {reason}", view.customer_name, view.title),
                        false,
                    );
                } else {
                    // The shown card changes to the scanned one, so `+`
                    // cannot stamp the card shown before by mistake.
                    self.last = None;
                    self.card = Some(*view);
                }
                self.alert = Some(Alert::Refused(reason));
            }
            Outcome::Refused { what, reason } => {
                if self.mode == Mode::Autopilot {
                    self.push_log(format!("{what}: {reason}"), false);
                }
                self.alert = Some(Alert::Refused(reason));
            }
        }
    }
}
