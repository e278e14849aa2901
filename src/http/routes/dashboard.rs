//! `/github/dashboard/` (ours): the figures of `/github/stats/` for people: the jobs under
//! way, the last failures, GitHub's quotas as gauges, and charts of the records and of the
//! requests sent. It reloads itself every minute; nothing on it is fetched from elsewhere.

use std::collections::BTreeMap;
use std::fmt::Write;

use axum::extract::State;
use axum::response::Html;
use serde_json::Value;

use super::jobs::Job;
use super::stats::{self, Stats};
use crate::error::ApiError;
use crate::http::charts::{self, Series, Stack, grouped};
use crate::http::html::{document, escape};
use crate::http::request::ApiRequest;
use crate::state::AppState;

const RELOAD_SECONDS: u32 = 60;
const KNOWN: &str = "#0969da";
const COMPLETE: &str = "#1a7f37";
/// Each GitHub resource's colour in the requests chart, the others grey.
const RESOURCES: [(&str, &str); 2] = [("core", "#0969da"), ("graphql", "#8250df")];
const OTHER: &str = "#8c959f";
/// A failure's error is cut here on the page (the job's page has all of it).
const ERROR_CHARS: usize = 400;

/// The dashboard page.
#[utoipa::path(get, path = "/github/dashboard/", tag = "stats", operation_id = "dashboard",
    responses((status = 200, description = "The dashboard, an HTML page",
        content_type = "text/html", body = String)))]
pub async fn dashboard(
    State(state): State<AppState>,
    request: ApiRequest,
) -> Result<Html<String>, ApiError> {
    let stats = stats::gather(&state, &request).await?;
    let head = format!("<meta http-equiv=\"refresh\" content=\"{RELOAD_SECONDS}\">");
    Ok(Html(document("Dashboard", &head, &render(&stats))))
}

fn render(stats: &Stats) -> String {
    let mut out = format!(
        "<p class=\"request\">As of {} (reloads every minute). The same figures as JSON: \
         <a href=\"/github/stats/\">/github/stats/</a>; all jobs: \
         <a href=\"/github/jobs/\">/github/jobs/</a>.</p>",
        stats.generated_at.0.format("%Y-%m-%d %H:%M:%S UTC")
    );
    let jobs = &stats.jobs;
    let _ = write!(
        out,
        "<section id=\"jobs\"><h2>Jobs</h2><table class=\"totals\"><tr><th>running</th>\
         <th>queued</th><th>postponed</th><th>succeeded</th><th>failed</th></tr><tr>\
         <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></table>",
        grouped(jobs.running),
        grouped(jobs.queued),
        grouped(jobs.postponed),
        grouped(jobs.succeeded),
        grouped(jobs.failed)
    );
    job_table(&mut out, "Running", &stats.running, "started", |job| {
        job.started_at.map(|at| at.0)
    });
    job_table(&mut out, "Postponed", &stats.postponed, "resumes", |job| {
        Some(job.run_at.0)
    });
    job_table(&mut out, "Queued", &stats.queued, "due", |job| {
        Some(job.run_at.0)
    });
    out.push_str("</section><section id=\"failures\"><h2>Last failures</h2>");
    if stats.failures.is_empty() {
        out.push_str("<p>None.</p>");
    } else {
        out.push_str("<table><tr><th>job</th><th>ended</th><th>error</th></tr>");
        for job in &stats.failures {
            let error = job.last_error.as_deref().unwrap_or_default();
            let shown: String = error.chars().take(ERROR_CHARS).collect();
            let cut = if shown.len() < error.len() { "…" } else { "" };
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"error\">{}{cut}</td></tr>",
                job_link(job),
                job.finished_at
                    .map(|at| at.0.format("%m-%d %H:%M").to_string())
                    .unwrap_or_default(),
                escape(&shown)
            );
        }
        out.push_str("</table>");
    }
    out.push_str(&quotas_section(stats));
    out.push_str(&freshness_section(stats));
    out.push_str(&space_section(stats));
    out.push_str("</section><section id=\"charts\"><h2>Over time</h2>");
    let history = &stats.history;
    let line = |label, colour, value: fn(&crate::db::stats::RecordSample) -> i64| Series {
        label,
        colour,
        points: history
            .iter()
            .map(|sample| (sample.at.0.timestamp(), value(sample) as f64))
            .collect(),
    };
    out.push_str(&charts::lines(
        "Developers",
        &[
            line("known", KNOWN, |s| s.developers),
            line("complete", COMPLETE, |s| s.developers_complete),
        ],
    ));
    out.push_str(&charts::lines(
        "Repositories",
        &[
            line("known", KNOWN, |s| s.repositories),
            line("complete", COMPLETE, |s| s.repositories_complete),
        ],
    ));
    out.push_str(&requests_chart(stats));
    out.push_str("</section>");
    out
}

/// A table of jobs, with the moment `when` gives under `heading`.
fn job_table(
    out: &mut String,
    title: &str,
    jobs: &[Job],
    heading: &str,
    when: impl Fn(&Job) -> Option<chrono::DateTime<chrono::Utc>>,
) {
    let _ = write!(out, "<h3>{title}</h3>");
    if jobs.is_empty() {
        out.push_str("<p>None.</p>");
        return;
    }
    let _ = write!(
        out,
        "<table><tr><th>job</th><th>{heading}</th><th>progress</th></tr>"
    );
    for job in jobs {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            job_link(job),
            when(job).map(moment).unwrap_or_default(),
            progress(job.progress.as_ref())
        );
    }
    out.push_str("</table>");
}

/// "full_repository_sync h3nnn4n/garapa", "crawl of 100", linking the job.
fn job_link(job: &Job) -> String {
    let subject = match job.args.get("usernames").and_then(Value::as_array) {
        Some(usernames) => format!("of {}", usernames.len()),
        None => ["username", "repo_name"]
            .iter()
            .filter_map(|key| job.args.get(*key).and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("/"),
    };
    format!(
        "<a href=\"{}\">{} {}</a>",
        escape(&job.url),
        escape(&job.name),
        escape(&subject)
    )
}

/// The progress object's figures, "pages 3 · records 250".
fn progress(progress: Option<&Value>) -> String {
    let Some(Value::Object(fields)) = progress else {
        return String::new();
    };
    fields
        .iter()
        .map(|(key, value)| {
            format!(
                "{} {}",
                escape(&key.replace('_', " ")),
                escape(&value.to_string())
            )
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// "19:45 UTC (in 12 min)" or "(3 min ago)".
fn moment(at: chrono::DateTime<chrono::Utc>) -> String {
    let seconds = (at - chrono::Utc::now()).num_seconds();
    let relative = if seconds >= 0 {
        format!("in {}", duration(seconds))
    } else {
        format!("{} ago", duration(-seconds))
    };
    format!("{} ({relative})", at.format("%H:%M:%S UTC"))
}

fn duration(seconds: i64) -> String {
    match seconds {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

/// Each quota's gauge, and the lists GitHub refuses the credential.
fn quotas_section(stats: &Stats) -> String {
    let mut out = String::from("</section><section id=\"quotas\"><h2>GitHub's quotas</h2>");
    if stats.quotas.is_empty() {
        out.push_str("<p>None seen yet: GitHub has not been asked anything.</p>");
    }
    for quota in &stats.quotas {
        let note = format!("resets in {}", duration(quota.resets_in_seconds));
        out.push_str(&charts::gauge(
            &quota.resource,
            quota.remaining,
            quota.limit,
            &note,
        ));
    }
    out.push_str("<h3>Lists GitHub restricts</h3>");
    if stats.restrictions.is_empty() {
        out.push_str("<p>None: GitHub serves every list asked for.</p>");
        return out;
    }
    out.push_str(
        "<table><tr><th>list</th><th>credential</th><th>GitHub answered</th>\
         <th>since</th><th>last asked</th></tr>",
    );
    for restriction in &stats.restrictions {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&restriction.list),
            escape(&restriction.credential),
            escape(&restriction.answer),
            restriction.since.0.format("%Y-%m-%d %H:%M UTC"),
            restriction.probed_at.0.format("%Y-%m-%d %H:%M UTC"),
        ));
    }
    out.push_str("</table>");
    out
}

/// The stored repositories' kilobytes, and the languages and owners that take the most.
fn space_section(stats: &Stats) -> String {
    let space = &stats.space;
    let mut out = format!(
        "</section><section id=\"space\"><h2>Who takes the space</h2>\
         <p>{} kilobytes in the stored repositories.</p>",
        grouped(space.kilobytes)
    );
    for (heading, rows) in [("language", &space.languages), ("owner", &space.owners)] {
        let _ = write!(
            out,
            "<table class=\"totals\"><tr><th>{heading}</th><th>kilobytes</th></tr>"
        );
        for taken in rows {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td></tr>",
                escape(&taken.name),
                grouped(taken.kilobytes)
            );
        }
        out.push_str("</table>");
    }
    out
}

/// Each table's records by the age of their last sync, and the lists' edges stored against
/// GitHub's counts, as counted at `figures_at`.
fn freshness_section(stats: &Stats) -> String {
    let mut out = format!(
        "</section><section id=\"freshness\"><h2>How fresh the records are</h2>\
         <p>Counted {}, with the ten-minute sample.</p>\
         <table class=\"totals\"><tr><th></th><th>synced today</th><th>this week</th>\
         <th>this month</th><th>older</th><th>never</th></tr>",
        stats.figures_at.0.format("%Y-%m-%d %H:%M UTC")
    );
    for (table, ages) in stats.freshness.tables() {
        let _ = write!(out, "<tr><th>{table}</th>");
        for (_, count) in ages.named() {
            let _ = write!(out, "<td>{}</td>", grouped(count));
        }
        out.push_str("</tr>");
    }
    out.push_str(
        "</table><h2>How complete the graph is</h2><table class=\"totals\"><tr><th></th>\
         <th>edges stored</th><th>GitHub counts</th><th>stored</th></tr>",
    );
    for (list, coverage) in stats.completeness.lists() {
        let share = match coverage.github {
            0 => "–".to_owned(),
            github => format!("{:.1} %", coverage.stored as f64 * 100.0 / github as f64),
        };
        let _ = write!(
            out,
            "<tr><th>{list}</th><td>{}</td><td>{}</td><td>{share}</td></tr>",
            grouped(coverage.stored),
            grouped(coverage.github)
        );
    }
    out.push_str("</table>");
    out
}

/// Requests per hour over the last two days, stacked by resource.
fn requests_chart(stats: &Stats) -> String {
    let mut hours: BTreeMap<i64, Stack<'_>> = BTreeMap::new();
    let mut legend = RESOURCES.to_vec();
    for hourly in &stats.github_requests {
        let colour = RESOURCES
            .iter()
            .find(|(resource, _)| *resource == hourly.resource)
            .map_or(OTHER, |(_, colour)| colour);
        // The other resources (search…) share one colour; each bar's title names its own.
        if colour == OTHER && legend.len() == RESOURCES.len() {
            legend.push(("other", OTHER));
        }
        hours.entry(hourly.hour.0.timestamp()).or_default().push((
            hourly.resource.as_str(),
            colour,
            hourly.requests as f64,
        ));
    }
    // Hours without a request are shown as such, up to the current one.
    if let Some(&first) = hours.keys().next() {
        let now = stats.generated_at.0.timestamp();
        for hour in (first..=now).step_by(3600) {
            hours.entry(hour).or_default();
        }
    }
    let slots: Vec<(i64, Stack<'_>)> = hours.into_iter().collect();
    charts::bars("GitHub requests per hour", &legend, &slots)
}
