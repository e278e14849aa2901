//! The HTML rendering of API answers for browsers: the same data as the JSON, as tables,
//! with every URL a link and every string escaped.

use std::fmt::Write;

use serde_json::Value;

use crate::http::forms;
use crate::http::params::Params;

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#222}\
header{background:#24292f;color:#fff;padding:.7em 1.2em}header small{opacity:.7}header a{color:#fff;text-decoration:none;font-weight:600}\
main{padding:1em 1.2em}h1{font-size:1.3em;margin:.2em 0 .6em}.request{font-family:monospace;background:#f4f4f4;padding:.5em;border-radius:4px;overflow-wrap:anywhere}\
td{overflow-wrap:anywhere}\
table{border-collapse:collapse;margin:.3em 0}th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}\
th{background:#fafafa;font-weight:600}ul{margin:0;padding-left:1.2em}.null{color:#999}.formats a{margin-right:1em}\
form{margin:.6em 0}fieldset{border:1px solid #ddd;border-radius:4px}label{margin-right:.8em;white-space:nowrap}\
details.filters{margin:.6em 0}.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(16em,1fr));gap:.3em .8em;margin:.5em 0}\
.grid label{display:flex;justify-content:space-between;gap:.5em;font-size:.9em}.grid input,.grid select{width:9em}\
nav.pages{margin:.6em 0}nav.pages a,nav.pages span{margin-right:1em}nav.pages span{color:#999}\
header a.nav{font-weight:400;margin-left:1.5em;opacity:.85}";

/// A whole page for the answer `value` to `method path_and_query`, served by `route` (the
/// matched route's template), whose forms it offers.
pub fn page(method: &str, path_and_query: &str, route: Option<&str>, value: &Value) -> String {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let params = Params::parse(Some(query));
    let json_link = format!("{path}?{}", params.with("format", Some("json")));
    let mut main = String::with_capacity(4096);
    let _ = write!(
        main,
        "<p class=\"request\">{method} {request}</p>\
         <p class=\"formats\">Formats: <a href=\"{json}\">json</a>\
         <a href=\"/github/swagger/\">swagger</a><a href=\"/github/redoc/\">redoc</a></p>",
        method = escape(method),
        request = escape(path_and_query),
        json = escape(&json_link),
    );
    main.push_str(&forms::controls(route, path, &params, value));
    render(&mut main, value);
    document(&title_of(path), "", &main)
}

/// The frame of every page: `head` (more of the `<head>`) and `main` are HTML as given.
pub fn document(title: &str, head: &str, main: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · git-o-matic-9k</title><style>{STYLE}</style>{head}</head><body>\
         <header><a href=\"/github/\">git-o-matic-9k API</a> <small>{version}</small> \
         <a class=\"nav\" href=\"/github/dashboard/\">dashboard</a></header><main>\
         <h1>{title}</h1>{main}</main></body></html>",
        title = escape(title),
        version = concat!("v", env!("CARGO_PKG_VERSION")),
    )
}

/// "/github/developers/" → "Developers"; the root is "Api Root", as DRF titles it.
fn title_of(path: &str) -> String {
    let last = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    if last.is_empty() || last == "github" {
        return "Api Root".to_owned();
    }
    last.split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn render(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("<span class=\"null\">null</span>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) if s.starts_with("http://") || s.starts_with("https://") => {
            let s = escape(s);
            let _ = write!(out, "<a href=\"{s}\">{s}</a>");
        }
        Value::String(s) => out.push_str(&escape(s)),
        Value::Array(items) if items.is_empty() => out.push_str("<span class=\"null\">[]</span>"),
        Value::Array(items) => {
            out.push_str("<ul>");
            for item in items {
                out.push_str("<li>");
                render(out, item);
                out.push_str("</li>");
            }
            out.push_str("</ul>");
        }
        Value::Object(fields) => {
            out.push_str("<table>");
            for (key, field) in fields {
                let _ = write!(out, "<tr><th>{}</th><td>", escape(key));
                render(out, field);
                out.push_str("</td></tr>");
            }
            out.push_str("</table>");
        }
    }
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn urls_become_links_and_strings_are_escaped() {
        let value = json!({
            "url": "http://h/github/developers/1/",
            "bio": "<script>alert('x')</script>",
            "followers": ["http://h/a/"],
            "email": null
        });
        let html = page("GET", "/github/developers/?page=2", None, &value);
        assert!(html.contains("<a href=\"http://h/github/developers/1/\">"));
        assert!(html.contains("<a href=\"http://h/a/\">"));
        assert!(html.contains("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("<title>Developers · git-o-matic-9k</title>"));
        assert!(html.contains("href=\"/github/developers/?format=json&amp;page=2\""));
        assert!(html.contains(concat!("<small>v", env!("CARGO_PKG_VERSION"), "</small>")));
    }
}
