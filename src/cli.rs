//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Stampcard: a self-hosted digital stamp-card loyalty system.
#[derive(Debug, Parser)]
#[command(name = "stampcard", version, about, propagate_version = true)]
pub struct Cli {
    /// The data folder (store, config, backups) [default: ./stampcard-data,
    /// or ./stampcard-demo with --demo].
    #[arg(long, global = true, env = "STAMPCARD_DATA")]
    pub data: Option<PathBuf>,
    /// Print JSON for scripts.
    #[arg(long, global = true)]
    pub json: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The data folder used when `--data` and `STAMPCARD_DATA` are not given.
pub const DEFAULT_DATA: &str = "./stampcard-data";
/// The demo shop's folder: every `--demo` without `--data` uses it.
pub const DEMO_DATA: &str = "./stampcard-demo";

impl Cli {
    /// The data folder this command line works on.
    pub fn data_dir(&self) -> PathBuf {
        let demo = match &self.command {
            Command::Init(a) => a.demo,
            Command::Console { demo } => *demo,
            _ => false,
        };
        self.data
            .clone()
            .unwrap_or_else(|| PathBuf::from(if demo { DEMO_DATA } else { DEFAULT_DATA }))
    }
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a data folder with its config and a new shop secret.
    Init(InitArgs),
    /// Run the counter console (creates a demo shop with --demo).
    Console {
        /// Use the demo shop (./stampcard-demo unless --data says otherwise;
        /// created on first use).
        #[arg(long)]
        demo: bool,
    },
    /// Run the shop: core, and every front-end as it is configured.
    Serve,
    /// The nodes serving a shop whose `serve` processes share one
    /// PostgreSQL database: address, version, start, last heartbeat, and
    /// the duties each holds.
    Nodes,
    /// Fraud alerts: the list, acknowledging one, and a dry run of the
    /// rules over the journal (to tune `[alerts]`).
    #[command(subcommand)]
    Alerts(AlertsCmd),
    /// Card templates.
    #[command(subcommand)]
    Template(TemplateCmd),
    /// Issued cards.
    #[command(subcommand)]
    Card(CardCmd),
    /// Customers.
    #[command(subcommand)]
    Customer(CustomerCmd),
    /// Add stamps to the card with this code.
    Stamp {
        /// The card code (scanned or typed).
        code: String,
        /// Stamps to add.
        #[arg(long, short = 'n', default_value_t = 1)]
        count: u32,
        /// Retries with the same key return the first result and add nothing.
        #[arg(long)]
        idempotency_key: Option<String>,
    },
    /// Redeem the voucher with this code.
    Redeem {
        /// The voucher code.
        code: String,
    },
    /// Hand over a card's waiting simple reward.
    HandOver {
        /// Card id.
        card: u64,
    },
    /// Play a card's lottery spin.
    Spin {
        /// Card id.
        card: u64,
    },
    /// Adjust a card's stamps by hand, with a reason.
    Adjust {
        /// Card id.
        card: u64,
        /// Change, e.g. 2 or -1.
        #[arg(allow_hyphen_values = true)]
        delta: i64,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Reverse a stamp, receipt claim, redemption or handed-over reward.
    Reverse {
        /// The journal event id.
        event: u64,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Receipt and delivery codes.
    #[command(subcommand)]
    Codes(CodesCmd),
    /// Keys a POS uses to derive receipt codes offline.
    #[command(subcommand)]
    PosKey(PosKeyCmd),
    /// Staff accounts.
    #[command(subcommand)]
    Staff(StaffCmd),
    /// Keys for the REST API (POS, CRM, scripts).
    #[command(subcommand)]
    ApiKey(ApiKeyCmd),
    /// Webhooks: journal events POSTed, signed, to your URLs.
    #[command(subcommand)]
    Webhook(WebhookCmd),
    /// Campaigns: a message to a template's holders (or a segment of them).
    #[command(subcommand)]
    Campaign(CampaignCmd),
    /// Automations: birthday gifts, expiry reminders, win-backs, nudges (run daily by `serve`).
    #[command(subcommand)]
    Automation(AutomationCmd),
    /// Write a card's Apple Wallet pass (.pkpass), signed.
    Pass {
        /// Card id.
        card: u64,
        /// The file to write.
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Apple Wallet: check the certificates, try a push.
    #[command(subcommand)]
    Wallet(WalletCmd),
    /// Read the journal, newest first.
    Journal(JournalArgs),
    /// Export customers, cards, vouchers or the journal.
    Export(ExportArgs),
    /// Write the join-QR poster of a template (.svg with text, or .png).
    Poster {
        /// Template id.
        #[arg(long)]
        template: u64,
        /// Where customers join from (e.g. table, window), recorded on join.
        #[arg(long)]
        source: Option<String>,
        /// The file to write (.svg or .png).
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Stamps, new cards and rewards per day, and who stamped.
    Analytics {
        /// Days back from today (shop-local), today included.
        #[arg(long, default_value_t = 14, value_parser = clap::value_parser!(u32).range(1..=366))]
        days: u32,
    },
    /// Outgoing messages and their delivery states.
    #[command(subcommand)]
    Outbox(OutboxCmd),
    /// Write a consistent backup of the shop to a file.
    Backup {
        /// The backup file to write.
        file: PathBuf,
    },
    /// Move the shop between its data folder and PostgreSQL.
    #[command(subcommand)]
    Store(StoreCmd),
    /// Restore a shop from a backup file into the data folder.
    Restore {
        /// The backup file.
        file: PathBuf,
        /// Replace an existing data folder (it is moved aside, not deleted).
        #[arg(long)]
        force: bool,
    },
}

/// `store` subcommands.
#[derive(Debug, Subcommand)]
pub enum StoreCmd {
    /// Copy the whole shop (history, outbox, cursors, pass registrations,
    /// keys) from where it lives now into an empty PostgreSQL database or
    /// a new data folder. Stop `serve` first. Printed card codes, pass and
    /// link tokens keep working there.
    Copy {
        /// postgres://user:password@host:port/database, or a folder.
        #[arg(long, value_name = "URL|FOLDER")]
        to: String,
    },
    /// The shop-wide settings ([shop] with its secret, [rules], [campaigns],
    /// [telegram], [wallet], [smtp], …) that the nodes of a shared
    /// PostgreSQL database take from it: shown with secrets hidden, or with
    /// --update replaced by this folder's stampcard.toml (restart the nodes
    /// after).
    Settings {
        /// Put this folder's shop-wide sections into the database.
        #[arg(long)]
        update: bool,
    },
}

/// `wallet` subcommands.
#[derive(Debug, Subcommand)]
pub enum WalletCmd {
    /// Check both wallets: Apple's certificate chain, identifiers and
    /// expiry; Google's key, token and issuer; public_url; cards held per
    /// wallet, the last update, and failing passes with the reason.
    Check,
    /// Send one real push to every device that keeps a card's pass.
    PushTest {
        /// Card id.
        card: u64,
    },
}

/// `init` options.
#[derive(Debug, Default, Args)]
pub struct InitArgs {
    /// Fill the shop with demo templates, customers, staff and history.
    #[arg(long)]
    pub demo: bool,
    /// Shop name.
    #[arg(long)]
    pub name: Option<String>,
    /// IANA time zone (default: this machine's).
    #[arg(long)]
    pub timezone: Option<String>,
    /// The first admin's name (with --pin); without both, `init` asks on a
    /// terminal, or prints the command that creates one.
    #[arg(long, requires = "pin", conflicts_with = "demo")]
    pub admin: Option<String>,
    /// The first admin's PIN (4 to 8 digits).
    #[arg(long, requires = "admin")]
    pub pin: Option<String>,
    /// Days of made-up history the demo shop gets, back from today
    /// [default: 42; 0 for the demo cards alone].
    #[arg(long, requires = "demo", value_parser = clap::value_parser!(u32).range(0..=366))]
    pub history_days: Option<u32>,
    /// Keep the shop in an empty PostgreSQL database instead of the data
    /// folder: postgres://user:password@host:port/database (written to
    /// `[store] url` in stampcard.toml, mode 0600).
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// With --store: make this folder another node of the shop already in
    /// that PostgreSQL database (see "Running on several machines"): its
    /// stampcard.toml names the database with `shared = true` and takes the
    /// shop-wide settings from it.
    #[arg(long, requires = "store", conflicts_with_all = ["demo", "admin", "name", "timezone"])]
    pub node: bool,
}

/// `template` subcommands.
#[derive(Debug, Subcommand)]
pub enum TemplateCmd {
    /// Create a template from a TOML or JSON file, or from flags.
    Create(TemplateArgs),
    /// List templates.
    List,
    /// Show a template (and its versions).
    Show {
        /// Template id.
        id: u64,
    },
    /// Edit a template: writes a new version; issued cards follow it and keep their stamps.
    Edit {
        /// Template id.
        id: u64,
        /// The changes.
        #[command(flatten)]
        args: TemplateArgs,
    },
}

/// Reward kinds on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RewardKind {
    /// Staff hand the gift over.
    Simple,
    /// A voucher with its own code and expiry.
    Voucher,
    /// A voucher whose code a POS scans.
    RedeemCode,
}

/// Template fields.
#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// A template definition (TOML or JSON); flags override its fields.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Card name.
    #[arg(long)]
    pub name: Option<String>,
    /// Business name.
    #[arg(long)]
    pub business: Option<String>,
    /// Stamps for one reward.
    #[arg(long)]
    pub stamps: Option<u32>,
    /// Reward kind.
    #[arg(long, value_enum)]
    pub reward_kind: Option<RewardKind>,
    /// Reward description.
    #[arg(long)]
    pub reward: Option<String>,
    /// Voucher validity in days.
    #[arg(long)]
    pub valid_days: Option<u32>,
    /// Seconds between stamps on one card.
    #[arg(long)]
    pub cooldown: Option<u32>,
    /// Stamps per card per day.
    #[arg(long)]
    pub daily_cap: Option<u32>,
    /// Stamp only from the card's live rotating code (web card, Google
    /// Wallet); the printed code still finds the card. `--rotating-codes=false` turns it off.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub rotating_codes: Option<bool>,
    /// What a stamp outside `[shop] opening_hours` does: alert (the owner is
    /// told) or refuse.
    #[arg(long, value_enum)]
    pub outside_hours: Option<OutsideHoursArg>,
}

/// `--outside-hours`
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OutsideHoursArg {
    /// Stamp, and alert the owner.
    Alert,
    /// Refuse the stamp.
    Refuse,
}

/// `card` subcommands.
#[derive(Debug, Subcommand)]
pub enum CardCmd {
    /// Issue a card to a new or existing customer.
    Issue {
        /// Template id.
        #[arg(long)]
        template: u64,
        /// An existing customer.
        #[arg(long, conflicts_with_all = ["name", "phone", "email", "birthday"])]
        customer: Option<u64>,
        /// New customer's name.
        #[arg(long)]
        name: Option<String>,
        /// New customer's phone.
        #[arg(long)]
        phone: Option<String>,
        /// New customer's email.
        #[arg(long)]
        email: Option<String>,
        /// New customer's birthday (YYYY-MM-DD).
        #[arg(long)]
        birthday: Option<chrono::NaiveDate>,
        /// Where the customer joined (e.g. table, bag).
        #[arg(long)]
        source: Option<String>,
    },
    /// List cards, by id.
    List {
        /// Start after this card id.
        #[arg(long)]
        after: Option<u64>,
        /// Most rows.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Write a card's QR code (its web card link) to print: .svg (with the
    /// card number and code) or .png.
    Qr {
        /// Card id.
        id: u64,
        /// The file to write.
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Show a card by id or code, as the customer sees it.
    Show {
        /// Card id or card code.
        card: String,
    },
    /// Give a card a new code; the old code stops working.
    Reissue {
        /// Card id.
        id: u64,
    },
    /// Delete a card (its vouchers are voided).
    Delete {
        /// Card id.
        id: u64,
        /// Confirm.
        #[arg(long)]
        yes: bool,
    },
    /// Send the card's holder a message (shop news: only on channels they
    /// consented to), the same path as the console's "send message".
    Message {
        /// Card id.
        id: u64,
        /// The text (up to 4,096 characters).
        #[arg(long)]
        text: String,
    },
    /// Issue a voucher (coupon) to a card.
    Coupon {
        /// Card id.
        id: u64,
        /// What it gives.
        #[arg(long)]
        description: String,
        /// Days valid (0 = no expiry).
        #[arg(long, default_value_t = 30)]
        valid_days: u32,
    },
}

/// `customer` subcommands.
#[derive(Debug, Subcommand)]
pub enum CustomerCmd {
    /// List or search customers (name, id, email, phone).
    List {
        /// Search text.
        #[arg(long)]
        search: Option<String>,
        /// Most rows.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Show a customer and their cards.
    Show {
        /// Customer id.
        id: u64,
    },
    /// Merge customer FROM into INTO (cards move, empty fields are filled).
    Merge {
        /// The customer that stays.
        into: u64,
        /// The customer merged away.
        from: u64,
    },
    /// Change a customer's profile: name, phone, email, birthday, language
    /// (all given fields or, when one is refused, none; "-" removes an
    /// optional one).
    Edit {
        /// Customer id.
        id: u64,
        /// The name.
        #[arg(long)]
        name: Option<String>,
        /// The phone number.
        #[arg(long)]
        phone: Option<String>,
        /// The email address.
        #[arg(long)]
        email: Option<String>,
        /// The birthday (YYYY-MM-DD).
        #[arg(long)]
        birthday: Option<String>,
        /// The language code for the bot, web card and pass (e.g. en, ru).
        #[arg(long)]
        language: Option<String>,
    },
    /// Record a customer's marketing consent on a channel, e.g. an opt-out
    /// given at the counter (journaled as consent_changed).
    Consent {
        /// Customer id.
        id: u64,
        /// The channel.
        #[arg(value_parser = ["telegram", "email"])]
        channel: String,
        /// Given (on) or withdrawn (off).
        #[arg(value_parser = ["on", "off"])]
        state: String,
        /// Where it was given or withdrawn (kept with it and in the journal).
        #[arg(long, default_value = "counter")]
        source: String,
    },
    /// Forget a customer: personal data erased, cards deleted.
    Forget {
        /// Customer id.
        id: u64,
        /// Confirm.
        #[arg(long)]
        yes: bool,
    },
    /// Export everything stored about a customer as JSON.
    Export {
        /// Customer id.
        id: u64,
        /// Write to a file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

/// `codes` subcommands.
#[derive(Debug, Subcommand)]
pub enum CodesCmd {
    /// Generate a batch of one-time receipt codes.
    Generate {
        /// Template the stamps go to.
        #[arg(long)]
        template: u64,
        /// How many codes.
        #[arg(long)]
        count: u32,
        /// Stamps per code.
        #[arg(long, default_value_t = 1)]
        stamps: u32,
        /// Write the codes to a file, one per line.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Also write a printable sheet of their QR codes (.svg with the codes
        /// printed beneath, or .png).
        #[arg(long)]
        sheet: Option<PathBuf>,
    },
    /// Claim a receipt code onto a card.
    Claim {
        /// The receipt code.
        code: String,
        /// Card id.
        #[arg(long)]
        card: u64,
    },
    /// Derive a POS receipt code, as a POS does offline (for integrators).
    Derive {
        /// POS key id.
        #[arg(long)]
        key_id: u16,
        /// POS key (hex), as shown by `pos-key create`.
        #[arg(long, env = "STAMPCARD_POS_KEY", hide_env_values = true)]
        key: String,
        /// Receipt date (YYYY-MM-DD).
        #[arg(long)]
        date: chrono::NaiveDate,
        /// Till number (0–999).
        #[arg(long)]
        till: u16,
        /// Receipt number (0–999999).
        #[arg(long)]
        receipt: u32,
        /// Template id (1–9999).
        #[arg(long)]
        template: u32,
        /// Stamps (1–99).
        #[arg(long, default_value_t = 1)]
        stamps: u8,
        /// The long form: a 16-digit MAC (42 digits in all).
        #[arg(long)]
        long: bool,
    },
}

/// `pos-key` subcommands.
#[derive(Debug, Subcommand)]
pub enum PosKeyCmd {
    /// Create a key; it is shown once.
    Create {
        /// Name, e.g. "till 1".
        #[arg(long)]
        name: String,
    },
    /// List keys (without secrets).
    List,
    /// Revoke a key: its codes are refused from now on.
    Revoke {
        /// Key id.
        id: u16,
    },
    /// Require the long form (16-digit MAC) of a key's codes from a day on;
    /// short codes printed before stay valid.
    LongOnly {
        /// Key id.
        id: u16,
        /// The first day short codes are refused (YYYY-MM-DD; default today).
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
    },
}

/// `api-key` subcommands.
#[derive(Debug, Subcommand)]
pub enum ApiKeyCmd {
    /// Create a key; its token is shown once.
    Create {
        /// Name, e.g. "pos1".
        #[arg(long)]
        name: String,
        /// What it may do: counter work, or everything.
        #[arg(long, value_enum)]
        role: RoleArg,
    },
    /// List keys (never their tokens).
    List,
    /// Revoke a key: refused from the next request on.
    Revoke {
        /// Key id or prefix (`stc_3`).
        key: String,
    },
}

/// Who a campaign reaches and how, shared by `create` and `audience`.
#[derive(Debug, Args)]
pub struct CampaignTarget {
    /// The card template whose holders receive it.
    #[arg(long)]
    pub template: u64,
    /// all, almost-ready, voucher-expiring:DAYS, not-seen:DAYS,
    /// birthday-month or joined:DAYS.
    #[arg(long, default_value = "all")]
    pub segment: String,
    /// Channels, comma-separated: telegram, email, wallet, log.
    #[arg(long, value_delimiter = ',', default_value = "telegram")]
    pub channels: Vec<String>,
}

/// `automation` subcommands.
#[derive(Debug, Subcommand)]
pub enum AutomationCmd {
    /// Create an automation (on); `serve` runs it once a day.
    Create {
        /// The card template whose holders it reaches.
        #[arg(long)]
        template: u64,
        /// birthday:DAYS (before), voucher-expiring:DAYS (before),
        /// win-back:DAYS (away), almost-ready.
        #[arg(long)]
        when: String,
        /// The message for Telegram, email and the web card.
        #[arg(long)]
        text: String,
        /// The short wallet PUSH text.
        #[arg(long, default_value = "")]
        push: String,
        /// Channels, comma-separated: telegram, email, wallet, log.
        #[arg(long, value_delimiter = ',', default_value = "telegram")]
        channels: Vec<String>,
        /// Name (default: what triggers it).
        #[arg(long)]
        name: Option<String>,
        /// Give each recipient a voucher, e.g. "Birthday cake".
        #[arg(long)]
        voucher: Option<String>,
        /// Days the voucher is valid (0 = no expiry).
        #[arg(long, default_value_t = 30, requires = "voucher")]
        voucher_days: u32,
    },
    /// List automations with how many cards are due now.
    List,
    /// Turn an automation on.
    On {
        /// Automation id.
        id: u64,
    },
    /// Turn an automation off.
    Off {
        /// Automation id.
        id: u64,
    },
    /// Run the automations now (each card still only once per occasion).
    Run,
}

/// `campaign` subcommands.
#[derive(Debug, Subcommand)]
pub enum CampaignCmd {
    /// Create a campaign (a draft; `send` sends it) and show its audience.
    Create {
        /// Who and how.
        #[command(flatten)]
        target: CampaignTarget,
        /// The message for Telegram, email and the web card.
        #[arg(long)]
        text: String,
        /// The short wallet PUSH text (lock screen; 20 characters by default).
        #[arg(long, default_value = "")]
        push: String,
        /// Name (default: <templateId>_<dd.mm.yyyyHH:MM>).
        #[arg(long)]
        name: Option<String>,
        /// Send at this shop-local time (YYYY-MM-DD HH:MM) instead of by hand.
        #[arg(long)]
        at: Option<String>,
        /// Give each recipient their own voucher, e.g. "Free cookie".
        #[arg(long)]
        voucher: Option<String>,
        /// Days the voucher is valid (0 = no expiry).
        #[arg(long, default_value_t = 30, requires = "voucher")]
        voucher_days: u32,
    },
    /// How many a segment reaches, per channel (after consent).
    Audience {
        /// Who and how.
        #[command(flatten)]
        target: CampaignTarget,
    },
    /// Send a draft now (queues every message; resumable).
    Send {
        /// Campaign id.
        id: u64,
    },
    /// List campaigns, newest first, with delivery counts.
    List,
    /// A campaign's delivery per channel and state.
    Show {
        /// Campaign id.
        id: u64,
        /// Also list every recipient's message and its state.
        #[arg(long)]
        recipients: bool,
    },
    /// Rename a campaign.
    Rename {
        /// Campaign id.
        id: u64,
        /// The new name.
        name: String,
    },
    /// Delete a draft or a scheduled campaign (one that has started sending stays).
    Delete {
        /// Campaign id.
        id: u64,
    },
}

/// `webhook` subcommands.
#[derive(Debug, Subcommand)]
pub enum WebhookCmd {
    /// Subscribe a URL to event types; its signing secret is shown.
    Create {
        /// Where to POST (http:// or https://).
        #[arg(long)]
        url: String,
        /// Event types, comma-separated (e.g. stamp_added,voucher_redeemed);
        /// all types when left out.
        #[arg(long, value_delimiter = ',')]
        events: Vec<String>,
    },
    /// List webhooks (with their secrets in --json, for the receiver's setup).
    List,
    /// Delete a webhook: nothing more is queued for it.
    Delete {
        /// Webhook id.
        id: u64,
    },
    /// A webhook's delivery log, newest first.
    Deliveries {
        /// Webhook id.
        id: u64,
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

impl From<RoleArg> for stampcard_core::model::Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Staff => stampcard_core::model::Role::Staff,
            RoleArg::Admin => stampcard_core::model::Role::Admin,
        }
    }
}

/// Staff roles on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// Counter work.
    Staff,
    /// Everything.
    Admin,
}

/// `staff` subcommands.
#[derive(Debug, Subcommand)]
pub enum StaffCmd {
    /// Add a staff account.
    Add {
        /// Name.
        #[arg(long)]
        name: String,
        /// Role.
        #[arg(long, value_enum, default_value = "staff")]
        role: RoleArg,
        /// PIN (4–8 digits, unique).
        #[arg(long, env = "STAMPCARD_STAFF_PIN", hide_env_values = true)]
        pin: String,
    },
    /// List staff accounts.
    List,
    /// Let a staff member sign in to the console over SSH with a public key.
    AddKey {
        /// Name or id.
        who: String,
        /// The public key line ("ssh-ed25519 AAAA… comment") or a .pub file.
        key: String,
    },
    /// Disable an account (by name or id); their console sessions end at once.
    Disable {
        /// Name or id.
        who: String,
    },
    /// Enable an account again.
    Enable {
        /// Name or id.
        who: String,
    },
}

/// `journal` options.
#[derive(Debug, Args)]
pub struct JournalArgs {
    /// Only this card.
    #[arg(long)]
    pub card: Option<u64>,
    /// Only this event type (e.g. stamp_added).
    #[arg(long = "type")]
    pub kind: Option<String>,
    /// Most rows.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Events after this id, oldest first (a feed cursor).
    #[arg(long)]
    pub after: Option<u64>,
    /// Only events of cards of this template.
    #[arg(long)]
    pub template: Option<u64>,
    /// Only events caused by this staff member, API key or channel (part of the name).
    #[arg(long)]
    pub who: Option<String>,
    /// Only events of this shop-local day (YYYY-MM-DD).
    #[arg(long)]
    pub day: Option<chrono::NaiveDate>,
}

/// Export formats.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values.
    Csv,
    /// JSON lines (one object per line).
    Json,
}

/// `outbox` subcommands.
#[derive(Debug, Subcommand)]
pub enum OutboxCmd {
    /// List messages, newest first.
    List {
        /// Only messages in this state.
        #[arg(long, value_enum)]
        state: Option<DeliveryStateArg>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

/// `alerts` subcommands.
#[derive(Debug, Subcommand)]
pub enum AlertsCmd {
    /// The alerts raised, newest first (the newest 200 are kept).
    List,
    /// Mark an alert as seen: it leaves the console's badge count.
    Ack {
        /// The alert's number.
        id: u64,
    },
    /// What the rules of `[alerts]` find in the journal's history, as
    /// alerts they would raise; nothing is changed or sent.
    Replay {
        /// Only alerts of the last this many days (the rules read every
        /// event before, too, for what they remember).
        #[arg(long, default_value_t = 28)]
        days: u32,
    },
}

/// Delivery states on the command line.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum DeliveryStateArg {
    /// Waiting to be sent.
    Queued,
    /// Being sent.
    Sending,
    /// Accepted by the channel.
    Sent,
    /// Delivery confirmed.
    Confirmed,
    /// Given up.
    Failed,
}

/// Export tables.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Table {
    /// The journal.
    Journal,
    /// Issued cards.
    Cards,
    /// Customers.
    Customers,
    /// Vouchers.
    Vouchers,
}

/// `export` options.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Output format.
    #[arg(long, value_enum)]
    pub format: Format,
    /// What to export.
    #[arg(long, value_enum, default_value = "journal")]
    pub table: Table,
    /// Write to a file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

impl Command {
    /// Whether the command runs inside a running server (through the admin
    /// socket) when one runs; the others manage the server or the folder.
    pub fn forwardable(&self) -> bool {
        !matches!(
            self,
            Self::Init(_)
                | Self::Console { .. }
                | Self::Serve
                | Self::Restore { .. }
                | Self::Store(_)
        )
    }

    /// Resolves relative file paths against `cwd` (the client's working
    /// directory when the command runs inside the server).
    pub fn absolutize(&mut self, cwd: &std::path::Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() && !crate::output::is_stdout(p) {
                *p = cwd.join(&*p);
            }
        };
        match self {
            Self::Backup { file } | Self::Restore { file, .. } => fix(file),
            Self::Export(a) => a.output.as_mut().map_or((), fix),
            Self::Customer(CustomerCmd::Export { output, .. }) => output.as_mut().map_or((), fix),
            Self::Codes(CodesCmd::Generate { output, sheet, .. }) => {
                output.iter_mut().chain(sheet.iter_mut()).for_each(fix);
            }
            Self::Poster { output, .. }
            | Self::Pass { output, .. }
            | Self::Card(CardCmd::Qr { output, .. }) => fix(output),
            // A .pub file named relative to the caller; a key line stays as is.
            Self::Staff(StaffCmd::AddKey { key, .. })
                if !["ssh-", "ecdsa-", "sk-"].iter().any(|p| key.starts_with(p)) =>
            {
                let mut p = PathBuf::from(&*key);
                fix(&mut p);
                *key = p.display().to_string();
            }
            Self::Template(TemplateCmd::Create(a) | TemplateCmd::Edit { args: a, .. }) => {
                a.file.as_mut().map_or((), fix)
            }
            _ => {}
        }
    }
}
