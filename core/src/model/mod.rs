//! The domain records. These are the persistent schema of the data folder
//! (format version [`crate::store::FORMAT_VERSION`]): change them only with a
//! migration.

mod api_key;
mod automation;
mod campaign;
mod campaign_batch;
mod card;
mod customer;
mod event;
mod pass;
mod receipt;
mod staff;
mod template;
mod voucher;
mod webhook;

pub use api_key::{ApiKey, prefix as api_key_prefix};
pub use automation::{Automation, AutomationKind};
pub use campaign::{Campaign, CampaignState, CampaignVoucher, Segment};
pub use campaign_batch::CampaignBatch;
pub use card::*;
pub use customer::*;
pub use event::*;
pub use pass::{PassDevice, PassNews, PassRecord, valid_device_id};
pub use receipt::*;
pub use staff::*;
pub use template::*;
pub use voucher::*;
pub use webhook::Webhook;
