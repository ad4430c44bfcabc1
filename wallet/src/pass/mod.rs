//! Building a card's pass: pass.json, images, manifest, signature, archive.

pub mod archive;
pub mod images;
pub mod json;
pub mod location;

use std::path::PathBuf;
use std::sync::Arc;

use stampcard_core::Shop;
use stampcard_core::model::{Card, PassRecord};
use stampcard_core::shop::PassVersion;

use crate::WalletError;
use crate::certs::{CertReport, PassCertificates};
use images::{ImageCache, SCALES, color};
use json::{News, PassIdentity, pass_json};

/// The MIME type of a pass.
pub const PKPASS_MIME: &str = "application/vnd.apple.pkpass";

/// `[wallet]`: who issues the passes.
#[derive(Debug, Clone)]
pub struct WalletConfig {
    /// The Pass Type ID (e.g. `pass.com.example.stamps`); also the APNs topic.
    pub pass_type_id: String,
    /// The Apple team identifier.
    pub team_id: String,
    /// The organization shown by Wallet.
    pub organization_name: String,
    /// Where template logos live (the data folder).
    pub assets_dir: PathBuf,
    /// Places near which Wallet shows the pass (at most 10).
    pub locations: Vec<location::PassLocation>,
}

/// Apple Wallet passes of one shop: checked certificates and cached images.
pub struct Wallet {
    config: WalletConfig,
    certs: PassCertificates,
    report: CertReport,
    images: ImageCache,
}

/// A built pass.
pub struct BuiltPass {
    /// The signed .pkpass archive.
    pub bytes: Vec<u8>,
    /// The version it shows.
    pub version: PassVersion,
}

impl Wallet {
    /// Passes signed with these certificates; refused when they do not fit
    /// the configuration.
    pub fn new(config: WalletConfig, certs: PassCertificates) -> Result<Self, WalletError> {
        let report = certs.check(&config.pass_type_id, &config.team_id)?;
        if !report.ok() {
            return Err(WalletError::Mismatch(report.problems.join("; ")));
        }
        Ok(Self {
            config,
            certs,
            report,
            images: ImageCache::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &WalletConfig {
        &self.config
    }

    /// The certificates.
    pub fn certificates(&self) -> &PassCertificates {
        &self.certs
    }

    /// The check made at start.
    pub fn report(&self) -> &CertReport {
        &self.report
    }

    /// The PassKit web service URL of the shop.
    pub fn web_service_url(shop: &Shop) -> String {
        format!("{}/passkit", shop.links().base())
    }

    /// Builds and signs the current pass of a card (creating its pass
    /// record the first time).
    pub async fn build(&self, shop: &Shop, card_id: u64) -> Result<BuiltPass, WalletError> {
        let pass = shop.passes().ensure_pass(card_id).await?;
        let card = shop.cards().card(card_id)?;
        let version = shop.passes().pass_version(card_id)?;
        self.sign(shop, &card, &pass, version)
    }

    /// Builds and signs the pass of a card already at hand, at `version`
    /// (the PassKit service has read all three to answer the request).
    pub fn sign(
        &self,
        shop: &Shop,
        card: &Card,
        pass: &PassRecord,
        version: PassVersion,
    ) -> Result<BuiltPass, WalletError> {
        let view = shop.cards().view_of(card)?;
        let template = shop.templates().template(card.template_id)?;
        let branding = &template.branding;
        let serial = PassRecord::serial_of(card.id);
        let service = Self::web_service_url(shop);
        let identity = PassIdentity {
            pass_type_id: &self.config.pass_type_id,
            team_id: &self.config.team_id,
            organization_name: &self.config.organization_name,
            locations: &self.config.locations,
            web_service_url: &service,
            serial: &serial,
            auth_token: &pass.auth_token,
        };
        let news_value = pass.news.as_ref().map(|n| n.value());
        let news = news_value.as_deref().map(|text| News {
            text,
            just_changed: version.brings_news,
        });
        let json = pass_json(&identity, &view, branding, news.as_ref());
        let mut files = vec![(
            "pass.json".to_string(),
            serde_json::to_vec_pretty(&json).map_err(|e| WalletError::Build(e.to_string()))?,
        )];
        let (bg, stamp) = (color(&branding.background), color(&branding.label));
        for scale in SCALES {
            let suffix = if scale == 1 {
                String::new()
            } else {
                format!("@{scale}x")
            };
            let (t, v) = (template.id, template.version);
            let icon = self.images.get(("icon", t, v, 0, 0, scale), || {
                images::icon(scale, bg, stamp)
            })?;
            files.push((format!("icon{suffix}.png"), Arc::unwrap_or_clone(icon)));
            let logo = self.images.get(("logo", t, v, 0, 0, scale), || {
                images::template_logo(&self.config.assets_dir, branding, scale)
            })?;
            files.push((format!("logo{suffix}.png"), Arc::unwrap_or_clone(logo)));
            let (stamps, of) = (view.progress.stamps.min(view.progress.of), view.progress.of);
            let strip = self.images.get(("strip", t, v, stamps, of, scale), || {
                images::strip(scale, stamps, of, bg, stamp)
            })?;
            files.push((format!("strip{suffix}.png"), Arc::unwrap_or_clone(strip)));
        }
        let bytes = archive::pkpass(&self.certs, files)?;
        Ok(BuiltPass { bytes, version })
    }
}
