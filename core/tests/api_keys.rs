//! API keys against the real store: the token is checked by its hash, a
//! forged or malformed one is refused, revocation takes effect at once, and
//! only admins manage keys.
mod backend;

use stampcard_core::error::CoreError;
use stampcard_core::model::{Actor, Role};
use stampcard_core::settings::ShopSettings;
use stampcard_core::store::SledOptions;

#[tokio::test]
async fn keys_authenticate_until_revoked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shop = crate::backend::open(
        dir.path(),
        ShopSettings::for_tests(),
        std::sync::Arc::new(stampcard_core::clock::SystemClock),
        SledOptions::default(),
    )
    .await
    .expect("open");
    let admin = Actor::Cli { user: "t".into() };
    let (key, token) = shop
        .access()
        .create_api_key("pos1", Role::Staff, &admin)
        .await
        .expect("create");
    assert!(token.starts_with(&format!("{}_", key.prefix())));
    assert_eq!(token.len(), key.prefix().len() + 1 + 64, "256 random bits");
    assert!(!key.token_sha256.contains(&token[key.prefix().len() + 1..]));
    match shop.access().authenticate_api_key(&token).expect("valid") {
        Actor::ApiKey { prefix, name, role } => {
            assert_eq!(
                (prefix, name, role),
                (key.prefix(), "pos1".into(), Role::Staff)
            );
        }
        other => panic!("{other:?}"),
    }
    // A staff key cannot make keys; nor can a staff member.
    let as_key = shop.access().authenticate_api_key(&token).expect("valid");
    assert!(matches!(
        shop.access()
            .create_api_key("x", Role::Admin, &as_key)
            .await,
        Err(CoreError::Forbidden(_))
    ));
    // Forged, malformed and empty tokens are refused alike.
    let mut forged = token.clone();
    forged.pop();
    forged.push(if token.ends_with('0') { '1' } else { '0' });
    for bad in [
        forged.as_str(),
        "stc_1",
        "stc_x_abc",
        "",
        "Bearer",
        "stc_99_00",
    ] {
        assert!(
            matches!(
                shop.access().authenticate_api_key(bad),
                Err(CoreError::Unauthenticated(_))
            ),
            "{bad}"
        );
    }
    // Bad names change nothing.
    for bad in ["", "   ", &"n".repeat(65)] {
        assert!(matches!(
            shop.access().create_api_key(bad, Role::Staff, &admin).await,
            Err(CoreError::Invalid(_))
        ));
    }
    assert_eq!(shop.access().api_keys().expect("list").len(), 1);
    // Revocation takes effect at once.
    let revoked = shop
        .access()
        .revoke_api_key(&key.prefix(), &admin)
        .await
        .expect("revoke");
    assert!(revoked.revoked_at.is_some());
    assert!(matches!(
        shop.access().authenticate_api_key(&token),
        Err(CoreError::Unauthenticated(_))
    ));
    assert!(
        shop.access().api_keys().expect("list")[0]
            .revoked_at
            .is_some()
    );
    assert!(matches!(
        shop.access().revoke_api_key("stc_42", &admin).await,
        Err(CoreError::NotFound { .. })
    ));
}
