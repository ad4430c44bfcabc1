//! The PostgreSQL store's schema, as one table: each record kind's SQL
//! table, the columns of its key, and what its value column holds; and the
//! families (scans and id sequences) over those tables. The DDL, the key
//! parameters, the decoding of rows and the scan queries are all generated
//! from it, so a new kind is one line here (and one in `sled_layout.rs`).
//!
//! Records are relational where an owner's SQL looks for them: a table per
//! kind with typed key columns, indexes as two-column tables, the journal
//! with its card, customer, time and type as columns; each record's body is
//! `jsonb`, the same JSON the sled store keeps.

use tokio_postgres::Row;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use super::{Family, IdempotencyRecord, Key, Record, StoreError};
use crate::model::Event;

/// The schema version this binary writes (PostgreSQL only; the records
/// inside keep the data format of [`super::FORMAT_VERSION`]).
pub(super) const SCHEMA_VERSION: i32 = 1;

/// A key column's value as a query parameter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Param {
    /// `bigint`
    Int(i64),
    /// `text`
    Text(String),
}

impl ToSql for Param {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Param::Int(v) => v.to_sql(ty, out),
            Param::Text(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <i64 as ToSql>::accepts(ty) || <String as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

/// JSON text sent to and read from a `jsonb` column as it is (no
/// `serde_json::Value` in between): jsonb's binary form is a version byte
/// and the text.
#[derive(Debug, Clone)]
pub(super) struct RawJson(pub Vec<u8>);

impl ToSql for RawJson {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(&[1]);
        out.extend_from_slice(&self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSONB
    }

    to_sql_checked!();
}

impl<'a> tokio_postgres::types::FromSql<'a> for RawJson {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        match raw.split_first() {
            Some((1, text)) => Ok(RawJson(text.to_vec())),
            _ => Err("unsupported jsonb version".into()),
        }
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSONB
    }
}

/// The SQL type of a key column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Col {
    Int,
    Text,
}

/// What a table's value column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Value {
    /// `body jsonb`: the record's JSON.
    Body,
    /// `target bigint`: the id an index entry points at.
    Target,
    /// `event_id bigint`: a consumer's cursor.
    Cursor,
    /// Nothing: the key's last part is the id the entry points at.
    KeyOnly,
    /// The journal: `body jsonb` and the event's columns.
    Event,
}

/// One table.
#[derive(Debug)]
pub(super) struct Table {
    pub name: &'static str,
    pub keys: &'static [(&'static str, Col)],
    pub value: Value,
}

impl Table {
    /// The value column's name (none for key-only tables).
    pub fn value_column(&self) -> Option<&'static str> {
        match self.value {
            Value::Body | Value::Event => Some("body"),
            Value::Target => Some("target"),
            Value::Cursor => Some("event_id"),
            Value::KeyOnly => None,
        }
    }

    /// `a, b` — the key columns.
    pub fn key_list(&self) -> String {
        self.keys
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `a = $1 AND b = $2`.
    pub fn key_match(&self, first: usize) -> String {
        self.keys
            .iter()
            .enumerate()
            .map(|(i, (n, _))| format!("{n} = ${}", first + i))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// The key columns, then the value column.
    pub fn select_list(&self) -> String {
        match self.value_column() {
            Some(v) => format!("{}, {v}", self.key_list()),
            None => self.key_list(),
        }
    }

    /// Its `CREATE TABLE`.
    pub fn ddl(&self) -> String {
        let mut cols: Vec<String> = self
            .keys
            .iter()
            .map(|(n, c)| {
                format!(
                    "{n} {} NOT NULL",
                    match c {
                        Col::Int => "bigint",
                        Col::Text => "text",
                    }
                )
            })
            .collect();
        match self.value {
            Value::Body => cols.push("body jsonb NOT NULL".into()),
            Value::Target => cols.push("target bigint NOT NULL".into()),
            Value::Cursor => cols.push("event_id bigint NOT NULL".into()),
            Value::KeyOnly => {}
            Value::Event => cols.extend([
                "card_id bigint".into(),
                "customer_id bigint".into(),
                "at timestamptz NOT NULL".into(),
                "type text NOT NULL".into(),
                "body jsonb NOT NULL".into(),
            ]),
        }
        format!(
            "CREATE TABLE {} ({}, PRIMARY KEY ({}))",
            self.name,
            cols.join(", "),
            self.key_list()
        )
    }
}

/// A key part as a parameter, and back from a row.
trait Part: Sized {
    fn param(&self) -> Param;
    fn read(row: &Row, i: usize) -> Result<Self, tokio_postgres::Error>;
}

impl Part for u64 {
    fn param(&self) -> Param {
        Param::Int(*self as i64)
    }
    fn read(row: &Row, i: usize) -> Result<Self, tokio_postgres::Error> {
        row.try_get::<_, i64>(i).map(|v| v as u64)
    }
}

impl Part for u32 {
    fn param(&self) -> Param {
        Param::Int(i64::from(*self))
    }
    fn read(row: &Row, i: usize) -> Result<Self, tokio_postgres::Error> {
        row.try_get::<_, i64>(i).map(|v| v as u32)
    }
}

impl Part for i64 {
    fn param(&self) -> Param {
        Param::Int(*self)
    }
    fn read(row: &Row, i: usize) -> Result<Self, tokio_postgres::Error> {
        row.try_get(i)
    }
}

impl Part for String {
    fn param(&self) -> Param {
        Param::Text(self.clone())
    }
    fn read(row: &Row, i: usize) -> Result<Self, tokio_postgres::Error> {
        row.try_get(i)
    }
}

fn col_of<T: 'static>() -> Col {
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<String>() {
        Col::Text
    } else {
        Col::Int
    }
}

fn json<T: serde::de::DeserializeOwned>(key: &Key, body: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(body).map_err(|e| StoreError::Corrupt {
        key: format!("{key:?}"),
        reason: e.to_string(),
    })
}

macro_rules! layout {
    (
        kinds { $( $variant:ident ( $($part:ident : $ty:ty => $col:literal),* ) => $table:literal $value:ident $(($wrap:path : $body:ty))? ; )* }
        families { $( $family:ident $(($arg:ident))? => $fkind:ident $(, seq $first:literal)? ; )* }
    ) => {
        /// A record kind: one table.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub(super) enum Kind { $( $variant ),* }

        /// Every kind, in the order of the schema.
        pub(super) const KINDS: &[Kind] = &[ $( Kind::$variant ),* ];

        impl Kind {
            /// Its table.
            pub fn table(self) -> &'static Table {
                match self {
                    $( Kind::$variant => {
                        static T: std::sync::OnceLock<Table> = std::sync::OnceLock::new();
                        T.get_or_init(|| Table {
                            name: $table,
                            keys: Box::leak(vec![$( ($col, col_of::<$ty>()) ),*].into_boxed_slice()),
                            value: Value::$value,
                        })
                    } )*
                }
            }
        }

        /// The kind of a key, and its key columns' values.
        pub(super) fn key_params(key: &Key) -> (Kind, Vec<Param>) {
            match key {
                $( Key::$variant($($part),*) => (Kind::$variant, vec![$( Part::param($part) ),*]), )*
            }
        }

        /// The key of a row whose first columns are the kind's key columns.
        pub(super) fn key_from_row(kind: Kind, row: &Row) -> Result<Key, StoreError> {
            let mut _i = 0;
            Ok(match kind {
                $( Kind::$variant => Key::$variant($( {
                    let v = <$ty as Part>::read(row, _i).map_err(read_error)?;
                    _i += 1;
                    let $part = v;
                    $part
                } ),*), )*
            })
        }

        /// Decodes a JSON body stored under a key of a body kind.
        pub(super) fn decode_body(key: &Key, body: &[u8]) -> Result<Record, StoreError> {
            match key {
                $( $( Key::$variant(..) => json::<$body>(key, body).map($wrap), )? )*
                #[allow(unreachable_patterns)]
                other => Err(StoreError::Corrupt {
                    key: format!("{other:?}"),
                    reason: "this kind has no body".into(),
                }),
            }
        }

        /// A family's kind and the values of its fixed key columns.
        pub(super) fn family(family: Family) -> Option<(Kind, Vec<Param>)> {
            match family {
                $( Family::$family $(($arg))? => {
                    let fixed: Vec<Param> = vec![$( Part::param(&$arg) )?];
                    let _ = &fixed;
                    layout!(@kind $fkind, fixed)
                } )*
            }
        }

        /// The sequence of a family with one: its name and first id.
        pub(super) fn sequence(family: Family) -> Option<(String, u64)> {
            match family {
                $( $( Family::$family => Some((
                    format!("{}_seq", layout!(@seqname $fkind)),
                    $first,
                )), )? )*
                #[allow(unreachable_patterns)]
                _ => None,
            }
        }

        /// Every sequence: its name and first id.
        pub(super) fn sequences() -> Vec<(String, u64, Family)> {
            let mut out = Vec::new();
            $( $( out.push((format!("{}_seq", layout!(@seqname $fkind)), $first, layout!(@fam $family))); )? )*
            out
        }
    };
    (@kind Batches, $fixed:ident) => { None };
    (@kind $k:ident, $fixed:ident) => { Some((Kind::$k, $fixed)) };
    (@seqname Batches) => { "batches" };
    (@seqname $k:ident) => { Kind::$k.table().name };
    (@fam $f:ident) => { Family::$f };
}

layout! {
    kinds {
        Card(id: u64 => "id") => "cards" Body(Record::Card: crate::model::Card);
        Customer(id: u64 => "id") => "customers" Body(Record::Customer: crate::model::Customer);
        Template(id: u64 => "id") => "templates" Body(Record::Template: crate::model::Template);
        TemplateVersion(id: u64 => "template_id", version: u32 => "version") => "template_versions" Body(Record::Template: crate::model::Template);
        Voucher(id: u64 => "id") => "vouchers" Body(Record::Voucher: crate::model::Voucher);
        Event(id: u64 => "id") => "events" Event(Record::Event: Event);
        Staff(id: u64 => "id") => "staff" Body(Record::Staff: crate::model::Staff);
        Receipt(code: String => "code") => "receipt_codes" Body(Record::Receipt: crate::model::ReceiptCode);
        ReceiptClaim(code: String => "code") => "receipt_claims" Body(Record::Claim: crate::model::ReceiptClaim);
        PosKey(id: u64 => "id") => "pos_keys" Body(Record::PosKey: crate::model::PosKey);
        ApiKey(id: u64 => "id") => "api_keys" Body(Record::ApiKey: crate::model::ApiKey);
        Webhook(id: u64 => "id") => "webhooks" Body(Record::Webhook: crate::model::Webhook);
        Campaign(id: u64 => "id") => "campaigns" Body(Record::Campaign: crate::model::Campaign);
        CampaignBatch(campaign: u64 => "campaign_id", batch: u64 => "batch") => "campaign_batches" Body(Record::CampaignBatch: crate::model::CampaignBatch);
        Idempotency(key: String => "key") => "idempotency_keys" Body(Record::Idempotency: IdempotencyRecord);
        Meta(name: String => "name") => "meta" Body(Record::Meta: serde_json::Value);
        CardOfCustomer(customer: u64 => "customer_id", card: u64 => "card_id") => "cards_of_customer" Target;
        VoucherOfCard(card: u64 => "card_id", voucher: u64 => "voucher_id") => "vouchers_of_card" Target;
        CustomerByTelegram(telegram: i64 => "telegram_id") => "customers_by_telegram" Target;
        ReversalOf(event: u64 => "event_id") => "reversals" Target;
        Outbox(id: u64 => "id") => "outbox" Body(Record::Outbox: crate::outbox::OutboxEntry);
        OutboxPending(id: u64 => "entry_id") => "outbox_pending" Target;
        Cursor(name: String => "name") => "cursors" Cursor;
        Pass(card: u64 => "card_id") => "passes" Body(Record::Pass: crate::model::PassRecord);
        PassOfDevice(device: u64 => "device", card: u64 => "card_id") => "passes_of_device" KeyOnly;
        PushOfCard(card: u64 => "card_id", entry: u64 => "entry_id") => "pushes_of_card" KeyOnly;
        Automation(id: u64 => "id") => "automations" Body(Record::Automation: crate::model::Automation);
        AutomationDone(automation: u64 => "automation_id", card: u64 => "card_id") => "automations_done" Target;
    }
    families {
        Cards => Card, seq 100_001;
        Customers => Customer, seq 1;
        Templates => Template, seq 1;
        TemplateVersions(template) => TemplateVersion;
        Vouchers => Voucher, seq 1;
        Events => Event;
        Staff => Staff, seq 1;
        Receipts => Receipt;
        PosKeys => PosKey, seq 1;
        ApiKeys => ApiKey, seq 1;
        Webhooks => Webhook, seq 1;
        Campaigns => Campaign, seq 1;
        CampaignBatches(campaign) => CampaignBatch;
        CardsOfCustomer(customer) => CardOfCustomer;
        VouchersOfCard(card) => VoucherOfCard;
        Batches => Batches, seq 1;
        Outbox => Outbox, seq 1;
        OutboxPending => OutboxPending;
        PassesOfDevice(device) => PassOfDevice;
        PushesOfCard(card) => PushOfCard;
        Automations => Automation, seq 1;
    }
}

fn read_error(e: tokio_postgres::Error) -> StoreError {
    StoreError::Corrupt {
        key: "a row".into(),
        reason: e.to_string(),
    }
}

/// The record of a row selected with [`Table::select_list`] (key columns,
/// then the value column).
pub(super) fn record_from_row(kind: Kind, key: &Key, row: &Row) -> Result<Record, StoreError> {
    let table = kind.table();
    let at = table.keys.len();
    match table.value {
        Value::Body | Value::Event => {
            let body: RawJson = row.try_get(at).map_err(read_error)?;
            decode_body(key, &body.0)
        }
        Value::Target => Ok(Record::Index(
            row.try_get::<_, i64>(at).map_err(read_error)? as u64,
        )),
        Value::Cursor => Ok(Record::Cursor(
            row.try_get::<_, i64>(at).map_err(read_error)? as u64,
        )),
        Value::KeyOnly => match key {
            Key::PassOfDevice(_, id) | Key::PushOfCard(_, id) => Ok(Record::Index(*id)),
            other => Err(StoreError::Corrupt {
                key: format!("{other:?}"),
                reason: "a key-only kind without an id".into(),
            }),
        },
    }
}

/// What a record stores in its table's value column.
pub(super) enum Stored {
    Body(RawJson),
    Int(i64),
    Nothing,
}

/// The value of a record under a kind.
pub(super) fn stored(kind: Kind, record: &Record) -> Stored {
    match (kind.table().value, record) {
        (Value::Target, Record::Index(id)) => Stored::Int(*id as i64),
        (Value::Cursor, Record::Cursor(n)) => Stored::Int(*n as i64),
        (Value::KeyOnly, _) => Stored::Nothing,
        (Value::Target | Value::Cursor, _) => Stored::Int(0),
        (Value::Body | Value::Event, r) => {
            Stored::Body(RawJson(super::sled_layout::encode_record(r)))
        }
    }
}

/// The `type` column of an event: its kind's tag.
pub(super) fn event_type(event: &Event) -> String {
    serde_json::to_value(&event.kind)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_table_and_its_keys_have_their_columns() {
        let mut names = std::collections::HashSet::new();
        for kind in KINDS {
            let t = kind.table();
            assert!(names.insert(t.name), "{} twice", t.name);
            assert!(t.ddl().starts_with(&format!("CREATE TABLE {} (", t.name)));
        }
        let (kind, params) = key_params(&Key::TemplateVersion(3, 7));
        assert_eq!(kind, Kind::TemplateVersion);
        assert_eq!(params, vec![Param::Int(3), Param::Int(7)]);
        assert_eq!(kind.table().keys.len(), 2);
        assert_eq!(Kind::Receipt.table().keys[0].1, Col::Text);
        assert_eq!(
            family(Family::VouchersOfCard(9)),
            Some((Kind::VoucherOfCard, vec![Param::Int(9)]))
        );
        assert_eq!(family(Family::Batches), None);
        assert_eq!(sequence(Family::Cards), Some(("cards_seq".into(), 100_001)));
        assert_eq!(sequence(Family::Batches), Some(("batches_seq".into(), 1)));
        assert_eq!(sequence(Family::Events), None);
    }
}
