//! The API's documentation, served without touching the internet: the OpenAPI document as
//! JSON and YAML, Swagger UI (assets compiled in) and Redoc (its standalone bundle, vendored
//! from the npm package `redoc` in assets/redoc/).

use std::sync::Arc;

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use utoipa::openapi::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

const REDOC_JS: &[u8] = include_bytes!("../../../assets/redoc/redoc.standalone.js");

const REDOC_PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>git-o-matic-9k API · Redoc</title>
<style>body { margin: 0; padding: 0; }</style>
</head>
<body>
<redoc spec-url="/github/swagger.json"></redoc>
<script src="/github/redoc/redoc.standalone.js"></script>
</body>
</html>
"#;

/// The documentation routes for `document`, which is rendered once here.
pub fn router<S: Clone + Send + Sync + 'static>(document: OpenApi) -> Router<S> {
    let yaml: Arc<str> = document
        .to_yaml()
        .unwrap_or_else(|err| format!("# the document could not be written as YAML: {err}\n"))
        .into();
    Router::new()
        .merge(SwaggerUi::new("/github/swagger").url("/github/swagger.json", document))
        .route(
            "/github/swagger.yaml",
            get(move || async move { ([(CONTENT_TYPE, "application/yaml")], yaml.to_string()) }),
        )
        .route("/github/redoc/", get(|| async { Html(REDOC_PAGE) }))
        .route(
            "/github/redoc/redoc.standalone.js",
            get(|| async {
                (
                    [
                        (CONTENT_TYPE, "application/javascript; charset=utf-8"),
                        (CACHE_CONTROL, "public, max-age=86400"),
                    ],
                    REDOC_JS,
                )
                    .into_response()
            }),
        )
}
