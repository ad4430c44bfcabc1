//! `stampcard.toml` plus `STAMPCARD_<SECTION>__<KEY>` environment overrides,
//! checked completely at start: unknown keys and bad values are reported with
//! the file, the key and the reason.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use serde::{Deserialize, Serialize};

/// Name of the config file in the data folder.
pub const FILE_NAME: &str = "stampcard.toml";

/// A secret string: never printed by `Debug`.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Secret {
    /// Whether it is unset.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "(unset)"
        } else {
            "(secret)"
        })
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The shop.
    pub shop: ShopSection,
    /// Rules of the counter.
    #[serde(default)]
    pub rules: RulesSection,
    /// Card actors.
    #[serde(default)]
    pub actors: ActorsSection,
    /// Store tuning.
    #[serde(default)]
    pub store: StoreSection,
    /// HTTP listener.
    #[serde(default)]
    pub http: HttpSection,
    /// SSH console.
    #[serde(default)]
    pub ssh: SshSection,
    /// Telegram bot.
    #[serde(default)]
    pub telegram: TelegramSection,
    /// Backups.
    #[serde(default)]
    pub backup: BackupSection,
    /// Outgoing messages.
    #[serde(default)]
    pub outbox: OutboxSection,
    /// Reminders to customers.
    #[serde(default)]
    pub reminders: RemindersSection,
    /// Campaign limits.
    #[serde(default)]
    pub campaigns: CampaignsSection,
    /// Apple Wallet passes.
    #[serde(default)]
    pub wallet: WalletSection,
    /// Google Wallet links.
    #[serde(default)]
    pub google_wallet: GoogleWalletSection,
    /// Email over SMTP.
    #[serde(default)]
    pub smtp: SmtpSection,
    /// `[alerts]`
    #[serde(default, skip_serializing_if = "AlertsSection::is_default")]
    pub alerts: AlertsSection,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on this machine (and tests).
    None,
}

impl SmtpSecurity {
    /// Its name in the config.
    pub fn name(self) -> &'static str {
        match self {
            SmtpSecurity::Starttls => "starttls",
            SmtpSecurity::Tls => "tls",
            SmtpSecurity::None => "none",
        }
    }
}

/// `[smtp]`: email for campaigns (and, if asked, card news). Without a
/// host, email is off.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSection {
    /// The SMTP server, e.g. `smtp.example.com`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub host: String,
    /// Its port (default by `security`: 587, 465, or 25).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// starttls (default), tls or none.
    pub security: SmtpSecurity,
    /// Login name, if the server wants one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username: String,
    /// Its password.
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub password: Secret,
    /// The sender, e.g. `Corner Coffee <news@example.com>`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub from: String,
    /// Also email card news (stamps, vouchers) to customers with an address.
    pub card_news: bool,
    /// Most emails per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_second: Option<f64>,
}

impl SmtpSection {
    /// Whether email is on.
    pub fn enabled(&self) -> bool {
        !self.host.trim().is_empty()
    }

    /// The port, defaulting by security.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::None => 25,
        })
    }

    fn check(&self) -> Result<()> {
        if !self.enabled() {
            let set =
                !self.from.is_empty() || !self.username.is_empty() || !self.password.0.is_empty();
            if set {
                return Err(anyhow!(
                    "[smtp] has no host: set `smtp.host` (or remove the section to send no email)"
                ));
            }
            return Ok(());
        }
        if self.from.trim().is_empty() {
            return Err(anyhow!(
                "key `smtp.from`: set the sender, e.g. \"Corner Coffee <news@example.com>\""
            ));
        }
        self.from
            .trim()
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| anyhow!("key `smtp.from`: '{}' is not an address ({e})", self.from))?;
        if self.username.is_empty() != self.password.0.is_empty() {
            return Err(anyhow!(
                "[smtp] needs both username and password (or neither)"
            ));
        }
        if let Some(r) = self.per_second
            && !(r.is_finite() && r > 0.0)
        {
            return Err(anyhow!("key `smtp.per_second`: must be more than 0"));
        }
        Ok(())
    }
}

/// `[google_wallet]`: "Save to Google Wallet" links. Both keys, or none.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GoogleWalletSection {
    /// The Google Wallet issuer id (digits).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub issuer_id: String,
    /// The service account's JSON key file, relative to the data folder.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub service_account_key: String,
    /// Google Wallet's REST API (walletobjects v1); Google's when empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub api_url: String,
    /// The OAuth 2.0 token endpoint; Google's when empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub token_url: String,
    /// The keys Google signs save/delete callbacks with; Google's when empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub callback_keys_url: String,
}

/// `[wallet]`: Apple Wallet passes. All of the identifiers and files, or
/// none (passes are then not offered). Files are relative to the data folder.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WalletSection {
    /// Pass Type ID, e.g. `pass.com.example.stamps` (also the APNs topic).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub pass_type_id: String,
    /// Apple team identifier.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub team_id: String,
    /// Organization shown in Wallet (default: the shop name).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub organization_name: String,
    /// The Pass Type ID certificate (PEM).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub certificate: String,
    /// Its private key (PEM).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub private_key: String,
    /// Apple's WWDR intermediate certificate, G4 (PEM).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub wwdr_certificate: String,
    /// Write pushes to this file instead of sending them to Apple (to try a
    /// shop without APNs, and for tests).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub push_log: String,
    /// Places near which Wallet shows the pass on the lock screen (at most 10).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<stampcard_wallet::pass::location::PassLocation>,
}

impl WalletSection {
    /// The keys that must all be set, with their values.
    fn required(&self) -> [(&'static str, &str); 5] {
        [
            ("pass_type_id", &self.pass_type_id),
            ("team_id", &self.team_id),
            ("certificate", &self.certificate),
            ("private_key", &self.private_key),
            ("wwdr_certificate", &self.wwdr_certificate),
        ]
    }

    /// Whether passes are configured (all required keys set).
    pub fn enabled(&self) -> bool {
        self.required().iter().all(|(_, v)| !v.trim().is_empty())
    }
}

/// `[shop]`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopSection {
    /// Shop name.
    pub name: String,
    /// IANA time zone.
    pub timezone: String,
    /// Shop secret (hex, ≥ 32 bytes).
    pub secret: Secret,
    /// Opening hours per weekday (`mon` … `sun`) and dated exceptions
    /// (`"2026-12-25"`), shop-local: "08:00-18:00", "closed"
    /// (`stampcard_core::opening_hours`). Unset: always open.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub opening_hours: std::collections::BTreeMap<String, String>,
}

/// `[rules]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesSection {
    /// Minutes in which staff may reverse recent events.
    pub staff_undo_minutes: u32,
    /// Days a POS receipt code stays claimable.
    pub receipt_max_age_days: u32,
    /// Fixed lottery seed (demos and tests only).
    pub lottery_seed: Option<u64>,
}

impl Default for RulesSection {
    fn default() -> Self {
        Self {
            staff_undo_minutes: 5,
            receipt_max_age_days: 30,
            lottery_seed: None,
        }
    }
}

/// `[actors]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ActorsSection {
    /// Seconds before an idle card actor is passivated.
    pub idle_secs: u64,
    /// Most resident card actors.
    pub max_resident: usize,
}

impl Default for ActorsSection {
    fn default() -> Self {
        Self {
            idle_secs: 300,
            max_resident: 10_000,
        }
    }
}

/// `[store]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreSection {
    /// Where the shop lives: empty for the sled store in the data folder,
    /// or a PostgreSQL URL (`postgres://user:password@host:port/database`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// Microseconds a commit waits for others to share its flush (0 = none).
    pub group_commit_wait_us: u64,
    /// Page cache in MiB.
    pub cache_mb: u64,
    /// Several `serve` processes (nodes) share the PostgreSQL database of
    /// `url`: set on every node.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
}

impl Default for StoreSection {
    fn default() -> Self {
        Self {
            url: String::new(),
            group_commit_wait_us: 0,
            cache_mb: 64,
            shared: false,
        }
    }
}

impl StoreSection {
    /// The PostgreSQL URL, when the shop lives in PostgreSQL.
    pub fn postgres(&self) -> Option<&str> {
        Some(self.url.trim()).filter(|u| !u.is_empty())
    }
}

/// `[http]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSection {
    /// Listen address.
    pub listen: String,
    /// Public base URL for links handed to customers.
    pub public_url: String,
    /// Most new cards from the web join and claim pages per client address
    /// and hour (0 = no limit).
    pub joins_per_hour: u32,
    /// A listener of its own for `/metrics`, answered without a key; a
    /// loopback address only ("" = none: `/metrics` on the main listener
    /// needs an admin API key).
    pub metrics_listen: String,
}

impl Default for HttpSection {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            public_url: "http://127.0.0.1:8080".into(),
            joins_per_hour: 20,
            metrics_listen: String::new(),
        }
    }
}

/// `[ssh]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SshSection {
    /// Listen address.
    pub listen: String,
}

impl Default for SshSection {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:2222".into(),
        }
    }
}

/// `[telegram]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelegramSection {
    /// Bot token; without it the bot is off.
    pub token: Secret,
    /// Bot API base URL (tests point it at a fake server).
    pub api_url: Option<String>,
    /// Keep replies within Telegram's limits (turn off only against a test server).
    pub throttle: bool,
    /// Webhook mode: the public https URL Telegram posts updates to (every
    /// node answers its path); empty = long polling.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub webhook_url: String,
}

impl Default for TelegramSection {
    fn default() -> Self {
        Self {
            token: Secret::default(),
            api_url: None,
            throttle: true,
            webhook_url: String::new(),
        }
    }
}

impl TelegramSection {
    /// The webhook URL, when the bot takes updates by webhook.
    pub fn webhook(&self) -> Option<url::Url> {
        url::Url::parse(self.webhook_url.trim()).ok()
    }
}

/// `[backup]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupSection {
    /// Hours between scheduled backups (0 = off).
    pub every_hours: u32,
    /// Backups kept.
    pub keep: u32,
    /// Where scheduled backups go; relative paths are inside the data folder
    /// (better: a path on another disk).
    pub dir: String,
}

impl Default for BackupSection {
    fn default() -> Self {
        Self {
            every_hours: 24,
            keep: 14,
            dir: "backups".into(),
        }
    }
}

/// `[reminders]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemindersSection {
    /// Days before a voucher expires that its holder is reminded (0 = off).
    pub voucher_expiry_days: u32,
}

impl Default for RemindersSection {
    fn default() -> Self {
        Self {
            voucher_expiry_days: 3,
        }
    }
}

/// `[campaigns]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CampaignsSection {
    /// Longest wallet PUSH text (characters).
    pub push_limit: usize,
    /// Most marketing messages per customer within `frequency_days` (0 = no cap).
    pub frequency_cap: u32,
    /// The frequency cap's window in days.
    pub frequency_days: u32,
    /// Shop-local quiet hours, e.g. "21:00-09:00" ("" = none): marketing
    /// messages wait until they end.
    pub quiet_hours: String,
    /// Recipients planned per durable batch; each batch is one commit and
    /// the point a crashed campaign resumes from.
    pub plan_batch: usize,
}

impl Default for CampaignsSection {
    fn default() -> Self {
        Self {
            push_limit: 20,
            frequency_cap: 2,
            frequency_days: 7,
            quiet_hours: String::new(),
            plan_batch: 10_000,
        }
    }
}

impl CampaignsSection {
    /// The quiet hours as times, or why they cannot be read.
    pub fn quiet(&self) -> Result<Option<(chrono::NaiveTime, chrono::NaiveTime)>> {
        let q = self.quiet_hours.trim();
        if q.is_empty() {
            return Ok(None);
        }
        let bad = || anyhow!("key `campaigns.quiet_hours`: '{q}' is not a range like 21:00-09:00");
        let (a, b) = q.split_once('-').ok_or_else(bad)?;
        let t = |s: &str| chrono::NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| bad());
        Ok(Some((t(a)?, t(b)?)))
    }
}

/// `[alerts]`: the core's alert settings as the file writes them
/// (`stampcard_core::settings::AlertSettings`: every rule's threshold, 0
/// turns it off, and where alerts go), checked here.
pub type AlertsSection = stampcard_core::settings::AlertSettings;

/// What is wrong with `[alerts]`, if anything.
fn check_alerts(a: &AlertsSection) -> Result<()> {
    if !(a.staff_factor.is_finite() && a.staff_factor >= 0.0) {
        return Err(anyhow!(
            "key `alerts.staff_factor`: {} is not a factor (0 turns the rule off, 3 is the default)",
            a.staff_factor
        ));
    }
    for (key, minutes) in [
        ("card_minutes", a.card_minutes),
        ("bad_codes_minutes", a.bad_codes_minutes),
    ] {
        if minutes == 0 || minutes > 24 * 60 {
            return Err(anyhow!(
                "key `alerts.{key}`: a window of 1 to 1440 minutes, not {minutes}"
            ));
        }
    }
    if a.staff_days == 0 || a.staff_days > 365 {
        return Err(anyhow!(
            "key `alerts.staff_days`: 1 to 365 days, not {}",
            a.staff_days
        ));
    }
    for e in &a.email {
        if !e.contains('@') || e.trim() != e || e.len() > 254 {
            return Err(anyhow!("key `alerts.email`: '{e}' is not an email address"));
        }
    }
    if !["en", "ru"].contains(&a.language.as_str()) {
        return Err(anyhow!(
            "key `alerts.language`: '{}' is not a language alerts are written in (en, ru)",
            a.language
        ));
    }
    Ok(())
}

/// `[outbox]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxSection {
    /// File the log channel writes customer messages to ("" = off); relative
    /// paths are inside the data folder.
    pub log_file: String,
    /// Most log-channel messages per second.
    pub log_per_second: f64,
    /// Seconds before the first retry of a failed send (doubles each time).
    pub retry_secs: f64,
    /// Attempts before a message fails for good.
    pub max_attempts: u32,
    /// Most unfinished messages a channel holds in memory (a tenth of them
    /// per recipient); the rest of a backlog waits on disk.
    pub memory_window: usize,
}

impl Default for OutboxSection {
    fn default() -> Self {
        Self {
            log_file: String::new(),
            log_per_second: 1000.0,
            retry_secs: 2.0,
            max_attempts: 8,
            memory_window: stampcard_core::outbox::MEMORY_WINDOW,
        }
    }
}

/// Parses an environment value as a TOML value, or a string when it is none.
fn env_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

/// Loads the config of a data folder with environment overrides applied.
pub fn load(data: &Path) -> Result<Config> {
    read(data)?.finish()
}

/// Reads the config of a data folder with environment overrides applied,
/// not yet checked: a node of a shared database fills the shop-wide
/// sections its file leaves out from the database first.
pub fn read(data: &Path) -> Result<Raw> {
    let path = data.join(FILE_NAME);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {}: run `stampcard init` first (or pass --data)",
            path.display()
        )
    })?;
    Raw::new(&text, &path, std::env::vars())
}

/// Parses config text, applying `STAMPCARD_<SECTION>__<KEY>` overrides from `env`.
#[cfg(test)]
pub fn parse(
    text: &str,
    path: &Path,
    env: impl Iterator<Item = (String, String)>,
) -> Result<Config> {
    Raw::new(text, path, env)?.finish()
}

/// A config file with its environment overrides, parsed as TOML but not yet
/// checked.
pub struct Raw {
    table: toml::Table,
    path: PathBuf,
    /// `section.key` → the variable that set it, so an error names its origin.
    overrides: std::collections::BTreeMap<String, String>,
}

impl Raw {
    fn new(text: &str, path: &Path, env: impl Iterator<Item = (String, String)>) -> Result<Self> {
        let mut table: toml::Table = toml::from_str(text)
            .map_err(|e| anyhow!("{}: {}", path.display(), e.to_string().trim()))?;
        let mut overrides = std::collections::BTreeMap::new();
        for (name, value) in env {
            let Some(rest) = name.strip_prefix("STAMPCARD_") else {
                continue;
            };
            let Some((section, key)) = rest.split_once("__") else {
                continue;
            };
            let (section, key) = (section.to_lowercase(), key.to_lowercase());
            overrides.insert(format!("{section}.{key}"), name.clone());
            let entry = table
                .entry(section.clone())
                .or_insert_with(|| toml::Value::Table(Default::default()));
            match entry {
                toml::Value::Table(t) => {
                    t.insert(key, env_value(&value));
                }
                _ => return Err(anyhow!("environment {name}: [{section}] is not a section")),
            }
        }
        Ok(Self {
            table,
            path: path.to_path_buf(),
            overrides,
        })
    }

    /// The `[store]` section alone, checked.
    pub fn store(&self) -> Result<StoreSection> {
        let section = self
            .table
            .get("store")
            .cloned()
            .unwrap_or_else(|| toml::Value::Table(Default::default()));
        serde_path_to_error::deserialize(section)
            .map_err(|e| self.located(format!("key `store.{}`: {}", e.path(), e.inner())))
    }

    /// Whether the file (or the environment) sets this section.
    pub fn has(&self, section: &str) -> bool {
        self.table.contains_key(section)
    }

    /// Sets a section the file leaves out (a JSON object; nulls are
    /// "not set").
    pub fn fill(&mut self, section: &str, value: &serde_json::Value) {
        if let Some(value) = toml_of(value) {
            self.table.insert(section.to_string(), value);
        }
    }

    /// The whole config, checked.
    pub fn finish(self) -> Result<Config> {
        let de = toml::Value::Table(self.table.clone());
        let config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            let key = e.path().to_string();
            self.located(format!("key `{key}`: {}", e.inner()))
        })?;
        validate(&config).map_err(|e| self.located(e.to_string()))?;
        Ok(config)
    }

    fn located(&self, message: String) -> anyhow::Error {
        anyhow!(
            "{}: {message}",
            origin(&message, &self.path, &self.overrides)
        )
    }
}

/// A JSON value as TOML (which has no null: a null is left out).
pub fn toml_of(value: &serde_json::Value) -> Option<toml::Value> {
    use serde_json::Value as J;
    Some(match value {
        J::Null => return None,
        J::Bool(b) => toml::Value::Boolean(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64()?),
        },
        J::String(s) => toml::Value::String(s.clone()),
        J::Array(items) => toml::Value::Array(items.iter().filter_map(toml_of).collect()),
        J::Object(map) => toml::Value::Table(
            map.iter()
                .filter_map(|(k, v)| Some((k.clone(), toml_of(v)?)))
                .collect(),
        ),
    })
}

/// Where the key an error names was set: the environment variable that
/// overrode it, else the config file.
fn origin(
    message: &str,
    path: &Path,
    overrides: &std::collections::BTreeMap<String, String>,
) -> String {
    let key = message
        .split_once("key `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(key, _)| key.split(['[', '.']).take(2).collect::<Vec<_>>().join("."));
    match key.and_then(|k| overrides.get(&k)) {
        Some(variable) => format!("environment variable {variable}"),
        None => path.display().to_string(),
    }
}

fn validate(c: &Config) -> Result<()> {
    c.shop.timezone.parse::<chrono_tz::Tz>().map_err(|_| {
        anyhow!(
            "key `shop.timezone`: '{}' is not an IANA time zone (e.g. Europe/Berlin)",
            c.shop.timezone
        )
    })?;
    let secret =
        hex::decode(&c.shop.secret.0).map_err(|_| anyhow!("key `shop.secret`: must be hex"))?;
    if secret.len() < 32 {
        return Err(anyhow!(
            "key `shop.secret`: must be at least 32 bytes (64 hex digits)"
        ));
    }
    if let Some(url) = c.store.postgres()
        && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
    {
        return Err(anyhow!(
            "key `store.url`: '{}' is not a postgres:// URL (leave it out to keep the shop in the data folder)",
            stampcard_core::store::redact_url(url)
        ));
    }
    if c.store.shared && c.store.postgres().is_none() {
        return Err(anyhow!(
            "key `store.shared`: several nodes share a PostgreSQL database; set `store.url` too (a data folder has one process)"
        ));
    }
    if c.actors.max_resident == 0 {
        return Err(anyhow!("key `actors.max_resident`: must be at least 1"));
    }
    c.http.listen.parse::<std::net::SocketAddr>().map_err(|_| {
        anyhow!(
            "key `http.listen`: '{}' is not an address with a port (e.g. 127.0.0.1:8080)",
            c.http.listen
        )
    })?;
    if !c.http.metrics_listen.is_empty() {
        let loopback = c
            .http
            .metrics_listen
            .parse::<std::net::SocketAddr>()
            .is_ok_and(|a| a.ip().is_loopback());
        if !loopback {
            return Err(anyhow!(
                "key `http.metrics_listen`: '{}' must be a loopback address with a port \
                 (e.g. 127.0.0.1:9090); from elsewhere, ask the main listener with an admin API key",
                c.http.metrics_listen
            ));
        }
    }
    c.ssh.listen.parse::<std::net::SocketAddr>().map_err(|_| {
        anyhow!(
            "key `ssh.listen`: '{}' is not an address with a port (e.g. 127.0.0.1:2222)",
            c.ssh.listen
        )
    })?;
    if !(c.http.public_url.starts_with("http://") || c.http.public_url.starts_with("https://")) {
        return Err(anyhow!(
            "key `http.public_url`: '{}' must start with http:// or https://",
            c.http.public_url
        ));
    }
    if !(c.outbox.retry_secs.is_finite() && c.outbox.retry_secs >= 0.0) {
        return Err(anyhow!(
            "key `outbox.retry_secs`: must be a number of seconds ≥ 0"
        ));
    }
    if !(c.outbox.log_per_second.is_finite() && c.outbox.log_per_second > 0.0) {
        return Err(anyhow!("key `outbox.log_per_second`: must be more than 0"));
    }
    c.campaigns.quiet()?;
    if !(1..=200).contains(&c.campaigns.push_limit) {
        return Err(anyhow!("key `campaigns.push_limit`: must be 1 to 200"));
    }
    if !(10..=1_000_000).contains(&c.outbox.memory_window) {
        return Err(anyhow!(
            "key `outbox.memory_window`: must be 10 to 1000000 messages"
        ));
    }
    if c.outbox.max_attempts == 0 {
        return Err(anyhow!("key `outbox.max_attempts`: must be at least 1"));
    }
    if let Some(u) = &c.telegram.api_url
        && let Err(e) = stampcard_bot::client("check", Some(u))
    {
        return Err(anyhow!("key `telegram.api_url`: {e}"));
    }
    if !c.telegram.webhook_url.trim().is_empty() {
        let ok = c
            .telegram
            .webhook()
            .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !ok {
            return Err(anyhow!(
                "key `telegram.webhook_url`: '{}' is not an https:// URL (Telegram posts updates there; leave it out to poll)",
                c.telegram.webhook_url
            ));
        }
    }
    let wallet = c.wallet.required();
    let missing: Vec<_> = wallet
        .iter()
        .filter(|(_, v)| v.trim().is_empty())
        .map(|(k, _)| format!("wallet.{k}"))
        .collect();
    if !missing.is_empty() && missing.len() < wallet.len() {
        return Err(anyhow!(
            "[wallet] is half set: also set {} (or remove the section to offer no passes)",
            missing.join(", ")
        ));
    }
    if let Err(e) = stampcard_wallet::pass::location::check(&c.wallet.locations) {
        return Err(anyhow!("key `wallet.locations`: {e}"));
    }
    let g = &c.google_wallet;
    if g.issuer_id.trim().is_empty() != g.service_account_key.trim().is_empty() {
        return Err(anyhow!(
            "[google_wallet] needs both issuer_id and service_account_key (or neither)"
        ));
    }
    if c.shop.name.trim().is_empty() {
        return Err(anyhow!("key `shop.name`: must not be empty"));
    }
    stampcard_core::opening_hours::OpeningHours::parse(&c.shop.opening_hours)
        .map_err(|e| anyhow!("key `shop.opening_hours`: {e}"))?;
    check_alerts(&c.alerts)?;
    if c.alerts.telegram_chat.is_some() && c.telegram.token.0.is_empty() {
        return Err(anyhow!(
            "key `alerts.telegram_chat`: alerts are sent by the shop's bot; set [telegram] token too"
        ));
    }
    if !c.alerts.email.is_empty() && !c.smtp.enabled() {
        return Err(anyhow!(
            "key `alerts.email`: alerts are emailed through [smtp]; set its host and from too"
        ));
    }
    c.smtp.check()?;
    Ok(())
}

/// Writes a new config file with mode 0600.
pub fn write_new(path: &PathBuf, config: &Config) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let body = format!(
        "# Stampcard configuration. Every key can be overridden by an environment\n\
         # variable STAMPCARD_<SECTION>__<KEY>, e.g. STAMPCARD_HTTP__PUBLIC_URL.\n\
         # This file holds the shop secret: keep it private (mode 0600).\n\n{}",
        toml::to_string_pretty(config)?
    );
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(body.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

impl Config {
    /// The core's settings.
    pub fn shop_settings(&self) -> Result<stampcard_core::settings::ShopSettings> {
        Ok(stampcard_core::settings::ShopSettings {
            name: self.shop.name.clone(),
            timezone: self
                .shop
                .timezone
                .parse()
                .map_err(|_| anyhow!("bad timezone"))?,
            secret: hex::decode(&self.shop.secret.0)?,
            staff_undo_window: std::time::Duration::from_secs(
                u64::from(self.rules.staff_undo_minutes) * 60,
            ),
            receipt_max_age_days: self.rules.receipt_max_age_days,
            lottery_seed: self.rules.lottery_seed,
            actor_idle: std::time::Duration::from_secs(self.actors.idle_secs.max(1)),
            max_resident_actors: self.actors.max_resident,
            public_url: self.http.public_url.clone(),
            campaigns: stampcard_core::settings::CampaignSettings {
                push_limit: self.campaigns.push_limit,
                frequency_cap: self.campaigns.frequency_cap,
                frequency_days: self.campaigns.frequency_days,
                quiet_hours: self.campaigns.quiet()?,
                plan_batch: self.campaigns.plan_batch.max(1),
            },
            opening_hours: stampcard_core::opening_hours::OpeningHours::parse(
                &self.shop.opening_hours,
            )
            .map_err(|e| anyhow!("key `shop.opening_hours`: {e}"))?,
            alerts: self.alerts.clone(),
        })
    }

    /// The retry policy of a channel with this rate.
    pub fn rate_limits(&self, per_second: f64) -> stampcard_core::outbox::RateLimits {
        stampcard_core::outbox::RateLimits {
            per_second,
            max_attempts: self.outbox.max_attempts,
            backoff: std::time::Duration::from_secs_f64(self.outbox.retry_secs),
            memory_window: self.outbox.memory_window,
            recipient_share: (self.outbox.memory_window / 10).max(1),
            ..Default::default()
        }
    }

    /// The sled options.
    pub fn sled_options(&self) -> stampcard_core::store::SledOptions {
        stampcard_core::store::SledOptions {
            max_batch_wait: std::time::Duration::from_micros(self.store.group_commit_wait_us),
            cache_bytes: self.store.cache_mb * 1024 * 1024,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[shop]
name = "Corner Café"
timezone = "Europe/Berlin"
secret = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
"#;

    fn check(text: &str, env: &[(&str, &str)]) -> std::result::Result<Config, String> {
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>();
        parse(text, Path::new("stampcard.toml"), env.into_iter()).map_err(|e| e.to_string())
    }

    #[test]
    fn config_errors_name_the_file_and_key() {
        assert!(check(GOOD, &[]).is_ok());
        let e = check(&format!("{GOOD}\n[http]\nlisten = 5\n"), &[]).unwrap_err();
        assert!(
            e.contains("stampcard.toml") && e.contains("http.listen"),
            "{e}"
        );
        let e = check(&format!("{GOOD}\n[http]\nlisen = \"x\"\n"), &[]).unwrap_err();
        assert!(e.contains("lisen"), "{e}");
        // A bad value from the environment names the variable, not the file.
        let e = check(GOOD, &[("STAMPCARD_SHOP__TIMEZONE", "Mars/Base")]).unwrap_err();
        assert!(
            e.starts_with("environment variable STAMPCARD_SHOP__TIMEZONE: ")
                && e.contains("shop.timezone")
                && e.contains("Mars/Base"),
            "{e}"
        );
        let e = check(GOOD, &[("STAMPCARD_ACTORS__MAX_RESIDENT", "lots")]).unwrap_err();
        assert!(
            e.starts_with("environment variable STAMPCARD_ACTORS__MAX_RESIDENT: ")
                && e.contains("actors.max_resident"),
            "{e}"
        );
        let e = check(GOOD, &[("STAMPCARD_HTTP__LISTEN", "nowhere")]).unwrap_err();
        assert!(
            e.starts_with("environment variable STAMPCARD_HTTP__LISTEN: ") && !e.contains(".toml"),
            "{e}"
        );
    }

    #[test]
    fn environment_overrides_keys() {
        let c = check(
            GOOD,
            &[
                ("STAMPCARD_HTTP__PUBLIC_URL", "https://cards.example"),
                ("STAMPCARD_ACTORS__MAX_RESIDENT", "7"),
            ],
        )
        .unwrap();
        assert_eq!(c.http.public_url, "https://cards.example");
        assert_eq!(c.actors.max_resident, 7);
        assert_eq!(format!("{:?}", c.shop.secret), "(secret)");
    }
}
