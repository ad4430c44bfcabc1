//! Rotating card codes on the clock seam: a code stamps in the previous,
//! current and next window and not outside; a second scan of the same code
//! is a replay, refused and journaled (also after the shop is reopened); a
//! rotating-only template refuses the printed code for stamping but finds
//! the card by it; a retried idempotent request gets its stored answer after
//! the code expired; the digits match an independent TOTP (Python's own
//! HMAC, when a Python is at hand: `STAMPCARD_PYTHON` or `python3`).
mod backend;

mod coffee;

use std::sync::Arc;

use chrono::Duration;
use stampcard_core::Shop;
use stampcard_core::clock::{Clock, ManualClock};
use stampcard_core::error::{CoreError, Refusal};
use stampcard_core::model::{Actor, Card, Reward, Role};
use stampcard_core::settings::ShopSettings;
use stampcard_core::shop::{JournalQuery, Lookup, TemplateDraft};
use stampcard_core::store::SledOptions;

const START: &str = "2026-12-03T10:00:05Z";

async fn open(dir: &std::path::Path, clock: Arc<ManualClock>) -> Shop {
    backend::open(
        dir,
        ShopSettings::for_tests(),
        clock,
        SledOptions::default(),
    )
    .await
    .expect("open")
}

fn admin() -> Actor {
    coffee::admin()
}

fn barista() -> Actor {
    Actor::Staff {
        id: 1,
        name: "Mia".into(),
        role: Role::Staff,
    }
}

async fn rotating_card(shop: &Shop) -> Card {
    let mut draft = TemplateDraft::new(
        "Coffee",
        "Shop",
        8,
        Reward::Simple {
            description: "A free coffee".into(),
        },
    );
    draft.rules.rotating_codes = true;
    let t = shop
        .templates()
        .create_template(draft, &admin())
        .await
        .expect("template");
    coffee::card_for(shop, t.id, "Ana").await
}

fn code_at(shop: &Shop, card: &Card, at: chrono::DateTime<chrono::Utc>) -> String {
    stampcard_core::rotating::code(&shop.settings().secret, card.id, card.counter, at)
}

fn refusal(r: Result<impl std::fmt::Debug, CoreError>) -> Refusal {
    match r {
        Err(CoreError::Refused { reason, event_id }) => {
            assert!(event_id > 0, "a refusal is journaled");
            reason
        }
        other => panic!("expected a journaled refusal, got {other:?}"),
    }
}

fn refused_events(shop: &Shop) -> Vec<String> {
    shop.journal()
        .journal(&JournalQuery {
            limit: 1000,
            ..Default::default()
        })
        .expect("journal")
        .into_iter()
        .filter_map(|e| match e.kind {
            stampcard_core::model::EventKind::StampRefused { reason, .. } => Some(reason),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_codes_stamp_once_in_their_windows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = START.parse().expect("time");
    let clock = Arc::new(ManualClock::new(now));
    let shop = open(dir.path(), clock.clone()).await;
    let card = rotating_card(&shop).await;
    let cards = shop.cards();

    // The previous, current and next windows stamp (each once).
    for (n, offset) in [(1, -30i64), (2, 0), (3, 30)] {
        let code = code_at(&shop, &card, now + Duration::seconds(offset));
        assert_eq!(code.len(), 18);
        let o = cards
            .stamp_code(&code, 1, None, &barista())
            .await
            .unwrap_or_else(|e| panic!("window {offset:+}s: {e}"));
        assert_eq!(o.card.stamps, n);
        // Shown again (a screenshot): a replay, refused and journaled.
        assert_eq!(
            refusal(cards.stamp_code(&code, 1, None, &barista()).await),
            Refusal::ReplayedCode
        );
        // … but a search by it still finds the card.
        assert!(matches!(cards.lookup(&code), Ok(Lookup::Card(_))));
        clock.advance(Duration::seconds(30));
    }
    assert_eq!(cards.card(card.id).expect("card").stamps, 3);

    // Two windows away: expired. Far away or another card's: not its code.
    let now = clock.now();
    let old = code_at(&shop, &card, now - Duration::seconds(61));
    assert_eq!(
        refusal(cards.stamp_code(&old, 1, None, &barista()).await),
        Refusal::ExpiredCode
    );
    let ahead = code_at(&shop, &card, now + Duration::seconds(65));
    assert_eq!(
        refusal(cards.stamp_code(&ahead, 1, None, &barista()).await),
        Refusal::ExpiredCode
    );
    let far = code_at(&shop, &card, now - Duration::hours(5));
    assert_eq!(
        refusal(cards.stamp_code(&far, 1, None, &barista()).await),
        Refusal::WrongCode
    );
    let replays = refused_events(&shop);
    assert_eq!(
        replays
            .iter()
            .filter(|r| r.contains("already used"))
            .count(),
        3,
        "{replays:?}"
    );

    // The printed static code: found, but it does not stamp; nor does a
    // member of staff by id (an admin may).
    let printed = cards.card_view(card.id).expect("view").code;
    assert!(matches!(cards.lookup(&printed), Ok(Lookup::Card(_))));
    let e = cards
        .stamp_code(&printed, 1, None, &barista())
        .await
        .expect_err("static code on a rotating-only template");
    assert_eq!(e.code(), "rotating_code_needed", "{e}");
    assert!(e.to_string().contains("live rotating code"), "{e}");
    let e = cards
        .stamp_card(card.id, 1, None, &barista())
        .await
        .expect_err("staff by id");
    assert_eq!(e.code(), "rotating_code_needed");
    assert_eq!(
        cards.card(card.id).expect("card").stamps,
        3,
        "nothing changed"
    );
    cards
        .stamp_card(card.id, 1, None, &admin())
        .await
        .expect("an admin stamps by id");

    // An idempotent request retried after its code expired gets its answer.
    let code = code_at(&shop, &card, clock.now());
    let first = cards
        .stamp_code(&code, 1, Some("till-1-4711"), &barista())
        .await
        .expect("stamp");
    clock.advance(Duration::minutes(3));
    let again = cards
        .stamp_code(&code, 1, Some("till-1-4711"), &barista())
        .await
        .expect("the stored answer");
    assert!(again.replayed);
    assert_eq!(again.card.stamps, first.card.stamps);

    // A replay is refused across a restart: the used window is stored.
    let code = code_at(&shop, &card, clock.now());
    cards
        .stamp_code(&code, 1, None, &barista())
        .await
        .expect("stamp");
    let stamps = cards.card(card.id).expect("card").stamps;
    shop.shutdown().await;
    drop(shop);
    let shop = open(dir.path(), clock.clone()).await;
    assert_eq!(
        refusal(shop.cards().stamp_code(&code, 1, None, &barista()).await),
        Refusal::ReplayedCode
    );
    assert_eq!(shop.cards().card(card.id).expect("card").stamps, stamps);
    shop.shutdown().await;
}

/// Our TOTP digits against an implementation that is not ours: RFC 6238 in
/// a few lines of Python's standard library (hmac, hashlib, struct).
#[test]
fn rotating_code_matches_an_independent_totp() {
    let secret = b"a shop secret of the test";
    let (card, counter) = (100_042u64, 2u32);
    let key = stampcard_core::rotating::secret_hex(secret, card, counter);
    let python = std::env::var("STAMPCARD_PYTHON").unwrap_or_else(|_| "python3".into());
    for t in [
        1_700_000_000i64,
        1_800_000_029,
        1_800_000_030,
        2_000_000_000,
    ] {
        let at = chrono::DateTime::from_timestamp(t, 0).expect("time");
        let ours = stampcard_core::rotating::code(secret, card, counter, at);
        let script = format!(
            "import hmac,hashlib,struct\n\
             key=bytes.fromhex('{key}')\n\
             h=hmac.new(key,struct.pack('>Q',{t}//30),hashlib.sha1).digest()\n\
             o=h[-1]&15\n\
             v=(struct.unpack('>I',h[o:o+4])[0]&0x7fffffff)%10**8\n\
             print('5%09d%08d'%({card},v))"
        );
        let out = std::process::Command::new(&python)
            .args(["-c", &script])
            .output()
            .unwrap_or_else(|e| {
                panic!("{python} is needed for this test (apt install python3): {e}")
            });
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), ours, "t={t}");
    }
}
