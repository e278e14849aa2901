//! Opt-in keyset pages, as GitHub's and Stripe's APIs page: `?cursor=` (empty for the first
//! page) answers ten records after a position, with `next` and `previous` links carrying
//! the position of their edge record, and no `count`. Any depth costs what the first page
//! costs, and records inserted meanwhile make a walk neither repeat nor skip a record. A
//! cursor page is ordered by one field, then the id: the first of `?ordering=`, or the list's
//! own order (newest `created_at` first). A cursor that is not one of the links' (or was
//! made for another ordering field) is DRF's 404 "Invalid cursor.".

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::DateTime;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::count_cache::Known;
use crate::db::keyset::{KeyType, Keyed, Keyset};
use crate::db::listing::{AnyRow, Listing};
use crate::db::probe::Probing;
use crate::db::sql::Sql;
use crate::error::ApiError;
use crate::http::filters::Kind;
use crate::http::ordering::Term;
use crate::http::pagination::PAGE_SIZE;
use crate::http::request::ApiRequest;
use crate::http::resource;
use crate::state::AppState;

/// The lists' own order, as cursor pages take it.
const NEWEST_FIRST: Term = Term {
    field: "created_at",
    kind: Kind::Time,
    descending: true,
};

/// What a cursor holds: the edge record's field (`f`, so that a cursor is only taken by the
/// ordering it came from), its value as text, its id, and whether the page is the one
/// before it.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Position {
    f: String,
    v: Option<String>,
    id: Uuid,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    back: bool,
}

impl Position {
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// The position `raw` holds, if it is one of `term`'s: a value the database can read
    /// back as the field's (a tampered one would otherwise fail the query, not the cursor).
    fn decode(raw: &str, term: &Term) -> Result<Self, ApiError> {
        let position: Option<Position> = URL_SAFE_NO_PAD
            .decode(raw)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        position
            .filter(|position| position.f == term.field)
            .filter(|position| position.v.as_deref().is_none_or(|v| readable(term.kind, v)))
            .ok_or(ApiError::Status(StatusCode::NOT_FOUND, "Invalid cursor."))
    }
}

/// Whether `value` is text the database writes for a value of `kind`: an integer, or a time
/// as PostgreSQL (`2012-03-23 05:00:00+00`) or the SQLite store (RFC 3339) writes it.
fn readable(kind: Kind, value: &str) -> bool {
    match kind {
        Kind::Int => value.parse::<i64>().is_ok(),
        Kind::Time => {
            DateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S%.f%#z").is_ok()
                || DateTime::parse_from_rfc3339(value).is_ok()
        }
        Kind::Text | Kind::Bool => true,
    }
}

/// A cursor page's rows, and the links to the pages beside it.
pub struct CursorPage<T> {
    pub rows: Vec<T>,
    pub next: Option<String>,
    pub previous: Option<String>,
}

/// The page `?cursor=` asks for, of the rows under `filter` in the order of the first of
/// `terms`. `probing`: the filter with its full-text lookups asked row by row, where it has
/// any; the count that tells whether probing pays is then taken (and remembered) too, unless
/// it was small when last taken.
pub async fn page<T: AnyRow>(
    state: &AppState,
    request: &ApiRequest,
    listing: &'static Listing,
    (filter, probing): (&Sql, Option<&Sql>),
    terms: &[Term],
) -> Result<CursorPage<T>, ApiError> {
    let term = terms.first().copied().unwrap_or(NEWEST_FIRST);
    let raw = request.params.get("cursor").unwrap_or_default();
    let position = match raw {
        "" => None,
        raw => Some(Position::decode(raw, &term)?),
    };
    let back = position.as_ref().is_some_and(|position| position.back);
    let keyset = Keyset {
        field: term.field,
        key_type: match term.kind {
            Kind::Int => KeyType::Int,
            Kind::Time => KeyType::Time,
            Kind::Text | Kind::Bool => KeyType::Text,
        },
        // The page before a record is the one after it in the reverse order.
        descending: term.descending != back,
        after: position.map(|position| (position.v, position.id)),
    };
    let probing = match probing {
        Some(probing) => {
            let key = state.counts.key(listing, filter);
            match state.counts.known(&key) {
                // Small when last counted: collecting costs little, and counting again each
                // page would cost as much.
                Known::Small => None,
                known => {
                    let count = resource::count_of(state, listing, filter, (key, known)).await?;
                    Some(Probing {
                        filter: probing,
                        count,
                    })
                }
            }
        }
        None => None,
    };
    let mut rows: Vec<Keyed<T>> = state
        .db
        .keyset_page(listing, (filter, probing), &keyset, PAGE_SIZE + 1)
        .await?;
    let more = rows.len() > PAGE_SIZE as usize;
    rows.truncate(PAGE_SIZE as usize);
    if back {
        rows.reverse();
    }
    let link = |row: Option<&Keyed<T>>, back: bool| {
        row.map(|row| {
            let position = Position {
                f: term.field.to_owned(),
                v: row.extra.cursor_key.clone(),
                id: row.extra.id,
                back,
            };
            request.with_cursor(&position.encode())
        })
    };
    // Forwards, a page has a next one when more rows came than it holds, and a previous one
    // when it came from a cursor; backwards, the other way round.
    let (has_next, has_previous) = if back {
        (true, more)
    } else {
        (more, !raw.is_empty())
    };
    let next = has_next.then(|| link(rows.last(), false)).flatten();
    let previous = has_previous.then(|| link(rows.first(), true)).flatten();
    Ok(CursorPage {
        rows: rows.into_iter().map(|keyed| keyed.row).collect(),
        next,
        previous,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_holds_only_values_its_field_can_have() {
        let time = "2012-03-23 05:00:00+00";
        assert!(readable(Kind::Time, time));
        assert!(readable(Kind::Time, "2012-03-23 05:00:00.123456+05:30"));
        assert!(readable(Kind::Time, "2012-03-23T05:00:00.123456Z"));
        assert!(!readable(Kind::Time, "2012-13-23 05:00:00+00"));
        assert!(readable(Kind::Int, "-12"));
        assert!(!readable(Kind::Int, "12.5"));
        let term = Term {
            field: "followers_count",
            kind: Kind::Int,
            descending: true,
        };
        let position = |v: &str| Position {
            f: "followers_count".to_owned(),
            v: Some(v.to_owned()),
            id: Uuid::nil(),
            back: false,
        };
        assert_eq!(
            Position::decode(&position("7").encode(), &term).unwrap(),
            position("7")
        );
        assert!(Position::decode(&position("abc").encode(), &term).is_err());
    }
}
