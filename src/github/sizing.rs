//! How much one GraphQL query asks: lists per query, items per list, ids per `nodes`. GitHub
//! ends a query that runs over 10 seconds, and leaves out part of one that asks too much
//! (`RESOURCE_LIMITS_EXCEEDED`); neither limit is published as a number, so the client learns
//! them: it halves a query that was cut short and grows back a step after a run of whole
//! answers, short of the least that was answered in part, and to at most half of the least
//! that timed out (a time-out spends its points for nothing, a partial answer only leaves
//! some of its data out) — a ceiling it forgets after a long run of whole answers, in case
//! GitHub's limits rose.

use std::sync::{Mutex, PoisonError};

use serde::Serialize;

/// GitHub's own caps: 100 items a page, 100 ids to `nodes`, and (ours) 100 lists a query.
pub const MOST: usize = 100;
/// GitHub refuses a query that may return more nodes than this.
pub const MAX_NODES: usize = 500_000;
/// Items per list are halved no further than this; lists per query go down to one.
const FEWEST_ITEMS: usize = 10;
/// Whole answers in a row before a query grows again.
const GROW_AFTER: u32 = 4;
/// Whole answers in a row before a size that was cut short is tried again.
const RETRY_AFTER: u32 = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Size {
    /// Lists read in one query of pages.
    pub lists: usize,
    /// Items asked of each list (`first:`).
    pub items: usize,
    /// Profiles asked in one `nodes(ids:)` query.
    pub ids: usize,
}

impl Size {
    const LARGEST: Self = Self {
        lists: MOST,
        items: MOST,
        ids: MOST,
    };

    /// The nodes a query of pages of this size may return, by GitHub's count: every list's
    /// items (the fragments the lists select hold no connection of their own).
    pub fn page_nodes(&self) -> usize {
        self.lists * self.items
    }
}

#[derive(Debug)]
pub struct Sizing(Mutex<State>);

#[derive(Debug)]
struct State {
    size: Size,
    pages: Knob,
    profiles: Knob,
}

/// How one kind of query has fared: whole answers in a row (since the last growth, and in
/// all), and the most work a query may ask, learnt from those cut short.
#[derive(Debug, Default)]
struct Knob {
    whole: u32,
    whole_in_a_row: u32,
    ceiling: Option<usize>,
}

impl Knob {
    fn cut_short(&mut self, work: usize, timed_out: bool) {
        self.whole = 0;
        self.whole_in_a_row = 0;
        let most = if timed_out { work / 2 } else { work - 1 };
        self.ceiling = Some(self.ceiling.map_or(most, |ceiling| ceiling.min(most)));
    }

    /// Counts a whole answer; whether to grow to `grown` work now.
    fn answered(&mut self, grown: usize) -> bool {
        self.whole += 1;
        self.whole_in_a_row += 1;
        if self.whole_in_a_row >= RETRY_AFTER {
            self.whole_in_a_row = 0;
            self.ceiling = None;
        }
        if self.whole < GROW_AFTER || self.ceiling.is_some_and(|ceiling| grown > ceiling) {
            return false;
        }
        self.whole = 0;
        true
    }
}

impl Default for Sizing {
    fn default() -> Self {
        Self(Mutex::new(State {
            size: Size::LARGEST,
            pages: Knob::default(),
            profiles: Knob::default(),
        }))
    }
}

impl Sizing {
    pub fn now(&self) -> Size {
        self.lock().size
    }

    /// A query of pages was cut short (`timed_out`, or answered in part): fewer lists, down
    /// to ten, then fewer items, then fewer lists again. `false` when it was as small as it
    /// gets.
    pub fn shrink_pages(&self, timed_out: bool) -> bool {
        let mut state = self.lock();
        let work = state.size.page_nodes();
        state.pages.cut_short(work, timed_out);
        let size = &mut state.size;
        let before = *size;
        if size.lists > 10 {
            size.lists = (size.lists / 2).max(10);
        } else if size.items > FEWEST_ITEMS {
            size.items = (size.items / 2).max(FEWEST_ITEMS);
        } else {
            size.lists = (size.lists / 2).max(1);
        }
        Self::report(*size);
        *size != before
    }

    /// A query of ids was cut short: half as many ids. `false` at one.
    pub fn shrink_profiles(&self, timed_out: bool) -> bool {
        let mut state = self.lock();
        let before = state.size.ids;
        state.profiles.cut_short(before, timed_out);
        state.size.ids = (before / 2).max(1);
        Self::report(state.size);
        state.size.ids != before
    }

    /// A query of pages came back whole: after a run of them, a step larger (items first,
    /// as a larger page saves queries; then lists), within GitHub's node limit and what
    /// was learnt of its execution limits.
    pub fn pages_answered(&self) {
        let mut state = self.lock();
        let mut next = state.size;
        if next.items < MOST {
            next.items = grown(next.items);
        } else {
            next.lists = grown(next.lists);
        }
        while next.page_nodes() > MAX_NODES && next.lists > 1 {
            next.lists -= 1;
        }
        if next != state.size && state.pages.answered(next.page_nodes()) {
            state.size = next;
            Self::report(next);
        }
    }

    pub fn profiles_answered(&self) {
        let mut state = self.lock();
        let next = grown(state.size.ids);
        if next != state.size.ids && state.profiles.answered(next) {
            state.size.ids = next;
            Self::report(state.size);
        }
    }

    /// Takes in a query of pages answered, in part when `cut_short`: whether a smaller
    /// query is left to ask again what GitHub left out.
    pub fn took_pages(&self, cut_short: bool) -> bool {
        if cut_short {
            return self.shrink_pages(false);
        }
        self.pages_answered();
        true
    }

    /// The same for a query of ids (profiles, counts).
    pub fn took_ids(&self, cut_short: bool) -> bool {
        if cut_short {
            return self.shrink_profiles(false);
        }
        self.profiles_answered();
        true
    }

    /// Sets the metrics to the size now, after a change.
    fn report(size: Size) {
        crate::metrics::github_query_size(size.lists, size.items, size.ids);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A quarter more, at least one more, at most GitHub's cap.
fn grown(value: usize) -> usize {
    (value + (value / 4).max(1)).min(MOST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_cut_short_halves_to_the_smallest() {
        let sizing = Sizing::default();
        assert!(Size::LARGEST.page_nodes() <= MAX_NODES);
        assert!(sizing.shrink_pages(true));
        assert_eq!(sizing.now().lists, 50);
        while sizing.now().lists > 10 {
            assert!(sizing.shrink_pages(false));
        }
        assert!(sizing.shrink_pages(false));
        assert_eq!((sizing.now().lists, sizing.now().items), (10, 50));
        while sizing.shrink_pages(false) {}
        assert_eq!((sizing.now().lists, sizing.now().items), (1, FEWEST_ITEMS));
        assert!(sizing.shrink_profiles(false));
        assert_eq!(sizing.now().ids, 50);
    }

    #[test]
    fn after_a_time_out_a_query_grows_back_to_half_of_it() {
        let sizing = Sizing::default();
        sizing.shrink_pages(true);
        for _ in 0..RETRY_AFTER - 1 {
            sizing.pages_answered();
        }
        assert_eq!(sizing.now().lists, 50, "half of what timed out");
        sizing.pages_answered();
        assert_eq!(
            sizing.now().lists,
            62,
            "the ceiling forgotten after a long run"
        );
        for _ in 0..GROW_AFTER - 1 {
            sizing.pages_answered();
        }
        assert_eq!(sizing.now().lists, 62, "grows only after a run");
        sizing.pages_answered();
        assert_eq!(sizing.now().lists, 77);
        for _ in 0..RETRY_AFTER {
            sizing.pages_answered();
        }
        assert_eq!(sizing.now(), Size::LARGEST);
    }

    #[test]
    fn after_a_partial_answer_a_query_grows_back_short_of_it() {
        let sizing = Sizing::default();
        sizing.shrink_pages(false);
        sizing.shrink_pages(false);
        assert_eq!(sizing.now().lists, 25);
        for _ in 0..3 * GROW_AFTER {
            sizing.pages_answered();
        }
        assert_eq!(
            sizing.now().lists,
            47,
            "25, 31, 38, 47: short of the 50 cut short"
        );
        for _ in 0..RETRY_AFTER - 3 * GROW_AFTER - 1 {
            sizing.pages_answered();
        }
        assert_eq!(sizing.now().lists, 47);
    }
}
