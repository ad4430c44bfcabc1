//! The sled store across restarts and crash leftovers.

use stampcard_core::store::{Key, Mutation, Record, SledOptions, SledStore, Store};

#[tokio::test]
async fn an_unfinished_snapshot_left_by_a_crash_does_not_stop_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = SledStore::open(dir.path(), SledOptions::default()).expect("open");
        let mut m = Mutation::new();
        m.put(
            Key::Meta("probe".into()),
            Record::Meta(serde_json::json!(42)),
        );
        store.commit(m).await.expect("commit");
        store.close();
    }
    // What a SIGKILL during sled's snapshot write leaves: an empty `.generating`
    // file whose name sorts after every finished snapshot.
    std::fs::write(dir.path().join("snap.FFFFFFFFFFFFFFFF.generating"), b"").expect("write");
    // Plain sled refuses to open such a folder …
    assert!(
        sled::open(dir.path()).is_err(),
        "sled 0.34.7 trips over the leftover"
    );
    // … our store removes the leftover and opens with every record intact.
    let store = SledStore::open(dir.path(), SledOptions::default()).expect("reopen");
    assert_eq!(
        store.get(&Key::Meta("probe".into())).expect("get"),
        Some(Record::Meta(serde_json::json!(42)))
    );
    assert!(!dir.path().join("snap.FFFFFFFFFFFFFFFF.generating").exists());
}
