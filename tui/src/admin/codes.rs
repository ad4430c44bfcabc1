//! The codes tab: generate one-time receipt codes for a template (show any
//! one's QR code), and create POS keys for offline-derived codes.

use stampcard_core::model::PosKey;

use super::{Prompt, TextAction};
use crate::app::Effect;
use crate::keys::Key;

/// The tab's state.
#[derive(Debug, Clone, Default)]
pub struct CodesTab {
    /// Templates (id, name) codes can be made for.
    pub templates: Vec<(u64, String)>,
    /// The chosen template.
    pub template: usize,
    /// POS keys.
    pub pos_keys: Vec<PosKey>,
    /// The last generated batch.
    pub batch: Vec<String>,
    /// The selected code of the batch.
    pub selected: usize,
    /// Show the selected code's QR code.
    pub show_qr: bool,
    /// The shop's name and public URL, for printables.
    pub shop: (String, String),
}

impl CodesTab {
    fn links(&self) -> stampcard_core::links::Links {
        stampcard_core::links::Links::new(&self.shop.1)
    }

    /// The last batch as a printable sheet, SVG (with codes) and PNG.
    fn sheet(&self) -> Vec<Effect> {
        let links = self.links();
        let items: Vec<(String, String)> = self
            .batch
            .iter()
            .map(|c| (c.clone(), links.claim_url(c)))
            .collect();
        let urls: Vec<String> = items.iter().map(|(_, u)| u.clone()).collect();
        let stamp = self.batch.first().cloned().unwrap_or_default();
        let mut files = Vec::new();
        if let Ok(svg) =
            crate::print::sheet_svg(&format!("{} — receipt codes", self.shop.0), &items)
        {
            files.push((format!("codes-{stamp}.svg"), svg.into_bytes()));
        }
        if let Ok(png) = crate::print::sheet_png(&urls) {
            files.push((format!("codes-{stamp}.png"), png));
        }
        vec![Effect::Export(files)]
    }

    /// The chosen template's join poster, SVG and PNG.
    fn poster(&self) -> Vec<Effect> {
        let Some((id, name)) = self.templates.get(self.template) else {
            return Vec::new();
        };
        let url = self.links().join_url(*id);
        let mut files = Vec::new();
        if let Ok(svg) =
            crate::print::poster_svg(&self.shop.0, name, "Scan to get your stamp card", &url)
        {
            files.push((format!("poster-template-{id}.svg"), svg.into_bytes()));
        }
        if let Ok(png) = crate::print::qr_png(&url, 1200) {
            files.push((format!("poster-template-{id}.png"), png));
        }
        vec![Effect::Export(files)]
    }

    /// The effect that loads templates and POS keys.
    pub fn load(&self) -> Effect {
        Effect::LoadCodes
    }

    /// The chosen template's id.
    pub fn template_id(&self) -> Option<u64> {
        self.templates.get(self.template).map(|(id, _)| *id)
    }

    /// Handles a key.
    pub fn key(&mut self, key: Key, prompt: &mut Option<Prompt>) -> Vec<Effect> {
        if self.show_qr {
            self.show_qr = false;
            return Vec::new();
        }
        match key {
            Key::Char('t') | Key::Tab => {
                self.template = (self.template + 1) % self.templates.len().max(1)
            }
            Key::Char('g') => {
                if let Some((id, name)) = self.templates.get(self.template) {
                    *prompt = Some(Prompt::Text {
                        title: format!("How many one-stamp receipt codes for \"{name}\"?"),
                        text: String::new(),
                        then: TextAction::Generate(*id),
                    });
                }
            }
            Key::Char('p') => {
                *prompt = Some(Prompt::Text {
                    title: "Name of the new POS key (e.g. till 1)".into(),
                    text: String::new(),
                    then: TextAction::PosKey,
                })
            }
            Key::Down | Key::Char('j') => {
                self.selected = (self.selected + 1).min(self.batch.len().saturating_sub(1))
            }
            Key::Up | Key::Char('k') => self.selected = self.selected.saturating_sub(1),
            Key::Enter if !self.batch.is_empty() => self.show_qr = true,
            Key::Char('s') if !self.batch.is_empty() => return self.sheet(),
            Key::Char('P') => return self.poster(),
            _ => {}
        }
        Vec::new()
    }
}
