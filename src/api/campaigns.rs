//! Campaigns over the API (admin keys): create (with the audience), send,
//! status, list. Sending plans every message into the outbox before it
//! answers; delivery follows through the channels.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use stampcard_core::Shop;
use stampcard_core::consumers::Route;
use stampcard_core::model::{CampaignVoucher, Segment};
use stampcard_core::shop::CampaignDraft;
use utoipa::ToSchema;

use super::auth::Caller;
use super::doc::Errors;
use super::error::ApiError;
use super::input::{Body, Object, path_id};

/// The routes campaigns are delivered on (set by the binary).
#[derive(Clone)]
pub struct CampaignState {
    /// The shop.
    pub shop: Shop,
    /// How channels reach customers.
    pub routes: std::sync::Arc<Vec<std::sync::Arc<dyn Route>>>,
}

impl axum::extract::FromRef<CampaignState> for Shop {
    fn from_ref(s: &CampaignState) -> Shop {
        s.shop.clone()
    }
}

/// A new campaign.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCampaign {
    /// Whose holders.
    template_id: u64,
    /// all, almost-ready, voucher-expiring:DAYS, not-seen:DAYS,
    /// birthday-month, joined:DAYS (default all).
    #[serde(default)]
    segment: Option<String>,
    /// The message for Telegram, email and the web card.
    text: String,
    /// The short wallet PUSH text.
    #[serde(default)]
    push_text: String,
    /// Channels: telegram, email, wallet, log.
    channels: Vec<String>,
    /// Name (default `<templateId>_<dd.mm.yyyyHH:MM>`).
    #[serde(default)]
    name: Option<String>,
    /// Send at this instant (RFC 3339) instead of by `send`.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    scheduled_for: Option<chrono::DateTime<chrono::Utc>>,
    /// A voucher for each recipient.
    #[serde(default)]
    voucher: Option<NewCampaignVoucher>,
}

/// The voucher each recipient of a campaign gets.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCampaignVoucher {
    /// What it gives, e.g. "Free cookie".
    description: String,
    /// Days valid (0 = no expiry; default 30).
    #[serde(default = "default_voucher_days")]
    valid_days: u32,
}

impl From<NewCampaignVoucher> for CampaignVoucher {
    fn from(v: NewCampaignVoucher) -> Self {
        CampaignVoucher {
            description: v.description,
            valid_days: v.valid_days,
        }
    }
}

fn default_voucher_days() -> u32 {
    30
}

/// Creates a campaign; the answer holds it and its audience per channel.
#[utoipa::path(post, path = "/api/v1/campaigns", operation_id = "create_campaign", tag = "campaigns",
    request_body = NewCampaign,
    responses((status = 201, description = "Created, with its audience", body = serde_json::Value), Errors))]
pub async fn create(
    State(s): State<CampaignState>,
    Caller(actor): Caller,
    body: Body<NewCampaign>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let Object(req) = body?;
    let segment = Segment::parse(req.segment.as_deref().unwrap_or("all"))
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", e))?;
    let c = s
        .shop
        .campaigns()
        .create_campaign(
            CampaignDraft {
                name: req.name,
                template_id: req.template_id,
                segment,
                push_text: req.push_text,
                text: req.text,
                channels: req.channels,
                scheduled_for: req.scheduled_for,
                voucher: req.voucher.map(CampaignVoucher::from),
            },
            &actor,
        )
        .await?;
    let audience =
        s.shop
            .campaigns()
            .campaign_audience(c.template_id, c.segment, &c.channels, &s.routes)?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({"campaign": c, "audience": audience})),
    ))
}

/// Sends a campaign now: every message is queued when this answers.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/send", operation_id = "send_campaign", tag = "campaigns",
    params(("id" = u64, Path, description = "Campaign id")),
    responses((status = 200, description = "Queued", body = serde_json::Value), Errors))]
pub async fn send(
    State(s): State<CampaignState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = path_id("a campaign id", &id)?;
    let c = s
        .shop
        .campaigns()
        .send_campaign(id, &s.routes, &actor)
        .await?;
    Ok(Json(serde_json::json!(c)))
}

/// A campaign with its deliveries per channel and state.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", operation_id = "get_campaign", tag = "campaigns",
    params(("id" = u64, Path, description = "Campaign id")),
    responses((status = 200, description = "Status", body = serde_json::Value), Errors))]
pub async fn status(
    State(s): State<CampaignState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.admin()?;
    let id = path_id("a campaign id", &id)?;
    Ok(Json(serde_json::json!(
        s.shop.campaigns().campaign_status(id)?
    )))
}

/// Every campaign, newest first.
#[utoipa::path(get, path = "/api/v1/campaigns", operation_id = "list_campaigns", tag = "campaigns",
    responses((status = 200, description = "Campaigns", body = Vec<serde_json::Value>), Errors))]
pub async fn list(
    State(s): State<CampaignState>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.admin()?;
    Ok(Json(serde_json::json!(s.shop.campaigns().campaigns()?)))
}
