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
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::keyset::{KeyType, Keyed, Keyset};
use crate::db::listing::{AnyRow, Listing};
use crate::db::sql::Sql;
use crate::error::ApiError;
use crate::http::filters::Kind;
use crate::http::ordering::Term;
use crate::http::pagination::PAGE_SIZE;
use crate::http::request::ApiRequest;
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

    fn decode(raw: &str, field: &str) -> Result<Self, ApiError> {
        let position: Option<Position> = URL_SAFE_NO_PAD
            .decode(raw)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        position
            .filter(|position| position.f == field)
            .ok_or(ApiError::Status(StatusCode::NOT_FOUND, "Invalid cursor."))
    }
}

/// A cursor page's rows, and the links to the pages beside it.
pub struct CursorPage<T> {
    pub rows: Vec<T>,
    pub next: Option<String>,
    pub previous: Option<String>,
}

/// The page `?cursor=` asks for, of the rows under `filter` in the order of the first of
/// `terms`.
pub async fn page<T: AnyRow>(
    state: &AppState,
    request: &ApiRequest,
    listing: &Listing,
    filter: &Sql,
    terms: &[Term],
) -> Result<CursorPage<T>, ApiError> {
    let term = terms.first().copied().unwrap_or(NEWEST_FIRST);
    let raw = request.params.get("cursor").unwrap_or_default();
    let position = match raw {
        "" => None,
        raw => Some(Position::decode(raw, term.field)?),
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
    let mut rows: Vec<Keyed<T>> = state
        .db
        .keyset_page(listing, filter, &keyset, PAGE_SIZE + 1)
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
