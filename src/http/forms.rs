//! What the HTML pages offer beyond the data, as DRF's browsable API does: a form to POST a
//! task, a filter form on each list (built from the same filter tables as the query parsing
//! and the OpenAPI document) and links to the first, previous, next and last pages.

use std::fmt::Write;

use serde_json::Value;

use crate::http::filters::{Kind, Lookup};
use crate::http::html::escape;
use crate::http::openapi::resource_paths;
use crate::http::params::Params;
use crate::http::resource::Collection;
use crate::http::routes::tasks::TASKS;

/// Query parameters that are no filter but shape the answer: a filter form keeps them.
const KEPT: [&str; 4] = ["format", "links", "embed", "omit"];

/// The controls of the page answering `route` (the matched route's template) at `path`.
pub fn controls(route: Option<&str>, path: &str, params: &Params, value: &Value) -> String {
    let Some(route) = route else {
        return String::new();
    };
    if route == "/github/tasks/" {
        return task_form(path, params);
    }
    // A repository's page shows its stars over time (the chart is an image of its own, so
    // the page stays what the JSON is).
    if route == "/github/repositories/{id}/" && value.get("full_name").is_some() {
        return "<figure class=\"chart\"><img src=\"star_history.svg\" width=\"640\" \
                alt=\"The repository's stars over time\"></figure>"
            .to_owned();
    }
    let list = resource_paths()
        .into_iter()
        .find(|shape| shape.is_list && shape.path == route);
    match list {
        Some(shape) => {
            let mut out = filter_form(shape.listed, path, params);
            // An error (a malformed filter, say) has no pages to link.
            if value.get("results").is_some() {
                out.push_str(&page_links(path, params, value));
            }
            out
        }
        None => String::new(),
    }
}

/// The form whose POST queues a task; the answer (with the job's link) comes back as a page.
fn task_form(path: &str, params: &Params) -> String {
    let mut out = format!(
        "<form class=\"task\" method=\"post\" action=\"{action}\"><fieldset><legend>Start a task\
         </legend><label>name <select name=\"name\">",
        action = escape(&keep_format(path, params)),
    );
    // The original's kinds, and ours.
    for name in TASKS.iter().map(|task| task.name).chain(["refresh"]) {
        let _ = write!(out, "<option>{}</option>", escape(name));
    }
    out.push_str(
        "</select></label> <label>username <input name=\"username\" autocomplete=\"off\">\
         </label> <label>repo_name <input name=\"repo_name\" autocomplete=\"off\"></label> \
         <button type=\"submit\">POST</button></fieldset></form>",
    );
    out
}

/// `path`, with `?format=` when the page was asked for by it, so the answer is a page too.
fn keep_format(path: &str, params: &Params) -> String {
    match params.non_empty("format") {
        Some(format) => format!("{path}?{}", Params::default().with("format", Some(format))),
        None => path.to_owned(),
    }
}

/// A GET form with one input per filter parameter, and the list's search and ordering,
/// filled with the values asked for.
fn filter_form(listed: &Collection, path: &str, params: &Params) -> String {
    let fields = listed.filters;
    let active = ["search", "ordering"]
        .into_iter()
        .any(|name| params.non_empty(name).is_some())
        || fields.iter().any(|field| {
            field
                .lookups
                .iter()
                .any(|lookup| params.non_empty(&lookup.param(field.name)).is_some())
        });
    let mut out = format!(
        "<details class=\"filters\"{open}><summary>Filters</summary>\
         <form method=\"get\" action=\"{action}\">",
        open = if active { " open" } else { "" },
        action = escape(path),
    );
    for kept in KEPT {
        if let Some(value) = params.non_empty(kept) {
            let _ = write!(
                out,
                "<input type=\"hidden\" name=\"{kept}\" value=\"{}\">",
                escape(value)
            );
        }
    }
    out.push_str("<div class=\"grid\">");
    out.push_str(&search_and_ordering(listed, params));
    for field in fields {
        for &lookup in field.lookups {
            let name = lookup.param(field.name);
            let value = params.get(&name).unwrap_or_default();
            let _ = write!(out, "<label>{}", escape(&name));
            if field.kind == Kind::Bool || lookup == Lookup::IsNull {
                let _ = write!(out, "<select name=\"{}\">", escape(&name));
                for choice in ["", "true", "false"] {
                    let selected = if choice == value { " selected" } else { "" };
                    let _ = write!(out, "<option{selected}>{choice}</option>");
                }
                out.push_str("</select>");
            } else {
                let hint = match field.kind {
                    Kind::Int => " inputmode=\"decimal\"",
                    Kind::Time => " placeholder=\"2024-01-31T12:00:00Z\"",
                    Kind::Text | Kind::Bool => "",
                };
                let _ = write!(
                    out,
                    "<input name=\"{}\" value=\"{}\"{hint}>",
                    escape(&name),
                    escape(value)
                );
            }
            out.push_str("</label>");
        }
    }
    let _ = write!(
        out,
        "</div><button type=\"submit\">Filter</button> <a href=\"{}\">Clear</a></form></details>",
        escape(&keep_format(path, params))
    );
    out
}

/// The search box and the ordering (a field, or several comma-separated, offered as a
/// list), where the list takes them.
fn search_and_ordering(listed: &Collection, params: &Params) -> String {
    let mut out = String::new();
    let orderings = listed.ordering_names();
    let first_ordering = orderings.first().copied().unwrap_or_default();
    let inputs = [
        (
            "search",
            listed.search,
            listed.search.join(", "),
            "type=\"search\"",
        ),
        (
            "ordering",
            &orderings[..],
            format!("-{first_ordering}"),
            "list=\"orderings\"",
        ),
    ];
    for (name, fields, placeholder, kind) in inputs {
        if fields.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "<label>{name} <input {kind} name=\"{name}\" value=\"{}\" placeholder=\"{}\">",
            escape(params.get(name).unwrap_or_default()),
            escape(&placeholder),
        );
        if name == "ordering" {
            out.push_str("<datalist id=\"orderings\">");
            for field in fields {
                let _ = write!(out, "<option>{field}</option><option>-{field}</option>");
            }
            out.push_str("</datalist>");
        }
        out.push_str("</label>");
    }
    out
}

/// First, previous, next and last: the neighbours as the page links them, the ends from
/// the query with its page changed.
fn page_links(path: &str, params: &Params, value: &Value) -> String {
    let neighbour = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    // Cursor pages start again at an empty cursor, and have no last page to link.
    let (first, last) = if params.get("cursor").is_some() {
        (format!("{path}?{}", params.with_cursor("")), None)
    } else {
        let last = format!("{path}?{}", params.with("page", Some("last")));
        (format!("{path}?{}", params.with("page", None)), Some(last))
    };
    let links = [
        ("First", Some(first)),
        ("Previous", neighbour("previous")),
        ("Next", neighbour("next")),
        ("Last", last),
    ];
    let mut out = String::from("<nav class=\"pages\">");
    for (label, href) in links {
        match href {
            Some(href) => {
                let _ = write!(out, "<a href=\"{}\">{label}</a>", escape(&href));
            }
            None => {
                let _ = write!(out, "<span>{label}</span>");
            }
        }
    }
    out.push_str("</nav>");
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_list_gets_its_filters_filled_and_its_page_links() {
        let params = Params::parse(Some("format=api&login=<b>&public_repos__gte=3&page=2"));
        let page = json!({"count": 30, "next": "http://h/github/developers/?page=3",
            "previous": null, "results": []});
        let html = controls(
            Some("/github/developers/"),
            "/github/developers/",
            &params,
            &page,
        );
        assert!(html.contains("<details class=\"filters\" open>"));
        assert!(html.contains("<input name=\"login\" value=\"&lt;b&gt;\">"));
        assert!(html.contains("<input name=\"public_repos__gte\" value=\"3\" inputmode"));
        assert!(html.contains("<select name=\"name__isnull\">"));
        assert!(html.contains("<input type=\"hidden\" name=\"format\" value=\"api\">"));
        assert!(html.contains("<input type=\"search\" name=\"search\" value=\"\""));
        assert!(html.contains("<option>-followers_count</option>"));
        assert!(
            !html.contains("name=\"page\""),
            "a new filter starts at page 1"
        );
        assert!(html.contains("<a href=\"http://h/github/developers/?page=3\">Next</a>"));
        assert!(html.contains("<span>Previous</span>"));
        assert!(html.contains(
            "<a href=\"/github/developers/?format=api&amp;login=%3Cb%3E&amp;page=last\
             &amp;public_repos__gte=3\">Last</a>"
        ));
    }

    #[test]
    fn a_relation_list_filters_what_it_lists_and_a_record_has_no_form() {
        let params = Params::default();
        let stargazers = controls(
            Some("/github/repositories/{id}/stargazers/"),
            "/github/repositories/1/stargazers/",
            &params,
            &json!({}),
        );
        assert!(stargazers.contains("name=\"followers_count__lte\""));
        assert!(stargazers.contains("name=\"ordering\""));
        let jobs = controls(Some("/github/jobs/"), "/github/jobs/", &params, &json!({}));
        assert!(jobs.contains("name=\"status\""));
        assert!(!jobs.contains("name=\"search\"") && !jobs.contains("name=\"ordering\""));
        let record = controls(
            Some("/github/developers/{id}/"),
            "/github/developers/1/",
            &params,
            &json!({}),
        );
        assert_eq!(record, "");
    }

    #[test]
    fn a_cursor_page_links_its_neighbours_and_starts_again_at_an_empty_cursor() {
        let params = Params::parse(Some("cursor=abc&ordering=login"));
        let page = json!({"next": "http://h/github/developers/?cursor=def", "previous": null,
            "results": []});
        let html = controls(
            Some("/github/developers/"),
            "/github/developers/",
            &params,
            &page,
        );
        assert!(
            html.contains("<a href=\"/github/developers/?cursor=&amp;ordering=login\">First</a>")
        );
        assert!(html.contains("<a href=\"http://h/github/developers/?cursor=def\">Next</a>"));
        assert!(html.contains("<span>Last</span>"));
    }

    #[test]
    fn the_task_form_offers_every_kind() {
        let html = controls(
            Some("/github/tasks/"),
            "/github/tasks/",
            &Params::default(),
            &json!([]),
        );
        for task in &TASKS {
            assert!(html.contains(&format!("<option>{}</option>", task.name)));
        }
        assert!(html.contains("<option>refresh</option>"));
        assert!(html.contains("<form class=\"task\" method=\"post\" action=\"/github/tasks/\">"));
    }
}
