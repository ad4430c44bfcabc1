//! The campaign scheduler: at start it resumes campaigns whose planning a
//! crash interrupted, and every 30 s it sends scheduled campaigns that are
//! due and, once per shop-local day, runs the automations (on the shop's clock).

use std::time::Duration;

use stampcard_core::model::Actor;
use tokio::sync::watch;

use crate::app::App;

/// How often due campaigns are looked for.
const EVERY: Duration = Duration::from_secs(30);

/// Runs until `stop` turns true.
pub async fn run(app: App, mut stop: watch::Receiver<bool>) {
    let routes = crate::services::routes(&app);
    let scheduler = Actor::channel("system");
    loop {
        match app.shop.campaigns().due_campaigns() {
            Ok(ids) => {
                for id in ids {
                    match app
                        .shop
                        .campaigns()
                        .send_campaign(id, &routes, &scheduler)
                        .await
                    {
                        Ok(c) => tracing::info!(
                            campaign = c.id,
                            recipients = c.recipients,
                            "campaign sent"
                        ),
                        Err(e) => tracing::error!("campaign {id}: {e}"),
                    }
                }
            }
            Err(e) => tracing::error!("due campaigns: {e}"),
        }
        match app
            .shop
            .campaigns()
            .run_automations_daily(&routes, &scheduler)
            .await
        {
            Ok(runs) => {
                for c in runs {
                    tracing::info!(
                        campaign = c.id,
                        recipients = c.recipients,
                        "automation {} ran",
                        c.name
                    );
                }
            }
            Err(e) => tracing::error!("automations: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}
