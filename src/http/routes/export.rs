//! `/github/export/{format}` and `/github/export/csv/{table}` (ours): the graph as a
//! download, streamed as it is read, with the filters of `gitomatic export`.

use std::str::FromStr;
use std::task::{Poll, ready};

use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde_json::{Map, Value, json};
use utoipa::{IntoParams, ToSchema};

use super::ErrorDetail;
use crate::db::Key;
use crate::error::ApiError;
use crate::export::{self, Around, ExportError, Format, MAX_DEPTH, Piece, Selection, Table};
use crate::http::etag::Streamed;
use crate::http::filters::parse_bool;
use crate::http::params::Params;
use crate::http::path_id::PathId;
use crate::jobs;
use crate::state::AppState;

/// The graph as GraphML or NDJSON.
///
/// Nodes are developers and repositories with their fields; edges are `follows`
/// (developer → developer), `owns` and `starred` (developer → repository). The answer is
/// streamed: a failure part-way cuts the connection rather than ending the file cleanly.
#[utoipa::path(get, path = "/github/export/{format}", tag = "export", operation_id = "export",
    params(
        ("format" = inline(ExportFormat), Path, description = "GraphML or NDJSON (CSV: `/github/export/csv/{table}`)"),
        Filters,
    ),
    responses(
        (status = 200, description = "The export, as a download", content(
            (String = "application/graphml+xml"),
            (String = "application/x-ndjson"),
        )),
        (status = 404, description = "No such format, or no developer with the login `around` names",
            body = ErrorDetail),
    ))]
pub async fn export(
    State(state): State<AppState>,
    Path(format): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (format, file_name) = match format.parse() {
        Ok(ExportFormat::Graphml) => (Format::GraphMl, "git-o-matic-9k.graphml"),
        Ok(ExportFormat::Ndjson) => (Format::Ndjson, "git-o-matic-9k.ndjson"),
        Err(()) if format == "csv" => {
            return Err(ApiError::Status(StatusCode::NOT_FOUND, CSV_IS_PER_TABLE));
        }
        Err(()) => return Err(ApiError::NotFound),
    };
    let download = Download {
        format,
        tables: &Table::ALL,
        file_name: file_name.to_owned(),
    };
    download.answer(&state, query.as_deref()).await
}

/// One table of the graph as CSV, with a header row.
///
/// `developers` and `repositories` hold the nodes' fields; `follows`
/// (`follower_id,followee_id`), `owns` (`owner_id,repository_id`) and `starred`
/// (`developer_id,repository_id,starred_at`) the edges. Streamed as `/github/export/{format}`.
#[utoipa::path(get, path = "/github/export/csv/{table}", tag = "export", operation_id = "export_csv",
    params(("table" = inline(Table), Path, description = "The table"), Filters),
    responses(
        (status = 200, description = "The table, as a download", content_type = "text/csv", body = String),
        (status = 404, description = "No such table, or no developer with the login `around` names",
            body = ErrorDetail),
    ))]
pub async fn export_csv(
    State(state): State<AppState>,
    PathId(table): PathId<Table>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let download = Download {
        format: Format::Csv,
        tables: std::slice::from_ref(&table),
        file_name: format!("{}.csv", table.name()),
    };
    download.answer(&state, query.as_deref()).await
}

const CSV_IS_PER_TABLE: &str = "CSV is one file per table: /github/export/csv/{table}, where \
     table is developers, repositories, follows, owns or starred.";

/// The query parameters both downloads take, for the document: `parse_selection` reads
/// them as Django reads a query (an empty value is no value).
#[derive(IntoParams)]
#[expect(dead_code, reason = "declares the parameters; no value is built of it")]
#[into_params(parameter_in = Query)]
struct Filters {
    /// Only this developer's neighbourhood (a login): the nodes within `depth` edges of
    /// theirs, either way, and the edges among them.
    around: Option<String>,
    /// How far `around` reaches (default 1).
    #[param(minimum = 0, maximum = 6)]
    depth: Option<u32>,
    /// Only records fetched from their own GitHub page, and the edges between them.
    complete: Option<bool>,
}

/// What a download holds, and the name it is saved under.
struct Download<'a> {
    format: Format,
    tables: &'a [Table],
    file_name: String,
}

impl Download<'_> {
    /// Streams the part of the graph the query selects, from a task of its own.
    async fn answer(self, state: &AppState, query: Option<&str>) -> Result<Response, ApiError> {
        let selection = parse_selection(&Params::parse(query))?;
        // An export holds a pooled connection for as long as the download lasts.
        let permit = state.exports.clone().try_acquire_owned().map_err(|_| {
            ApiError::Status(
                StatusCode::SERVICE_UNAVAILABLE,
                "Too many exports are running; try again when one has ended.",
            )
        })?;
        if let Some(around) = &selection.around {
            let known = jobs::valid_login(&around.login)
                && state
                    .db
                    .known_developer(Key::Name(&around.login))
                    .await?
                    .is_some();
            if !known {
                return Err(ApiError::Status(
                    StatusCode::NOT_FOUND,
                    "No developer with the login `around` names is stored.",
                ));
            }
        }
        let (sender, mut pieces) = export::channel();
        let (db, format, tables) = (state.db.clone(), self.format, self.tables.to_vec());
        tokio::spawn(async move {
            let _permit = permit;
            match export::export(&db, format, &tables, &selection, sender).await {
                Ok(_) | Err(ExportError::Abandoned) => {}
                Err(err) => tracing::error!(error = %err, "an export failed part-way"),
            }
        });
        // Polled after its end, a closed channel keeps answering that it ended. Table starts
        // matter to files only.
        let body = Body::from_stream(stream::poll_fn(move |cx| {
            loop {
                match ready!(pieces.poll_recv(cx)) {
                    Some(Ok(Piece::Table(_))) => {}
                    Some(Ok(Piece::Bytes(bytes))) => return Poll::Ready(Some(Ok(bytes))),
                    Some(Err(err)) => return Poll::Ready(Some(Err(err))),
                    None => return Poll::Ready(None),
                }
            }
        }));
        let disposition = format!("attachment; filename=\"{}\"", self.file_name);
        Ok((
            [
                (CONTENT_TYPE, self.format.content_type().to_owned()),
                (CONTENT_DISPOSITION, disposition),
            ],
            Extension(Streamed),
            body,
        )
            .into_response())
    }
}

/// The `{format}` of the path.
#[derive(Clone, Copy, Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ExportFormat {
    Graphml,
    Ndjson,
}

impl FromStr for ExportFormat {
    type Err = ();

    fn from_str(name: &str) -> Result<Self, ()> {
        match name {
            "graphml" => Ok(Self::Graphml),
            "ndjson" => Ok(Self::Ndjson),
            _ => Err(()),
        }
    }
}

fn parse_selection(params: &Params) -> Result<Selection, ApiError> {
    let mut errors = Map::new();
    let complete_only = match params.non_empty("complete") {
        None => false,
        Some(raw) => parse_bool(raw).unwrap_or_else(|| {
            errors.insert("complete".into(), json!(["Must be a valid boolean."]));
            false
        }),
    };
    let depth = match params.non_empty("depth") {
        None => 1,
        Some(raw) => match raw.parse::<u32>() {
            Ok(depth) if depth <= MAX_DEPTH => depth,
            _ => {
                errors.insert(
                    "depth".into(),
                    Value::from(vec![format!(
                        "Must be a whole number from 0 to {MAX_DEPTH}."
                    )]),
                );
                0
            }
        },
    };
    let around = params.non_empty("around").map(|login| Around {
        login: login.to_owned(),
        depth,
    });
    if !errors.is_empty() {
        return Err(ApiError::InvalidParams(errors));
    }
    Ok(Selection {
        around,
        complete_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The attribute takes a literal only: this keeps it the deepest depth allowed.
    #[test]
    fn the_documented_depth_is_the_deepest_allowed() {
        let document = serde_json::to_value(crate::http::api_document()).unwrap();
        for path in ["/github/export/{format}", "/github/export/csv/{table}"] {
            let parameters = document["paths"][path]["get"]["parameters"]
                .as_array()
                .unwrap();
            let depth = parameters.iter().find(|p| p["name"] == "depth").unwrap();
            assert_eq!(depth["schema"]["maximum"], MAX_DEPTH, "{path}");
        }
    }
}
