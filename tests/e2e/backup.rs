//! Backups and data-format versions.

use crate::Shop;

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
        let db = sled::open(shop.data().join("store")).unwrap();
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
