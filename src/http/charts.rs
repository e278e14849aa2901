//! Charts drawn by the server as inline SVG: no script runs and nothing is fetched to show
//! them. Times are seconds since the epoch, shown in UTC.

use std::fmt::Write;

use crate::http::html::escape;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 26.0;

/// One line of a chart.
pub struct Series<'a> {
    pub label: &'a str,
    pub colour: &'a str,
    pub points: Vec<(i64, f64)>,
}

/// One bar's parts, stacked in order: (label, colour, value).
pub type Stack<'a> = Vec<(&'a str, &'a str, f64)>;

/// Lines over time, from zero up to the highest value.
pub fn lines(title: &str, series: &[Series<'_>]) -> String {
    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let (first, last) = match (xs.clone().min(), xs.max()) {
        (Some(first), Some(last)) if last > first => (first, last),
        (Some(only), _) => (only - 1800, only + 1800),
        _ => return empty(title),
    };
    let top = nice_ceiling(
        series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .fold(0.0, f64::max),
    );
    let x = |t: i64| LEFT + (t - first) as f64 / (last - first) as f64 * plot_width();
    let mut out = frame(title, series.iter().map(|s| (s.label, s.colour)), top);
    for line in series {
        let points: Vec<String> = line
            .points
            .iter()
            .map(|&(t, v)| format!("{:.1},{:.1}", x(t), y(v, top)))
            .collect();
        if let [only] = points.as_slice() {
            let (cx, cy) = only.split_once(',').unwrap_or_default();
            let _ = write!(
                out,
                "<circle class=\"series\" cx=\"{cx}\" cy=\"{cy}\" r=\"3\" fill=\"{}\"/>",
                line.colour
            );
        } else {
            let _ = write!(
                out,
                "<polyline class=\"series\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" \
                 points=\"{}\"/>",
                line.colour,
                points.join(" ")
            );
        }
    }
    time_labels(&mut out, first, last);
    out.push_str("</svg>");
    out
}

/// `lines` as an SVG document of its own (an `<img>`'s source): with the SVG namespace, and
/// a chart that says so where there is nothing to draw.
pub fn lines_document(title: &str, series: &[Series<'_>]) -> String {
    if series.iter().all(|s| s.points.is_empty()) {
        return format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} 40\" \
             width=\"{WIDTH}\" height=\"40\"><text x=\"{LEFT}\" y=\"24\" font-size=\"14\">\
             {}: nothing recorded yet.</text></svg>",
            escape(title)
        );
    }
    lines(title, series).replacen("<svg ", "<svg xmlns=\"http://www.w3.org/2000/svg\" ", 1)
}

/// Stacked bars, one per slot of `slot_seconds` from `first`, each labelled by its start.
pub fn bars(title: &str, legend: &[(&str, &str)], slots: &[(i64, Stack<'_>)]) -> String {
    let (Some(first), Some(last)) = (slots.first(), slots.last()) else {
        return empty(title);
    };
    let top = nice_ceiling(
        slots
            .iter()
            .map(|(_, stack)| stack.iter().map(|part| part.2).sum::<f64>())
            .fold(0.0, f64::max),
    );
    let mut out = frame(title, legend.iter().copied(), top);
    let slot_width = plot_width() / slots.len() as f64;
    for (index, (start, stack)) in slots.iter().enumerate() {
        let left = LEFT + index as f64 * slot_width + slot_width * 0.1;
        let mut base = 0.0;
        for &(label, colour, value) in stack {
            if value <= 0.0 {
                continue;
            }
            let (upper, lower) = (y(base + value, top), y(base, top));
            let _ = write!(
                out,
                "<rect class=\"bar\" x=\"{left:.1}\" y=\"{upper:.1}\" width=\"{:.1}\" \
                 height=\"{:.1}\" fill=\"{colour}\"><title>{} {}: {}</title></rect>",
                slot_width * 0.8,
                lower - upper,
                time_label(*start),
                escape(label),
                grouped(value as i64)
            );
            base += value;
        }
    }
    time_labels(&mut out, first.0, last.0);
    out.push_str("</svg>");
    out
}

/// A horizontal gauge: `value` of `limit`, with a note beside it.
pub fn gauge(label: &str, value: i64, limit: i64, note: &str) -> String {
    let share = if limit > 0 {
        (value as f64 / limit as f64).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let colour = match share {
        s if s < 0.1 => "#cf222e",
        s if s < 0.3 => "#bf8700",
        _ => "#1a7f37",
    };
    format!(
        "<svg class=\"gauge\" role=\"img\" aria-label=\"{label}\" viewBox=\"0 0 {WIDTH} 40\" \
         width=\"{WIDTH}\" height=\"40\"><text x=\"0\" y=\"14\">{label}: {value} of {limit} \
         left, {note}</text><rect x=\"0\" y=\"20\" width=\"{WIDTH}\" height=\"14\" \
         fill=\"#eaeef2\"/><rect class=\"level\" x=\"0\" y=\"20\" width=\"{:.1}\" height=\"14\" \
         fill=\"{colour}\"/></svg>",
        WIDTH * share,
        label = escape(label),
        value = grouped(value),
        limit = grouped(limit),
        note = escape(note),
    )
}

/// 1234567 → "1,234,567".
pub fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn plot_width() -> f64 {
    WIDTH - LEFT - RIGHT
}

fn y(value: f64, top: f64) -> f64 {
    let plot_height = HEIGHT - TOP - BOTTOM;
    TOP + plot_height - value / top * plot_height
}

/// The smallest of 1, 2 or 5 times a power of ten at or above `value`, and at least 5: the
/// charts count whole things.
fn nice_ceiling(value: f64) -> f64 {
    if value <= 5.0 {
        return 5.0;
    }
    let power = 10f64.powf(value.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|step| step * power)
        .find(|&ceiling| ceiling >= value)
        .unwrap_or(10.0 * power)
}

fn leading_digit(value: f64) -> u32 {
    let digits = format!("{value:.0}");
    digits
        .chars()
        .next()
        .and_then(|digit| digit.to_digit(10))
        .unwrap_or(1)
}

/// The SVG's opening, title, legend, and the value axis up to `top`.
fn frame<'a>(title: &str, legend: impl Iterator<Item = (&'a str, &'a str)>, top: f64) -> String {
    let mut out = format!(
        "<svg class=\"chart\" role=\"img\" aria-label=\"{title}\" viewBox=\"0 0 {WIDTH} \
         {HEIGHT}\" width=\"{WIDTH}\" height=\"{HEIGHT}\"><title>{title}</title>\
         <text class=\"title\" x=\"{LEFT}\" y=\"14\" font-size=\"14\" font-weight=\"600\">\
         {title}</text>",
        title = escape(title),
    );
    let mut at = LEFT + 9.0 * title.chars().count() as f64 + 24.0;
    for (label, colour) in legend {
        let _ = write!(
            out,
            "<rect x=\"{at:.0}\" y=\"5\" width=\"10\" height=\"10\" fill=\"{colour}\"/>\
             <text x=\"{:.0}\" y=\"14\" font-size=\"12\">{}</text>",
            at + 14.0,
            escape(label)
        );
        at += 14.0 + 7.0 * label.chars().count() as f64 + 18.0;
    }
    // Round values on the axis: fifths of 1, 5 or 10 times a power of ten, quarters of 2.
    let steps = if leading_digit(top) == 2 { 4 } else { 5 };
    for step in 0..=steps {
        let value = top * f64::from(step) / f64::from(steps);
        let level = y(value, top);
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" x2=\"{:.0}\" y1=\"{level:.1}\" y2=\"{level:.1}\" \
             stroke=\"#d0d7de\" stroke-width=\"{}\"/><text x=\"{:.0}\" y=\"{:.1}\" \
             font-size=\"11\" text-anchor=\"end\">{}</text>",
            WIDTH - RIGHT,
            if step == 0 { 1.5 } else { 0.5 },
            LEFT - 6.0,
            level + 4.0,
            grouped(value.round() as i64)
        );
    }
    out
}

fn time_labels(out: &mut String, first: i64, last: i64) {
    let _ = write!(
        out,
        "<text x=\"{LEFT}\" y=\"{:.0}\" font-size=\"11\">{}</text>\
         <text x=\"{:.0}\" y=\"{:.0}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
        HEIGHT - 8.0,
        time_label(first),
        WIDTH - RIGHT,
        HEIGHT - 8.0,
        time_label(last)
    );
}

fn time_label(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .map(|at| at.format("%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

fn empty(title: &str) -> String {
    format!(
        "<p class=\"chart empty\"><strong>{}</strong>: nothing recorded yet.</p>",
        escape(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_and_axes_end_on_round_values() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(-1_234_567), "-1,234,567");
        assert_eq!(nice_ceiling(0.0), 5.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(12.0), 20.0);
        assert_eq!(nice_ceiling(4_900.0), 5_000.0);
        assert_eq!(nice_ceiling(5_001.0), 10_000.0);
        let axis = |top: f64| {
            let svg = lines(
                "t",
                &[Series {
                    label: "s",
                    colour: "#000",
                    points: vec![(0, top)],
                }],
            );
            let labels: Vec<String> = svg
                .split("text-anchor=\"end\">")
                .skip(1)
                .map(|rest| rest[..rest.find('<').unwrap()].to_owned())
                .filter(|label| !label.ends_with("UTC"))
                .collect();
            labels
        };
        assert_eq!(axis(50.0), ["0", "10", "20", "30", "40", "50"]);
        assert_eq!(axis(2_000.0), ["0", "500", "1,000", "1,500", "2,000"]);
        assert_eq!(axis(1.0), ["0", "1", "2", "3", "4", "5"]);
    }

    #[test]
    fn a_line_spans_the_plot_and_labels_are_escaped() {
        let svg = lines(
            "<known>",
            &[Series {
                label: "a&b",
                colour: "#000",
                points: vec![(0, 0.0), (3600, 10.0)],
            }],
        );
        assert!(svg.contains("aria-label=\"&lt;known&gt;\""));
        assert!(svg.contains(">a&amp;b</text>"));
        let start = format!("{LEFT:.1},{:.1}", HEIGHT - BOTTOM);
        let end = format!("{:.1},{TOP:.1}", WIDTH - RIGHT);
        assert!(svg.contains(&format!("points=\"{start} {end}\"")), "{svg}");
        assert!(lines("nothing", &[]).contains("nothing recorded yet"));
    }

    #[test]
    fn bars_stack_their_parts() {
        let slots = vec![
            (0, vec![("core", "#111", 30.0), ("graphql", "#222", 20.0)]),
            (
                3600,
                vec![("core", "#111", 0.0), ("graphql", "#222", 100.0)],
            ),
        ];
        let svg = bars("requests", &[("core", "#111")], &slots);
        assert_eq!(
            svg.matches("<rect class=\"bar\"").count(),
            3,
            "no empty part"
        );
        assert!(svg.contains("graphql: 100</title>"));
    }
}
