//! Which store the core's tests run their shops on: sled, or PostgreSQL
//! when `STAMPCARD_TEST_STORE=postgres` (a real server the test process
//! starts, one empty database per data folder, so a test that reopens its
//! folder reopens its database).

#![allow(dead_code)]

#[path = "../../../tests/src/postgres.rs"]
pub mod postgres;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use stampcard_core::Shop;
use stampcard_core::clock::Clock;
use stampcard_core::error::CoreResult;
use stampcard_core::settings::ShopSettings;
use stampcard_core::store::{PgOptions, PgStore, SledOptions};

/// The database that stands for a data folder.
pub fn database_for(dir: &Path) -> String {
    static DATABASES: OnceLock<Mutex<HashMap<PathBuf, String>>> = OnceLock::new();
    let mut map = DATABASES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    map.entry(dir.to_path_buf())
        .or_insert_with(|| postgres::shared().database())
        .clone()
}

/// Opens the shop of a data folder on the selected store.
pub async fn open(
    dir: &Path,
    settings: ShopSettings,
    clock: Arc<dyn Clock>,
    options: SledOptions,
) -> CoreResult<Shop> {
    if !postgres::selected() {
        return Shop::open(dir, settings, clock, options).await;
    }
    let url = database_for(dir);
    // The previous shop on this folder may still be letting go of it.
    let mut tries = 0;
    let store = loop {
        match PgStore::open(&url, PgOptions::default()) {
            Err(stampcard_core::store::StoreError::Locked(_)) if tries < 50 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            other => break other?,
        }
    };
    Shop::with_store(Arc::new(store), settings, clock).await
}
