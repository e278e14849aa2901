//! The OpenAPI document, Swagger UI and Redoc: complete, served locally, and stable.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, backend_tests};

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/openapi.json");

/// Catches unintended changes to the contract. After an intended one, refresh the snapshot
/// with `UPDATE_SNAPSHOTS=1 cargo test openapi_document_matches_its_snapshot`.
#[test]
fn openapi_document_matches_its_snapshot() {
    let document = gitomatic::http::api_document();
    let actual = serde_json::to_string_pretty(&document).unwrap() + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(SNAPSHOT, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(SNAPSHOT).expect("tests/snapshots/openapi.json exists");
    assert!(
        actual == expected,
        "the OpenAPI document changed; see the test's doc comment"
    );
}

#[test]
fn every_api_route_is_documented_with_its_errors_and_filters() {
    let document = gitomatic::http::api_document();
    let document = serde_json::to_value(document).unwrap();
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/github/",
        "/github/auth_token/",
        "/github/developers/",
        "/github/developers/{id}/",
        "/github/developers/{id}/followers/",
        "/github/developers/{id}/following/",
        "/github/developers/{id}/starred_repositories/",
        "/github/developers/{id}/repositories/",
        "/github/repositories/",
        "/github/repositories/{id}/",
        "/github/repositories/{id}/stargazers/",
        "/github/rate_limit/",
        "/github/rate_limit/{id}/",
        "/github/stats/",
        "/github/dashboard/",
    ] {
        assert!(paths.contains_key(path), "{path} is documented");
    }
    let list = &paths["/github/repositories/"]["get"];
    for status in ["200", "400", "401", "403", "404", "406", "503"] {
        assert!(
            list["responses"].get(status).is_some(),
            "repositories list documents {status}"
        );
    }
    let params: Vec<&str> = list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in [
        "page",
        "stargazers_count__lte",
        "description__contains",
        "language__isnull",
        "private",
        "links",
    ] {
        assert!(params.contains(&name), "{name} in {params:?}");
    }
    assert_eq!(
        list["security"],
        serde_json::json!([{"basic": []}, {"bearer": []}])
    );
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["basic"]["scheme"], "basic");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert!(
        paths["/github/"]["get"].get("security").is_none(),
        "the root is public"
    );
}

/// A route the resource declarations do not describe would lose its filters and errors in
/// the document without a word: every GET under `/github/` that lists or shows records must be
/// one of theirs, and every path they declare must exist.
#[test]
fn every_resource_path_is_declared_and_routed() {
    let document = serde_json::to_value(gitomatic::http::api_document()).unwrap();
    let paths = document["paths"].as_object().unwrap();
    let declared: Vec<String> = gitomatic::http::openapi::resource_paths()
        .into_iter()
        .map(|shape| shape.path)
        .collect();
    for path in &declared {
        assert!(
            paths.contains_key(path),
            "{path} is declared but not routed"
        );
    }
    let not_resources = [
        "/github/",
        "/github/auth_token/",
        "/github/tasks/",
        "/github/stats/",
        "/github/dashboard/",
        "/github/export/{format}",
        "/github/export/csv/{table}",
        // A repository's own histories, not collections of records.
        "/github/repositories/{id}/sizes/",
        "/github/repositories/{id}/star_history/",
        "/github/repositories/{id}/star_history.svg",
    ];
    for (path, item) in paths {
        if item.get("get").is_some() && !not_resources.contains(&path.as_str()) {
            assert!(
                declared.contains(path),
                "{path} is routed but no resource declares it"
            );
        }
    }
}

#[test]
fn operation_ids_are_unique_and_error_bodies_are_shared() {
    let document = serde_json::to_value(gitomatic::http::api_document()).unwrap();
    let mut ids = Vec::new();
    for item in document["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            ids.push(operation["operationId"].as_str().unwrap().to_owned());
            for answer in operation["responses"].as_object().unwrap().values() {
                let schema = &answer["content"]["application/json"]["schema"];
                if !schema.is_null() && answer != &operation["responses"]["200"] {
                    assert!(schema.get("$ref").is_some(), "a named error body: {schema}");
                }
            }
        }
    }
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "operation ids are unique: {ids:?}");
    assert!(ids.contains(&"developers_list".to_owned()));
}

/// A code generator a new user would reach for builds a client from the document without a
/// warning. Needs openapi-python-client: run by `scripts/contract.sh`, which installs it and
/// sets `OPENAPI_PYTHON_CLIENT`.
#[test]
#[ignore = "needs openapi-python-client; run by scripts/contract.sh"]
fn a_python_client_generates_from_the_document_without_warnings() {
    let generator = std::env::var("OPENAPI_PYTHON_CLIENT")
        .expect("OPENAPI_PYTHON_CLIENT names the openapi-python-client binary");
    let dir = tempfile::tempdir().unwrap();
    let document = dir.path().join("openapi.json");
    let json = serde_json::to_string(&gitomatic::http::api_document()).unwrap();
    std::fs::write(&document, json).unwrap();
    // The generator knows JSON, text and binary bodies; the graph's downloads are files of
    // types it does not know, read as bytes (as README says).
    let config = dir.path().join("config.yml");
    std::fs::write(
        &config,
        "content_type_overrides:\n  application/graphml+xml: application/octet-stream\n  \
         application/x-ndjson: application/octet-stream\n  \
         image/svg+xml: application/octet-stream\n",
    )
    .unwrap();
    let output = std::process::Command::new(generator)
        .args(["generate", "--meta", "none", "--config"])
        .arg(&config)
        .arg("--path")
        .arg(&document)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{said}");
    assert!(!said.to_lowercase().contains("warning"), "{said}");
    let package = dir.path().join("git_o_matic_9k_client");
    for module in [
        "api/developers/developers_list.py",
        "api/export/export.py",
        "api/export/export_csv.py",
        "models/field_errors.py",
    ] {
        assert!(
            package.join(module).exists(),
            "{module} was generated: {said}"
        );
    }
}

async fn the_document_is_served_as_json_and_yaml(app: TestApp) {
    let json = app.get("/github/swagger.json").await;
    assert_eq!(json.status(), StatusCode::OK);
    let document: Value = json.json().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    let yaml = app.get("/github/swagger.yaml").await;
    assert_eq!(yaml.status(), StatusCode::OK);
    assert_eq!(yaml.headers()["content-type"], "application/yaml");
    assert!(yaml.text().await.unwrap().starts_with("openapi: 3.1"));
}

async fn swagger_ui_and_redoc_are_served_from_here(app: TestApp) {
    let swagger = app.get("/github/swagger/").await;
    assert_eq!(swagger.status(), StatusCode::OK);
    let page = swagger.text().await.unwrap();
    assert!(page.contains("swagger-ui"), "{page}");
    assert!(!page.contains("https://"), "no remote assets: {page}");
    let bundle = app.get("/github/swagger/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status(), StatusCode::OK);

    let redoc = app.get("/github/redoc/").await;
    assert_eq!(redoc.status(), StatusCode::OK);
    let page = redoc.text().await.unwrap();
    assert!(page.contains("spec-url=\"/github/swagger.json\""));
    assert!(page.contains("src=\"/github/redoc/redoc.standalone.js\""));
    assert!(!page.contains("https://"), "no remote assets: {page}");
    let js = app.get("/github/redoc/redoc.standalone.js").await;
    assert_eq!(js.status(), StatusCode::OK);
    assert!(js.bytes().await.unwrap().len() > 500_000);
}

backend_tests!(
    the_document_is_served_as_json_and_yaml,
    swagger_ui_and_redoc_are_served_from_here,
);
