//! Backups and data-format versions.

use crate::Shop;

/// Opens a store folder with sled directly. sled 0.34 keeps its folder lock
/// for a moment after the last handle is dropped (see the store's
/// `wait_until_released`), so a folder just closed by this test is retried
/// for up to 10 s.
fn open_sled(store: &std::path::Path) -> sled::Db {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match sled::open(store) {
            Ok(db) => return db,
            Err(e) if std::time::Instant::now() < deadline && e.to_string().contains("lock") => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => panic!("cannot open {}: {e}", store.display()),
        }
    }
}

#[test]
fn restored_shop_keeps_printed_codes_valid() {
    let shop = Shop::demo();
    let code = shop.card_code(100001);
    shop.run(&["stamp", &code]).ok();
    let file = shop.path("shop.backup");
    shop.run(&["backup", file.to_str().unwrap()]).ok();
    let restored = Shop::empty();
    restored.run(&["restore", file.to_str().unwrap()]).ok();
    assert_eq!(restored.stamps(100001), 4);
    restored.run(&["stamp", &code]).ok();
    assert_eq!(restored.stamps(100001), 5);
    assert_eq!(restored.event_count(), shop.event_count() + 1);
    // Restoring over an existing folder needs --force.
    let again = restored.run(&["restore", file.to_str().unwrap()]);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
}

#[test]
fn damaged_backups_are_refused() {
    let shop = Shop::demo();
    let file = shop.path("shop.backup");
    shop.run(&["backup", file.to_str().unwrap()]).ok();
    let mut bytes = std::fs::read(&file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&file, bytes).unwrap();
    let target = Shop::empty();
    let out = target.run(&["restore", file.to_str().unwrap()]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("checksum"), "{}", out.stderr);
    assert!(!target.data().exists());
}

#[test]
fn a_data_folder_from_a_newer_format_is_refused() {
    let shop = Shop::demo();
    {
        let db = open_sled(&shop.data().join("store"));
        db.insert(b"Mformat_version", b"99".to_vec()).unwrap();
        db.flush().unwrap();
    }
    let out = shop.run(&["card", "list"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("format version 99") && out.stderr.contains("upgrade"),
        "{}",
        out.stderr
    );
}

/// Format 3's card records and events in format 2's layout: without their
/// leading 8-byte chain link, and an index key per event of a card (`e`
/// card event).
fn as_format_2(records: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    for (k, v) in records {
        match k.first() {
            Some(b'C') => out.push((k, v[8..].to_vec())),
            Some(b'E') => {
                let body = v[8..].to_vec();
                let e: serde_json::Value = serde_json::from_slice(&body).expect("event");
                if let Some(card) = e["card_id"].as_u64() {
                    let mut index = vec![b'e'];
                    index.extend_from_slice(&card.to_be_bytes());
                    index.extend_from_slice(&k[1..9]);
                    out.push((index, Vec::new()));
                }
                out.push((k, body));
            }
            _ => out.push((k, v)),
        }
    }
    out
}

/// Rewrites a format-3 store as format 2 had it.
fn downgrade_to_format_2(store: &std::path::Path) {
    let db = open_sled(store);
    let linked: Vec<(Vec<u8>, Vec<u8>)> = [b'C', b'E']
        .iter()
        .flat_map(|p| db.scan_prefix([*p]))
        .map(|kv| {
            let (k, v) = kv.expect("record");
            (k.to_vec(), v.to_vec())
        })
        .collect();
    for (k, v) in as_format_2(linked) {
        db.insert(k, v).expect("record");
    }
    db.insert(b"Mformat_version", b"2".to_vec())
        .expect("format");
    db.flush().expect("flush");
}

/// Rewrites a backup file (version 2, logical records of data format 3) as
/// format 2's binaries wrote it: a version-1 file (the layout of
/// `src/commands/backup.rs`: header, length-prefixed meta, config, host key
/// and the sled store's raw records, an end mark, the count, and a SHA-256
/// of the rest) holding format 2's records.
fn downgrade_backup_to_format_2(file: &std::path::Path) {
    use sha2::Digest;
    let all = std::fs::read(file).expect("backup");
    let (magic, magic_1) = (b"STAMPCARD-BACKUP 2\n", b"STAMPCARD-BACKUP 1\n");
    assert!(all.starts_with(magic), "a backup of version 2");
    let mut pos = magic.len();
    let mut take = || -> Option<Vec<u8>> {
        let len = u32::from_be_bytes(all[pos..pos + 4].try_into().expect("len"));
        pos += 4;
        if len == u32::MAX {
            return None;
        }
        let v = all[pos..pos + len as usize].to_vec();
        pos += len as usize;
        Some(v)
    };
    let mut meta: serde_json::Value =
        serde_json::from_slice(&take().expect("meta")).expect("meta json");
    assert_eq!(meta["store_format"], 3);
    meta["store_format"] = 2.into();
    let (config, host_key) = (take().expect("config"), take().expect("host key"));
    let mut lines = Vec::new();
    while let Some(line) = take() {
        let record: serde_json::Value = serde_json::from_slice(&line).expect("logical record");
        assert!(record["key"].is_object(), "a key by name: {record}");
        lines.push(line);
    }
    let records = stampcard_core::store::logical::decode_all(lines)
        .expect("records")
        .into_iter()
        .map(|(k, v)| {
            let v = if k == b"Mformat_version" {
                b"2".to_vec()
            } else {
                v
            };
            (k, v)
        })
        .collect();
    let records = as_format_2(records);
    let mut out = magic_1.to_vec();
    let mut put = |b: &[u8]| {
        out.extend_from_slice(&(b.len() as u32).to_be_bytes());
        out.extend_from_slice(b);
    };
    put(meta.to_string().as_bytes());
    put(&config);
    put(&host_key);
    for (k, v) in &records {
        put(k);
        put(v);
    }
    out.extend_from_slice(&u32::MAX.to_be_bytes());
    out.extend_from_slice(&(records.len() as u64).to_be_bytes());
    let digest = sha2::Sha256::digest(&out);
    out.extend_from_slice(&digest);
    std::fs::write(file, out).expect("write");
}

#[test]
fn a_format_2_backup_is_restored_into_format_3_with_every_cards_history() {
    let shop = Shop::demo();
    shop.run(&["stamp", &shop.card_code(100001), "--count", "2"])
        .ok();
    let file = shop.path("old.backup");
    shop.run(&["backup", file.to_str().expect("path")]).ok();
    downgrade_backup_to_format_2(&file);

    let restored = Shop::empty();
    let out = restored
        .run(&["restore", file.to_str().expect("path")])
        .ok();
    assert!(
        out.stderr.contains("each card's journal linked"),
        "{}",
        out.stderr
    );
    for card in ["100001", "100002"] {
        let history = |s: &Shop| s.json(&["journal", "--card", card, "--limit", "1000"]);
        assert_eq!(history(&restored), history(&shop), "card {card}");
        assert_eq!(
            restored.json(&["card", "show", card]),
            shop.json(&["card", "show", card])
        );
    }
    // The restored shop stamps on, and the chain goes on.
    let stamped = restored.json(&["stamp", &shop.card_code(100001)]);
    let newest = restored.json(&["journal", "--card", "100001", "--limit", "1"]);
    assert_eq!(newest[0]["id"], stamped["event_ids"][0], "{newest}");
}

#[test]
fn a_format_2_folder_is_upgraded_and_keeps_every_cards_history() {
    let shop = Shop::demo();
    let card = "100001";
    shop.run(&["stamp", &shop.card_code(100001), "--count", "2"])
        .ok();
    // Newest first, or oldest first after an id.
    let history = |limit: &str, after: Option<&str>| {
        let mut all = vec!["--json", "journal", "--card", card, "--limit", limit];
        if let Some(a) = after {
            all.extend_from_slice(&["--after", a]);
        }
        shop.run(&all)
    };
    let read = || {
        (
            history("1000", None).ok().json(),
            history("2", None).ok().json(),
            history("2", Some("0")).ok().json(),
            shop.json(&["card", "show", card]),
        )
    };
    let before = read();
    let count = before.0.as_array().map_or(0, |a| a.len());
    assert!(count >= 3, "{}", before.0);

    downgrade_to_format_2(&shop.data().join("store"));
    let upgraded = history("1", None).ok();
    assert!(
        upgraded.stderr.contains("from version 2 to 3"),
        "{}",
        upgraded.stderr
    );
    assert_eq!(
        read(),
        before,
        "the same history and card after the upgrade"
    );
    // The chain goes on from where the old index ended.
    let stamped = shop.json(&["stamp", &shop.card_code(100001)]);
    let all = history("1000", None).ok().json();
    assert_eq!(all[0]["id"], stamped["event_ids"][0], "{all} {stamped}");
    assert_eq!(all.as_array().map(|a| a.len()), Some(count + 1));
}

/// Rewrites a format-3 store as format 1 had it: format 2's layout, and
/// each campaign batch record back into an index key per entry (`q`) and a
/// touch key per customer (`t`, unix ms × 1,000,000 + campaign).
fn downgrade_to_format_1(store: &std::path::Path) {
    downgrade_to_format_2(store);
    let db = open_sled(store);
    let id = |k: &[u8], at: usize| u64::from_be_bytes(k[at..at + 8].try_into().expect("id"));
    let key = |p: u8, a: u64, b: u64| {
        let mut k = vec![p];
        k.extend_from_slice(&a.to_be_bytes());
        k.extend_from_slice(&b.to_be_bytes());
        k
    };
    for kv in db.scan_prefix([b'Q']) {
        let (k, v) = kv.expect("batch");
        let campaign = id(&k, 1);
        let b: serde_json::Value = serde_json::from_slice(&v).expect("json");
        let ms = chrono::DateTime::parse_from_rfc3339(b["at"].as_str().expect("at"))
            .expect("time")
            .timestamp_millis() as u64;
        for e in b["entries"].as_array().expect("entries") {
            let e = e.as_u64().expect("entry");
            db.insert(key(b'q', campaign, e), e.to_be_bytes().to_vec())
                .expect("q");
        }
        for cu in b["customers"].as_array().expect("customers") {
            let touch = ms * 1_000_000 + campaign;
            db.insert(
                key(b't', cu.as_u64().expect("customer"), touch),
                campaign.to_be_bytes().to_vec(),
            )
            .expect("t");
        }
        db.remove(k).expect("remove");
    }
    db.insert(b"Mformat_version", b"1".to_vec())
        .expect("format");
    db.flush().expect("flush");
}

#[test]
fn a_format_1_folder_is_upgraded_and_keeps_its_campaign_deliveries_and_touches() {
    let shop = Shop::demo();
    let env = [
        ("STAMPCARD_OUTBOX__LOG_FILE", "messages.log"),
        ("STAMPCARD_CAMPAIGNS__FREQUENCY_CAP", "1"),
    ];
    let run = |args: &[&str]| {
        let out = shop.command(args).envs(env).output().expect("run");
        crate::Run::from(out)
    };
    let json = |args: &[&str]| {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        run(&all).ok().json()
    };
    let create = |text: &str| {
        json(&[
            "campaign",
            "create",
            "--template",
            "1",
            "--segment",
            "all",
            "--channels",
            "log",
            "--text",
            text,
        ])["campaign"]["id"]
            .to_string()
    };
    let first = create("Soup is back.");
    let sent = json(&["campaign", "send", &first]);
    let recipients = sent["recipients"].as_u64().expect("recipients");
    assert!(recipients > 0, "{sent}");
    let before = json(&["campaign", "show", &first, "--recipients"]);

    downgrade_to_format_1(&shop.data().join("store"));
    let upgraded = run(&["--json", "campaign", "show", &first, "--recipients"]).ok();
    assert!(
        upgraded.stderr.contains("from version 1 to 3"),
        "{}",
        upgraded.stderr
    );
    assert_eq!(
        upgraded.json(),
        before,
        "the same deliveries after the upgrade"
    );
    // The touches came along: with a cap of one message per week, a second
    // campaign reaches nobody the first one reached.
    let second = create("Bread too.");
    let capped = json(&["campaign", "send", &second]);
    assert_eq!(capped["recipients"], 0, "{capped}");
    assert_eq!(capped["capped"].as_u64(), Some(recipients), "{capped}");
}

#[test]
fn a_backup_taken_through_the_server_while_stamping_is_consistent() {
    let shop = Shop::demo();
    let (card, code) = shop.new_card(2, "Backup Tester");
    let server = shop.serve(&[("STAMPCARD_BACKUP__EVERY_HOURS", "0")]);
    let stamper = crate::Stamper::start(&shop, std::slice::from_ref(&code));
    std::thread::sleep(std::time::Duration::from_millis(300));
    let file = shop.path("live.backup");
    let out = shop.json(&["backup", "live.backup"]);
    assert!(out["records"].as_u64().unwrap_or(0) > 0);
    let stamped = stamper.stop();
    assert!(stamped > 0);
    server.stop();

    let restored = Shop::empty();
    restored.run(&["restore", file.to_str().unwrap()]).ok();
    // The snapshot is consistent: the card's state agrees with its journal.
    let events = restored.json(&[
        "journal",
        "--card",
        &card.to_string(),
        "--type",
        "stamp_added",
        "--limit",
        "100000",
    ]);
    let in_journal = events.as_array().map(|a| a.len()).unwrap_or(0) as u64;
    let card_view = restored.json(&["card", "show", &card.to_string()]);
    let of = card_view["progress"]["of"].as_u64().unwrap_or(1);
    assert_eq!(
        card_view["progress"]["stamps"].as_u64().unwrap_or(0),
        in_journal % of
    );
    assert!(in_journal <= stamped as u64);
    // Printed codes still work in the restored shop.
    restored.run(&["stamp", &code]).ok();
    restored.run(&["stamp", &shop.card_code(100001)]).ok();
}

#[test]
fn scheduled_backups_run_at_start_when_due_and_keep_the_newest() {
    let shop = Shop::demo();
    let dir = shop.data().join("backups");
    std::fs::create_dir_all(&dir).unwrap();
    for old in ["20200101-000000", "20200102-000000", "20200103-000000"] {
        std::fs::write(dir.join(format!("stampcard-{old}.backup")), b"old").unwrap();
    }
    let server = shop.serve(&[("STAMPCARD_BACKUP__KEEP", "2")]);
    let backups = || {
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.ends_with(".backup"))
            .collect();
        names.sort();
        names
    };
    let names = stampcard_e2e::wait::until(
        std::time::Duration::from_secs(60),
        || Some(backups()).filter(|n| n.len() == 2 && !n[1].starts_with("stampcard-2020")),
        || format!("no scheduled backup: {:?}", backups()),
    );
    server.stop();
    assert_eq!(names[0], "stampcard-20200103-000000.backup", "{names:?}");
    let restored = Shop::empty();
    restored
        .run(&["restore", dir.join(&names[1]).to_str().unwrap()])
        .ok();
    restored.run(&["stamp", &shop.card_code(100001)]).ok();
}

#[test]
fn backups_written_by_older_versions_restore_with_their_history_and_codes() {
    for format in [1, 2] {
        let facts: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(crate::fixture(&format!("shops/format-{format}.json")))
                .expect("facts"),
        )
        .expect("facts JSON");
        let shop = Shop::empty();
        let file = crate::fixture(&format!("shops/format-{format}.backup"));
        let out = shop.run(&["restore", file.to_str().expect("path")]).ok();
        assert!(
            out.stderr.contains("Upgraded the restored records"),
            "format {format}: {}",
            out.stderr
        );
        let card = facts["card"].to_string();
        let history: Vec<(u64, String)> = shop
            .json(&["journal", "--card", &card, "--limit", "100"])
            .as_array()
            .expect("history")
            .iter()
            .map(|e| {
                (
                    e["id"].as_u64().unwrap_or(0),
                    e["type"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let expected: Vec<(u64, String)> = facts["history"]
            .as_array()
            .expect("facts history")
            .iter()
            .map(|e| {
                (
                    e[0].as_u64().unwrap_or(0),
                    e[1].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        assert_eq!(history, expected, "format {format}: the card's history");
        assert_eq!(
            shop.stamps(facts["card"].as_u64().expect("card")),
            facts["stamps"].as_u64().expect("stamps"),
            "format {format}"
        );
        let campaign = shop.json(&["campaign", "show", &facts["campaign"].to_string()]);
        assert_eq!(
            campaign["status"]["campaign"]["recipients"], facts["campaign_recipients"],
            "format {format}: {campaign}"
        );
        assert_eq!(
            campaign["status"]["deliveries"]["log"]["queued"], facts["campaign_recipients"],
            "format {format}: every planned message is still there: {campaign}"
        );
        // The code printed by the old version still stamps, and the chain
        // goes on from the restored history.
        let code = facts["card_code"].as_str().expect("code");
        let stamped = shop.json(&["stamp", code]);
        let newest = shop.json(&["journal", "--card", &card, "--limit", "1"]);
        assert_eq!(newest[0]["id"], stamped["event_ids"][0], "format {format}");
    }
}
