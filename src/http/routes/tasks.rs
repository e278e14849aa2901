//! `/github/tasks/`: the original's way to start work. GET lists the task kinds; POST
//! queues one (a durable job) from a form, multipart or JSON body.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa::openapi::request_body::{RequestBody, RequestBodyBuilder};
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{ContentBuilder, Required};

use super::jobs;
use crate::error::ApiError;
use crate::http::limits::BODY_TOO_LARGE;
use crate::http::request::ApiRequest;
use crate::jobs::{Task, valid_login, valid_repo_name};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskInfo {
    pub id: i64,
    pub name: &'static str,
    /// "required" or "n/a".
    pub username: &'static str,
    pub repo_name: &'static str,
}

/// What `valid_login` accepts: 1 to 39 letters, digits and inner hyphens.
const LOGIN_PATTERN: &str = "^[A-Za-z0-9]([A-Za-z0-9-]{0,37}[A-Za-z0-9])?$";
/// What `valid_repo_name` accepts: 1 to 100 of letters, digits, `.`, `_`, `-`, but not `.`
/// or `..` alone.
const REPO_NAME_PATTERN: &str = r"^([A-Za-z0-9_-][A-Za-z0-9._-]{0,99}|\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,98}|\.\.[A-Za-z0-9._-]{1,98})$";

/// The bodies POST accepts, in each of the three encodings: one shape per task kind, each
/// with exactly the fields it needs (others are ignored). Anything else is refused with 406.
pub fn request_body() -> RequestBody {
    let text = |description: &str| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(description))
    };
    let name = |kind: &str| text("The task kind").enum_values(Some([kind]));
    let username = || text("A GitHub login").pattern(Some(LOGIN_PATTERN));
    let repo_name = || {
        text("The repository's bare name, `garapa` not `h3nnn4n/garapa`")
            .pattern(Some(REPO_NAME_PATTERN))
    };
    let kinds = || {
        [
            ObjectBuilder::new()
                .property("name", name("full_profile_sync"))
                .property("username", username())
                .required("name")
                .required("username"),
            ObjectBuilder::new()
                .property("name", name("full_repository_sync"))
                .property("username", username())
                .property("repo_name", repo_name())
                .required("name")
                .required("username")
                .required("repo_name"),
            ObjectBuilder::new()
                .property("name", name("discovery_scraper"))
                .required("name"),
            // Ours: one record re-read now, the repository when `repo_name` is given (an
            // empty one, or JSON's null, is none).
            ObjectBuilder::new()
                .property("name", name("refresh"))
                .property("username", username())
                .property(
                    "repo_name",
                    text("The repository's bare name; empty, null or left out: the developer")
                        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                        .pattern(Some(format!("^$|{REPO_NAME_PATTERN}"))),
                )
                .required("name")
                .required("username"),
        ]
    };
    let body = |field_names: Option<Schema>| {
        let mut one_of = OneOfBuilder::new();
        for kind in kinds() {
            one_of = one_of.item(kind.property_names(field_names.clone()));
        }
        ContentBuilder::new().schema(Some(one_of)).build()
    };
    // A multipart field's name travels in a header, where control characters (but tab)
    // are not allowed: such a part does not parse (400).
    let header_text: Schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[^\\u0000-\\u0008\\u000A-\\u001F\\u007F]*$"))
        .into();
    RequestBodyBuilder::new()
        .required(Some(Required::True))
        .content("application/x-www-form-urlencoded", body(None))
        .content("multipart/form-data", body(Some(header_text)))
        .content("application/json", body(None))
        .build()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskAccepted {
    /// Always "yes".
    pub success: &'static str,
    /// The job that does the work (ours).
    pub job: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskRefused {
    /// Always "no".
    pub success: &'static str,
    pub error: String,
}

pub const TASKS: [TaskInfo; 3] = [
    TaskInfo {
        id: 1,
        name: "full_profile_sync",
        username: "required",
        repo_name: "n/a",
    },
    TaskInfo {
        id: 2,
        name: "full_repository_sync",
        username: "required",
        repo_name: "required",
    },
    TaskInfo {
        id: 3,
        name: "discovery_scraper",
        username: "n/a",
        repo_name: "n/a",
    },
];

/// The task kinds POST accepts and the fields each needs.
#[utoipa::path(get, path = "/github/tasks/", tag = "tasks", operation_id = "tasks_list",
    responses((status = 200, description = "The task kinds", body = [TaskInfo])))]
pub async fn list() -> Json<[TaskInfo; 3]> {
    Json(TASKS)
}

/// Queues a task as a job. The same task already queued, running or postponed is not
/// queued twice: the answer then names the pending job.
#[utoipa::path(post, path = "/github/tasks/", tag = "tasks", operation_id = "tasks_create",
    // The body's schema is request_body(), which the attribute cannot express.
    responses(
        (status = 200, description = "Queued", body = TaskAccepted),
        (status = 400, description = "A body that does not parse", body = super::ErrorDetail),
        (status = 406, description = "A missing or invalid field, or an unknown task", body = TaskRefused),
        (status = 415, description = "A body of a type this route does not read", body = super::ErrorDetail),
        (status = 413, description = "A body over 64 KiB", body = super::ErrorDetail),
    ))]
pub async fn create(
    State(state): State<AppState>,
    api: ApiRequest,
    request: Request,
) -> Result<Response, ApiError> {
    let fields = read_fields(request).await?;
    let field = |key: &str| {
        fields
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    };
    let task = match task_from(field("name"), field("username"), field("repo_name")) {
        Ok(task) => task,
        Err(error) => {
            let refused = TaskRefused {
                success: "no",
                error,
            };
            return Ok((StatusCode::NOT_ACCEPTABLE, Json(refused)).into_response());
        }
    };
    let job = task.enqueue(&state.db).await?.id();
    let accepted = TaskAccepted {
        success: "yes",
        job: api.record(&jobs::COLLECTION, job),
    };
    Ok(Json(accepted).into_response())
}

/// The fields a task is made of.
const FIELDS: [&str; 3] = ["name", "username", "repo_name"];

/// The task a form asks for, or the original's words for what is wrong with it.
fn task_from(name: &str, username: &str, repo_name: &str) -> Result<Task, String> {
    let username = || match username {
        "" => Err("Missing username. Provide a valid github username".to_owned()),
        u if !valid_login(u) => Err("Invalid username. Provide a valid github username".to_owned()),
        u => Ok(u.to_owned()),
    };
    let repository_given = !repo_name.is_empty();
    let repo_name = || match repo_name {
        "" => Err("Missing repo_name. Provide a valid repository name".to_owned()),
        r if !valid_repo_name(r) => {
            Err("Invalid repo_name. Provide a valid repository name".to_owned())
        }
        r => Ok(r.to_owned()),
    };
    match name {
        "full_profile_sync" => Ok(Task::FullProfileSync {
            username: username()?,
        }),
        "full_repository_sync" => Ok(Task::FullRepositorySync {
            username: username()?,
            repo_name: repo_name()?,
        }),
        "discovery_scraper" => Ok(Task::DiscoveryScraper),
        // Ours: a repository when `repo_name` is given, else the developer.
        "refresh" => Ok(Task::Refresh {
            username: username()?,
            repo_name: repository_given.then(repo_name).transpose()?,
        }),
        other => Err(format!("task name {other} not recognized")),
    }
}

/// The body's fields as text, whatever of the three encodings it came in; no body, no fields.
async fn read_fields(request: Request) -> Result<Vec<(String, String)>, ApiError> {
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();
    match essence.as_str() {
        "multipart/form-data" => {
            let mut multipart = Multipart::from_request(request, &())
                .await
                .map_err(|err| body_error(err.status(), multipart_error(err.body_text())))?;
            let mut fields = Vec::new();
            while let Some(field) = multipart
                .next_field()
                .await
                .map_err(|err| body_error(err.status(), multipart_error(err.body_text())))?
            {
                let name = field.name().unwrap_or("").to_owned();
                let value = field
                    .text()
                    .await
                    .map_err(|err| body_error(err.status(), multipart_error(err.body_text())))?;
                fields.push((name, value));
            }
            Ok(fields)
        }
        "" | "application/x-www-form-urlencoded" | "application/json" => {
            let body = Bytes::from_request(request, &())
                .await
                .map_err(|err| body_error(err.status(), err.body_text()))?;
            if essence == "application/json" {
                json_fields(&body)
            } else {
                Ok(form_urlencoded::parse(&body).into_owned().collect())
            }
        }
        _ => Err(ApiError::UnsupportedMediaType(essence)),
    }
}

/// A body that could not be read: too large (413), or malformed (400, saying how).
fn body_error(status: StatusCode, message: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::Status(status, BODY_TOO_LARGE)
    } else {
        ApiError::BadRequest(message)
    }
}

fn multipart_error(cause: String) -> String {
    format!("Multipart form parse error - {cause}")
}

fn json_fields(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|err| ApiError::BadRequest(format!("JSON parse error - {err}")))?;
    let Value::Object(object) = value else {
        return Err(ApiError::BadRequest(
            "JSON parse error - expected an object".to_owned(),
        ));
    };
    let mut fields = Vec::new();
    for (key, value) in object {
        let text = match value {
            Value::String(text) => text,
            Value::Null => String::new(),
            // The fields a task reads are text; other fields are ignored, whatever they hold.
            other if FIELDS.contains(&key.as_str()) => {
                return Err(ApiError::BadRequest(format!(
                    "JSON parse error - {key} must be a string, not {other}"
                )));
            }
            other => other.to_string(),
        };
        fields.push((key, text));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_use_the_originals_words() {
        for (name, username, repo_name, refusal) in [
            (
                "full_profile_sync",
                "",
                "",
                "Missing username. Provide a valid github username",
            ),
            (
                "full_repository_sync",
                "h3nnn4n",
                "",
                "Missing repo_name. Provide a valid repository name",
            ),
            ("nope", "", "", "task name nope not recognized"),
            (
                "full_profile_sync",
                "no spaces",
                "",
                "Invalid username. Provide a valid github username",
            ),
            (
                "full_repository_sync",
                "a",
                "b/c",
                "Invalid repo_name. Provide a valid repository name",
            ),
        ] {
            assert_eq!(task_from(name, username, repo_name).unwrap_err(), refusal);
        }
        assert_eq!(
            task_from("discovery_scraper", "", "").unwrap(),
            Task::DiscoveryScraper
        );
    }
}
