//! The OpenAPI 3.1 document: handlers register their own paths (utoipa-axum), and this adds
//! what routes share — security schemes, the shared error bodies, and on each resource's list,
//! record and relation paths their filter, page, `links` and `embed` parameters — from the
//! declarations the code runs on (each resource's `Collection`, the filter tables), so the
//! document cannot drift from them.

use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{
    AnyOfBuilder, ArrayBuilder, ArrayItems, KnownFormat, Object, ObjectBuilder, SchemaFormat,
    SchemaType, Type,
};
use utoipa::openapi::security::{
    Http, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder, Schema};

use crate::http::filters::{Field, Kind, Lookup};
use crate::http::omit::Omit;
use crate::http::resource::{Collection, Documented};
use crate::http::routes::{
    ErrorDetail, WITH_LISTS, developers, jobs, rate_limits, repositories, tasks,
};

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
        (name = "stats", description = "How the crawl and the quotas are going"),
    )
)]
pub struct ApiDoc;

/// The resources the document describes the paths of.
pub const RESOURCES: [Documented; 4] = [
    Documented::of::<developers::Developer>(),
    Documented::of::<repositories::Repository>(),
    Documented::of::<rate_limits::RateLimit>(),
    Documented::of::<jobs::Job>(),
];

/// The shared body of a 400 for bad query parameters.
const FIELD_ERRORS: &str = "FieldErrors";

/// A path a resource serves: what it lists (or shows), and whether it is a page of them.
pub struct ResourcePath {
    pub path: String,
    pub listed: &'static Collection,
    pub is_list: bool,
}

/// Every path of every resource: its list, its records, and the lists hanging off a record.
pub fn resource_paths() -> Vec<ResourcePath> {
    let mut paths = Vec::new();
    for resource in &RESOURCES {
        let collection = resource.collection;
        let record = format!("{}{{id}}/", collection.path);
        paths.push(ResourcePath {
            path: collection.path.to_owned(),
            listed: collection,
            is_list: true,
        });
        for relation in collection.relations {
            paths.push(ResourcePath {
                path: format!("{record}{}/", relation.name),
                listed: relation.of,
                is_list: true,
            });
        }
        paths.push(ResourcePath {
            path: record,
            listed: collection,
            is_list: false,
        });
    }
    paths
}

/// Adds what every route shares, once all routes have registered their paths.
pub fn complete(openapi: &mut utoipa::openapi::OpenApi) {
    add_shared_components(openapi);
    for (path, item) in openapi.paths.paths.iter_mut() {
        if path == "/github/tasks/"
            && let Some(post) = item.post.as_mut()
        {
            post.request_body = Some(tasks::request_body());
        }
        // The root is public and touches no database; everything else may meet either.
        let public = path == "/github/";
        // Downloads are files, not JSON or HTML to negotiate; their parameters are checked
        // as filters are.
        let download = path.starts_with("/github/export/");
        for operation in [item.get.as_mut(), item.post.as_mut()]
            .into_iter()
            .flatten()
        {
            if download {
                respond(
                    operation,
                    "400",
                    "A parameter is wrong: each key names one",
                    Ref::from_schema_name(FIELD_ERRORS).into(),
                );
                respond(
                    operation,
                    "503",
                    "Too many downloads are running, or the database is unavailable; try \
                     again shortly",
                    detail(),
                );
            }
            document_shared_answers(operation, public, !download);
        }
    }
    if let Some(list) = openapi
        .paths
        .paths
        .get_mut("/github/repositories/")
        .and_then(|item| item.get.as_mut())
    {
        document_since(list);
    }
    for shape in resource_paths() {
        let operation = openapi
            .paths
            .paths
            .get_mut(&shape.path)
            .and_then(|item| item.get.as_mut());
        if let Some(operation) = operation {
            document_resource_path(operation, &shape);
        }
    }
    splice_flattened_parts(openapi);
}

fn add_shared_components(openapi: &mut utoipa::openapi::OpenApi) {
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
    // `{"param": ["message", …], …}`
    let field_errors = ObjectBuilder::new()
        .description(Some("What is wrong with each named query parameter"))
        .additional_properties(Some(
            ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String)),
        ));
    components
        .schemas
        .insert(FIELD_ERRORS.to_owned(), field_errors.into());
}

/// The answers any operation may give: 406 where the answer is negotiated, and unless
/// public, those of authentication and of a database outage.
fn document_shared_answers(operation: &mut Operation, public: bool, negotiated: bool) {
    if negotiated {
        respond(
            operation,
            "406",
            "The Accept header asks for nothing this API serves",
            detail(),
        );
    }
    if public {
        return;
    }
    respond(
        operation,
        "503",
        "The database is unavailable; try again shortly",
        detail(),
    );
    if operation.security.is_none() {
        operation.security = Some(vec![
            SecurityRequirement::new("basic", Vec::<String>::new()),
            SecurityRequirement::new("bearer", Vec::<String>::new()),
        ]);
    }
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

/// A resource's path: its filters, the opt-in `links` and `embed`, paging, and its 404 and 400.
fn document_resource_path(operation: &mut Operation, shape: &ResourcePath) {
    let listed = shape.listed;
    document_filters(operation, listed.filters);
    if listed.links {
        document_links(operation);
    }
    if listed.embeds {
        document_embed(operation);
    }
    if !listed.relations.is_empty() {
        document_omit(operation);
    }
    let not_found = if shape.is_list {
        document_page(operation);
        document_ordering_and_search(operation, listed);
        "No such record (for the lists hanging off one), an invalid page, or an invalid cursor"
    } else {
        "No such record, a malformed id, or the record does not match the filters"
    };
    respond(operation, "404", not_found, detail());
    respond(
        operation,
        "400",
        "A malformed number or date/time in a filter, or an unknown `ordering` field or \
         `omit` list",
        Ref::from_schema_name(FIELD_ERRORS).into(),
    );
}

/// Puts each resource's `#[serde(flatten)]` parts into its schema where the JSON has them:
/// in its component, and in the copy of it that `Page<R>`'s component holds.
fn splice_flattened_parts(openapi: &mut utoipa::openapi::OpenApi) {
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    for resource in &RESOURCES {
        let name = (resource.schema_name)();
        let parts = (resource.flattened)();
        if parts.is_empty() {
            continue;
        }
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(name.as_ref()) {
            splice(object, &parts);
        }
        let page = components.schemas.get_mut(&format!("Page_{name}"));
        if let Some(RefOr::T(Schema::Object(page))) = page
            && let Some(RefOr::T(Schema::Array(results))) = page.properties.get_mut("results")
            && let ArrayItems::RefOrSchema(item) = &mut results.items
            && let RefOr::T(Schema::Object(object)) = item.as_mut()
        {
            splice(object, &parts);
        }
    }
}

/// Inserts each part's properties after the property it follows; `required` keeps the
/// properties' order, as the derive writes it.
fn splice(object: &mut Object, parts: &[(&str, RefOr<Schema>)]) {
    for (after, part) in parts {
        let RefOr::T(Schema::Object(part)) = part else {
            continue;
        };
        let properties = std::mem::take(&mut object.properties);
        for (key, value) in properties {
            let here = key == *after;
            object.properties.insert(key, value);
            if here {
                object.properties.extend(part.properties.clone());
            }
        }
        let required: Vec<String> = object
            .properties
            .keys()
            .filter(|key| object.required.contains(key) || part.required.contains(key))
            .cloned()
            .collect();
        object.required = required;
    }
}

fn detail() -> RefOr<Schema> {
    Ref::from_schema_name("ErrorDetail").into()
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

/// `?since=`: the growth the repositories list adds, and orders by.
fn document_since(operation: &mut Operation) {
    query_param(
        operation,
        "since".to_owned(),
        "A day (`YYYY-MM-DD`): each record gets `stars_gained` and `size_growth` since then, \
         and `ordering` takes both (not with `cursor`); another value is a 400"
            .to_owned(),
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))),
    );
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

/// `?omit=`, whose names are any collection's relations (an answer embeds both kinds); its
/// pattern says which, so that a generated value is one the API accepts.
fn document_omit(operation: &mut Operation) {
    let name = format!("({})", Omit::names(&WITH_LISTS).join("|"));
    query_param(
        operation,
        "omit".to_owned(),
        "Comma-separated URL lists the records leave out, which are then not read: a \
         developer's `followers`, `following`, `starred_repositories`, `repositories`, a \
         repository's `stargazers` (a page of the most-followed developers carries hundreds \
         of thousands of URLs without it); another name is a 400"
            .to_owned(),
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(format!("^({name}(,{name})*)?$"))),
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

/// `?ordering=` and `?search=`, where the list takes them. An ordering names only the list's
/// fields (its pattern says which, so that a generated value is one the list accepts).
fn document_ordering_and_search(operation: &mut Operation, listed: &Collection) {
    let quoted = |fields: &[&str]| -> String {
        let quoted: Vec<String> = fields.iter().map(|field| format!("`{field}`")).collect();
        quoted.join(", ")
    };
    let orderings = listed.ordering_names();
    if !orderings.is_empty() {
        let field = format!("-?({})", orderings.join("|"));
        query_param(
            operation,
            "ordering".to_owned(),
            format!(
                "Fields to order by, comma-separated, each prefixed `-` for descending: {}. \
                 Nulls (records not synced yet) sort as the smallest values; ties fall to the \
                 id. An unknown field is a 400.",
                quoted(&orderings)
            ),
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(format!("^({field}(,{field})*)?$"))),
        );
        query_param(
            operation,
            "cursor".to_owned(),
            "Opt-in keyset pages: given (empty for the first page), the answer has no `count`, \
             and its `next` and `previous` links carry the cursor of the pages beside it. Any \
             depth costs what the first page costs, and records inserted meanwhile are neither \
             repeated nor skipped. Ordered by the first `ordering` field (or newest \
             `created_at` first), then the id. A cursor that no link gave is a 404."
                .to_owned(),
            ObjectBuilder::new().schema_type(Type::String),
        );
    }
    if !listed.search.is_empty() {
        query_param(
            operation,
            "search".to_owned(),
            format!(
                "Terms separated by spaces or commas; a record matches when each term, in any \
                 case, is in one of {}. A term that matches nothing empties the list.",
                quoted(listed.search)
            ),
            ObjectBuilder::new().schema_type(Type::String),
        );
    }
}
