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

use crate::error::ApiError;
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

/// What POST reads, from `application/x-www-form-urlencoded`, `multipart/form-data` or JSON.
#[derive(Debug, Default, ToSchema)]
#[allow(dead_code)] // documents the body; the handler reads the fields by name
pub struct TaskForm {
    /// full_profile_sync, full_repository_sync or discovery_scraper.
    name: String,
    /// A GitHub login (full_profile_sync, full_repository_sync).
    username: Option<String>,
    /// The repository's bare name, `garapa` not `h3nnn4n/garapa` (full_repository_sync).
    repo_name: Option<String>,
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

const TASKS: [TaskInfo; 3] = [
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
#[utoipa::path(get, path = "/github/tasks/", tag = "tasks",
    responses((status = 200, description = "The task kinds", body = [TaskInfo])))]
pub async fn list() -> Json<[TaskInfo; 3]> {
    Json(TASKS)
}

/// Queues a task as a job. The same task already queued, running or postponed is not
/// queued twice: the answer then names the pending job.
#[utoipa::path(post, path = "/github/tasks/", tag = "tasks",
    request_body(content(
        (TaskForm = "application/x-www-form-urlencoded"),
        (TaskForm = "multipart/form-data"),
        (TaskForm = "application/json"),
    )),
    responses(
        (status = 200, description = "Queued", body = TaskAccepted),
        (status = 400, description = "A body that does not parse", body = super::ErrorDetail),
        (status = 406, description = "A missing or invalid field, or an unknown task", body = TaskRefused),
        (status = 415, description = "A body of a type this route does not read", body = super::ErrorDetail),
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
        job: api.link(&format!("/github/jobs/{job}/")),
    };
    Ok(Json(accepted).into_response())
}

/// The task a form asks for, or the original's words for what is wrong with it.
fn task_from(name: &str, username: &str, repo_name: &str) -> Result<Task, String> {
    let username = || match username {
        "" => Err("Missing username. Provide a valid github username".to_owned()),
        u if !valid_login(u) => Err("Invalid username. Provide a valid github username".to_owned()),
        u => Ok(u.to_owned()),
    };
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
            let mut multipart = Multipart::from_request(request, &()).await.map_err(|err| {
                ApiError::BadRequest(format!("Multipart form parse error - {}", err.body_text()))
            })?;
            let mut fields = Vec::new();
            while let Some(field) = multipart.next_field().await.map_err(|err| {
                ApiError::BadRequest(format!("Multipart form parse error - {}", err.body_text()))
            })? {
                let name = field.name().unwrap_or("").to_owned();
                let value = field.text().await.unwrap_or_default();
                fields.push((name, value));
            }
            Ok(fields)
        }
        "" | "application/x-www-form-urlencoded" | "application/json" => {
            let body = Bytes::from_request(request, &())
                .await
                .map_err(|err| ApiError::BadRequest(err.body_text()))?;
            if essence == "application/json" {
                json_fields(&body)
            } else {
                Ok(form_urlencoded::parse(&body).into_owned().collect())
            }
        }
        _ => Err(ApiError::UnsupportedMediaType(essence)),
    }
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
    Ok(object
        .into_iter()
        .map(|(key, value)| {
            let text = match value {
                Value::String(text) => text,
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (key, text)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_use_the_originals_words() {
        assert_eq!(
            task_from("full_profile_sync", "", "").unwrap_err(),
            "Missing username. Provide a valid github username"
        );
        assert_eq!(
            task_from("full_repository_sync", "h3nnn4n", "").unwrap_err(),
            "Missing repo_name. Provide a valid repository name"
        );
        assert_eq!(
            task_from("nope", "", "").unwrap_err(),
            "task name nope not recognized"
        );
        assert_eq!(
            task_from("full_profile_sync", "no spaces", "").unwrap_err(),
            "Invalid username. Provide a valid github username"
        );
        assert_eq!(
            task_from("full_repository_sync", "a", "b/c").unwrap_err(),
            "Invalid repo_name. Provide a valid repository name"
        );
        assert_eq!(
            task_from("discovery_scraper", "", "").unwrap(),
            Task::DiscoveryScraper
        );
    }
}
