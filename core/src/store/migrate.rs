//! Data-format migrations. A data folder records its format version; a
//! newer binary brings it up to [`FORMAT_VERSION`](super::FORMAT_VERSION)
//! one step at a time (the binary backs the folder up first), an older
//! binary refuses it.

use super::StoreError;

/// One step of the data format.
pub struct Migration {
    /// The version this step produces (it applies to version `to - 1`).
    pub to: u32,
    /// What it changes, for the upgrade message.
    pub what: &'static str,
    /// Rewrites the records.
    pub apply: fn(&sled::Db) -> Result<(), StoreError>,
}

/// Every step so far, in order. Format 1 is the first.
pub const MIGRATIONS: &[Migration] = &[];

const KEY: &[u8] = b"Mformat_version";

fn io(e: sled::Error) -> StoreError {
    StoreError::Io(e.to_string())
}

/// The format version recorded in a database (`None` for a new one).
pub fn format_of(db: &sled::Db) -> Result<Option<u32>, StoreError> {
    match db.get(KEY).map_err(io)? {
        Some(v) => serde_json::from_slice(&v)
            .map(Some)
            .map_err(|e| StoreError::Corrupt {
                key: "format_version".into(),
                reason: e.to_string(),
            }),
        None => Ok(None),
    }
}

/// Records a format version durably.
pub fn set_format(db: &sled::Db, version: u32) -> Result<(), StoreError> {
    db.insert(KEY, serde_json::to_vec(&version).unwrap_or_default())
        .map_err(io)?;
    db.flush().map_err(io)?;
    Ok(())
}

/// Applies the steps after the database's version, in order, recording the
/// version after each; returns what was done.
pub fn migrate(db: &sled::Db, steps: &[Migration]) -> Result<Vec<&'static str>, StoreError> {
    let start = format_of(db)?.unwrap_or(1);
    let mut version = start;
    let mut done = Vec::new();
    for step in steps.iter().filter(|s| s.to > start) {
        if step.to != version + 1 {
            return Err(StoreError::Io(format!(
                "no migration from format {version} to {}",
                step.to
            )));
        }
        (step.apply)(db)?;
        set_format(db, step.to)?;
        version = step.to;
        done.push(step.what);
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rename_shop(db: &sled::Db) -> Result<(), StoreError> {
        if let Some(v) = db.remove(b"Mold_name").map_err(io)? {
            db.insert(b"Mshop_name", v).map_err(io)?;
        }
        Ok(())
    }

    fn fail(_: &sled::Db) -> Result<(), StoreError> {
        Err(StoreError::Io("step failed".into()))
    }

    #[test]
    fn steps_run_in_order_once_and_record_the_version() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = sled::open(dir.path()).expect("sled");
        set_format(&db, 1).expect("v1");
        db.insert(b"Mold_name", b"\"Corner\"".to_vec())
            .expect("insert");
        let steps = [Migration {
            to: 2,
            what: "rename old_name",
            apply: rename_shop,
        }];
        assert_eq!(
            migrate(&db, &steps).expect("migrate"),
            vec!["rename old_name"]
        );
        assert_eq!(format_of(&db).expect("format"), Some(2));
        assert!(db.get(b"Mshop_name").expect("get").is_some());
        assert!(migrate(&db, &steps).expect("again").is_empty(), "runs once");

        // A failing step leaves the version where it was.
        let failing = [Migration {
            to: 3,
            what: "fails",
            apply: fail,
        }];
        assert!(migrate(&db, &failing).is_err());
        assert_eq!(format_of(&db).expect("format"), Some(2));
    }
}
