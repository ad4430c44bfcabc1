//! The customer web pages over real HTTP: joining from `/j/<template>` (bad
//! input refused, nothing created; joining twice from one browser shows the
//! same card), the card page with its QR, and receipt claims from
//! `/r/<code>` exactly once, joining first when needed.

use crate::{HttpResponse, Server, Shop};

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

fn header<'a>(r: &'a HttpResponse, name: &str) -> &'a str {
    r.head
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} header in {}", r.head))
}

/// The card cookie a response set (`name=value`).
fn cookie(r: &HttpResponse) -> String {
    header(r, "set-cookie")
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string()
}

fn customers(shop: &Shop) -> usize {
    shop.json(&["customer", "list"])
        .as_array()
        .map_or(0, Vec::len)
}

fn post(server: &Server, path: &str, cookie: Option<&str>, body: &str) -> HttpResponse {
    let mut headers = vec![FORM];
    if let Some(c) = cookie {
        headers.push(("Cookie", c));
    }
    server.request("POST", path, &headers, Some(body))
}

fn receipt(shop: &Shop, stamps: &str) -> String {
    shop.run(&[
        "codes",
        "generate",
        "--template",
        "1",
        "--count",
        "1",
        "--stamps",
        stamps,
    ])
    .ok()
    .stdout
    .trim()
    .to_string()
}

#[test]
fn customers_join_on_the_web_once_and_claim_receipts_once() {
    let shop = Shop::demo();
    let server = shop.serve(&[]);
    let (status, form) = server.get("/j/1");
    assert_eq!(status, 200);
    assert!(
        form.contains("Coffee card") && form.contains("<form"),
        "{form}"
    );
    assert_eq!(server.get("/j/999").0, 404);

    // Bad input is refused with the reason, the form keeps the values, and
    // nobody is created.
    let before = customers(&shop);
    for (body, reason) in [
        ("name=Ada&email=not-an-address", "is not an email address"),
        ("name=Ada&birthday=23.04.1990", "is not a date"),
        ("name=&email=", "name"),
        ("name=Ada&consent_email=yes", "give an email address"),
        ("name=Ada&birthday=2999-01-01", "cannot be after today"),
    ] {
        let r = post(&server, "/j/1", None, body);
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert!(r.body.contains(reason), "{body}: {}", r.body);
    }
    assert_eq!(customers(&shop), before);

    // Joining issues the card and opens it; the browser keeps it.
    let joined = post(
        &server,
        "/j/1?from=window",
        None,
        "name=Ada+Lovelace&email=ada%40example.org&birthday=1990-04-23&consent_email=yes&from=window",
    );
    assert_eq!(joined.status, 303, "{}", joined.body);
    let location = header(&joined, "location").to_string();
    assert!(location.starts_with("/c/"), "{location}");
    let jar = cookie(&joined);
    assert!(jar.starts_with("sc_card_1="), "{jar}");
    let (status, page) = server.get(&location);
    assert_eq!(status, 200);
    assert!(
        page.contains("Ada Lovelace") && page.contains("0/8"),
        "{page}"
    );
    assert!(page.contains("<svg") && page.contains("QR code"), "{page}");
    assert!(page.contains("Welcome"), "{page}");
    assert_eq!(customers(&shop), before + 1);
    let ada = shop
        .json(&["customer", "list"])
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == "Ada Lovelace").cloned())
        .expect("Ada is a customer");
    assert_eq!(ada["email"], "ada@example.org");
    assert_eq!(
        ada["consent_email"]["source"], "web",
        "consent given on the web page is recorded as such: {ada}"
    );

    // Again from the same browser: the same card, no second customer.
    let again = server.request("GET", "/j/1", &[("Cookie", &jar)], None);
    assert_eq!(again.status, 303);
    assert_eq!(
        header(&again, "location"),
        location.split('?').next().unwrap_or("")
    );
    let again = post(&server, "/j/1", Some(&jar), "name=Ada+Again");
    assert_eq!(again.status, 303);
    assert_eq!(customers(&shop), before + 1);

    // A receipt is claimed onto the browser's card, once.
    let code = receipt(&shop, "2");
    let (status, claim) = server
        .request("GET", &format!("/r/{code}"), &[("Cookie", &jar)], None)
        .into_parts();
    assert_eq!(status, 200);
    assert!(claim.contains("Add my stamps"), "{claim}");
    let card_id: u64 = location[3..]
        .split('-')
        .next()
        .and_then(|id| id.parse().ok())
        .expect("card id in the link");
    let r = post(&server, &format!("/r/{code}"), Some(&jar), "");
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(header(&r, "location").contains("note=claimed"));
    assert_eq!(shop.stamps(card_id), 2);
    let r = post(&server, &format!("/r/{code}"), Some(&jar), "");
    assert!(header(&r, "location").contains("note=already-claimed"));
    assert_eq!(shop.stamps(card_id), 2);

    // Without a card, the claim page joins first, then claims.
    let code = receipt(&shop, "3");
    let (status, claim) = server.get(&format!("/r/{code}"));
    assert_eq!(status, 200);
    assert!(claim.contains("Get my card and stamps"), "{claim}");
    let r = post(&server, &format!("/r/{code}"), None, "name=Grace");
    assert_eq!(r.status, 303, "{}", r.body);
    let (_, page) = server.get(header(&r, "location"));
    assert!(page.contains("Grace") && page.contains("3/8"), "{page}");
    assert_eq!(server.get("/r/12345").0, 404);
    server.stop();
}

#[test]
fn one_network_gets_a_few_new_cards_an_hour_from_the_join_page() {
    let shop = Shop::demo();
    let server = shop.serve(&[("STAMPCARD_HTTP__JOINS_PER_HOUR", "2")]);
    // Behind the shop's reverse proxy (a local peer), the client is the
    // address the proxy forwarded.
    let join = |from: &str, cookie: Option<&str>, name: &str| {
        let mut headers = vec![FORM, ("X-Forwarded-For", from)];
        if let Some(c) = cookie {
            headers.push(("Cookie", c));
        }
        server.request("POST", "/j/1", &headers, Some(&format!("name={name}")))
    };
    let before = customers(&shop);
    let first = join("203.0.113.7", None, "One");
    assert_eq!(first.status, 303, "{}", first.body);
    assert_eq!(join("203.0.113.7", None, "Two").status, 303);
    let refused = join("203.0.113.7", None, "Three");
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert_eq!(header(&refused, "retry-after"), "3600");
    assert!(
        refused.body.contains("ask for your card at the counter"),
        "{}",
        refused.body
    );
    assert_eq!(customers(&shop), before + 2, "nothing made for the third");
    // Another network is not held up; a browser that joined is shown its card.
    assert_eq!(join("198.51.100.1", None, "Four").status, 303);
    let again = join("203.0.113.7", Some(&cookie(&first)), "One");
    assert_eq!(again.status, 303);
    assert_eq!(
        format!("{}?note=welcome", header(&again, "location")),
        header(&first, "location")
    );
    assert_eq!(customers(&shop), before + 3);
    server.stop();
}

#[test]
fn a_customer_joins_in_a_headless_chromium() {
    let shop = Shop::demo();
    let server = shop.serve(&[]);
    let browser = crate::browser::Browser::start();
    browser.open(&format!("http://{}/j/1", server.http));
    browser.type_into("input[name=name]", "Mara Quill");
    browser.type_into("input[name=email]", "mara@example.org");
    browser.click("button[type=submit]");
    let url = stampcard_e2e::wait::until(
        std::time::Duration::from_secs(30),
        || Some(browser.url()).filter(|u| u.contains("/c/")),
        || format!("the browser stayed on {}", browser.url()),
    );

    // The card page as the browser rendered it: the name, the progress and
    // a QR code drawn at a scannable size.
    let text = browser.script("return document.body.innerText");
    let text = text.as_str().unwrap_or_default();
    assert!(text.contains("Mara Quill"), "{url}: {text}");
    assert!(text.contains("0/8"), "{url}: {text}");
    let qr = browser.script(
        "const q = document.querySelector('svg[role=img]');\
         if (!q) return null;\
         const r = q.getBoundingClientRect();\
         return [r.width, r.height, q.querySelectorAll('path,rect').length];",
    );
    let side = qr[0].as_f64().unwrap_or(0.0);
    assert!(side >= 100.0 && qr[1].as_f64() == Some(side), "QR {qr}");
    assert!(qr[2].as_u64().unwrap_or(0) > 0, "QR without modules: {qr}");
    let logo = browser.script("const l = document.querySelector('img.logo'); return l && l.complete ? l.naturalWidth : 0;");
    assert!(
        logo.as_u64().unwrap_or(0) > 0,
        "the logo did not load: {logo}"
    );

    // The customer exists, with what the form said.
    let mara = shop
        .json(&["customer", "list"])
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == "Mara Quill").cloned())
        .expect("Mara is a customer");
    assert_eq!(mara["email"], "mara@example.org");

    // A screenshot that is not blank: the card's colour, the text and the
    // QR's black and white.
    let png = browser.screenshot();
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("web-card.png");
    std::fs::write(&path, &png).expect("save the screenshot");
    let image = image::load_from_memory(&png).expect("a PNG").to_rgb8();
    assert!(image.width() > 300 && image.height() > 300, "{path:?}");
    let colours: std::collections::HashSet<[u8; 3]> = image.pixels().map(|p| p.0).collect();
    assert!(colours.len() > 10, "{path:?} has {} colours", colours.len());
    let black = image.pixels().filter(|p| p.0 == [0, 0, 0]).count();
    assert!(black > 1000, "{path:?}: no QR modules in the picture");
    drop(browser);
    server.stop();
}

#[test]
fn pages_speak_the_customers_language() {
    let shop = Shop::demo();
    let server = shop.serve(&[]);
    let ru = ("Accept-Language", "ru-RU,ru;q=0.9,en;q=0.5");
    let en = ("Accept-Language", "en-GB,en;q=0.9");

    // The join form in the browser's language, its refusals too.
    let form = server.request("GET", "/j/1", &[ru], None);
    assert_eq!(form.status, 200);
    assert!(form.body.contains("<html lang=\"ru\">"), "{}", form.body);
    assert!(form.body.contains("Ваше имя"), "{}", form.body);
    assert!(form.body.contains("Получить карту"), "{}", form.body);
    let english = server.get("/j/1").1;
    assert!(english.contains("Your name"), "{english}");
    let before = customers(&shop);
    let refused = server.request("POST", "/j/1", &[FORM, ru], Some("name=&email="));
    assert_eq!(refused.status, 400);
    assert!(
        refused.body.contains("укажите, пожалуйста, имя"),
        "{}",
        refused.body
    );
    let future = server.request(
        "POST",
        "/j/1",
        &[FORM, ru],
        Some("name=Lev&birthday=2999-01-01"),
    );
    assert_eq!(future.status, 400);
    assert!(
        future.body.contains("день рождения не может быть позже"),
        "{}",
        future.body
    );
    assert_eq!(customers(&shop), before);

    // Joining keeps the browser's language with the customer: their card
    // speaks it in any browser afterwards.
    let joined = server.request("POST", "/j/1", &[FORM, ru], Some("name=%D0%9B%D0%B5%D0%B2"));
    assert_eq!(joined.status, 303, "{}", joined.body);
    let location = header(&joined, "location").to_string();
    for accept in [&[en][..], &[]] {
        let page = server.request("GET", &location, accept, None);
        assert_eq!(page.status, 200);
        assert!(page.body.contains("<html lang=\"ru\">"), "{}", page.body);
        assert!(page.body.contains("Добро пожаловать"), "{}", page.body);
        assert!(page.body.contains("QR-код вашей карты"), "{}", page.body);
    }
    let lev = shop
        .json(&["customer", "list"])
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == "Лев").cloned())
        .expect("Лев is a customer");
    assert_eq!(lev["language"], "ru");

    // A customer without a language sees the browser's; once the counter
    // records one, that wins.
    let card = shop.json(&["card", "show", "100001"]);
    let url = card["url"].as_str().expect("url");
    let path = &url[url.find("/c/").expect("card path")..];
    let holder = card["customer_id"].to_string();
    let page = server.request("GET", path, &[ru], None).body;
    assert!(
        page.contains("<html lang=\"ru\">") && page.contains("Карта 100001"),
        "{page}"
    );
    assert!(server.get(path).1.contains("Card 100001"));

    // A bad field refuses the whole edit: nothing changes.
    for (flag, value, reason) in [
        ("--birthday", "23.04.1990", "is not a date"),
        ("--email", "nope", "email"),
    ] {
        let r = shop.run(&["customer", "edit", &holder, "--language", "en", flag, value]);
        assert_ne!(r.code, 0, "{flag} {value}");
        assert!(r.stderr.contains(reason), "{}", r.stderr);
    }
    assert!(shop.json(&["customer", "show", &holder])["customer"]["language"].is_null());
    let page = server.request("GET", path, &[ru], None).body;
    assert!(page.contains("Карта 100001"), "{page}");

    shop.run(&["customer", "edit", &holder, "--language", "en"])
        .ok();
    assert_eq!(
        shop.json(&["customer", "show", &holder])["customer"]["language"],
        "en"
    );
    let page = server.request("GET", path, &[ru], None).body;
    assert!(
        page.contains("<html lang=\"en\">") && page.contains("Card 100001"),
        "{page}"
    );
    let journal = shop.json(&["journal", "--type", "customer_updated"]);
    assert!(journal.to_string().contains("language"), "{journal}");
    server.stop();
}

#[test]
fn the_pages_show_the_templates_logo() {
    let shop = Shop::demo();
    // A shop's own logo, a red 400×100 PNG in the data folder, on a new
    // template.
    let red = image::RgbaImage::from_pixel(400, 100, image::Rgba([200, 0, 0, 255]));
    red.save(shop.data().join("shop-logo.png"))
        .expect("write logo");
    let definition = crate::fixture("templates/tea-with-logo.toml");
    let template = shop.json(&[
        "template",
        "create",
        "--file",
        definition.to_str().expect("path"),
    ])["id"]
        .to_string();
    let server = shop.serve(&[]);

    let png = |path: &str| {
        let r = server.request("GET", path, &[], None);
        assert_eq!(r.status, 200, "{path}");
        assert!(r.head.contains("content-type: image/png"), "{}", r.head);
        image::load_from_memory(&r.bytes).expect("a PNG").to_rgba8()
    };
    // The join page and the card page show it; it is the shop's own,
    // scaled into 320×100 (the pass's logo at 2x).
    let (_, form) = server.get(&format!("/j/{template}"));
    assert!(
        form.contains(&format!("src=\"/t/{template}/logo.png\"")),
        "{form}"
    );
    let own = png(&format!("/t/{template}/logo.png"));
    assert_eq!(own.dimensions(), (320, 80));
    assert_eq!(own.get_pixel(160, 40).0, [200, 0, 0, 255]);
    // Without a logo of its own, a template shows a row of stamps in its
    // label colour.
    let (_, card) = server.get(&{
        let url = shop.json(&["card", "show", "100001"])["url"]
            .as_str()
            .expect("url")
            .to_string();
        url[url.find("/c/").expect("card path")..].to_string()
    });
    assert!(card.contains("src=\"/t/1/logo.png\""), "{card}");
    let drawn = png("/t/1/logo.png");
    assert_eq!(drawn.dimensions(), (200, 100));
    assert!(drawn.pixels().any(|p| p.0[3] == 255), "stamps are drawn");
    assert_eq!(server.get("/t/999/logo.png").0, 404);
    server.stop();
}

#[test]
fn a_join_from_a_printed_poster_keeps_its_source() {
    let shop = Shop::demo();
    let server = shop.serve(&[]);
    shop.run(&[
        "poster",
        "--template",
        "1",
        "--source",
        "table-7",
        "-o",
        "poster.svg",
    ])
    .ok();
    // What a phone camera reads off the printed poster.
    let links = stampcard_e2e::printed::svg_qr_contents(&shop.path("poster.svg"), 1200);
    assert_eq!(links.len(), 1, "{links:?}");
    let path = links[0]
        .find("/j/")
        .map(|i| links[0][i..].to_string())
        .expect("a join link");
    let (status, form) = server.get(&path);
    assert_eq!(status, 200, "{form}");
    assert!(
        form.contains("name=\"from\" value=\"table-7\""),
        "the form carries the poster's source: {form}"
    );
    let joined = post(&server, "/j/1", None, "name=Poster+Reader&from=table-7");
    assert_eq!(joined.status, 303, "{}", joined.body);
    let issued = shop.json(&["journal", "--type", "card_issued", "--limit", "1"]);
    assert_eq!(issued[0]["source"], "table-7", "{issued}");
    server.stop();
}

#[test]
fn the_web_card_shows_a_vouchers_code_as_the_barcode_a_till_scans() {
    let shop = Shop::demo();
    let definition = crate::fixture("templates/redeem-code-128.toml");
    let template = shop.json(&[
        "template",
        "create",
        "--file",
        definition.to_str().expect("path"),
    ])["id"]
        .to_string();
    let (card, code) = shop.new_card(template.parse().expect("id"), "Till Test");
    shop.run(&["stamp", &code, "--count", "2"]).ok();
    // And a demo coffee card's QR voucher (the voucher's own code).
    let coffee = shop.card_code(100001);
    shop.run(&["stamp", &coffee, "--count", "5"]).ok();
    let server = shop.serve(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    for (id, expected) in [
        (card, "CODE-128:FREECOFFEE".to_string()),
        (
            100001,
            format!(
                "QR-Code:{}",
                shop.json(&["card", "show", "100001"])["vouchers"][0]["code"]
                    .as_str()
                    .expect("a voucher")
            ),
        ),
    ] {
        let view = shop.json(&["card", "show", &id.to_string()]);
        let url = view["url"].as_str().expect("url");
        let (status, page) = server.get(&url[url.find("/c/").expect("path")..]);
        assert_eq!(status, 200);
        let svg = page
            .split("<div class=\"barcode\">")
            .nth(1)
            .and_then(|rest| rest.split("</div>").next())
            .unwrap_or_else(|| panic!("a voucher barcode on card {id}: {page}"));
        let file = dir.path().join(format!("voucher-{id}.svg"));
        std::fs::write(&file, svg).expect("write");
        // A barcode reader that is not ours reads what the till needs.
        let read = stampcard_e2e::printed::zbar(&stampcard_e2e::printed::render_svg(&file, 600));
        assert_eq!(read, vec![expected], "card {id}");
    }
    server.stop();
}

#[test]
fn receipt_codes_cannot_be_guessed_through_the_claim_page() {
    let shop = Shop::demo();
    let key = shop.json(&["pos-key", "create", "--name", "till 7"]);
    let (id, secret) = (
        key["id"].as_u64().expect("key id"),
        key["key"].as_str().expect("key secret").to_string(),
    );
    let derive = |receipt: &str| {
        shop.run(&[
            "codes",
            "derive",
            "--key-id",
            &id.to_string(),
            "--key",
            &secret,
            "--date",
            &chrono::Utc::now().format("%Y-%m-%d").to_string(),
            "--till",
            "1",
            "--receipt",
            receipt,
            "--template",
            "1",
            "--stamps",
            "1",
        ])
        .ok()
        .stdout
        .trim()
        .to_string()
    };
    let genuine = derive("1");
    // The same code with another MAC: forged (its check digit made right).
    let forge = |n: u32| {
        let body = format!("{}{:08}", &genuine[..25], n);
        let check = stampcard_core::codes::damm(&body);
        format!("{body}{check}")
    };
    let server = shop.serve(&[]);
    // Guessers from many addresses (through the local reverse proxy) spend
    // the POS key's budget of forged codes; then its codes are refused.
    for n in 0..50u32 {
        let from = format!("198.51.100.{}", n % 250);
        let r = server.request(
            "GET",
            &format!("/r/{}", forge(n)),
            &[("X-Forwarded-For", &from)],
            None,
        );
        assert_eq!(r.status, 404, "forged code {n}");
    }
    let r = server.request(
        "GET",
        &format!("/r/{genuine}"),
        &[("X-Forwarded-For", "192.0.2.1")],
        None,
    );
    assert_eq!(
        r.status, 404,
        "the key's codes wait out the hour: {}",
        r.status
    );
    let guessing = shop.json(&["journal", "--type", "receipt_guessing"]);
    assert_eq!(guessing.as_array().map(Vec::len), Some(1), "{guessing}");
    // Another key's codes, and other addresses, are not affected; one
    // address gets 60 lookups an hour.
    let other = shop
        .run(&["codes", "generate", "--template", "1", "--count", "1"])
        .ok()
        .stdout;
    let other = other.trim();
    for n in 0..60 {
        let r = server.request(
            "GET",
            &format!("/r/{other}"),
            &[("X-Forwarded-For", "203.0.113.7")],
            None,
        );
        assert_eq!(r.status, 200, "lookup {n}");
    }
    let r = server.request(
        "GET",
        &format!("/r/{other}"),
        &[("X-Forwarded-For", "203.0.113.7")],
        None,
    );
    assert_eq!(r.status, 429);
    server.stop();
}
