//! The filters each list accepts (django-filter's, as the original declared them), parsed
//! from the query into `Condition`s with DRF's value rules and error messages.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde_json::{Map, json};

use crate::db::filter::{Cmp, Condition};
use crate::db::sql::SqlValue;
use crate::error::ApiError;
use crate::http::params::Params;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    Time,
    Bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    Exact,
    Lte,
    Gte,
    IsNull,
    Contains,
}

impl Lookup {
    /// The query parameter for `field` with this lookup: `login`, `login__lte`, …
    pub fn param(self, field: &str) -> String {
        match self {
            Self::Exact => field.to_owned(),
            Self::Lte => format!("{field}__lte"),
            Self::Gte => format!("{field}__gte"),
            Self::IsNull => format!("{field}__isnull"),
            Self::Contains => format!("{field}__contains"),
        }
    }
}

/// One filterable field; `name` is both the parameter stem and the column.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub lookups: &'static [Lookup],
}

use Kind::{Bool, Int, Text, Time};
use Lookup::{Contains, Exact, Gte, IsNull, Lte};

const RANGE: &[Lookup] = &[Exact, Lte, Gte];
const RANGE_NULL: &[Lookup] = &[Exact, Lte, Gte, IsNull];
const RANGE_NULL_CONTAINS: &[Lookup] = &[Exact, Lte, Gte, IsNull, Contains];
const EXACT: &[Lookup] = &[Exact];
const EXACT_NULL: &[Lookup] = &[Exact, IsNull];
const EXACT_NULL_CONTAINS: &[Lookup] = &[Exact, IsNull, Contains];

const fn field(name: &'static str, kind: Kind, lookups: &'static [Lookup]) -> Field {
    Field {
        name,
        kind,
        lookups,
    }
}

pub const DEVELOPER_FILTERS: &[Field] = &[
    field("login", Text, RANGE),
    field("name", Text, RANGE_NULL_CONTAINS),
    field("bio", Text, RANGE_NULL_CONTAINS),
    field("location", Text, RANGE_NULL_CONTAINS),
    field("company", Text, RANGE_NULL),
    field("email", Text, RANGE_NULL),
    field("followers_count", Int, RANGE),
    field("following_count", Int, RANGE),
    field("public_gists", Int, RANGE),
    field("public_repos", Int, RANGE),
    field("repositories_size", Int, RANGE),
    field("created_at", Time, RANGE),
    field("updated_at", Time, RANGE),
];

pub const REPOSITORY_FILTERS: &[Field] = &[
    field("owner_github_id", Int, EXACT),
    field("name", Text, EXACT),
    field("full_name", Text, EXACT),
    field("description", Text, EXACT_NULL_CONTAINS),
    field("homepage", Text, EXACT_NULL),
    field("language", Text, EXACT_NULL),
    field("created_at", Time, RANGE),
    field("updated_at", Time, RANGE),
    field("has_downloads", Bool, EXACT),
    field("has_issues", Bool, EXACT),
    field("has_pages", Bool, EXACT),
    field("has_projects", Bool, EXACT),
    field("has_wiki", Bool, EXACT),
    field("private", Bool, EXACT),
    field("archived", Bool, EXACT),
    field("disabled", Bool, EXACT),
    field("stargazers_count", Int, RANGE),
    field("subscribers_count", Int, RANGE),
    field("watchers_count", Int, RANGE),
    field("open_issues_count", Int, RANGE),
    field("size", Int, RANGE),
];

pub const RATE_LIMIT_FILTERS: &[Field] = &[
    field("rate_limit", Int, RANGE),
    field("rate_remaining", Int, RANGE),
    field("rate_reset_raw", Int, RANGE),
    field("rate_reset", Time, RANGE),
];

pub const JOB_FILTERS: &[Field] = &[field("status", Text, EXACT), field("name", Text, EXACT)];

pub const NULL_CHARACTERS: &str = "Null characters are not allowed.";

/// The conditions the query asks for. Empty values and unknown parameters are ignored;
/// every malformed number or date/time is reported, one key per parameter.
pub fn parse(fields: &[Field], params: &Params) -> Result<Vec<Condition>, ApiError> {
    let mut conditions = Vec::new();
    let mut errors = Map::new();
    for field in fields {
        for &lookup in field.lookups {
            let param = lookup.param(field.name);
            let Some(raw) = params.non_empty(&param) else {
                continue;
            };
            let column = field.name;
            // Django's text fields refuse NUL, which PostgreSQL cannot store or compare.
            if (lookup == Contains || (field.kind == Text && lookup != IsNull))
                && raw.contains('\0')
            {
                errors.insert(param, json!([NULL_CHARACTERS]));
                continue;
            }
            let condition = match lookup {
                IsNull => parse_bool(raw).map(|is_null| Condition::IsNull { column, is_null }),
                Contains => Some(Condition::Contains {
                    column,
                    needle: raw.to_owned(),
                }),
                Exact | Lte | Gte => {
                    let cmp = match lookup {
                        Lte => Cmp::Lte,
                        Gte => Cmp::Gte,
                        _ => Cmp::Eq,
                    };
                    let value = match field.kind {
                        Text => Ok(Some(SqlValue::Text(raw.to_owned()))),
                        Bool => Ok(parse_bool(raw).map(SqlValue::Bool)),
                        Int => parse_integer(raw)
                            .map(|n| Some(SqlValue::Int(n)))
                            .ok_or("Enter a number."),
                        Time => parse_datetime(raw)
                            .map(|t| Some(SqlValue::Time(t.into())))
                            .ok_or("Enter a valid date/time."),
                    };
                    match value {
                        Ok(value) => value.map(|value| Condition::Compare { column, cmp, value }),
                        Err(message) => {
                            errors.insert(param, json!([message]));
                            None
                        }
                    }
                }
            };
            conditions.extend(condition);
        }
    }
    if errors.is_empty() {
        Ok(conditions)
    } else {
        Err(ApiError::InvalidParams(errors))
    }
}

/// `true/false/1/0` in any case; anything else means "no filter".
pub fn parse_bool(raw: &str) -> Option<bool> {
    match raw.to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// A decimal number truncated toward zero, as Django compares a decimal with an integer
/// column (`49.5` → 49); beyond the 64-bit range it saturates. Not a number: `None`.
pub fn parse_integer(raw: &str) -> Option<i64> {
    let text = raw.trim();
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    if whole.is_empty() && fraction.is_empty()
        || !digits(whole)
        || !digits(fraction)
        || !exponent_ok
    {
        return None;
    }
    let negative = text.starts_with('-');
    if exponent.is_some() {
        let value: f64 = text.parse().ok()?;
        // `as` saturates at the i64 bounds, which is the intent here.
        return Some(value.trunc() as i64);
    }
    let whole = whole.trim_start_matches('0');
    let magnitude: i128 = if whole.len() > 20 {
        i128::MAX
    } else {
        whole.parse().unwrap_or(0)
    };
    let value = if negative { -magnitude } else { magnitude };
    Some(value.clamp(i64::MIN.into(), i64::MAX.into()) as i64)
}

/// `YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]][Z|±HH[:MM]]`; without a zone the time is UTC.
pub fn parse_datetime(raw: &str) -> Option<DateTime<Utc>> {
    let text = raw.trim();
    let (date, rest) = text.split_at_checked(10)?;
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    // RFC 3339 allows the separator and the zone in lower case.
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let zone_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let offset = parse_offset(zone)?;
    let time = parse_clock(clock.trim_end())?;
    let local = NaiveDateTime::new(date, time);
    local
        .and_local_timezone(offset)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

fn parse_clock(clock: &str) -> Option<NaiveTime> {
    let (hms, fraction) = match clock.split_once(['.', ',']) {
        Some((hms, fraction)) => (hms, Some(fraction)),
        None => (clock, None),
    };
    let parts: Vec<&str> = hms.split(':').collect();
    let number = |s: &str, max_len: usize| -> Option<u32> {
        (!s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (hour, minute, second) = match parts.as_slice() {
        [h, m] if fraction.is_none() => (number(h, 2)?, number(m, 2)?, 0),
        [h, m, s] => (number(h, 2)?, number(m, 2)?, number(s, 2)?),
        _ => return None,
    };
    let micros = match fraction {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 12 && f.bytes().all(|b| b.is_ascii_digit()) => {
            let six: String = f.chars().chain(std::iter::repeat('0')).take(6).collect();
            six.parse().ok()?
        }
        Some(_) => return None,
    };
    NaiveTime::from_hms_micro_opt(hour, minute, second, micros)
}

fn parse_offset(zone: &str) -> Option<FixedOffset> {
    if zone.is_empty() || zone.eq_ignore_ascii_case("z") {
        return FixedOffset::east_opt(0);
    }
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
    let valid_shape = matches!(zone[1..].len(), 2 | 4 | 5)
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits.len() == 2 || digits.len() == 4);
    if !valid_shape || (zone[1..].len() == 5 && zone.as_bytes()[3] != b':') {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = match &digits[2..] {
        "" => 0,
        m => m.parse().ok()?,
    };
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_accept_decimals_and_truncate() {
        assert_eq!(parse_integer("49.5"), Some(49));
        assert_eq!(parse_integer(" 7 "), Some(7));
        assert_eq!(parse_integer("-3.9"), Some(-3));
        assert_eq!(parse_integer("+12"), Some(12));
        assert_eq!(parse_integer(".5"), Some(0));
        assert_eq!(parse_integer("1e3"), Some(1000));
        assert_eq!(parse_integer("99999999999999999999999999"), Some(i64::MAX));
        assert_eq!(parse_integer("-1e400"), Some(i64::MIN));
        for bad in ["abc", "", ".", "1..2", "NaN", "inf", "1e", "0x10", "1 2"] {
            assert_eq!(parse_integer(bad), None, "{bad}");
        }
    }

    #[test]
    fn datetimes_follow_the_iso_shape_and_default_to_utc() {
        let utc = |s: &str| parse_datetime(s).map(|t| t.to_rfc3339());
        assert_eq!(
            utc("2020-09-29T09:20:44Z").unwrap(),
            "2020-09-29T09:20:44+00:00"
        );
        assert_eq!(
            utc("2020-09-29 09:20").unwrap(),
            "2020-09-29T09:20:00+00:00"
        );
        assert_eq!(
            utc("2020-09-29T09:20:44.5+02:00").unwrap(),
            "2020-09-29T07:20:44.500+00:00"
        );
        assert_eq!(
            utc("2020-09-29T09:20:44-0130").unwrap(),
            "2020-09-29T10:50:44+00:00"
        );
        assert_eq!(
            utc("2020-09-29T09:20:44+05").unwrap(),
            "2020-09-29T04:20:44+00:00"
        );
        for bad in [
            "2020-09-29",
            "yesterday",
            "2020-13-01T00:00",
            "2020-09-29T25:00",
            "2020-09-29T09:20:44+5",
            "2020-09-29X09:20",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_bad_parameter_is_reported_and_the_rest_ignored() {
        let params = Params::parse(Some(
            "stargazers_count__lte=abc&created_at__gte=nope&private=maybe&language=&name=x&unknown=1",
        ));
        let Err(ApiError::InvalidParams(errors)) = parse(REPOSITORY_FILTERS, &params) else {
            panic!("expected errors");
        };
        assert_eq!(
            serde_json::Value::Object(errors),
            json!({"created_at__gte": ["Enter a valid date/time."], "stargazers_count__lte": ["Enter a number."]})
        );
        let ok = parse(
            REPOSITORY_FILTERS,
            &Params::parse(Some("private=maybe&language=&name=x&archived=TRUE")),
        )
        .unwrap();
        assert_eq!(ok.len(), 2, "{ok:?}");
    }
}
