//! `/github/repositories/`: repositories, their detail and their stargazers.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Link;
use super::developers::Developer;
use crate::db::developers::{OWNER, STARGAZERS, STARGAZERS_OF};
use crate::db::filter::Condition;
use crate::db::listing::Listing;
use crate::db::repositories::{REPOSITORIES, RepositoryRow};
use crate::error::ApiError;
use crate::http::embed::{self, Embed, Loading, Pages};
use crate::http::filters::{Field, REPOSITORY_FILTERS, parse_bool};
use crate::http::pagination::Page;
use crate::http::path_id::PathId;
use crate::http::request::ApiRequest;
use crate::http::resource::{self, Resource};
use crate::state::AppState;

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
    pub name: String,
    pub full_name: String,
    pub description: Option<String>,
    pub homepage: Option<String>,
    pub language: Option<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub has_downloads: Option<bool>,
    pub has_issues: Option<bool>,
    pub has_pages: Option<bool>,
    pub has_projects: Option<bool>,
    pub has_wiki: Option<bool>,
    pub private: Option<bool>,
    pub archived: Option<bool>,
    pub disabled: Option<bool>,
    /// URLs of the developers who starred this repository.
    pub stargazers: Vec<String>,
    pub stargazers_count: Option<i64>,
    pub subscribers_count: Option<i64>,
    pub watchers_count: Option<i64>,
    pub open_issues_count: Option<i64>,
    pub synced_at: Option<String>,
    /// When GitHub answered that this repository no longer exists; what we had is kept.
    pub gone_at: Option<String>,
    /// When GitHub answered 451: access blocked for legal reasons. It is not asked again.
    pub blocked_at: Option<String>,
    /// GitHub pages stargazers only so far (40,000); the stored stargazers stop there.
    pub stargazers_truncated: bool,
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
        let people = vec![
            state.db.first_related(&OWNER, ids, 1).await?,
            state
                .db
                .first_related(&STARGAZERS, ids, embed::LIST_CAP as i64)
                .await?,
        ];
        embed::pages(state, request, ids, people, next, |_, id| {
            format!("/github/repositories/{id}/stargazers/")
        })
        .await
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
    const FILTERS: &'static [Field] = REPOSITORY_FILTERS;

    async fn render(
        state: &AppState,
        request: &ApiRequest,
        rows: Vec<RepositoryRow>,
        embed: Embed<'_>,
    ) -> Result<Vec<Self>, ApiError> {
        let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
        let mut stargazers = state.db.stargazers(&ids).await?;
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
                        request.link(&format!("/github/repositories/{}/stargazers/", row.id)),
                    ),
                });
                Repository {
                    id: row.id,
                    url: request.repository(row.id),
                    owner,
                    github_id: row.github_id.to_string(),
                    owner_github_id: row.owner_github_id.to_string(),
                    name: row.name,
                    full_name: row.full_name,
                    description: row.description,
                    homepage: row.homepage,
                    language: row.language,
                    created_at: row.created_at.map(|t| t.to_iso()),
                    updated_at: row.updated_at.map(|t| t.to_iso()),
                    has_downloads: row.has_downloads,
                    has_issues: row.has_issues,
                    has_pages: row.has_pages,
                    has_projects: row.has_projects,
                    has_wiki: row.has_wiki,
                    private: row.private,
                    archived: row.archived,
                    disabled: row.disabled,
                    stargazers: stargazers
                        .remove(&row.id)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|id| request.developer(id))
                        .collect(),
                    stargazers_count: row.stargazers_count,
                    subscribers_count: row.subscribers_count,
                    watchers_count: row.watchers_count,
                    open_issues_count: row.open_issues_count,
                    synced_at: row.synced_at.map(|t| t.to_iso()),
                    gone_at: row.gone_at.map(|t| t.to_iso()),
                    blocked_at: row.blocked_at.map(|t| t.to_iso()),
                    stargazers_truncated: row.stargazers_truncated,
                    links,
                    embedded: embedded.as_mut().map(|pages| RepositoryEmbedded {
                        owner: pages[0]
                            .next()
                            .and_then(|mut owner| owner.results.pop())
                            .map(Box::new),
                        stargazers: pages[1].next().unwrap_or_default(),
                    }),
                }
            })
            .collect())
    }
}

/// Repositories, newest first; those whose creation date is unknown come last.
#[utoipa::path(get, path = "/github/repositories/", tag = "repositories",
    responses((status = 200, description = "A page of repositories", body = Page<Repository>)))]
pub async fn list(
    State(state): State<AppState>,
    request: ApiRequest,
) -> Result<Json<Page<Repository>>, ApiError> {
    resource::list(&state, &request, None).await
}

/// One repository, if it also matches the filters given.
#[utoipa::path(get, path = "/github/repositories/{id}/", tag = "repositories",
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
#[utoipa::path(get, path = "/github/repositories/{id}/stargazers/", tag = "repositories",
    params(("id" = Uuid, Path, description = "The repository's id")),
    responses((status = 200, description = "A page of developers", body = Page<Developer>)))]
pub async fn stargazers(
    State(state): State<AppState>,
    PathId(id): PathId<Uuid>,
    request: ApiRequest,
) -> Result<Json<Page<Developer>>, ApiError> {
    resource::list_under::<Repository, _>(
        &state,
        &request,
        id,
        Condition::IdIn {
            subquery: STARGAZERS_OF,
            of: id,
        },
    )
    .await
}
