//! DRF's `OrderingFilter`: `?ordering=-followers_count,login` orders a list by the fields
//! its collection allows, `-` for descending, several comma-separated. Unlike DRF, an unknown
//! field (or a blank, or an empty term) is a 400 naming it rather than silently ignored, so
//! a typo never looks like an answer. Records not synced yet (a null) sort as the smallest values: last when
//! descending, first when ascending. Ties are broken by id, so pages never repeat or skip a
//! record; each direction is the exact reverse of the other, so one index per field
//! (`field DESC NULLS LAST, id`) serves both.

use serde_json::{Map, json};

use crate::error::ApiError;
use crate::http::params::Params;

/// The ORDER BY clause `?ordering=` asks for among `fields`; `None` when it asks nothing
/// (the list's own order then stands).
pub fn parse(fields: &[&'static str], params: &Params) -> Result<Option<String>, ApiError> {
    let Some(raw) = params.get("ordering") else {
        return Ok(None);
    };
    if raw.is_empty() {
        return Ok(None);
    }
    // Exactly what the OpenAPI pattern says: no blanks, no empty terms.
    let mut terms: Vec<(&'static str, bool)> = Vec::new();
    for term in raw.split(',') {
        let (name, descending) = match term.strip_prefix('-') {
            Some(name) => (name, true),
            None => (term, false),
        };
        let Some(&field) = fields.iter().find(|field| **field == name) else {
            return Err(unknown(term, fields));
        };
        if terms.iter().all(|(seen, _)| *seen != field) {
            terms.push((field, descending));
        }
    }
    let Some(&(_, first_descending)) = terms.first() else {
        return Ok(None);
    };
    let mut clause: Vec<String> = terms
        .into_iter()
        .map(|(field, descending)| match descending {
            true => format!("{field} DESC NULLS LAST"),
            false => format!("{field} ASC NULLS FIRST"),
        })
        .collect();
    clause.push(if first_descending { "id" } else { "id DESC" }.to_owned());
    Ok(Some(clause.join(", ")))
}

fn unknown(term: &str, fields: &[&str]) -> ApiError {
    let message = format!(
        "Cannot order by \"{term}\". Choose from: {}; prefix \"-\" for descending.",
        fields.join(", ")
    );
    let mut errors = Map::new();
    errors.insert("ordering".to_owned(), json!([message]));
    ApiError::InvalidParams(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[&str] = &["followers_count", "login"];

    fn order(query: &str) -> Result<Option<String>, ApiError> {
        parse(FIELDS, &Params::parse(Some(query)))
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
