//! The OpenAPI document: generated from the code, served at
//! `/api/v1/openapi.json`, and checked against the running server by
//! schemathesis (installed by `.ci/run` into a virtualenv; pinned seed and
//! a bounded number of examples, so a run is repeatable).

use std::process::Command;

use crate::Shop;

/// The schemathesis command: `STAMPCARD_SCHEMATHESIS`, else the
/// virtualenv `bash tests/run` makes, else on the PATH; missing, the test
/// fails and says how to get it.
fn schemathesis() -> std::path::PathBuf {
    let venv = std::env::temp_dir().join("stampcard-ci-venv/bin/schemathesis");
    if std::env::var_os("STAMPCARD_SCHEMATHESIS").is_none() && venv.exists() {
        return venv;
    }
    stampcard_e2e::tools::require("schemathesis")
}

#[test]
fn the_openapi_document_describes_the_api_and_the_server_conforms_to_it() {
    let shop = Shop::demo();
    let token = shop.api_key("fuzz", "admin");
    let server = shop.serve(&[]);

    let (status, body) = server.get("/api/v1/openapi.json");
    assert_eq!(status, 200, "{body}");
    let doc: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert!(
        doc["openapi"].as_str().unwrap_or("").starts_with("3."),
        "{doc}"
    );
    for (path, method) in [
        ("/api/v1/stamps", "post"),
        ("/api/v1/cards", "post"),
        ("/api/v1/cards/{id}", "get"),
        ("/api/v1/events", "get"),
        ("/api/v1/events/{id}/reversal", "post"),
        ("/api/v1/webhooks", "post"),
    ] {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is documented");
        assert_eq!(
            op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody",
            "{method} {path} documents the error shape"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["api_key"]["scheme"],
        "bearer"
    );
    assert_eq!(
        doc["components"]["schemas"]["StampRequest"]["additionalProperties"], false,
        "unknown fields are refused, and documented so"
    );

    let st = schemathesis();
    let work = tempfile::tempdir().expect("tempdir"); // for .hypothesis/
    let out = Command::new(&st)
        .current_dir(work.path())
        .args([
            "run",
            &format!("http://{}/api/v1/openapi.json", server.http),
            "--url",
            &format!("http://{}", server.http),
            "-H",
            &format!("Authorization: Bearer {token}"),
            "--checks",
            "all",
            // Schema-valid values the shop's rules refuse (an unknown card
            // code, a URL that is not http) are right to get a 422.
            "--exclude-checks",
            "positive_data_acceptance",
            "--max-examples",
            "20",
            "--seed",
            "42",
            "--no-color",
        ])
        .env("NO_COLOR", "1")
        .output()
        .expect("run schemathesis");
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{report}"
    );
    assert!(report.contains("passed"), "{report}");
    server.stop();
}
