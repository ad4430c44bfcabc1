//! Screen tests: the console app driven with keys against a real shop (sled,
//! actors), rendered into ratatui's `TestBackend` and read back as text.

use std::sync::Arc;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use stampcard_core::Shop;
use stampcard_core::clock::{Clock, ManualClock};
use stampcard_core::model::{Actor, CustomerFields, Reward, Role};
use stampcard_core::settings::ShopSettings;
use stampcard_core::shop::{IssueCard, TemplateDraft};
use stampcard_core::store::SledOptions;
use stampcard_tui::app::{App, Msg};
use stampcard_tui::keys::Key;

struct Console {
    shop: Shop,
    clock: Arc<ManualClock>,
    app: App,
    term: Terminal<TestBackend>,
    _dir: tempfile::TempDir,
}

/// A shop with a 3-stamp card template, staff "Ines" (PIN 2468) and two cards.
async fn console() -> (Console, Vec<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(
        "2026-05-04T09:00:00Z".parse().expect("time"),
    ));
    let shop = Shop::open(
        dir.path(),
        ShopSettings::for_tests(),
        clock.clone(),
        SledOptions::default(),
    )
    .await
    .expect("open");
    let admin = Actor::Cli {
        user: "test".into(),
    };
    let t = shop
        .templates()
        .create_template(
            TemplateDraft::new(
                "Tea card",
                "Leaf & Kettle",
                3,
                Reward::Voucher {
                    description: "A pot of tea".into(),
                    valid_days: 30,
                },
            ),
            &admin,
        )
        .await
        .expect("template");
    shop.access()
        .add_staff("Ines", Role::Staff, "2468", &admin)
        .await
        .expect("staff");
    shop.access()
        .add_staff("Olu", Role::Admin, "1357", &admin)
        .await
        .expect("admin");
    let mut codes = Vec::new();
    for name in ["Noor Haddad", "Bram Visser"] {
        let fields = CustomerFields {
            name: name.into(),
            phone: Some(format!("+31 6 5555 01{:02}", codes.len())),
            ..Default::default()
        };
        let card = shop
            .cards()
            .issue_card(t.id, IssueCard::New(fields), None, None, &admin)
            .await
            .expect("card");
        codes.push(shop.cards().card_code(&card));
    }
    let app = App::for_shop(&shop);
    let term = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    (
        Console {
            shop,
            clock,
            app,
            term,
            _dir: dir,
        },
        codes,
    )
}

impl Console {
    /// Presses a key and runs the effects it causes, as the session does.
    async fn key(&mut self, key: Key) {
        let mut effects = self.app.update(Msg::Key(key));
        while let Some(effect) = effects.pop() {
            let actor = self
                .app
                .signed_in
                .as_ref()
                .map(|s| s.actor.clone())
                .unwrap_or_else(|| Actor::channel("console"));
            let outcome = stampcard_tui::effects::perform(&self.shop, &actor, effect).await;
            effects.extend(self.app.update(Msg::Done(outcome)));
        }
    }

    /// Types text; `\n` is Enter.
    async fn typed(&mut self, text: &str) {
        for c in text.chars() {
            self.key(if c == '\n' { Key::Enter } else { Key::Char(c) })
                .await;
        }
    }

    /// The screen as text.
    fn screen(&mut self) -> String {
        let app = &self.app;
        self.term
            .draw(|f| stampcard_tui::view::draw(app, f))
            .expect("draw");
        let buf = self.term.backend().buffer().clone();
        let mut out = String::new();
        for y in 0..buf.area.height {
            for x in 0..buf.area.width {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }

    /// Delivers a journal change, as the session does when events commit.
    async fn journal_changed(&mut self) {
        let mut effects = self.app.update(Msg::JournalChanged);
        while let Some(effect) = effects.pop() {
            let actor = Actor::channel("console");
            let outcome = stampcard_tui::effects::perform(&self.shop, &actor, effect).await;
            effects.extend(self.app.update(Msg::Done(outcome)));
        }
    }

    /// Saves the shop's template anew with fresh anti-fraud rules, set by `set`.
    async fn rules(&self, set: impl FnOnce(&mut stampcard_core::model::FraudRules)) {
        let current = self.shop.templates().templates()[0].clone();
        let mut draft = stampcard_core::shop::TemplateDraft::new(
            &current.name,
            &current.business_name,
            current.stamps_required,
            current.reward.clone(),
        );
        set(&mut draft.rules);
        self.shop
            .templates()
            .edit_template(current.id, draft, &Actor::channel("system"))
            .await
            .expect("template saved");
    }

    /// Shows the card a search for `name` finds (`shown`, its heading), then
    /// scans `code`, which the shop refuses: the scanned card (`scanned`)
    /// takes the shown one's place, with the refusal. Returns the screen.
    async fn refused_over(&mut self, name: &str, shown: &str, code: &str, scanned: &str) -> String {
        self.typed(&format!("{name}\n")).await;
        assert!(self.screen().contains(shown), "{}", self.screen());
        self.typed(&format!("{code}\n")).await;
        let screen = self.screen();
        assert!(screen.contains(scanned) && screen.contains("✗"), "{screen}");
        assert!(!screen.contains(shown), "{screen}");
        screen
    }

    fn tick(&mut self, secs: i64) {
        self.clock.advance(chrono::Duration::seconds(secs));
        self.app.update(Msg::Tick(self.clock.now()));
    }
}

/// Masks what changes between runs: long digit runs (codes), card link
/// tokens (as long as the token they stand for) and times.
fn masked(screen: &str) -> String {
    let codes = regex::Regex::new(r"\d{12,}").expect("regex");
    let times = regex::Regex::new(r"\d\d:\d\d:\d\d").expect("regex");
    let links = regex::Regex::new(r"/c/\d+-[0-9a-f]{32}").expect("regex");
    let screen = links.replace_all(screen, "/c/<link-token-with-card-id>");
    times
        .replace_all(&codes.replace_all(&screen, "<code>"), "hh:mm:ss")
        .into_owned()
}

#[tokio::test]
async fn the_console_opens_locked_and_signs_staff_in_by_pin() {
    let (mut c, _) = console().await;
    assert!(c.screen().contains("The console is locked."));
    c.typed("1111\n").await;
    assert!(c.screen().contains("Wrong PIN."));
    c.tick(1);
    c.typed("2468").await;
    assert!(c.screen().contains("PIN: ••••"), "the PIN is masked");
    c.typed("\n").await;
    let screen = c.screen();
    assert!(screen.contains("Scanner │ ines (staff)"), "{screen}");
    c.key(Key::F(12)).await;
    assert!(c.screen().contains("The console is locked."), "F12 locks");
}

#[tokio::test]
async fn the_scanner_stamps_alerts_on_the_goal_and_undoes() {
    let (mut c, codes) = console().await;
    c.typed("2468\n").await;
    c.typed(&format!("{}\n", codes[0])).await;
    assert!(c.screen().contains("1/3 stamps"), "{}", c.screen());
    c.typed("+").await;
    c.typed("+").await;
    let screen = c.screen();
    assert!(
        screen.contains("GOAL REACHED — Noor Haddad: A pot of tea"),
        "{screen}"
    );
    insta::assert_snapshot!("scanner_goal", masked(&screen));
    // Undo reverses the goal stamp: back to 2/3, the voucher voided.
    c.typed("u").await;
    let screen = c.screen();
    assert!(
        screen.contains("Undone.") && screen.contains("2/3 stamps"),
        "{screen}"
    );
    assert!(!screen.contains("Voucher: A pot of tea"), "{screen}");
    c.typed("u").await;
    assert!(c.screen().contains("Nothing to undo."));
    // Refusals are shown plainly; a name finds the card.
    c.typed("1000000000000000001\n").await;
    assert!(c.screen().contains("✗"), "{}", c.screen());
    c.typed("Bram\n").await;
    assert!(c.screen().contains("Card 100002"), "{}", c.screen());
}

#[tokio::test]
async fn a_refused_scan_shows_the_scanned_card_and_says_why_in_full() {
    let (mut c, codes) = console().await;
    c.rules(|r| r.rotating_codes = true).await;
    c.typed("2468\n").await;
    // Noor's card is shown (found by name); then Bram's printed code: his
    // card is the one shown now, so `+` cannot stamp Noor's.
    let screen = c
        .refused_over("Noor", "Card 100001", &codes[1], "Card 100002")
        .await;
    assert!(screen.contains("Bram Visser"), "{screen}");
    // The whole message fits at 80 columns: it wraps instead of being cut.
    let message: String = screen
        .lines()
        .filter(|l| l.starts_with('│') && !l.contains('┌'))
        .map(|l| l.trim_matches(|ch: char| ch == '│' || ch == ' '))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        message.contains("stamps only with its live rotating code")
            && message.contains("and scan that"),
        "{screen}"
    );
    // Staff cannot stamp it by id either; nothing was added.
    c.typed("+").await;
    assert!(c.screen().contains("✗"), "{}", c.screen());
    assert_eq!(c.shop.cards().card(100_002).expect("card").stamps, 0);
    assert_eq!(c.shop.cards().card(100_001).expect("card").stamps, 0);
    // Autopilot logs the refusal with whose card it was.
    c.key(Key::F(3)).await;
    c.typed(&format!("{}\n", codes[0])).await;
    let screen = c.screen();
    assert!(
        screen.contains("Noor Haddad — Tea card: card 100001 stamps only"),
        "{screen}"
    );
    // Any refused scan shows the scanned card: here a daily cap of one.
    c.rules(|r| r.daily_cap = 1).await;
    c.key(Key::F(2)).await;
    c.typed(&format!("{}\n", codes[0])).await;
    assert!(c.screen().contains("1/3 stamps"), "{}", c.screen());
    c.refused_over("Bram", "Card 100002", &codes[0], "Card 100001")
        .await;
}

#[tokio::test]
async fn autopilot_counts_scans_and_refuses_a_double_scan() {
    let (mut c, codes) = console().await;
    c.typed("2468\n").await;
    c.key(Key::F(3)).await;
    c.typed(&format!("{}\n", codes[0])).await;
    c.typed(&format!("{}\n", codes[1])).await;
    c.typed(&format!("{}\n", codes[1])).await; // the scanner fired twice
    let screen = c.screen();
    assert!(screen.contains("Autopilot: 2 stamp(s) added"), "{screen}");
    assert!(screen.contains("double scan — not counted"), "{screen}");
    c.tick(3);
    c.typed(&format!("{}\n", codes[1])).await;
    let screen = c.screen();
    assert!(screen.contains("Autopilot: 3 stamp(s) added"), "{screen}");
    assert!(screen.contains("Bram Visser — Tea card 2/3"), "{screen}");
    insta::assert_snapshot!("autopilot", masked(&screen));
}

#[tokio::test]
async fn the_kiosk_shows_cards_confirms_redeems_and_needs_a_pin_to_leave() {
    let (mut c, codes) = console().await;
    c.typed("2468\n").await;
    c.typed(&format!("{}\n++", codes[0])).await; // goal: a voucher
    let voucher = c
        .app
        .card
        .as_ref()
        .and_then(|card| card.vouchers.first())
        .map(|v| v.code.clone())
        .expect("a voucher");
    c.key(Key::F(4)).await;
    assert!(c.screen().contains("S c a n   y o u r   c a r d"));
    c.typed(&format!("{}\n", codes[0])).await;
    let screen = c.screen();
    assert!(screen.contains("Hello, Noor Haddad!"), "{screen}");
    assert!(screen.contains("Voucher: A pot of tea"), "{screen}");
    // Back to idle after a while; looking does not stamp.
    c.tick(8);
    assert!(c.screen().contains("S c a n   y o u r   c a r d"));
    assert_eq!(c.shop.cards().card(100_001).expect("card").stamps, 0);
    // A voucher needs the customer's confirm.
    c.typed(&format!("{voucher}\n")).await;
    assert!(
        c.screen().contains("R e d e e m   t h i s"),
        "{}",
        c.screen()
    );
    c.key(Key::Esc).await;
    c.typed(&format!("{voucher}\n")).await;
    c.key(Key::Enter).await;
    let redeemed = c.shop.cards().lookup(&voucher);
    assert!(
        matches!(redeemed, Ok(stampcard_core::shop::Lookup::Voucher(ref v, _)) if v.state != stampcard_core::model::VoucherState::Active),
        "{redeemed:?}"
    );
    // Leaving takes a staff PIN.
    c.key(Key::F(2)).await;
    assert!(c.screen().contains("Staff PIN to leave the kiosk"));
    c.typed("9999\n").await;
    assert!(c.screen().contains("Wrong PIN."));
    c.tick(1);
    c.typed("2468\n").await;
    assert!(
        c.screen().contains("Scanner │ ines (staff)"),
        "{}",
        c.screen()
    );
}

#[tokio::test]
async fn admin_screens_need_an_admin_pin_and_the_journal_updates_live() {
    let (mut c, codes) = console().await;
    c.typed("2468\n").await;
    c.key(Key::F(5)).await;
    assert!(c.screen().contains("The admin screens need an admin PIN."));
    c.typed("2468\n").await;
    assert!(
        c.screen().contains("That is not an admin PIN."),
        "staff cannot open admin screens"
    );
    c.typed("1357\n").await;
    let screen = c.screen();
    assert!(screen.contains("Admin │ olu (admin)"), "{screen}");
    assert!(screen.contains("card_issued"), "{screen}");
    // A stamp at another counter appears at once.
    let staff = Actor::channel("another counter");
    c.shop
        .cards()
        .stamp_code(&codes[1], 1, None, &staff)
        .await
        .expect("stamp");
    c.journal_changed().await;
    let screen = c.screen();
    assert!(
        screen.contains("stamp_added") && screen.contains("Bram Visser"),
        "{screen}"
    );
    // The selection stays on its row as events arrive; g goes to the newest.
    c.typed("g").await;
    // Reverse it (the newest row) with a reason.
    c.typed("r").await;
    assert!(c.screen().contains("Reverse event"));
    c.typed("double scan\n").await;
    let screen = c.screen();
    assert!(
        screen.contains("✓ Event") && screen.contains("reversed."),
        "{screen}"
    );
    assert_eq!(c.shop.cards().card(100_002).expect("card").stamps, 0);
    // The customer view of a row.
    c.key(Key::Down).await;
    c.key(Key::Enter).await;
    assert!(c.screen().contains("Web card"), "{}", c.screen());
    c.key(Key::Esc).await;
}

#[tokio::test]
async fn customers_and_cards_search_and_details() {
    let (mut c, _) = console().await;
    c.typed("1357\n").await;
    c.key(Key::F(5)).await;
    c.typed("2").await;
    let screen = c.screen();
    assert!(
        screen.contains("Noor Haddad") && screen.contains("Bram Visser"),
        "{screen}"
    );
    c.typed("/Bram\n").await;
    let screen = c.screen();
    assert!(screen.contains("Search: Bram"), "{screen}");
    assert!(!screen.contains("Noor Haddad"), "{screen}");
    assert!(
        screen.contains("Card 100002 — Tea card"),
        "details panel: {screen}"
    );
    insta::assert_snapshot!("customers_search", masked(&screen));
}

#[tokio::test]
async fn new_card_for_a_walk_in_shows_its_qr() {
    let (mut c, _) = console().await;
    c.term = Terminal::new(TestBackend::new(120, 60)).expect("terminal");
    c.typed("2468\n").await;
    c.key(Key::F(6)).await;
    assert!(c.screen().contains("New card"));
    c.typed("Wu Mei\n").await;
    let screen = c.screen();
    assert!(screen.contains("New card 100003 for Wu Mei"), "{screen}");
    assert!(screen.contains("scan with a phone"), "{screen}");
    assert!(
        screen.contains('▀') || screen.contains('▄'),
        "a QR code: {screen}"
    );
    let card = c.shop.cards().card(100_003).expect("issued");
    assert_eq!(
        c.shop
            .customers()
            .customer(card.customer_id)
            .expect("customer")
            .name,
        "Wu Mei"
    );
    // Any key closes the QR; the card stays, ready for its first stamp.
    c.key(Key::Esc).await;
    c.typed("+").await;
    assert!(c.screen().contains("1/3 stamps"), "{}", c.screen());
}

#[tokio::test]
async fn staff_and_templates_tabs() {
    let (mut c, _) = console().await;
    c.typed("1357\n").await;
    c.key(Key::F(5)).await;
    c.typed("1").await;
    let screen = c.screen();
    assert!(
        screen.contains("Tea card") && screen.contains("Editing makes version 2"),
        "{screen}"
    );
    c.typed("7").await;
    let screen = c.screen();
    assert!(
        screen.contains("Ines") && screen.contains("Olu"),
        "{screen}"
    );
    c.typed("d").await;
    assert!(c.screen().contains("Disable staff 1"), "{}", c.screen());
    c.typed("y").await;
    assert!(c.screen().contains("disabled"), "{}", c.screen());
    assert!(
        c.shop.access().sign_in("2468").expect("sign in").is_none(),
        "Ines can no longer sign in"
    );
}

#[tokio::test]
async fn analytics_tab_charts_the_last_two_weeks() {
    let (mut c, codes) = console().await;
    c.typed("2468\n").await;
    c.typed(&format!("{}\n++", codes[0])).await; // 3 stamps, a voucher
    c.key(Key::F(12)).await;
    c.typed("1357\n").await;
    c.key(Key::F(5)).await;
    c.typed("6").await;
    let screen = c.screen();
    assert!(screen.contains("Stamps per day, last 14 days"), "{screen}");
    assert!(screen.contains("Rewards issued 1, redeemed 0"), "{screen}");
    assert!(screen.contains("Ines 3"), "{screen}");
}

#[tokio::test]
async fn card_actions_from_the_customers_tab() {
    let (mut c, codes) = console().await;
    c.typed("1357\n").await;
    c.typed(&format!("{}\n", codes[0])).await;
    c.key(Key::F(5)).await;
    c.typed("2").await;
    c.typed("h").await;
    let screen = c.screen();
    assert!(
        screen.contains("History of card 100001") && screen.contains("stamp_added"),
        "{screen}"
    );
    c.key(Key::Esc).await;
    c.typed("c").await;
    c.typed("Free cookie\n").await;
    assert!(
        c.screen().contains("Coupon \"Free cookie\" issued"),
        "{}",
        c.screen()
    );
    assert!(
        c.shop
            .cards()
            .card_view(100_001)
            .expect("view")
            .vouchers
            .iter()
            .any(|v| v.description == "Free cookie")
    );
    // It went the campaign path: a one-card campaign in the Campaigns tab.
    c.typed("4").await;
    let screen = c.screen();
    assert!(screen.contains("Card 100001 coupon"), "{screen}");
    c.typed("2").await;
    // Destructive actions ask first; anything but y cancels.
    c.typed("R").await;
    assert!(c.screen().contains("Reissue card 100001?"));
    c.typed("n").await;
    assert_eq!(c.shop.cards().card(100_001).expect("card").counter, 0);
    c.typed("Ry").await;
    assert_eq!(c.shop.cards().card(100_001).expect("card").counter, 1);
    c.typed("Xy").await;
    assert!(c.shop.cards().card(100_001).expect("card").deleted);
    let screen = c.screen();
    assert!(
        screen.contains("Card 100001 deleted.") && !screen.contains("Noor Haddad"),
        "{screen}"
    );
}

#[tokio::test]
async fn codes_tab_generates_receipt_codes_and_pos_keys() {
    let (mut c, codes) = console().await;
    c.term = Terminal::new(TestBackend::new(120, 60)).expect("terminal");
    c.typed("1357\n").await;
    c.key(Key::F(5)).await;
    c.typed("5").await;
    assert!(
        c.screen().contains("Template: Tea card (#1)"),
        "{}",
        c.screen()
    );
    c.typed("g").await;
    c.typed("3\n").await;
    let screen = c.screen();
    assert!(screen.contains("3 receipt codes made"), "{screen}");
    let batch = c.app.admin.codes.batch.clone();
    assert_eq!(batch.len(), 3);
    // A generated code really adds a stamp, once.
    c.shop
        .cards()
        .claim_receipt(&batch[0], 100_001, &Actor::channel("test"))
        .await
        .expect("claim");
    assert!(
        c.shop
            .cards()
            .claim_receipt(&batch[0], 100_002, &Actor::channel("test"))
            .await
            .is_err()
    );
    let _ = codes;
    c.key(Key::Enter).await;
    let screen = c.screen();
    assert!(
        screen.contains(&batch[0]) && screen.contains('▀'),
        "QR of the code: {screen}"
    );
    c.key(Key::Esc).await;
    c.typed("p").await;
    c.typed("till 1\n").await;
    let screen = c.screen();
    assert!(screen.contains("POS key 1 \"till 1\": secret"), "{screen}");
    // Bad input changes nothing: zero codes is refused.
    c.typed("g0\n").await;
    assert!(c.screen().contains("✗"), "{}", c.screen());
    assert_eq!(c.app.admin.codes.batch, batch);
}

#[tokio::test]
async fn journal_filters_by_who_template_day_and_type() {
    let (mut c, codes) = console().await;
    c.typed("2468\n").await;
    c.typed(&format!("{}\n", codes[1])).await; // Ines stamps Bram's card
    c.key(Key::F(12)).await;
    c.typed("1357\n").await;
    c.key(Key::F(5)).await;
    c.typed("/who:ines\n").await;
    let screen = c.screen();
    assert!(
        screen.contains("[who:ines]") && screen.contains("stamp_added"),
        "{screen}"
    );
    assert!(!screen.contains("card_issued"), "{screen}");
    c.typed("/").await;
    c.key(Key::Ctrl('u')).await;
    c.typed("tpl:1 day:2026-05-04 type:card_issued\n").await;
    let screen = c.screen();
    assert!(
        screen.contains("card_issued") && !screen.contains("stamp_added"),
        "{screen}"
    );
    c.typed("/day:2026-05-05\n").await; // edits the filter: the later day wins
    let screen = c.screen();
    assert!(
        screen.contains("day:2026-05-05") && !screen.contains("Noor"),
        "another day: nothing: {screen}"
    );
    // Bad filters are refused with a reason; the old one stays.
    c.typed("/day:yesterday\n").await;
    let screen = c.screen();
    assert!(
        screen.contains("is not a date") && screen.contains("day:2026-05-05]"),
        "{screen}"
    );
    // Empty clears.
    c.typed("/").await;
    c.key(Key::Ctrl('u')).await;
    c.key(Key::Enter).await;
    assert!(c.screen().contains("card_issued"), "{}", c.screen());
}

#[tokio::test]
async fn customers_are_merged_from_the_cards_tab() {
    let (mut c, _) = console().await;
    c.typed("1357\n").await;
    c.key(Key::F(5)).await;
    c.typed("2").await;
    c.key(Key::Down).await; // Bram's card
    c.typed("Mabc\n").await;
    assert!(
        c.screen().contains("no other customer matches 'abc'"),
        "{}",
        c.screen()
    );
    let noor = c.shop.cards().card(100_001).expect("card").customer_id;
    c.typed(&format!("M{noor}\n")).await;
    assert!(
        c.screen().contains("merged into customer"),
        "{}",
        c.screen()
    );
    assert_eq!(
        c.shop.cards().card(100_002).expect("card").customer_id,
        noor
    );
}

#[tokio::test]
async fn staff_are_added_from_the_console() {
    let (mut c, _) = console().await;
    c.typed("1357\n").await;
    c.key(Key::F(5)).await;
    c.typed("7").await;
    c.typed("aMia Janssen 4821\n").await;
    assert!(c.screen().contains("Mia Janssen"), "{}", c.screen());
    assert_eq!(
        c.shop
            .access()
            .sign_in("4821")
            .expect("pin")
            .map(|s| s.name)
            .as_deref(),
        Some("Mia Janssen")
    );
    // A taken PIN and a malformed key are refused; nothing changes.
    c.typed("aLeo 4821\n").await;
    assert!(c.screen().contains("PIN is taken"), "{}", c.screen());
    c.typed("Knot a key\n").await;
    assert!(
        c.screen().contains("SSH public key looks like"),
        "{}",
        c.screen()
    );
    assert_eq!(c.shop.access().staff().expect("staff").len(), 3);
}

#[tokio::test]
async fn the_mouse_picks_tabs_and_rows() {
    use stampcard_tui::keys::Mouse;
    let (mut c, _) = console().await;
    c.typed("1357\n").await;
    c.key(Key::F(5)).await;
    let screen_area = ratatui::layout::Rect::new(0, 0, 80, 24);
    let click = async |c: &mut Console, m: Mouse| {
        let mut effects = c.app.update(Msg::Mouse(m, screen_area));
        while let Some(e) = effects.pop() {
            let actor = c
                .app
                .signed_in
                .as_ref()
                .map(|s| s.actor.clone())
                .unwrap_or_else(|| Actor::channel("t"));
            let outcome = stampcard_tui::effects::perform(&c.shop, &actor, e).await;
            effects.extend(c.app.update(Msg::Done(outcome)));
        }
    };
    // Screen row 0 is the header, row 1 the menu border, then the tabs.
    click(&mut c, Mouse::Click(3, 3)).await; // "2 Customers"
    assert!(c.screen().contains(" Cards "), "{}", c.screen());
    // The table: search box (rows 1-3), border, header, then rows from row 6.
    click(&mut c, Mouse::Click(20, 7)).await; // the second card
    assert!(
        c.screen().contains("Card 100002 — Tea card"),
        "{}",
        c.screen()
    );
    click(&mut c, Mouse::ScrollUp(20, 7)).await;
    assert!(
        c.screen().contains("Card 100001 — Tea card"),
        "{}",
        c.screen()
    );
}

#[tokio::test]
async fn templates_are_created_and_edited_in_the_console() {
    let (mut c, _) = console().await;
    c.term = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    c.typed("1357\n").await;
    c.key(Key::F(5)).await;
    c.typed("1").await;
    c.typed("n").await;
    assert!(c.screen().contains("New template"), "{}", c.screen());
    c.typed("Juice card").await;
    c.key(Key::Down).await;
    c.typed("Leaf & Kettle").await;
    c.key(Key::Down).await;
    c.key(Key::Ctrl('u')).await;
    c.typed("x").await; // not a number
    c.key(Key::Enter).await;
    assert!(
        c.screen().contains("'x' is not a whole number"),
        "{}",
        c.screen()
    );
    c.key(Key::Ctrl('u')).await;
    c.typed("5").await;
    c.key(Key::Down).await;
    c.key(Key::Right).await; // voucher → redeem code
    assert!(c.screen().contains("◂ redeem code ▸"), "{}", c.screen());
    c.key(Key::Left).await; // back to voucher
    c.key(Key::Down).await;
    c.typed("A fresh juice").await;
    c.key(Key::Enter).await;
    let screen = c.screen();
    assert!(screen.contains("saved as version 1"), "{screen}");
    let juice = c
        .shop
        .templates()
        .templates()
        .into_iter()
        .find(|t| t.name == "Juice card")
        .expect("created");
    assert_eq!(juice.stamps_required, 5);
    assert!(matches!(juice.reward, Reward::Voucher { .. }));
    // Edit the tea card: a new version; its cards keep their stamps.
    c.key(Key::Up).await; // the list is by id: Tea card first
    c.typed("e").await;
    c.key(Key::Down).await;
    c.key(Key::Down).await;
    c.key(Key::Ctrl('u')).await;
    c.typed("4").await;
    c.key(Key::Enter).await;
    let screen = c.screen();
    assert!(
        screen.contains("saved as version 2; issued cards follow it"),
        "{screen}"
    );
    assert_eq!(
        c.shop.templates().template(1).expect("tea").stamps_required,
        4
    );
    // A definition the core refuses keeps the form open with the reason.
    c.typed("e").await;
    c.key(Key::Down).await;
    c.key(Key::Down).await;
    c.key(Key::Ctrl('u')).await;
    c.typed("0").await;
    c.key(Key::Enter).await;
    let screen = c.screen();
    assert!(
        screen.contains("✗") && screen.contains("Edit template 1"),
        "{screen}"
    );
    assert_eq!(c.shop.templates().template(1).expect("tea").version, 2);
}

/// Every screen at the smallest supported terminal and a large one: codes
/// and amounts whole, columns as wide as their content, nothing said twice.
#[tokio::test]
async fn every_screen_fits_at_80x24_and_200x60() {
    for (w, h) in [(80u16, 24u16), (200, 60)] {
        let (mut c, codes) = console().await;
        c.term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        let mut shots: Vec<(String, String)> = Vec::new();
        let mut shot = |name: &str, screen: String| shots.push((name.to_string(), screen));
        shot("locked", c.screen());
        c.typed("1357\n").await;
        // A card with a voucher waiting: three stamps reach the goal.
        c.typed(&format!("{}\n", codes[0])).await;
        c.typed("++").await;
        let scanner = c.screen();
        let voucher = c
            .shop
            .cards()
            .vouchers_of_card(100001)
            .expect("vouchers")
            .first()
            .map(|v| c.shop.cards().voucher_code(v))
            .expect("a voucher");
        assert!(
            scanner.contains(&voucher),
            "{w}×{h}: the voucher code is whole:\n{scanner}"
        );
        shot("scanner", scanner);
        // The QR popup (its picture differs per shop: asserted, not kept).
        c.key(Key::F(7)).await;
        let qr = c.screen();
        assert!(
            qr.contains("Card 100001 — scan with a phone (any key closes)"),
            "{w}×{h}: the popup's title is whole:\n{qr}"
        );
        c.key(Key::Esc).await;
        c.key(Key::F(3)).await;
        shot("autopilot", c.screen());
        c.key(Key::F(2)).await;
        c.key(Key::F(6)).await;
        shot("new_card", c.screen());
        c.key(Key::Esc).await;
        c.key(Key::F(4)).await;
        let kiosk = c.screen();
        assert!(
            !kiosk.contains("olu"),
            "{w}×{h}: no staff name on the kiosk:\n{kiosk}"
        );
        shot("kiosk", kiosk);
        c.typed(&format!("{}\n", codes[1])).await;
        shot("kiosk_card", c.screen());
        c.key(Key::F(2)).await;
        c.typed("1357\n").await;
        c.key(Key::F(5)).await;
        for (tab, name) in [
            ('1', "templates"),
            ('2', "customers"),
            ('3', "journal"),
            ('4', "campaigns"),
            ('5', "codes"),
            ('6', "analytics"),
            ('7', "staff"),
            ('8', "settings"),
            ('9', "alerts"),
        ] {
            c.typed(&tab.to_string()).await;
            let screen = c.screen();
            match name {
                "journal" => {
                    assert!(
                        screen.contains("voucher_issued") && screen.contains("goal_reached"),
                        "{w}×{h}: event types whole:\n{screen}"
                    );
                    if w >= 200 {
                        assert!(screen.contains("A pot of tea"), "{w}×{h}:\n{screen}");
                        assert!(screen.contains("Noor Haddad"), "{w}×{h}:\n{screen}");
                    }
                }
                "customers" => {
                    c.key(Key::Enter).await;
                    c.key(Key::Esc).await;
                    let details = c.screen();
                    assert!(
                        details.contains(&voucher) || !details.contains("Voucher:"),
                        "{w}×{h}: a voucher code in the details is whole:\n{details}"
                    );
                }
                "settings" => {
                    assert_eq!(
                        screen.matches("expires").count().min(1),
                        screen.matches("expires").count(),
                        "{w}×{h}: the certificate's expiry is said once:\n{screen}"
                    );
                }
                _ => {}
            }
            shot(name, screen);
        }
        c.key(Key::Char('?')).await;
        shot("help", c.screen());
        for (name, screen) in shots {
            insta::assert_snapshot!(format!("screen_{w}x{h}_{name}"), masked(&screen));
        }
    }
}

#[tokio::test]
async fn the_campaign_form_previews_markup_and_refuses_a_wallet_campaign_without_push() {
    let (mut c, _) = console().await;
    c.term = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    c.typed("1357\n").await;
    c.key(Key::F(5)).await;
    c.typed("4n").await;
    // Segment → Channels → PUSH (left empty) → Message.
    c.key(Key::Down).await;
    c.key(Key::Down).await;
    c.key(Key::Down).await;
    c.typed("**Pumpkin** pie is back").await;
    let screen = c.screen();
    let buf = c.term.backend().buffer().clone();
    // The Telegram preview shows the bold word in bold, without asterisks.
    let row = screen
        .lines()
        .enumerate()
        .skip_while(|(_, l)| !l.contains("Telegram"))
        .find(|(_, l)| l.contains("Pumpkin pie is back"))
        .map(|(y, _)| y)
        .unwrap_or_else(|| panic!("a Telegram preview line:\n{screen}"));
    let line: String = screen.lines().nth(row).unwrap_or_default().to_string();
    let x = line
        .chars()
        .collect::<Vec<_>>()
        .windows(7)
        .position(|w| w.iter().collect::<String>() == "Pumpkin")
        .expect("Pumpkin on the line");
    let cell = &buf[(x as u16, row as u16)];
    assert!(
        cell.modifier.contains(ratatui::style::Modifier::BOLD),
        "**Pumpkin** is bold in the preview:\n{screen}"
    );
    assert!(!line.contains("**"), "{line}");
    // Sending with the wallet channel and no PUSH text is refused at once.
    c.key(Key::Ctrl('s')).await;
    let screen = c.screen();
    assert!(
        screen.contains("the wallet channel needs a PUSH text") && !screen.contains("Send it now"),
        "{screen}"
    );
}

#[tokio::test]
async fn a_customer_is_merged_into_another_found_by_name() {
    let (mut c, _) = console().await;
    c.typed("1357\n").await;
    c.key(Key::F(5)).await;
    c.typed("2").await;
    c.key(Key::Down).await;
    c.typed("M").await;
    assert!(
        c.screen().contains("into which customer?"),
        "{}",
        c.screen()
    );
    // Nobody else is called "Zed": refused, nothing changes.
    c.typed("Zed\n").await;
    assert!(
        c.screen().contains("no other customer matches 'Zed'"),
        "{}",
        c.screen()
    );
    c.typed("M").await;
    c.typed("noor\n").await;
    let screen = c.screen();
    assert!(screen.contains("merged into customer 1"), "{screen}");
    let moved = c.shop.cards().card(100002).expect("card");
    assert_eq!(moved.customer_id, 1);
}

#[tokio::test]
async fn the_status_line_and_the_numbers_stay_true() {
    let (mut c, codes) = console().await;
    c.term = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    c.typed("1357\n").await;
    // Five people stamp: Analytics names every one of them.
    let admin = Actor::Cli {
        user: "test".into(),
    };
    for (name, pin) in [("Ada", "1111"), ("Ben", "2222"), ("Cyd", "3333")] {
        c.shop
            .access()
            .add_staff(name, Role::Staff, pin, &admin)
            .await
            .expect("staff");
    }
    for pin in ["2468", "1111", "2222", "3333", "1357"] {
        let staff = c
            .shop
            .access()
            .sign_in(pin)
            .expect("sign in")
            .expect("staff");
        c.shop
            .cards()
            .stamp_code(
                &codes[1],
                1,
                None,
                &stampcard_core::shop::Access::staff_actor(&staff),
            )
            .await
            .expect("stamp");
    }
    c.key(Key::F(5)).await;
    c.typed("6").await;
    let screen = c.screen();
    for who in ["Ines", "Ada", "Ben", "Cyd", "Olu"] {
        assert!(screen.contains(who), "{who} in Analytics:\n{screen}");
    }
    // A POS key's secret is shown once, on its tab only.
    c.typed("5p").await;
    c.typed("till 9\n").await;
    let screen = c.screen();
    assert!(screen.contains("till 9"), "{screen}");
    let secret_line = screen
        .lines()
        .find(|l| l.contains("secret"))
        .unwrap_or_else(|| panic!("the secret is shown: {screen}"))
        .to_string();
    c.typed("7").await;
    let screen = c.screen();
    assert!(
        !screen.contains("secret"),
        "{secret_line} followed to Staff:\n{screen}"
    );
    // Adding staff says so.
    c.typed("a").await;
    c.typed("Dee 4444\n").await;
    assert!(
        c.screen().contains("Dee can sign in now."),
        "{}",
        c.screen()
    );
    // The journal finds a customer by a part of their name.
    c.typed("3/bram\n").await;
    let screen = c.screen();
    assert!(
        screen.contains("Bram Visser") && !screen.contains("Noor Haddad"),
        "{screen}"
    );
}

#[tokio::test]
async fn pins_cannot_be_guessed_at_any_prompt() {
    let (mut c, _) = console().await;
    // A wrong PIN makes this session wait before the next one.
    c.typed("0001\n").await;
    assert!(c.screen().contains("Wrong PIN."), "{}", c.screen());
    c.typed("0002\n").await;
    assert!(
        c.screen().contains("Wait 1 s before the next PIN."),
        "{}",
        c.screen()
    );
    // Five wrong PINs on this machine lock every prompt, even for a right PIN.
    for (i, pin) in ["0002", "0003", "0004", "0005"].iter().enumerate() {
        c.tick(1 << i);
        c.typed(&format!("{pin}\n")).await;
    }
    let screen = c.screen();
    assert!(screen.contains("PINs are locked until"), "{screen}");
    c.tick(20);
    c.typed("1357\n").await;
    assert!(
        c.screen().contains("PINs are locked until"),
        "{}",
        c.screen()
    );
    assert!(c.app.signed_in.is_none());
    // The lock-out is kept in the store: another console (or a restart)
    // finds it.
    let other = App::for_shop(&c.shop);
    assert!(other.signed_in.is_none());
    assert!(c.shop.access().pins_locked_until().expect("read").is_some());
    // Every failure is journaled, never the PIN.
    let failed = c
        .shop
        .journal()
        .journal(&stampcard_core::shop::JournalQuery {
            kind: Some("sign_in_failed".into()),
            limit: 100,
            newest_first: true,
            ..Default::default()
        })
        .expect("journal");
    assert_eq!(failed.len(), 5, "{failed:?}");
    assert!(!format!("{failed:?}").contains("0003"));
    // When the lock-out ends, the right PIN signs in and the count starts over.
    c.tick(60);
    c.typed("1357\n").await;
    assert!(c.screen().contains("olu (admin)"), "{}", c.screen());
    assert!(c.shop.access().pins_locked_until().expect("read").is_none());
}

#[tokio::test]
async fn an_ssh_session_never_gains_more_than_its_keys_role() {
    let (mut c, _) = console().await;
    let ines = c
        .shop
        .access()
        .staff()
        .expect("staff")
        .into_iter()
        .find(|s| s.name == "Ines")
        .expect("Ines");
    c.app.signed_in_as(ines);
    // Her kiosk does not open for the admin's PIN …
    c.key(Key::F(4)).await;
    c.key(Key::F(2)).await;
    c.typed("1357\n").await;
    let screen = c.screen();
    assert!(screen.contains("own staff member"), "{screen}");
    assert_eq!(
        c.app.signed_in.as_ref().map(|s| s.staff.name.as_str()),
        Some("Ines")
    );
    // … only for hers, and she is still herself afterwards.
    c.tick(2);
    c.typed("2468\n").await;
    assert!(
        c.screen().contains("Scanner │ ines (staff)"),
        "{}",
        c.screen()
    );
    // The admin screens need an admin's key, not a PIN.
    c.key(Key::F(5)).await;
    assert!(
        c.screen().contains("need an admin's SSH key"),
        "{}",
        c.screen()
    );
}
