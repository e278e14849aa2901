//! `/github/repositories/`: repositories, their detail and their stargazers.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use utoipa::PartialSchema;
use utoipa::openapi::{RefOr, Schema};

use super::Link;
use super::developers::{self, Developer};
use crate::db::Timestamp;
use crate::db::developers::{OWNER, STARGAZERS, STARGAZERS_OF};
use crate::db::growth::Since;
use crate::db::listing::Listing;
use crate::db::repositories::{
    REPOSITORIES, REPOSITORY_SEARCH, RepositoryCounts, RepositoryDetails, RepositoryRow,
};
use crate::error::ApiError;
use crate::http::embed::{self, Embed, Loading, Pages};
use crate::http::filters::{Kind, REPOSITORY_FILTERS, parse_bool};
use crate::http::omit::Omit;
use crate::http::pagination::Page;
use crate::http::path_id::PathId;
use crate::http::request::ApiRequest;
use crate::http::resource::{self, Collection, Computed, Relation, Resource};
use crate::state::AppState;

/// The repositories: filters and the stargazers of each one.
pub static COLLECTION: Collection = Collection {
    path: "/github/repositories/",
    filters: REPOSITORY_FILTERS,
    orderings: &[
        ("stargazers_count", Kind::Int),
        ("watchers_count", Kind::Int),
        ("created_at", Kind::Time),
        ("updated_at", Kind::Time),
        ("name", Kind::Text),
        ("full_name", Kind::Text),
        ("size", Kind::Int),
    ],
    search: REPOSITORY_SEARCH,
    relations: &[Relation {
        name: "stargazers",
        of: &developers::COLLECTION,
    }],
    links: true,
    embeds: true,
};

/// A GitHub repository. Fields GitHub's list pages leave out are null until it is synced.
#[derive(Debug, Serialize, ToSchema)]
pub struct Repository {
    pub id: Uuid,
    pub url: String,
    /// The owner's URL, or null while the owner is not stored.
    pub owner: Option<String>,
    /// GitHub's numeric id, as a string.
    pub github_id: String,
    /// The owner's GitHub id, as a string.
    pub owner_github_id: String,
    #[serde(flatten)]
    #[schema(ignore)]
    pub details: RepositoryDetails,
    /// URLs of the developers who starred this repository (left out with
    /// `?omit=stargazers`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Vec<String>, required = false)]
    pub stargazers: Option<Vec<String>>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub counts: RepositoryCounts,
    #[schema(value_type = Option<String>)]
    pub synced_at: Option<Timestamp>,
    /// When GitHub answered that this repository no longer exists; what we had is kept.
    #[schema(value_type = Option<String>)]
    pub gone_at: Option<Timestamp>,
    /// When GitHub answered 451: access blocked for legal reasons. It is not asked again.
    #[schema(value_type = Option<String>)]
    pub blocked_at: Option<Timestamp>,
    /// GitHub pages stargazers only so far (40,000); the stored stargazers stop there.
    pub stargazers_truncated: bool,
    /// With `?since=`: the stars of GitHub's star history from the week that holds that day
    /// (null while no history is stored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stars_gained: Option<Option<i64>>,
    /// With `?since=`: the size now less the size as that day began (or, when the size
    /// history starts later, its first), in kilobytes; null while a size is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_growth: Option<Option<i64>>,
    #[serde(rename = "_links", skip_serializing_if = "Option::is_none")]
    pub links: Option<RepositoryLinks>,
    /// With `?embed=N`: the owner in full and the first stargazers, as a page.
    #[serde(rename = "_embedded", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub embedded: Option<RepositoryEmbedded>,
}

#[derive(Debug, Serialize)]
pub struct RepositoryEmbedded {
    pub owner: Option<Box<Developer>>,
    pub stargazers: Page<Developer>,
}

/// Boxed: embedding renders developers, which embed repositories in turn.
fn embedded_pages<'a>(
    state: &'a AppState,
    request: &'a ApiRequest,
    ids: &'a [Uuid],
    next: Embed<'a>,
) -> Loading<'a, Pages<Developer>> {
    Box::pin(async move {
        let cap = embed::LIST_CAP as i64;
        let people = vec![
            ("owner", state.db.first_related(&OWNER, ids, 1).await?),
            (
                "stargazers",
                state.db.first_related(&STARGAZERS, ids, cap).await?,
            ),
        ];
        embed::pages(state, request, &COLLECTION, ids, people, next).await
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RepositoryLinks {
    #[serde(rename = "self")]
    pub this: Link,
    pub owner: Option<Link>,
    pub stargazers: Link,
}

impl Resource for Repository {
    type Row = RepositoryRow;
    const LISTING: &'static Listing = &REPOSITORIES;
    const COLLECTION: &'static Collection = &COLLECTION;

    fn flattened() -> Vec<(&'static str, RefOr<Schema>)> {
        vec![
            ("owner_github_id", RepositoryDetails::schema()),
            ("stargazers", RepositoryCounts::schema()),
        ]
    }

    async fn render(
        state: &AppState,
        request: &ApiRequest,
        rows: Vec<RepositoryRow>,
        embed: Embed<'_>,
    ) -> Result<Vec<Self>, ApiError> {
        let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
        let omit = Omit::from_params(&request.params, &super::WITH_LISTS)?;
        let mut stargazers = match omit.keeps("stargazers") {
            true => Some(state.db.stargazers(&ids).await?),
            false => None,
        };
        let growth = match since(request)? {
            Some(since) => Some(state.db.growth(&ids, since).await?),
            None => None,
        };
        let mut embedded = match embed.descend() {
            Some(next) => embedded_pages(state, request, &ids, next).await?,
            None => None,
        };
        let with_links = request.params.get("links").and_then(parse_bool) == Some(true);
        Ok(rows
            .into_iter()
            .map(|row| {
                let owner = row.owner_id.map(|id| request.developer(id));
                let links = with_links.then(|| RepositoryLinks {
                    this: Link::to(request.repository(row.id)),
                    owner: owner.clone().map(Link::to),
                    stargazers: Link::to(
                        request.link(&COLLECTION.relation_path(row.id, "stargazers")),
                    ),
                });
                Repository {
                    id: row.id,
                    url: request.repository(row.id),
                    owner,
                    github_id: row.github_id.to_string(),
                    owner_github_id: row.owner_github_id.to_string(),
                    details: row.details,
                    stargazers: stargazers.as_mut().map(|stargazers| {
                        let ids = stargazers.remove(&row.id).unwrap_or_default();
                        ids.into_iter().map(|id| request.developer(id)).collect()
                    }),
                    counts: row.counts,
                    synced_at: row.synced_at,
                    gone_at: row.gone_at,
                    blocked_at: row.blocked_at,
                    stargazers_truncated: row.stargazers_truncated,
                    stars_gained: growth
                        .as_ref()
                        .map(|g| g.get(&row.id).and_then(|g| g.stars_gained)),
                    size_growth: growth
                        .as_ref()
                        .map(|g| g.get(&row.id).and_then(|g| g.size_growth)),
                    links,
                    embedded: embedded.as_mut().map(|pages| RepositoryEmbedded {
                        owner: pages.next("owner").results.pop().map(Box::new),
                        stargazers: pages.next("stargazers"),
                    }),
                }
            })
            .collect())
    }
}

/// Repositories, newest first; those whose creation date is unknown come last.
///
/// With `?since=YYYY-MM-DD`, each record has its growth since that day, `stars_gained` and
/// `size_growth`, and the list can be ordered by them: `?since=2026-11-01&ordering=-stars_gained`
/// is what gained the most stars since November.
#[utoipa::path(get, path = "/github/repositories/", tag = "repositories", operation_id = "repositories_list",
    responses((status = 200, description = "A page of repositories", body = Page<Repository>)))]
pub async fn list(
    State(state): State<AppState>,
    request: ApiRequest,
) -> Result<Json<Page<Repository>>, ApiError> {
    let computed = match since(&request)? {
        Some(since) => vec![
            Computed {
                name: "stars_gained",
                kind: Kind::Int,
                sql: since.stars_gained(),
                lead: Some(since.stars_gained_lead()),
            },
            Computed {
                name: "size_growth",
                kind: Kind::Int,
                sql: since.size_growth(),
                lead: None,
            },
        ],
        None => Vec::new(),
    };
    resource::list_computed(&state, &request, None, &computed).await
}

/// `?since=`, when given: a day, or a 400.
fn since(request: &ApiRequest) -> Result<Option<Since>, ApiError> {
    match request.params.non_empty("since") {
        None => Ok(None),
        Some(text) => Since::parse(text)
            .map(Some)
            .ok_or_else(|| ApiError::invalid_param("since", "Enter a valid date.")),
    }
}

/// One repository, if it also matches the filters given.
#[utoipa::path(get, path = "/github/repositories/{id}/", tag = "repositories", operation_id = "repositories_detail",
    params(("id" = Uuid, Path, description = "The repository's id")),
    responses((status = 200, description = "The repository", body = Repository)))]
pub async fn detail(
    State(state): State<AppState>,
    PathId(id): PathId<Uuid>,
    request: ApiRequest,
) -> Result<Json<Repository>, ApiError> {
    resource::detail(&state, &request, resource::id_is(id)).await
}

/// The developers who starred this repository.
#[utoipa::path(get, path = "/github/repositories/{id}/stargazers/", tag = "repositories", operation_id = "repositories_stargazers",
    params(("id" = Uuid, Path, description = "The repository's id")),
    responses((status = 200, description = "A page of developers", body = Page<Developer>)))]
pub async fn stargazers(
    State(state): State<AppState>,
    PathId(id): PathId<Uuid>,
    request: ApiRequest,
) -> Result<Json<Page<Developer>>, ApiError> {
    resource::list_linked::<Repository, _>(&state, &request, id, STARGAZERS_OF).await
}
