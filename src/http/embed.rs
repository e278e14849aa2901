//! `?embed=N` (ours, opt-in): each record carries `_embedded`, the first records of each of
//! its relations rendered in full, N levels deep. Each embedded list is the first page of the
//! record's sub-collection (with `next` linking to its page 2). A response embeds at most
//! `BUDGET` records: records whose embedding would pass it have no `_embedded`.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};

use uuid::Uuid;

use crate::db::related::Ranked;
use crate::error::ApiError;
use crate::http::pagination::{PAGE_SIZE, Page};
use crate::http::params::Params;
use crate::http::request::ApiRequest;
use crate::http::resource::{Collection, Resource};
use crate::state::AppState;

/// Per relation (by name), one page per subject, in the subjects' order.
pub struct Pages<R>(HashMap<&'static str, std::vec::IntoIter<Page<R>>>);

impl<R> Pages<R> {
    /// The `relation` page of the next subject.
    pub fn next(&mut self, relation: &str) -> Page<R> {
        self.0
            .get_mut(relation)
            .and_then(Iterator::next)
            .unwrap_or_default()
    }
}

/// The first records of one relation of each subject, and the relation's name.
pub type Related<Row> = (&'static str, Vec<Ranked<Row>>);

/// Embedding recurses (developers embed repositories, which embed developers), so the
/// futures that load it are boxed.
pub type Loading<'a, T> = Pin<Box<dyn Future<Output = Result<Option<T>, ApiError>> + Send + 'a>>;

/// Records in each embedded list: a page, so that `next` is the sub-collection's page 2.
pub const LIST_CAP: usize = PAGE_SIZE as usize;
/// Records embedded in one response, all levels together.
pub const BUDGET: usize = 1_000;
pub const MAX_DEPTH: u8 = 3;

/// How deep the records being rendered still embed, and the response's remaining budget.
#[derive(Clone, Copy)]
pub struct Embed<'a> {
    depth: u8,
    budget: &'a AtomicUsize,
}

impl<'a> Embed<'a> {
    /// The depth `?embed=` asks for: empty means none; anything but 1 to 3 is a 400.
    pub fn from_params(params: &Params, budget: &'a AtomicUsize) -> Result<Self, ApiError> {
        let depth = match params.non_empty("embed") {
            None => 0,
            Some(raw) => raw
                .trim()
                .parse()
                .ok()
                .filter(|d| (1..=MAX_DEPTH).contains(d))
                .ok_or_else(|| {
                    ApiError::invalid_param("embed", "Enter a whole number from 1 to 3.")
                })?,
        };
        Ok(Self { depth, budget })
    }

    /// The embedding for the records one level down, or `None` when this level embeds none.
    pub fn descend(&self) -> Option<Embed<'a>> {
        (self.depth > 0).then(|| Self {
            depth: self.depth - 1,
            budget: self.budget,
        })
    }

    /// Takes `records` from the response's budget; false (taking nothing) when too few remain.
    pub fn reserve(&self, records: usize) -> bool {
        self.budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(records)
            })
            .is_ok()
    }
}

/// A subject's first related rows, and how many it has in all.
struct Found<Row> {
    total: i64,
    rows: Vec<Row>,
}

/// The first pages of several relations for each of `subjects` (records of `parent` being
/// rendered, in order, a record that appears twice counted twice), rendered in one batch: a
/// constant number of queries. `None` when the response's budget cannot take them all. Each
/// page's `next` is page 2 of the relation's sub-collection.
pub async fn pages<R: Resource>(
    state: &AppState,
    request: &ApiRequest,
    parent: &Collection,
    subjects: &[Uuid],
    relations: Vec<Related<R::Row>>,
    next: Embed<'_>,
) -> Result<Option<Pages<R>>, ApiError>
where
    R::Row: Clone,
{
    let names: Vec<&'static str> = relations.iter().map(|(name, _)| *name).collect();
    let found: Vec<HashMap<Uuid, Found<R::Row>>> = relations
        .into_iter()
        .map(|(_, ranked)| {
            let mut by_subject: HashMap<Uuid, Found<R::Row>> = HashMap::new();
            for related in ranked {
                let found = by_subject.entry(related.subject).or_insert(Found {
                    total: related.total,
                    rows: Vec::new(),
                });
                found.rows.push(related.row);
            }
            by_subject
        })
        .collect();
    let mut slots = Vec::new();
    let mut rows = Vec::new();
    for (relation, by_subject) in found.iter().enumerate() {
        for (position, subject) in subjects.iter().enumerate() {
            for row in by_subject.get(subject).map_or(&[][..], |found| &found.rows) {
                slots.push((relation, position));
                rows.push(row.clone());
            }
        }
    }
    if !next.reserve(rows.len()) {
        return Ok(None);
    }
    let rendered = R::render(state, request, rows, next).await?;
    let mut pages: Vec<Vec<Page<R>>> = found
        .iter()
        .zip(&names)
        .map(|(by_subject, name)| {
            subjects
                .iter()
                .map(|subject| {
                    let count = by_subject.get(subject).map_or(0, |found| found.total);
                    Page {
                        count: Some(count),
                        next: (count > LIST_CAP as i64)
                            .then(|| request.page_of(&parent.relation_path(*subject, name), 2)),
                        previous: None,
                        results: Vec::new(),
                    }
                })
                .collect()
        })
        .collect();
    for ((relation, position), record) in slots.into_iter().zip(rendered) {
        pages[relation][position].results.push(record);
    }
    Ok(Some(Pages(
        names
            .into_iter()
            .zip(pages.into_iter().map(Vec::into_iter))
            .collect(),
    )))
}
