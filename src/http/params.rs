//! Query strings as Django reads them, and written back as Django's `urlencode` writes them.

use std::borrow::Cow;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// The decoded `key=value` pairs of a query string, in order. Malformed percent-escapes and
/// non-UTF-8 bytes are decoded lossily, never refused.
#[derive(Clone, Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: Option<&str>) -> Self {
        let pairs = query
            .map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Self(pairs)
    }

    /// The last value given for `key`, as Django's `QueryDict.get` answers.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The last non-empty value for `key`: an empty value means "not given" for filters.
    pub fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    /// The query with `page` dropped and `cursor` set, as a cursor page links another.
    pub fn with_cursor(&self, cursor: &str) -> String {
        Params::parse(Some(&self.with("page", None))).with("cursor", Some(cursor))
    }

    /// The query with `key` set to `value` (or removed when `None`), keys sorted, each key's
    /// values in their original order: what DRF's `replace_query_param` writes.
    pub fn with(&self, key: &str, value: Option<&str>) -> String {
        let mut keys: Vec<&str> = Vec::new();
        for (k, _) in &self.0 {
            if k != key && !keys.contains(&k.as_str()) {
                keys.push(k);
            }
        }
        if value.is_some() {
            keys.push(key);
        }
        keys.sort_unstable();
        let mut out = String::new();
        for k in keys {
            let values: Vec<&str> = if k == key {
                value.into_iter().collect()
            } else {
                self.0
                    .iter()
                    .filter(|(name, _)| name == k)
                    .map(|(_, v)| v.as_str())
                    .collect()
            };
            for v in values {
                if !out.is_empty() {
                    out.push('&');
                }
                out.push_str(&quote_plus(k));
                out.push('=');
                out.push_str(&quote_plus(v));
            }
        }
        out
    }
}

/// What `Params::non_empty(key)` gives for `query`, without decoding or keeping the rest: for
/// the one parameter a layer reads on every request.
pub fn one<'q>(query: Option<&'q str>, key: &str) -> Option<Cow<'q, str>> {
    let (_, value) = form_urlencoded::parse(query?.as_bytes())
        .filter(|(k, _)| k == key)
        .last()?;
    Some(value).filter(|value| !value.is_empty())
}

/// What Python's `quote_plus` leaves as it is: letters, digits, `_.-~`, and the space it
/// writes as `+`.
const QUOTE_PLUS_SAFE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~')
    .remove(b' ');

/// Python's `urllib.parse.quote_plus`: letters, digits and `_.-~` stay, space becomes `+`,
/// every other byte is `%XX`.
pub fn quote_plus(text: &str) -> String {
    utf8_percent_encode(text, QUOTE_PLUS_SAFE)
        .to_string()
        .replace(' ', "+")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_value_wins_and_bad_bytes_are_decoded_lossily() {
        let params = Params::parse(Some("login=a&login=b&x=%FF%zz&name=a+b"));
        assert_eq!(params.get("login"), Some("b"));
        assert_eq!(params.get("x"), Some("\u{fffd}%zz"));
        assert_eq!(params.get("name"), Some("a b"));
        assert_eq!(params.get("missing"), None);
    }

    #[test]
    fn rewritten_queries_are_sorted_and_encoded_like_django() {
        let params = Params::parse(Some("z=1&page=2&a=x y&z=2&b=%C3%A9*~"));
        assert_eq!(
            params.with("page", Some("3")),
            "a=x+y&b=%C3%A9%2A~&page=3&z=1&z=2"
        );
        assert_eq!(params.with("page", None), "a=x+y&b=%C3%A9%2A~&z=1&z=2");
        assert_eq!(Params::parse(None).with("page", Some("2")), "page=2");
    }

    #[test]
    fn one_parameter_is_read_as_the_whole_query_would_give_it() {
        for query in [
            None,
            Some(""),
            Some("format=api"),
            Some("format=json&format=api"),
            Some("format=api&format="),
            Some("page=2&format=%61pi"),
            Some("formats=api"),
        ] {
            assert_eq!(
                one(query, "format").as_deref(),
                Params::parse(query).non_empty("format"),
                "{query:?}"
            );
        }
        assert_eq!(one(Some("format=%61pi"), "format").as_deref(), Some("api"));
        assert_eq!(one(Some("format=api&format="), "format"), None);
    }
}
