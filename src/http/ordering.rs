//! DRF's `OrderingFilter`: `?ordering=-followers_count,login` orders a list by the fields
//! its collection allows, `-` for descending, several comma-separated. Unlike DRF, an unknown
//! field (or a blank, or an empty term) is a 400 naming it rather than silently ignored, so
//! a typo never looks like an answer. Records not synced yet (a null) sort as the smallest values: last when
//! descending, first when ascending. Ties are broken by id, so pages never repeat or skip a
//! record; each direction is the exact reverse of the other, so one index per field
//! (`field DESC NULLS LAST, id`) serves both.

use crate::error::ApiError;
use crate::http::filters::Kind;
use crate::http::params::Params;

/// One term of an ordering: a field, its kind, and whether it is descending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Term {
    pub field: &'static str,
    pub kind: Kind,
    pub descending: bool,
}

/// The terms `?ordering=` asks for among `fields`, in turn, each field once; empty when it
/// asks nothing (the list's own order then stands).
pub fn parse(fields: &[(&'static str, Kind)], params: &Params) -> Result<Vec<Term>, ApiError> {
    let raw = params.get("ordering").unwrap_or_default();
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    // Exactly what the OpenAPI pattern says: no blanks, no empty terms.
    let mut terms: Vec<Term> = Vec::new();
    for term in raw.split(',') {
        let (name, descending) = match term.strip_prefix('-') {
            Some(name) => (name, true),
            None => (term, false),
        };
        let Some(&(field, kind)) = fields.iter().find(|(field, _)| *field == name) else {
            return Err(unknown(term, fields));
        };
        if terms.iter().all(|seen| seen.field != field) {
            terms.push(Term {
                field,
                kind,
                descending,
            });
        }
    }
    Ok(terms)
}

/// The ORDER BY clause of `terms` (at least one), ties broken by the id, each field written
/// as `sql` says (a column's name, or a computed field's expression).
pub fn clause<'a>(terms: &[Term], sql: impl Fn(&'static str) -> &'a str) -> String {
    let mut clause: Vec<String> = terms
        .iter()
        .map(|term| match term.descending {
            true => format!("{} DESC NULLS LAST", sql(term.field)),
            false => format!("{} ASC NULLS FIRST", sql(term.field)),
        })
        .collect();
    let first_descending = terms.first().is_none_or(|term| term.descending);
    clause.push(if first_descending { "id" } else { "id DESC" }.to_owned());
    clause.join(", ")
}

fn unknown(term: &str, fields: &[(&str, Kind)]) -> ApiError {
    let names: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
    let message = format!(
        "Cannot order by \"{term}\". Choose from: {}; prefix \"-\" for descending.",
        names.join(", ")
    );
    ApiError::invalid_param("ordering", &message)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[(&str, Kind)] = &[("followers_count", Kind::Int), ("login", Kind::Text)];

    fn order(query: &str) -> Result<Option<String>, ApiError> {
        let terms = parse(FIELDS, &Params::parse(Some(query)))?;
        Ok((!terms.is_empty()).then(|| clause(&terms, |field| field)))
    }

    #[test]
    fn each_term_orders_in_its_direction_and_ties_fall_to_the_id() {
        assert_eq!(
            order("ordering=-followers_count").unwrap().as_deref(),
            Some("followers_count DESC NULLS LAST, id")
        );
        assert_eq!(
            order("ordering=login,-followers_count,login")
                .unwrap()
                .as_deref(),
            Some("login ASC NULLS FIRST, followers_count DESC NULLS LAST, id DESC")
        );
        assert_eq!(order("ordering=").unwrap(), None);
        assert_eq!(order("page=2").unwrap(), None);
        assert!(order("ordering=login,").is_err(), "an empty term");
        assert!(order("ordering=+login").is_err(), "a blank");
    }

    #[test]
    fn an_unknown_field_is_named() {
        let Err(ApiError::InvalidParams(errors)) = order("ordering=login,-stars") else {
            panic!("refused");
        };
        let message = errors["ordering"][0].as_str().unwrap();
        assert!(message.contains("\"-stars\""), "{message}");
        assert!(message.contains("followers_count, login"), "{message}");
    }
}
