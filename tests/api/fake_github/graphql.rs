//! GitHub's GraphQL API over the fake's graph. A query is validated against GitHub's published
//! schema (`assets/github/schema.graphql`, as GitHub answers an invalid one: 200 and `errors`),
//! held to GitHub's limits (`first` at most 100, 100 node ids), charged what GitHub's formula
//! says out of the GraphQL quota (`RATE_LIMITED` when it cannot pay), and executed field by
//! field: a node that does not exist is `null` with a `NOT_FOUND` error, as on GitHub.

use std::sync::OnceLock;

use apollo_compiler::ast::Value as Literal;
use apollo_compiler::executable::{Field, Selection, SelectionSet};
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};
use axum::body::Body;
use axum::extract::{Request as HttpRequest, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::limits::{self, GraphqlRefusal};
use super::{
    FakeState, Incoming, Outcome, Repo, Shared, User, answer_with_quota, encode, error_body, lock,
    node_id,
};

const WENT_WRONG: &str = "Something went wrong while executing your query. This may be the \
     result of a timeout, or it could be a GitHub bug. Please include `0000:0000:0000000` \
     when reporting this issue.";

/// GitHub's schema, read once. GitHub's published file defines two fields twice; nothing else
/// in it may be off.
pub fn schema() -> &'static Valid<Schema> {
    static SCHEMA: OnceLock<Valid<Schema>> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/github/schema.graphql");
        let text = std::fs::read_to_string(path).expect("GitHub's GraphQL schema");
        let schema = match Schema::parse(text, path) {
            Ok(schema) => schema,
            Err(built) => {
                for diagnostic in built.errors.iter() {
                    let message = diagnostic.error.to_string();
                    assert!(message.starts_with("duplicate definitions"), "{message}");
                }
                built.partial
            }
        };
        schema.validate().expect("GitHub's schema validates")
    })
}

pub(super) async fn handler(State(fake): State<Shared>, request: HttpRequest) -> Response {
    let incoming = Incoming::read(&request);
    let body = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let mut state = lock(&fake);
    state.refill();
    if incoming.bearer.is_none() {
        let body = error_body("This endpoint requires you to be authenticated.");
        let refused = state.graphql_answer(StatusCode::UNAUTHORIZED, &body);
        return state.record(incoming, Outcome::free(refused));
    }
    if let Some(refused) = state.unauthorized(&incoming) {
        return state.record(incoming, Outcome::free(refused));
    }
    let outcome = state.graphql(&body);
    state.record(incoming, outcome)
}

impl FakeState {
    fn graphql(&mut self, body: &[u8]) -> Outcome {
        if let Some(fault) = self.draw_fault() {
            return self.faulted(fault, body);
        }
        if self.faults.went_wrong > 0.0 && self.rng.unit() < self.faults.went_wrong {
            let body = json!({"data": null, "errors": [{"message": WENT_WRONG}]});
            return self.reply(&body, 0, None);
        }
        let Ok(request) = serde_json::from_slice::<Value>(body) else {
            let body = error_body("Problems parsing JSON");
            return Outcome::free(self.graphql_answer(StatusCode::BAD_REQUEST, &body));
        };
        let query = request["query"].as_str().unwrap_or_default();
        // The operation's name, for the record, before the query is known to be valid.
        let operation = query
            .strip_prefix("query ")
            .and_then(|rest| rest.split(['(', ' ', '{']).next())
            .filter(|name| !name.is_empty())
            .map(str::to_owned);
        let variables = request["variables"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let document = match ExecutableDocument::parse_and_validate(schema(), query, "query") {
            Ok(document) => document,
            Err(invalid) => {
                let errors: Vec<Value> = invalid
                    .errors
                    .iter()
                    .map(|diagnostic| {
                        let mut error = serde_json::to_value(diagnostic.to_json())
                            .expect("a GraphQL error serializes");
                        error["extensions"] = json!({"code": "undefinedField"});
                        error
                    })
                    .collect();
                let body = json!({ "errors": errors });
                return self.reply(&body, 0, operation);
            }
        };
        let Ok(run) = document.operations.get(None) else {
            let body = json!({"errors": [{"message": "No operation to run"}]});
            return self.reply(&body, 0, operation);
        };
        let mut budget = Budget::default();
        budget.walk(&document, &run.selection_set, &variables, 1);
        if let Some(error) = budget.refusal {
            let body = json!({"errors": [error]});
            return self.reply(&body, 0, operation);
        }
        let cost = budget.points();
        if self.graphql_quota.remaining < cost {
            self.graphql_quota.remaining = 0;
            let body = json!({"errors": [{
                "type": "RATE_LIMITED",
                "message": "API rate limit already exceeded for user ID 1.",
            }]});
            return self.reply(&body, 0, operation);
        }
        self.graphql_quota.remaining -= cost;
        let mut execution = Run {
            state: self,
            document: &document,
            variables: &variables,
            errors: Vec::new(),
            cost,
        };
        let mut data = execution.select(&run.selection_set, &Object::Query, &mut Vec::new());
        let mut errors = std::mem::take(&mut execution.errors);
        let works = works(&data);
        let work: i64 = works.iter().flat_map(|(_, items)| items).sum();
        let fields = works.iter().map(|(_, items)| items.len()).sum();
        let limit = self.work_limit;
        if let Some(limit) = limit.filter(|limit| work > limit.timeout_above) {
            // GitHub charges a query it gave up on, and more.
            self.graphql_quota.remaining = (self.graphql_quota.remaining - limit.penalty).max(0);
            let body = error_body(limits::TIMED_OUT);
            let answer = self.graphql_answer(StatusCode::BAD_GATEWAY, &body);
            let mut outcome = Outcome::points(answer, cost + limit.penalty);
            outcome.operation = operation;
            outcome.graphql_error = Some("TIMEOUT".to_owned());
            (outcome.fields, outcome.work) = (fields, work);
            return outcome;
        }
        if let Some(limit) = limit.filter(|limit| work > limit.partial_above) {
            limits::leave_out(&mut data, &works, limit.partial_above, &mut errors);
        }
        let mut body = json!({ "data": data });
        if !errors.is_empty() {
            body["errors"] = Value::Array(errors);
        }
        let mut outcome = self.reply(&body, cost, operation);
        (outcome.fields, outcome.work) = (fields, work);
        outcome
    }

    /// A 200 answer of GraphQL's, recorded with what it cost, its operation and its first
    /// error's type.
    fn reply(&self, body: &Value, points: i64, operation: Option<String>) -> Outcome {
        let mut outcome = Outcome::points(self.graphql_answer(StatusCode::OK, body), points);
        outcome.operation = operation;
        outcome.graphql_error = body["errors"][0]["type"].as_str().map(str::to_owned);
        outcome
    }

    /// A GraphQL answer carries the GraphQL quota.
    fn graphql_answer(&self, status: StatusCode, body: &Value) -> Response {
        let headers = vec![("content-type", super::JSON_TYPE.to_owned())];
        answer_with_quota(
            status,
            Body::from(encode(body)),
            headers,
            &self.graphql_quota,
            "graphql",
        )
    }
}

/// What a query asks of GitHub, by its formula: each connection needs one request per parent
/// its enclosing connections may yield (`first`/`last` each), and the nodes all of them may
/// hold; GitHub's limits on both.
#[derive(Default)]
struct Budget {
    requests: i64,
    nodes: i64,
    refusal: Option<Value>,
}

impl Budget {
    fn walk(
        &mut self,
        document: &ExecutableDocument,
        set: &SelectionSet,
        variables: &Map<String, Value>,
        parents: i64,
    ) {
        for selection in &set.selections {
            match selection {
                Selection::Field(field) => {
                    let mut inner = parents;
                    if let Some(ids) = argument(field, "ids", variables).as_array()
                        && ids.len() > 100
                    {
                        self.refuse(
                            "ARGUMENT_LIMIT",
                            format!(
                                "You may not provide more than 100 node ids; you provided {}.",
                                ids.len()
                            ),
                        );
                    }
                    if field.ty().inner_named_type().ends_with("Connection") {
                        self.requests += parents;
                        let page = ["first", "last"]
                            .into_iter()
                            .find_map(|name| argument(field, name, variables).as_i64());
                        if let Some(page) = page {
                            if !(0..=100).contains(&page) {
                                self.refuse(
                                    "EXCESSIVE_PAGINATION",
                                    format!(
                                        "Requesting {page} records on the `{}` connection exceeds \
                                     the `first` limit of 100 records.",
                                        field.name
                                    ),
                                );
                            }
                            inner = parents * page.max(1);
                            self.nodes += parents * page;
                        }
                    }
                    self.walk(document, &field.selection_set, variables, inner);
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = spread.fragment_def(document) {
                        self.walk(document, &fragment.selection_set, variables, parents);
                    }
                }
                Selection::InlineFragment(inline) => {
                    self.walk(document, &inline.selection_set, variables, parents);
                }
            }
        }
        if self.nodes > 500_000 && self.refusal.is_none() {
            self.refuse(
                "MAX_NODE_LIMIT_EXCEEDED",
                format!("This query requests up to {} possible nodes which exceeds the maximum limit of 500,000.", self.nodes),
            );
        }
    }

    fn refuse(&mut self, kind: &str, message: String) {
        self.refusal
            .get_or_insert_with(|| json!({"type": kind, "message": message}));
    }

    /// Requests ÷ 100, rounded, at least 1.
    fn points(&self) -> i64 {
        ((self.requests as f64 / 100.0).round() as i64).max(1)
    }
}

/// The work of each top-level field of an answer but `rateLimit`, by its response key: the
/// objects it holds (what GitHub's execution time grows with), and for `nodes` those of each
/// node.
fn works(data: &Value) -> Vec<(String, Vec<i64>)> {
    let fields = data.as_object().into_iter().flatten();
    fields
        .filter(|(key, _)| key.as_str() != "rateLimit")
        .map(|(key, value)| {
            let items = match value {
                Value::Array(nodes) if key == "nodes" => nodes.iter().map(objects).collect(),
                value => vec![objects(value)],
            };
            (key.clone(), items)
        })
        .collect()
}

fn objects(value: &Value) -> i64 {
    match value {
        Value::Object(fields) => 1 + fields.values().map(objects).sum::<i64>(),
        Value::Array(items) => items.iter().map(objects).sum(),
        _ => 0,
    }
}

/// An argument's value, variables resolved; `null` when not given.
fn argument(field: &Field, name: &str, variables: &Map<String, Value>) -> Value {
    field
        .specified_argument_by_name(name)
        .map_or(Value::Null, |value| literal(value, variables))
}

fn literal(value: &Literal, variables: &Map<String, Value>) -> Value {
    match value {
        Literal::Null => Value::Null,
        Literal::Enum(name) => json!(name.as_str()),
        Literal::Variable(name) => variables.get(name.as_str()).cloned().unwrap_or(Value::Null),
        Literal::String(text) => json!(text),
        Literal::Float(float) => json!(float.try_to_f64().unwrap_or_default()),
        Literal::Int(int) => json!(int.try_to_i32().unwrap_or_default()),
        Literal::Boolean(flag) => json!(flag),
        Literal::List(items) => items.iter().map(|item| literal(item, variables)).collect(),
        Literal::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(name, value)| (name.to_string(), literal(value, variables)))
                .collect(),
        ),
    }
}

/// What a selection set is run against.
#[derive(Clone)]
enum Object<'a> {
    Query,
    RateLimit,
    User(&'a User),
    Repo(&'a Repo),
    Language(&'a str),
    Connection(Page<'a>),
    Edge(Item<'a>),
    PageInfo {
        next: Option<String>,
        previous: bool,
    },
}

/// An item of a connection: a user or a repository, and when it was starred.
#[derive(Clone)]
struct Item<'a> {
    node: Box<Object<'a>>,
    starred_at: Option<&'a str>,
}

/// A page of a connection: its items, how many the whole list has, and where it stands.
#[derive(Clone)]
struct Page<'a> {
    items: Vec<Item<'a>>,
    total: usize,
    /// The kilobytes of the repositories in the whole connection.
    disk: i64,
    start: usize,
    more: bool,
}

impl Object<'_> {
    fn typename(&self) -> &'static str {
        match self {
            Self::Query => "Query",
            Self::RateLimit => "RateLimit",
            Self::User(user) if user.organization => "Organization",
            Self::User(_) => "User",
            Self::Repo(_) => "Repository",
            Self::Language(_) => "Language",
            Self::Connection(_) => "Connection",
            Self::Edge(_) => "Edge",
            Self::PageInfo { .. } => "PageInfo",
        }
    }
}

fn cursor(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("cursor:v2:{offset}"))
}

fn offset_after(cursor: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cursor)
        .ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("cursor:v2:")?
        .parse()
        .ok()
}

/// One query being answered.
struct Run<'a> {
    state: &'a FakeState,
    document: &'a ExecutableDocument,
    variables: &'a Map<String, Value>,
    errors: Vec<Value>,
    cost: i64,
}

impl<'a> Run<'a> {
    fn select(&mut self, set: &SelectionSet, object: &Object<'a>, path: &mut Vec<Value>) -> Value {
        let mut out = Map::new();
        self.select_into(set, object, path, &mut out);
        Value::Object(out)
    }

    fn select_into(
        &mut self,
        set: &SelectionSet,
        object: &Object<'a>,
        path: &mut Vec<Value>,
        out: &mut Map<String, Value>,
    ) {
        for selection in &set.selections {
            match selection {
                Selection::Field(field) => {
                    let key = field.response_key().to_string();
                    path.push(json!(key));
                    let value = self.resolve(field, object, path);
                    path.pop();
                    merge(out, key, value);
                }
                Selection::FragmentSpread(spread) => {
                    let document = self.document;
                    if let Some(fragment) = spread.fragment_def(document)
                        && applies(fragment.type_condition(), object)
                    {
                        self.select_into(&fragment.selection_set, object, path, out);
                    }
                }
                Selection::InlineFragment(inline) => {
                    let applies = inline
                        .type_condition
                        .as_ref()
                        .is_none_or(|condition| applies(condition, object));
                    if applies {
                        self.select_into(&inline.selection_set, object, path, out);
                    }
                }
            }
        }
    }

    /// A nested object or list of them, selected by `field`.
    fn nested(&mut self, field: &Field, object: Object<'a>, path: &mut Vec<Value>) -> Value {
        self.select(&field.selection_set, &object, path)
    }

    fn resolve(&mut self, field: &Field, object: &Object<'a>, path: &mut Vec<Value>) -> Value {
        let name = field.name.as_str();
        if name == "__typename" {
            return json!(object.typename());
        }
        let state = self.state;
        match object {
            Object::Query => self.query_field(field, path),
            Object::RateLimit => {
                let quota = &state.graphql_quota;
                match name {
                    "cost" => json!(self.cost),
                    "limit" => json!(quota.limit),
                    "remaining" => json!(quota.remaining),
                    "used" => json!(quota.used()),
                    "nodeCount" => json!(0),
                    "resetAt" => json!(super::timestamp(quota.reset)),
                    _ => self.unserved(object, name),
                }
            }
            Object::User(user) => self.user_field(field, user, path),
            Object::Repo(repo) => self.repo_field(field, repo, path),
            Object::Language(language) => match name {
                "name" => json!(language),
                _ => self.unserved(object, name),
            },
            Object::Connection(page) => match name {
                "totalCount" => json!(page.total),
                "totalDiskUsage" => json!(page.disk),
                "pageInfo" => {
                    let end = page.start + page.items.len();
                    let info = Object::PageInfo {
                        next: page.more.then(|| cursor(end)),
                        previous: page.start > 0,
                    };
                    self.nested(field, info, path)
                }
                "nodes" => {
                    let nodes = page.items.iter().map(|item| (*item.node).clone());
                    self.list(field, nodes.collect(), path)
                }
                "edges" => {
                    let edges = page.items.iter().cloned().map(Object::Edge);
                    self.list(field, edges.collect(), path)
                }
                _ => self.unserved(object, name),
            },
            Object::Edge(item) => match name {
                "node" => self.nested(field, (*item.node).clone(), path),
                "starredAt" => json!(item.starred_at),
                "cursor" => json!(""),
                _ => self.unserved(object, name),
            },
            Object::PageInfo { next, previous } => match name {
                "hasNextPage" => json!(next.is_some()),
                "endCursor" => json!(next),
                "hasPreviousPage" => json!(previous),
                "startCursor" => Value::Null,
                _ => self.unserved(object, name),
            },
        }
    }

    fn list(&mut self, field: &Field, objects: Vec<Object<'a>>, path: &mut Vec<Value>) -> Value {
        let mut values = Vec::new();
        for (index, object) in objects.into_iter().enumerate() {
            path.push(json!(index));
            values.push(self.nested(field, object, path));
            path.pop();
        }
        Value::Array(values)
    }

    fn query_field(&mut self, field: &Field, path: &mut Vec<Value>) -> Value {
        let state = self.state;
        match field.name.as_str() {
            "rateLimit" => self.nested(field, Object::RateLimit, path),
            "node" => {
                let id = argument(field, "id", self.variables);
                self.node(field, id.as_str().unwrap_or_default(), path)
            }
            "nodes" => {
                let ids = argument(field, "ids", self.variables);
                let mut values = Vec::new();
                for (index, id) in ids.as_array().into_iter().flatten().enumerate() {
                    path.push(json!(index));
                    values.push(self.node(field, id.as_str().unwrap_or_default(), path));
                    path.pop();
                }
                Value::Array(values)
            }
            "user" => {
                let login = argument(field, "login", self.variables);
                let login = login.as_str().unwrap_or_default();
                match state.user_named(login).filter(|user| !state.is_gone(user)) {
                    Some(user) => self.nested(field, Object::User(user), path),
                    None => self.not_found(
                        path,
                        format!("Could not resolve to a User with the login of '{login}'."),
                    ),
                }
            }
            name => self.unserved(&Object::Query, name),
        }
    }

    /// The user or repository a node id names, or `null` with a `NOT_FOUND` error.
    fn node(&mut self, field: &Field, id: &str, path: &mut Vec<Value>) -> Value {
        let state = self.state;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(id)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .unwrap_or_default();
        let number = |tag: &str| decoded.strip_prefix(tag)?.parse::<i64>().ok();
        let object = if let Some(id) = number("04:User").or_else(|| number("012:Organization")) {
            state
                .user_by_id(id)
                .filter(|user| !state.is_gone(user))
                .map(Object::User)
        } else if let Some(id) = number("010:Repository") {
            state.repo_by_id(id).map(Object::Repo)
        } else {
            None
        };
        match object {
            Some(object) => self.nested(field, object, path),
            None => self.not_found(
                path,
                format!("Could not resolve to a node with the global id of '{id}'"),
            ),
        }
    }

    fn not_found(&mut self, path: &[Value], message: String) -> Value {
        self.errors.push(json!({
            "type": "NOT_FOUND",
            "path": path,
            "message": message,
        }));
        Value::Null
    }

    fn user_field(&mut self, field: &Field, user: &'a User, path: &mut Vec<Value>) -> Value {
        let state = self.state;
        let index = &state.index;
        let users = &state.graph.users;
        let person = |&at: &usize| Item {
            node: Box::new(Object::User(&users[at])),
            starred_at: None,
        };
        match field.name.as_str() {
            "id" => json!(node_id(user)),
            "databaseId" => json!(user.id),
            "login" => json!(user.login),
            "name" => json!(user.name),
            "company" => json!(user.company),
            "location" => json!(user.location),
            // GraphQL's email is a String!: "" where REST says null.
            "email" => json!(user.email.clone().unwrap_or_default()),
            "bio" => json!(user.bio),
            "websiteUrl" | "twitterUsername" => Value::Null,
            "isHireable" | "isSiteAdmin" => json!(false),
            "avatarUrl" => json!(format!("{}/avatars/u/{}?v=4", state.base, user.id)),
            "url" => json!(format!("{}/{}", state.base, user.login)),
            "createdAt" => json!(user.created_at),
            "updatedAt" => json!(user.updated_at),
            "followers" => {
                let items: Vec<Item> = index.followers.items(user.id).iter().map(person).collect();
                self.connection(field, items, index.followers.edges(user.id), path)
            }
            "following" => {
                let items: Vec<Item> = index.following.items(user.id).iter().map(person).collect();
                self.connection(field, items, index.following.edges(user.id), path)
            }
            "repositories" => {
                let repos = index.repos.items(user.id);
                let items = repos
                    .iter()
                    .map(|&at| Item {
                        node: Box::new(Object::Repo(&state.graph.repos[at])),
                        starred_at: None,
                    })
                    .collect();
                self.connection(field, items, index.repos.edges(user.id), path)
            }
            "starredRepositories" => {
                let items = index
                    .starred
                    .items(user.id)
                    .iter()
                    .map(|(repo, _, at)| Item {
                        node: Box::new(Object::Repo(&state.graph.repos[*repo])),
                        starred_at: Some(at.as_str()),
                    })
                    .collect();
                self.connection(field, items, index.starred.edges(user.id), path)
            }
            "gists" => {
                let total = user.public_gists as usize;
                self.connection(field, Vec::new(), total, path)
            }
            name => self.unserved(&Object::User(user), name),
        }
    }

    fn repo_field(&mut self, field: &Field, repo: &'a Repo, path: &mut Vec<Value>) -> Value {
        let state = self.state;
        let owner = state.user_by_id(repo.owner_id);
        match field.name.as_str() {
            "id" => json!(node_id_of_repo(repo)),
            "databaseId" => json!(repo.id),
            "name" => json!(repo.name),
            "nameWithOwner" => json!(format!(
                "{}/{}",
                owner.map_or("", |owner| owner.login.as_str()),
                repo.name
            )),
            "description" => json!(repo.description),
            "homepageUrl" => json!(repo.homepage),
            "primaryLanguage" => match &repo.language {
                Some(language) => self.nested(field, Object::Language(language), path),
                None => Value::Null,
            },
            "createdAt" => json!(repo.created_at),
            "updatedAt" => json!(repo.updated_at),
            "hasIssuesEnabled" => json!(repo.has_issues),
            "hasProjectsEnabled" => json!(repo.has_projects),
            "hasWikiEnabled" => json!(repo.has_wiki),
            "isPrivate" => json!(repo.private),
            "isArchived" => json!(repo.archived),
            "isDisabled" => json!(repo.disabled),
            "stargazerCount" => json!(state.index.stargazers.edges(repo.id)),
            "diskUsage" => json!(repo.size),
            "viewerPermission" => match state.restrictions.readable.contains(&repo.id) {
                true => json!("ADMIN"),
                false => json!("READ"),
            },
            // Counts alone: the fake keeps no issues, pull requests or watchers, only their
            // numbers (its open issues are all issues).
            "watchers" => self.connection(field, Vec::new(), repo.subscribers_count as usize, path),
            "issues" => self.connection(field, Vec::new(), repo.open_issues_count as usize, path),
            "pullRequests" => self.connection(field, Vec::new(), 0, path),
            "owner" => match owner {
                Some(owner) => self.nested(field, Object::User(owner), path),
                None => Value::Null,
            },
            "stargazers" => {
                let refusal = state.restrictions.graphql_for(repo.id);
                if refusal == Some(GraphqlRefusal::Forbidden) {
                    self.errors.push(json!({
                        "type": "FORBIDDEN",
                        "path": path,
                        "message": limits::NOT_ACCESSIBLE,
                    }));
                    return Value::Null;
                }
                let users = &state.graph.users;
                let mut items: Vec<Item> = state
                    .index
                    .stargazers
                    .items(repo.id)
                    .iter()
                    .map(|(at, starred)| Item {
                        node: Box::new(Object::User(&users[*at])),
                        starred_at: Some(starred.as_str()),
                    })
                    .collect();
                let order = argument(field, "orderBy", self.variables);
                if order["direction"] == "DESC" {
                    items.reverse();
                }
                let total = state.index.stargazers.edges(repo.id);
                if refusal == Some(GraphqlRefusal::Empty) {
                    items.clear();
                }
                self.connection(field, items, total, path)
            }
            name => self.unserved(&Object::Repo(repo), name),
        }
    }

    /// A page of `items` as `first`/`after` ask (`total` counts what GitHub counts).
    fn connection(
        &mut self,
        field: &Field,
        items: Vec<Item<'a>>,
        total: usize,
        path: &mut Vec<Value>,
    ) -> Value {
        let first = argument(field, "first", self.variables)
            .as_u64()
            .map_or(items.len(), |first| first as usize);
        let start = argument(field, "after", self.variables)
            .as_str()
            .and_then(offset_after)
            .unwrap_or(0)
            .min(items.len());
        let end = (start + first).min(items.len());
        let disk = items
            .iter()
            .map(|item| match *item.node {
                Object::Repo(repo) => repo.size,
                _ => 0,
            })
            .sum();
        let page = Page {
            disk,
            more: end < items.len(),
            items: items[start..end].to_vec(),
            total,
            start,
        };
        self.nested(field, Object::Connection(page), path)
    }

    /// A field the schema has and this fake does not answer: an error, so that a test asking
    /// for it learns so.
    fn unserved(&mut self, object: &Object<'_>, name: &str) -> Value {
        self.errors.push(json!({
            "message": format!("the fake GitHub does not serve {}.{name}", object.typename()),
        }));
        Value::Null
    }
}

/// Whether a fragment on `condition` applies to `object`.
fn applies(condition: &str, object: &Object<'_>) -> bool {
    let typename = object.typename();
    condition == typename || schema().is_subtype(condition, typename)
}

/// Keys selected twice (through two fragments) merge.
fn merge(out: &mut Map<String, Value>, key: String, value: Value) {
    match (out.get_mut(&key), value) {
        (Some(Value::Object(existing)), Value::Object(more)) => {
            for (key, value) in more {
                merge(existing, key, value);
            }
        }
        (_, value) => {
            out.insert(key, value);
        }
    }
}

fn node_id_of_repo(repo: &Repo) -> String {
    super::legacy_node_id("010:Repository", repo.id)
}
