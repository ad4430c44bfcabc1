//! The OpenAPI document: generated from the code, served at
//! `/api/v1/openapi.json`, and checked against the running server by
//! schemathesis (installed by `.ci/run` into a virtualenv; pinned seed and
//! a bounded number of examples, so a run is repeatable); validated by
//! openapi-spec-validator, and turned into a Python client by
//! openapi-python-client, as a POS or CRM integrator would.

use std::process::Command;

use crate::Shop;

/// A Python tool: `STAMPCARD_<NAME>`, else the virtualenv `bash
/// tests/run` makes, else on the PATH; missing, the test fails and says
/// how to get it.
fn python_tool(name: &str) -> std::path::PathBuf {
    let var = format!("STAMPCARD_{}", name.to_uppercase().replace('-', "_"));
    let venv = std::env::temp_dir()
        .join("stampcard-ci-venv/bin")
        .join(name);
    if std::env::var_os(var).is_none() && venv.exists() {
        return venv;
    }
    stampcard_e2e::tools::require(name)
}

fn run(command: &mut Command) -> (bool, String) {
    let out = command.env("NO_COLOR", "1").output().expect("run the tool");
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), report)
}

#[test]
fn the_document_is_valid_openapi_and_generates_a_client_without_clashing_names() {
    let shop = Shop::demo();
    let server = shop.serve(&[]);
    let (status, body) = server.get("/api/v1/openapi.json");
    server.stop();
    assert_eq!(status, 200, "{body}");
    let doc: serde_json::Value = serde_json::from_str(&body).expect("JSON");

    // Every operation has its own id.
    let mut ids = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(!id.is_empty(), "{method} {path} has an operationId");
            ids.push(id.to_string());
        }
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(ids.len(), unique.len(), "operation ids repeat: {ids:?}");
    assert!(ids.contains(&"add_stamps".to_string()), "{ids:?}");

    let work = tempfile::tempdir().expect("tempdir");
    let file = work.path().join("openapi.json");
    std::fs::write(&file, &body).expect("write the document");
    let (ok, report) = run(Command::new(python_tool("openapi-spec-validator")).arg(&file));
    assert!(
        ok && report.contains("OK"),
        "openapi-spec-validator refuses it:\n{report}"
    );

    let client = work.path().join("client");
    // No formatter afterwards (ruff is not what is tested here).
    let config = work.path().join("generator.json");
    std::fs::write(&config, r#"{"post_hooks": []}"#).expect("write the generator config");
    let (ok, report) = run(Command::new(python_tool("openapi-python-client"))
        .current_dir(work.path())
        .args(["generate", "--meta", "none", "--config"])
        .arg(&config)
        .arg("--output-path")
        .arg(&client)
        .arg("--path")
        .arg(&file));
    assert!(ok, "openapi-python-client failed:\n{report}");
    assert!(
        !report.contains("Warning") && !report.contains("Error"),
        "the client generator warned:\n{report}"
    );
    // One module per operation, importable: no two operations clash.
    let python = python_tool("openapi-spec-validator").with_file_name("python");
    let mut modules = Vec::new();
    for id in &unique {
        let found = std::fs::read_dir(client.join("api"))
            .expect("api modules")
            .flatten()
            .find_map(|tag| {
                let module = tag.path().join(format!("{id}.py"));
                module
                    .exists()
                    .then(|| format!("client.api.{}.{id}", tag.file_name().to_string_lossy()))
            });
        modules.push(found.unwrap_or_else(|| panic!("no module for {id}")));
    }
    let script = modules
        .iter()
        .map(|m| format!("import {m}; assert callable({m}.sync_detailed)"))
        .collect::<Vec<_>>()
        .join("\n");
    let (ok, report) = run(Command::new(python)
        .current_dir(work.path())
        .args(["-c", &script]));
    assert!(ok, "the generated client does not import:\n{report}");
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

    let st = python_tool("schemathesis");
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
