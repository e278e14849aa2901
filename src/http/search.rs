//! DRF's `SearchFilter`: `?search=` splits into terms at whitespace and commas, and a record
//! matches when every term is a case-insensitive substring of one of the collection's
//! search fields. Null characters are dropped, as DRF drops them.

use crate::db::filter::Condition;
use crate::http::params::Params;

/// One condition per term of `?search=` over `columns`; none without a search (or without
/// columns to search).
pub fn parse(columns: &'static [&'static str], params: &Params) -> Vec<Condition> {
    let Some(raw) = params.get("search").filter(|_| !columns.is_empty()) else {
        return Vec::new();
    };
    let raw = raw.replace('\0', "");
    raw.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|term| !term.is_empty())
        .map(|term| Condition::Matches {
            columns,
            term: term.to_owned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_split_at_whitespace_and_commas() {
        let params = Params::parse(Some("search=rust%2C+%20berlin%00+"));
        let terms: Vec<String> = parse(&["login"], &params)
            .into_iter()
            .map(|condition| match condition {
                Condition::Matches { term, .. } => term,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(terms, ["rust", "berlin"]);
        assert!(parse(&[], &params).is_empty(), "nothing to search in");
    }
}
