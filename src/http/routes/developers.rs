//! `/github/developers/`: developers, their detail, and the lists hanging off each one.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use utoipa::PartialSchema;
use utoipa::openapi::{RefOr, Schema};

use super::Link;
use super::repositories::{self, Repository};
use crate::db::Timestamp;
use crate::db::developers::{
    DEVELOPER_SEARCH, DEVELOPERS, DeveloperProfile, DeveloperRow, FOLLOWED_BY, FOLLOWERS,
    FOLLOWERS_OF, FOLLOWING,
};
use crate::db::filter::{Cmp, Condition};
use crate::db::listing::Listing;
use crate::db::repositories::{OWNED, STARRED, STARRED_BY};
use crate::db::sql::SqlValue;
use crate::error::ApiError;
use crate::http::embed::{self, Embed, Loading, Pages};
use crate::http::filters::{DEVELOPER_FILTERS, Kind, parse_bool};
use crate::http::omit::Omit;
use crate::http::pagination::Page;
use crate::http::path_id::PathId;
use crate::http::request::ApiRequest;
use crate::http::resource::{self, Collection, Relation, Resource};
use crate::state::AppState;

/// The developers: filters and the lists hanging off each one.
pub static COLLECTION: Collection = Collection {
    path: "/github/developers/",
    filters: DEVELOPER_FILTERS,
    orderings: &[
        ("followers_count", Kind::Int),
        ("following_count", Kind::Int),
        ("public_repos", Kind::Int),
        ("created_at", Kind::Time),
        ("updated_at", Kind::Time),
        ("synced_at", Kind::Time),
        ("login", Kind::Text),
        ("repositories_size", Kind::Int),
    ],
    search: DEVELOPER_SEARCH,
    relations: &[
        Relation {
            name: "followers",
            of: &COLLECTION,
        },
        Relation {
            name: "following",
            of: &COLLECTION,
        },
        Relation {
            name: "starred_repositories",
            of: &repositories::COLLECTION,
        },
        Relation {
            name: "repositories",
            of: &repositories::COLLECTION,
        },
    ],
    links: true,
    embeds: true,
};

/// A GitHub user. Counts and profile fields are null until the profile itself is synced.
#[derive(Debug, Serialize, ToSchema)]
pub struct Developer {
    pub id: Uuid,
    pub url: String,
    /// GitHub's numeric id, as a string.
    pub github_id: String,
    pub login: String,
    #[serde(flatten)]
    #[schema(ignore)]
    pub profile: DeveloperProfile,
    /// URLs of the developers who follow this one (left out with `?omit=followers`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Vec<String>, required = false)]
    pub followers: Option<Vec<String>>,
    /// URLs of the developers this one follows (left out with `?omit=following`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Vec<String>, required = false)]
    pub following: Option<Vec<String>>,
    /// URLs of the repositories this developer starred (left out with
    /// `?omit=starred_repositories`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Vec<String>, required = false)]
    pub starred_repositories: Option<Vec<String>>,
    /// URLs of the repositories this developer owns (left out with `?omit=repositories`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Vec<String>, required = false)]
    pub repositories: Option<Vec<String>>,
    /// Kilobytes of the repositories this developer owns that are stored (their `size`
    /// summed); null while none of them has a known size.
    pub repositories_size: Option<i64>,
    /// Kilobytes of all the public repositories this developer owns, as GitHub's GraphQL
    /// last counted them (`totalDiskUsage`); null until a GraphQL profile read gave it.
    pub github_repositories_size: Option<i64>,
    /// When this profile was last fetched from GitHub; null while known only from a list.
    #[schema(value_type = Option<String>)]
    pub synced_at: Option<Timestamp>,
    /// When GitHub answered that this account no longer exists; what we had is kept.
    #[schema(value_type = Option<String>)]
    pub gone_at: Option<Timestamp>,
    #[serde(rename = "_links", skip_serializing_if = "Option::is_none")]
    pub links: Option<DeveloperLinks>,
    /// With `?embed=N`: the first records of `followers`, `following`,
    /// `starred_repositories` and `repositories`, each a page like its sub-collection's first.
    #[serde(rename = "_embedded", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub embedded: Option<DeveloperEmbedded>,
}

#[derive(Debug, Serialize)]
pub struct DeveloperEmbedded {
    pub followers: Page<Developer>,
    pub following: Page<Developer>,
    pub starred_repositories: Page<Repository>,
    pub repositories: Page<Repository>,
}

/// Embedded pages of a batch of developers, by relation.
struct EmbeddedPages {
    developers: Pages<Developer>,
    repositories: Pages<Repository>,
}

impl EmbeddedPages {
    /// Boxed: embedding renders developers, which embed in turn.
    fn load<'a>(
        state: &'a AppState,
        request: &'a ApiRequest,
        ids: &'a [Uuid],
        next: Embed<'a>,
    ) -> Loading<'a, Self> {
        Box::pin(async move {
            let cap = embed::LIST_CAP as i64;
            let people = vec![
                (
                    "followers",
                    state.db.first_related(&FOLLOWERS, ids, cap).await?,
                ),
                (
                    "following",
                    state.db.first_related(&FOLLOWING, ids, cap).await?,
                ),
            ];
            let repos = vec![
                (
                    "starred_repositories",
                    state.db.first_related(&STARRED, ids, cap).await?,
                ),
                (
                    "repositories",
                    state.db.first_related(&OWNED, ids, cap).await?,
                ),
            ];
            let Some(developers) =
                embed::pages(state, request, &COLLECTION, ids, people, next).await?
            else {
                return Ok(None);
            };
            let repositories = embed::pages(state, request, &COLLECTION, ids, repos, next).await?;
            Ok(repositories.map(|repositories| Self {
                developers,
                repositories,
            }))
        })
    }

    /// The embedded pages of the next developer in the batch.
    fn next_record(&mut self) -> DeveloperEmbedded {
        DeveloperEmbedded {
            followers: self.developers.next("followers"),
            following: self.developers.next("following"),
            starred_repositories: self.repositories.next("starred_repositories"),
            repositories: self.repositories.next("repositories"),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeveloperLinks {
    #[serde(rename = "self")]
    pub this: Link,
    pub followers: Link,
    pub following: Link,
    pub starred_repositories: Link,
    pub repositories: Link,
}

impl Resource for Developer {
    type Row = DeveloperRow;
    const LISTING: &'static Listing = &DEVELOPERS;
    const COLLECTION: &'static Collection = &COLLECTION;

    fn flattened() -> Vec<(&'static str, RefOr<Schema>)> {
        vec![("login", DeveloperProfile::schema())]
    }

    async fn render(
        state: &AppState,
        request: &ApiRequest,
        rows: Vec<DeveloperRow>,
        embed: Embed<'_>,
    ) -> Result<Vec<Self>, ApiError> {
        let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
        let omit = Omit::from_params(&request.params, &super::WITH_LISTS)?;
        let mut relations = state
            .db
            .developer_relations(&ids, |list| omit.keeps(list))
            .await?;
        let mut embedded = match embed.descend() {
            Some(next) => EmbeddedPages::load(state, request, &ids, next).await?,
            None => None,
        };
        let with_links = request.params.get("links").and_then(parse_bool) == Some(true);
        let developers = |ids: Vec<Uuid>| ids.into_iter().map(|id| request.developer(id)).collect();
        let repositories =
            |ids: Vec<Uuid>| ids.into_iter().map(|id| request.repository(id)).collect();
        let kept = |list: &str, urls: Vec<String>| omit.keeps(list).then_some(urls);
        Ok(rows
            .into_iter()
            .map(|row| {
                let related = relations.remove(&row.id).unwrap_or_default();
                let sub =
                    |list: &str| Link::to(request.link(&COLLECTION.relation_path(row.id, list)));
                let links = with_links.then(|| DeveloperLinks {
                    this: Link::to(request.developer(row.id)),
                    followers: sub("followers"),
                    following: sub("following"),
                    starred_repositories: sub("starred_repositories"),
                    repositories: sub("repositories"),
                });
                Developer {
                    id: row.id,
                    url: request.developer(row.id),
                    github_id: row.github_id.to_string(),
                    login: row.login,
                    profile: row.profile,
                    followers: kept("followers", developers(related.followers)),
                    following: kept("following", developers(related.following)),
                    starred_repositories: kept(
                        "starred_repositories",
                        repositories(related.starred_repositories),
                    ),
                    repositories: kept("repositories", repositories(related.repositories)),
                    repositories_size: row.repositories_size,
                    github_repositories_size: row.github_repositories_size,
                    synced_at: row.synced_at,
                    gone_at: row.gone_at,
                    links,
                    embedded: embedded.as_mut().map(EmbeddedPages::next_record),
                }
            })
            .collect())
    }
}

/// Developers, newest GitHub account first; those whose creation date is unknown come last.
#[utoipa::path(get, path = "/github/developers/", tag = "developers", operation_id = "developers_list",
    responses((status = 200, description = "A page of developers", body = Page<Developer>)))]
pub async fn list(
    State(state): State<AppState>,
    request: ApiRequest,
) -> Result<Json<Page<Developer>>, ApiError> {
    resource::list(&state, &request, None).await
}

/// One developer, if it also matches the filters given.
#[utoipa::path(get, path = "/github/developers/{id}/", tag = "developers", operation_id = "developers_detail",
    params(("id" = Uuid, Path, description = "The developer's id")),
    responses((status = 200, description = "The developer", body = Developer)))]
pub async fn detail(
    State(state): State<AppState>,
    PathId(id): PathId<Uuid>,
    request: ApiRequest,
) -> Result<Json<Developer>, ApiError> {
    resource::detail(&state, &request, resource::id_is(id)).await
}

/// The developers who follow this one.
#[utoipa::path(get, path = "/github/developers/{id}/followers/", tag = "developers", operation_id = "developers_followers",
    params(("id" = Uuid, Path, description = "The developer's id")),
    responses((status = 200, description = "A page of developers", body = Page<Developer>)))]
pub async fn followers(
    State(state): State<AppState>,
    PathId(id): PathId<Uuid>,
    request: ApiRequest,
) -> Result<Json<Page<Developer>>, ApiError> {
    resource::list_linked::<Developer, _>(&state, &request, id, FOLLOWERS_OF).await
}

/// The developers this one follows.
#[utoipa::path(get, path = "/github/developers/{id}/following/", tag = "developers", operation_id = "developers_following",
    params(("id" = Uuid, Path, description = "The developer's id")),
    responses((status = 200, description = "A page of developers", body = Page<Developer>)))]
pub async fn following(
    State(state): State<AppState>,
    PathId(id): PathId<Uuid>,
    request: ApiRequest,
) -> Result<Json<Page<Developer>>, ApiError> {
    resource::list_linked::<Developer, _>(&state, &request, id, FOLLOWED_BY).await
}

/// The repositories this developer starred.
#[utoipa::path(get, path = "/github/developers/{id}/starred_repositories/", tag = "developers", operation_id = "developers_starred_repositories",
    params(("id" = Uuid, Path, description = "The developer's id")),
    responses((status = 200, description = "A page of repositories", body = Page<Repository>)))]
pub async fn starred_repositories(
    State(state): State<AppState>,
    PathId(id): PathId<Uuid>,
    request: ApiRequest,
) -> Result<Json<Page<Repository>>, ApiError> {
    resource::list_linked::<Developer, _>(&state, &request, id, STARRED_BY).await
}

/// The repositories this developer owns.
#[utoipa::path(get, path = "/github/developers/{id}/repositories/", tag = "developers", operation_id = "developers_repositories",
    params(("id" = Uuid, Path, description = "The developer's id")),
    responses((status = 200, description = "A page of repositories", body = Page<Repository>)))]
pub async fn repositories(
    State(state): State<AppState>,
    PathId(id): PathId<Uuid>,
    request: ApiRequest,
) -> Result<Json<Page<Repository>>, ApiError> {
    let owned = Condition::Compare {
        column: "owner_id",
        cmp: Cmp::Eq,
        value: SqlValue::Id(id),
    };
    resource::list_under::<Developer, _>(&state, &request, id, owned).await
}
