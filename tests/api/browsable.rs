//! The HTML pages' forms, used as a browser uses them: the task form POSTs a task, a list's
//! filter form GETs with every one of its fields, the page links walk the list.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{PASSWORD, TestApp, USER, backend_tests};
use crate::seed;

const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

async fn page(app: &TestApp, path: &str) -> String {
    let response = app
        .client
        .get(app.url(path))
        .header("accept", BROWSER)
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

/// The `name="…"` of every input and select of the first form after `marker`.
fn field_names(html: &str, marker: &str) -> Vec<String> {
    let form = &html[html.find(marker).expect("the form")..];
    let form = &form[..form.find("</form>").unwrap()];
    form.split("name=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        .collect()
}

/// The `href` of the link labelled `label`.
fn link<'a>(html: &'a str, label: &str) -> &'a str {
    let end = html.find(&format!("\">{label}</a>")).expect("the link");
    let start = html[..end].rfind("href=\"").unwrap() + "href=\"".len();
    &html[start..end]
}

async fn the_task_form_posts_a_task_and_links_its_job(app: TestApp) {
    let form = page(&app, "/github/tasks/").await;
    assert!(form.contains("<form class=\"task\" method=\"post\" action=\"/github/tasks/\">"));
    assert_eq!(
        field_names(&form, "<form class=\"task\""),
        ["name", "username", "repo_name"]
    );

    // What a browser sends: every field, the unused one empty, and wanting HTML back.
    let answer = app
        .client
        .post(app.url("/github/tasks/"))
        .header("accept", BROWSER)
        .basic_auth(USER, Some(PASSWORD))
        .form(&[
            ("name", "full_profile_sync"),
            ("username", "octocat"),
            ("repo_name", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let answer = answer.text().await.unwrap();
    let href = format!("<a href=\"{}/github/jobs/", app.address);
    let start = answer.find(&href).expect("a link to the job") + href.len() - "/github/jobs/".len();
    let job = &answer[start..];
    let job = &job[..job.find('"').unwrap()];
    assert!(job.starts_with("/github/jobs/"), "{answer}");
    assert!(answer.contains("<form class=\"task\""), "the form stays");
    let (status, job) = app.json(job).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(job["name"], "full_profile_sync");
    assert_eq!(job["args"]["username"], "octocat", "{job}");
    assert_eq!(job["status"], "queued");
}

async fn the_filter_form_filters_and_the_page_links_walk_the_list(app: TestApp) {
    for id in 1..=25 {
        let login = format!("dev-{id:02}");
        seed::developer(
            &app.db,
            seed::Dev {
                public_repos: Some(id),
                ..seed::dev(id, &login)
            },
        )
        .await;
    }
    let list = page(&app, "/github/developers/?format=api").await;
    let names = field_names(&list, "<details class=\"filters\"");
    assert!(names.contains(&"public_repos__gte".to_owned()), "{names:?}");
    assert!(names.contains(&"name__isnull".to_owned()));
    assert_eq!(names[0], "format", "the rendering is kept");

    // Submitted as a browser does: every field, most of them empty.
    let query: Vec<(String, String)> = names
        .iter()
        .map(|name| {
            let value = match name.as_str() {
                "format" => "json",
                "public_repos__gte" => "11",
                _ => "",
            };
            (name.clone(), value.to_owned())
        })
        .collect();
    let filtered: Value = app
        .client
        .get(app.url("/github/developers/"))
        .query(&query)
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(filtered["count"], 15, "{filtered}");

    let filtered = page(&app, "/github/developers/?public_repos__gte=11&format=api").await;
    assert!(filtered.contains("<details class=\"filters\" open>"));
    assert!(filtered.contains("<input name=\"public_repos__gte\" value=\"11\""));
    assert!(
        filtered.contains("<span>Previous</span>"),
        "page 1 has none"
    );
    let last = link(&filtered, "Last").replace("&amp;", "&");
    let last = page(&app, &last).await;
    assert!(last.contains("<span>Next</span>"), "the last page has none");
    let previous = link(&last, "Previous").replace("&amp;", "&");
    let previous = previous.strip_prefix(&app.address).unwrap();
    assert!(previous.contains("public_repos__gte=11"), "{previous}");
    let first = link(&last, "First").replace("&amp;", "&");
    assert!(!first.contains("page="), "{first}");
    let (_, first) = app.json(&first.replace("format=api", "format=json")).await;
    assert_eq!(first["count"], 15);
    assert_eq!(first["previous"], Value::Null);
}

backend_tests!(
    the_task_form_posts_a_task_and_links_its_job,
    the_filter_form_filters_and_the_page_links_walk_the_list,
);
