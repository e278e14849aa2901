//! The OpenAPI 3.1 document: handlers register their own paths (utoipa-axum), and this adds
//! what every route shares — security schemes, the filter and page parameters, the error
//! answers — from the same tables the code runs on, so the document cannot drift from it.

use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{
    AnyOfBuilder, ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::security::{
    Http, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder, Schema};

use crate::http::filters::{
    DEVELOPER_FILTERS, Field, JOB_FILTERS, Kind, Lookup, RATE_LIMIT_FILTERS, REPOSITORY_FILTERS,
};
use crate::http::routes::{ErrorDetail, tasks};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "git-o-matic-9k",
        description = "GitHub developers and repositories discovered by following followers, \
                       following, stars and stargazers. Every data route needs HTTP Basic \
                       credentials or a bearer token from `/github/auth_token/`.",
        license(name = "MIT")
    ),
    components(schemas(ErrorDetail)),
    tags(
        (name = "root", description = "The API root"),
        (name = "developers", description = "GitHub users"),
        (name = "repositories", description = "GitHub repositories"),
        (name = "rate_limit", description = "GitHub's quota as last reported"),
        (name = "auth", description = "Bearer tokens"),
        (name = "tasks", description = "Starting syncs"),
        (name = "jobs", description = "The work queue"),
    )
)]
pub struct ApiDoc;

/// The filters each path takes, and whether it is a paginated list.
const PATHS: &[(&str, &[Field], bool)] = &[
    ("/github/developers/", DEVELOPER_FILTERS, true),
    ("/github/developers/{id}/", DEVELOPER_FILTERS, false),
    (
        "/github/developers/{id}/followers/",
        DEVELOPER_FILTERS,
        true,
    ),
    (
        "/github/developers/{id}/following/",
        DEVELOPER_FILTERS,
        true,
    ),
    (
        "/github/developers/{id}/starred_repositories/",
        REPOSITORY_FILTERS,
        true,
    ),
    (
        "/github/developers/{id}/repositories/",
        REPOSITORY_FILTERS,
        true,
    ),
    ("/github/repositories/", REPOSITORY_FILTERS, true),
    ("/github/repositories/{id}/", REPOSITORY_FILTERS, false),
    (
        "/github/repositories/{id}/stargazers/",
        DEVELOPER_FILTERS,
        true,
    ),
    ("/github/rate_limit/", RATE_LIMIT_FILTERS, true),
    ("/github/rate_limit/{id}/", RATE_LIMIT_FILTERS, false),
    ("/github/jobs/", JOB_FILTERS, true),
    ("/github/jobs/{id}/", JOB_FILTERS, false),
];

/// Adds what every route shares, once all routes have registered their paths.
pub fn complete(openapi: &mut utoipa::openapi::OpenApi) {
    {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            if path == "/github/tasks/"
                && let Some(post) = item.post.as_mut()
            {
                post.request_body = Some(tasks::request_body());
            }
            let shape = PATHS.iter().find(|(p, _, _)| p == path);
            for operation in [item.get.as_mut(), item.post.as_mut()]
                .into_iter()
                .flatten()
            {
                respond(
                    operation,
                    "406",
                    "The Accept header asks for nothing this API serves",
                    detail(),
                );
                // The root is public and touches no database; everything else may meet either.
                let public = path == "/github/";
                if !public {
                    respond(
                        operation,
                        "503",
                        "The database is unavailable; try again shortly",
                        detail(),
                    );
                }
                if !public && operation.security.is_none() {
                    operation.security = Some(vec![
                        SecurityRequirement::new("basic", Vec::<String>::new()),
                        SecurityRequirement::new("bearer", Vec::<String>::new()),
                    ]);
                }
                if !public {
                    respond(
                        operation,
                        "403",
                        "Missing, malformed or wrong credentials",
                        detail(),
                    );
                    respond(
                        operation,
                        "429",
                        "Too many failed Basic logins from this client in the last minute; \
                         `Retry-After` says when to try again",
                        detail(),
                    );
                    respond(
                        operation,
                        "401",
                        "A browser (HTML negotiated) without valid credentials is asked for them \
                         with `WWW-Authenticate: Basic`",
                        detail(),
                    );
                }
                if let Some((_, fields, is_list)) = shape {
                    document_filters(operation, fields);
                    // Ours, opt-in: `_links` where records link elsewhere, `_embedded` where
                    // they have relations.
                    if !path.starts_with("/github/jobs/") {
                        document_links(operation);
                    }
                    if !path.starts_with("/github/jobs/")
                        && !path.starts_with("/github/rate_limit/")
                    {
                        document_embed(operation);
                    }
                    let not_found = if *is_list {
                        document_page(operation);
                        "No such record (for the lists hanging off one), or an invalid page"
                    } else {
                        "No such record, a malformed id, or the record does not match the filters"
                    };
                    respond(operation, "404", not_found, detail());
                    respond(
                        operation,
                        "400",
                        "A malformed number or date/time in a filter",
                        field_errors(),
                    );
                }
            }
        }
    }
}

fn detail() -> RefOr<Schema> {
    Ref::from_schema_name("ErrorDetail").into()
}

/// `{"param": ["message", …], …}`
fn field_errors() -> RefOr<Schema> {
    ObjectBuilder::new()
        .additional_properties(Some(
            ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String)),
        ))
        .into()
}

fn respond(operation: &mut Operation, status: &str, description: &str, schema: RefOr<Schema>) {
    let response = ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(schema)).build(),
        )
        .build();
    operation
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert(RefOr::T(response));
}

/// A query parameter. Every parameter treats an empty value as absent, so a typed one is
/// documented as its type or the empty string.
fn query_param(
    operation: &mut Operation,
    name: String,
    description: String,
    schema: ObjectBuilder,
) {
    let schema: Schema = schema.into();
    let is_string = matches!(&schema, Schema::Object(object)
        if object.schema_type == SchemaType::Type(Type::String) && object.format.is_none());
    let schema = if is_string {
        schema
    } else {
        AnyOfBuilder::new()
            .item(schema)
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .max_length(Some(0)),
            )
            .into()
    };
    let parameter = ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(schema))
        .build();
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(parameter);
}

fn document_filters(operation: &mut Operation, fields: &[Field]) {
    for field in fields {
        for &lookup in field.lookups {
            let (schema, description) = match (lookup, field.kind) {
                (Lookup::IsNull, _) => (
                    any_boolean(),
                    format!(
                        "`{}` is null (`true`, `1`) or not (`false`, `0`), in any case; other \
                         values are ignored",
                        field.name
                    ),
                ),
                (Lookup::Contains, _) => (
                    filter_text(),
                    format!("`{}` contains this text (case-sensitive)", field.name),
                ),
                (_, Kind::Text) => (filter_text(), compare(field.name, lookup)),
                (_, Kind::Bool) => (
                    any_boolean(),
                    format!(
                        "{}: `true`/`1` or `false`/`0`, in any case; other values are ignored",
                        compare(field.name, lookup)
                    ),
                ),
                (_, Kind::Int) => (
                    ObjectBuilder::new().schema_type(Type::Number),
                    format!("{}; decimals are truncated", compare(field.name, lookup)),
                ),
                (_, Kind::Time) => (
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
                    format!(
                        "{}; without a zone the time is UTC",
                        compare(field.name, lookup)
                    ),
                ),
            };
            query_param(operation, lookup.param(field.name), description, schema);
        }
    }
}

fn document_links(operation: &mut Operation) {
    query_param(
        operation,
        "links".to_owned(),
        "`true` (or `1`, in any case) adds `_links` with the record's own and related URLs; \
         other values are ignored"
            .to_owned(),
        any_boolean(),
    );
}

fn document_embed(operation: &mut Operation) {
    query_param(
        operation,
        "embed".to_owned(),
        "1 to 3: developers and repositories carry `_embedded`, the first page of each \
         relation rendered in full, this many levels deep (at most 1,000 embedded records a \
         response; records past that have no `_embedded`)"
            .to_owned(),
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(3)),
    );
}

/// Text without NUL, which Django's text fields refuse ("Null characters are not allowed.").
fn filter_text() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[^\\u0000]*$"))
}

/// A boolean as the original reads one: any text, of which only some words mean anything.
fn any_boolean() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn compare(field: &str, lookup: Lookup) -> String {
    match lookup {
        Lookup::Lte => format!("`{field}` at most this"),
        Lookup::Gte => format!("`{field}` at least this"),
        _ => format!("`{field}` equals this"),
    }
}

fn document_page(operation: &mut Operation) {
    query_param(
        operation,
        "page".to_owned(),
        "Page number from 1 (ten records a page), or `last`".to_owned(),
        ObjectBuilder::new().schema_type(Type::String),
    );
}
