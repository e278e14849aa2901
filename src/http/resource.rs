//! What the listed resources share: where each lives, filters, counting, paging, detail
//! lookup. Each resource says how its rows become JSON; this does the rest once.

use std::borrow::Cow;
use std::future::Future;
use std::sync::atomic::AtomicUsize;

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::{RefOr, Schema};
use uuid::Uuid;

use crate::db::count_cache::{CountKey, Known};
use crate::db::filter::{Cmp, Condition};
use crate::db::listing::{AnyRow, DEEP_OFFSET, Lead, Listing};
use crate::db::probe::Probing;
use crate::db::sql::{Sql, SqlValue};
use crate::error::ApiError;
use crate::http::cursor;
use crate::http::embed::{self, Embed};
use crate::http::filters::{self, Field, Kind};
use crate::http::ordering;
use crate::http::pagination::{PAGE_SIZE, Page, PageNumber};
use crate::http::request::ApiRequest;
use crate::http::search;
use crate::state::AppState;

/// A resource as the API serves it, declared once: the routes' OpenAPI parts and the root's
/// links are derived from it.
pub struct Collection {
    /// The list's path; a record's is `{path}{id}/`.
    pub path: &'static str,
    pub filters: &'static [Field],
    /// The fields `?ordering=` takes, with their kinds (none: the list keeps its own order,
    /// and has no cursor pages).
    pub orderings: &'static [(&'static str, Kind)],
    /// The columns `?search=` looks in (none: no search).
    pub search: &'static [&'static str],
    /// The lists hanging off a record.
    pub relations: &'static [Relation],
    /// Whether records take `?links=` (`_links`) and `?embed=` (`_embedded`).
    pub links: bool,
    pub embeds: bool,
}

/// A list hanging off each record of a collection, at `{path}{id}/{name}/`.
pub struct Relation {
    pub name: &'static str,
    /// What it lists.
    pub of: &'static Collection,
}

impl Collection {
    /// The fields `?ordering=` takes.
    pub fn ordering_names(&self) -> Vec<&'static str> {
        self.orderings.iter().map(|(name, _)| *name).collect()
    }

    /// Where the `name` list of record `id` lives.
    pub fn relation_path(&self, id: Uuid, name: &str) -> String {
        format!("{}{id}/{name}/", self.path)
    }
}

pub trait Resource: Serialize + ToSchema + Sized + Send {
    type Row: AnyRow;
    const LISTING: &'static Listing;
    const COLLECTION: &'static Collection;

    /// The `#[serde(flatten)]` parts of the record and the property each follows. utoipa
    /// documents such a part as `allOf`, so its field is `#[schema(ignore)]`d and the
    /// document splices its properties in where the JSON has them.
    fn flattened() -> Vec<(&'static str, RefOr<Schema>)> {
        Vec::new()
    }

    /// Renders rows in their order, loading what they link to (and embed) in a constant
    /// number of queries.
    fn render(
        state: &AppState,
        request: &ApiRequest,
        rows: Vec<Self::Row>,
        embed: Embed<'_>,
    ) -> impl Future<Output = Result<Vec<Self>, ApiError>> + Send;
}

/// A field a request adds to its list's orderings: computed by an SQL expression over a row
/// of the listed table (`?since=`'s growth).
pub struct Computed {
    pub name: &'static str,
    pub kind: Kind,
    pub sql: String,
    /// The rows whose value is positive, from indexes, for a list it orders descending
    /// first (`Lead::parts`).
    pub lead: Option<Vec<String>>,
}

/// A page of `R` matching the request's filters and `scope` (e.g. "followers of X").
pub async fn list<R: Resource>(
    state: &AppState,
    request: &ApiRequest,
    scope: Option<Condition>,
) -> Result<Json<Page<R>>, ApiError> {
    list_computed(state, request, scope, &[]).await
}

/// `list`, `computed` orderable beside the collection's fields; a cursor page cannot be
/// ordered by them (a cursor holds a stored value).
pub async fn list_computed<R: Resource>(
    state: &AppState,
    request: &ApiRequest,
    scope: Option<Condition>,
    computed: &[Computed],
) -> Result<Json<Page<R>>, ApiError> {
    let mut conditions = filters::parse(R::COLLECTION.filters, &request.params)?;
    conditions.extend(search::parse(R::COLLECTION.search, &request.params));
    let mut orderings = R::COLLECTION.orderings.to_vec();
    orderings.extend(computed.iter().map(|field| (field.name, field.kind)));
    let terms = ordering::parse(&orderings, &request.params)?;
    let expression = |name: &'static str| {
        computed
            .iter()
            .find(|field| field.name == name)
            .map_or(name, |field| field.sql.as_str())
    };
    let budget = AtomicUsize::new(embed::BUDGET);
    let embed = Embed::from_params(&request.params, &budget)?;
    conditions.extend(scope);
    let filter = state.db.where_clause(R::LISTING.table, &conditions);
    let probing = state.db.probing_clause(R::LISTING.table, &conditions);
    if request.params.get("cursor").is_some() && !R::COLLECTION.orderings.is_empty() {
        if let Some(term) = terms
            .first()
            .filter(|term| expression(term.field) != term.field)
        {
            return Err(ApiError::invalid_param(
                "ordering",
                &format!("A cursor page cannot be ordered by \"{}\".", term.field),
            ));
        }
        let filters = (&filter, probing.as_ref());
        let page = cursor::page(state, request, R::LISTING, filters, &terms).await?;
        let results = R::render(state, request, page.rows, embed).await?;
        return Ok(Json(Page {
            count: None,
            next: page.next,
            previous: page.previous,
            results,
        }));
    }
    let clause = (!terms.is_empty()).then(|| ordering::clause(&terms, expression));
    let order = clause.as_deref().unwrap_or(R::LISTING.order_by);
    // A field with a lead that orders first, descending, has its rows read from the lead.
    let leading = terms
        .first()
        .filter(|term| term.descending)
        .and_then(|term| {
            let field = computed.iter().find(|field| field.name == term.field)?;
            let parts = field.lead.as_deref()?;
            let led = ordering::clause(&terms, |name| match name == field.name {
                true => "lead_rows.lead",
                false => expression(name),
            });
            Some((parts, led))
        });
    let lead = leading.as_ref().map(|(parts, led)| Lead { parts, led });
    let requested = PageNumber::requested(request.params.get("page"))?;
    let filters = (&filter, probing.as_ref());
    let (count, page, rows) =
        numbered_page(state, R::LISTING, filters, (order, lead), requested).await?;
    let results = R::render(state, request, rows, embed).await?;
    Ok(Json(page.wrap(request, count, results)))
}

/// The page `requested` of `listing` under `filter` in `order` (read from its lead, when
/// it has one), with the count of all it matches (a large one remembered a while:
/// `CountCache`). `probing`: the filter with its full-text lookups asked row by row, where
/// it has any.
async fn numbered_page<T: AnyRow>(
    state: &AppState,
    listing: &'static Listing,
    (filter, probing): (&Sql, Option<&Sql>),
    (order, lead): (&str, Option<Lead<'_>>),
    requested: Option<u64>,
) -> Result<(i64, PageNumber, Vec<T>), ApiError> {
    let key = state.counts.key(listing, filter);
    let known = state.counts.known(&key);
    let shallow = requested.filter(|&number| PageNumber::offset_of(number) < DEEP_OFFSET);
    if let (Some(number), Known::Small, None) = (shallow, &known, &lead) {
        // The usual case costs one statement: the page's rows carry the total.
        let offset = PageNumber::offset_of(number);
        let counted = state
            .db
            .counted_page(listing, filter, order, PAGE_SIZE, offset)
            .await?;
        // A page past the end has no rows to carry the total: it is invalid whatever the
        // total is, and page 1 of nothing is the empty page.
        let count = counted.first().map_or(0, |first| first.extra.total);
        let page = PageNumber::check(Some(number), count)?;
        state.counts.put(key, count);
        return Ok((count, page, counted.into_iter().map(|c| c.row).collect()));
    }
    // A large count, one not taken lately, the last page or a deep one: counted first, so a
    // page past the end is refused before its rows are skipped.
    let count = count_of(state, listing, filter, (key, known)).await?;
    let page = PageNumber::check(requested, count)?;
    let (db, offset) = (&state.db, page.offset());
    let rows = match lead {
        Some(lead) => {
            db.led_page(listing, filter, &lead, order, PAGE_SIZE, offset)
                .await?
        }
        None => {
            let probing = probing.map(|filter| Probing { filter, count });
            db.probed_page(listing, (filter, probing), order, PAGE_SIZE, offset)
                .await?
        }
    };
    Ok((count, page, rows))
}

/// How many rows `filter` matches: as remembered under `key` (a stale count served while one
/// background count replaces it), or counted, once for all the requests asking at that moment.
pub async fn count_of(
    state: &AppState,
    listing: &'static Listing,
    filter: &Sql,
    (key, known): (CountKey, Known),
) -> Result<i64, ApiError> {
    Ok(match known {
        Known::Large(count) => count,
        Known::Stale(count) => {
            let (db, filter) = (state.db.clone(), filter.clone());
            state
                .counts
                .recount(&key, async move { db.count(listing, &filter).await });
            count
        }
        Known::Small => {
            let count = state.db.count(listing, filter).await?;
            state.counts.put(key, count);
            count
        }
        Known::Unknown => {
            let count = state.db.count(listing, filter);
            state.counts.count_once(&key, count).await?
        }
    })
}

/// The one `R` that `identity` names, if it also matches the request's filters.
pub async fn detail<R: Resource>(
    state: &AppState,
    request: &ApiRequest,
    identity: Condition,
) -> Result<Json<R>, ApiError> {
    let mut conditions = filters::parse(R::COLLECTION.filters, &request.params)?;
    let budget = AtomicUsize::new(embed::BUDGET);
    let embed = Embed::from_params(&request.params, &budget)?;
    conditions.push(identity);
    let filter = state.db.where_clause(R::LISTING.table, &conditions);
    let rows = state
        .db
        .page(R::LISTING, &filter, R::LISTING.order_by, 1, 0)
        .await?;
    let rendered = R::render(state, request, rows, embed).await?;
    rendered
        .into_iter()
        .next()
        .map(Json)
        .ok_or(ApiError::NotFound)
}

/// A page of `R` hanging off the `Parent` record `id` (its followers, its stargazers…),
/// picked by `scope`; 404 when there is no such record.
pub async fn list_under<Parent: Resource, R: Resource>(
    state: &AppState,
    request: &ApiRequest,
    id: Uuid,
    scope: Condition,
) -> Result<Json<Page<R>>, ApiError> {
    if !state.db.exists(Parent::LISTING, id).await? {
        return Err(ApiError::NotFound);
    }
    list(state, request, Some(scope)).await
}

/// A page of the `R` that `subquery` (SQL picking ids, `{}` for the parent's) links to the
/// `Parent` record `id`: its followers, its stargazers…
pub async fn list_linked<Parent: Resource, R: Resource>(
    state: &AppState,
    request: &ApiRequest,
    id: Uuid,
    subquery: &'static str,
) -> Result<Json<Page<R>>, ApiError> {
    list_under::<Parent, R>(state, request, id, Condition::IdIn { subquery, of: id }).await
}

/// The condition that picks the record with this UUID.
pub fn id_is(id: Uuid) -> Condition {
    Condition::Compare {
        column: "id",
        cmp: Cmp::Eq,
        value: SqlValue::Id(id),
    }
}

/// A resource's documentation parts, type-erased so that the document can walk them all.
pub struct Documented {
    pub collection: &'static Collection,
    pub schema_name: fn() -> Cow<'static, str>,
    pub flattened: fn() -> Vec<(&'static str, RefOr<Schema>)>,
}

impl Documented {
    pub const fn of<R: Resource>() -> Self {
        Self {
            collection: R::COLLECTION,
            schema_name: <R as ToSchema>::name,
            flattened: R::flattened,
        }
    }
}
