//! `?omit=`: the URL lists the records of an answer leave out (the name drf-flex-fields gives
//! it), so that a page of the most-followed developers need not carry the URLs of hundreds of
//! thousands of followers. A list left out is not read. Without it, the compat shape stands.

use crate::error::ApiError;
use crate::http::params::Params;
use crate::http::resource::Collection;

#[derive(Debug, Default)]
pub struct Omit(Vec<String>);

impl Omit {
    /// The lists `?omit=` names (comma-separated), each a relation of one of `collections`:
    /// an answer's records may embed others of the other kind, and each leaves out its own.
    /// Another name is a 400 that lists the names.
    pub fn from_params(params: &Params, collections: &[&Collection]) -> Result<Self, ApiError> {
        let known = Self::names(collections);
        let names: Vec<String> = params
            .non_empty("omit")
            .into_iter()
            .flat_map(|raw| raw.split(','))
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
            .collect();
        if let Some(unknown) = names.iter().find(|name| !known.contains(&name.as_str())) {
            let message = format!(
                "Cannot omit \"{unknown}\". Choose from: {}.",
                known.join(", ")
            );
            return Err(ApiError::invalid_param("omit", &message));
        }
        Ok(Self(names))
    }

    /// The lists `collections`' records carry, which `?omit=` may name.
    pub fn names(collections: &[&Collection]) -> Vec<&'static str> {
        collections
            .iter()
            .flat_map(|collection| collection.relations.iter().map(|relation| relation.name))
            .collect()
    }

    /// Whether the records carry `list`.
    pub fn keeps(&self, list: &str) -> bool {
        !self.0.iter().any(|name| name == list)
    }
}
