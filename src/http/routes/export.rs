//! `/github/export/{format}` (ours): the graph as a download, streamed as it is read, with
//! the filters of `gitomatic export`.

use axum::Extension;
use axum::body::Body;
use std::str::FromStr;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use super::ErrorDetail;
use crate::db::Key;
use crate::error::ApiError;
use crate::export::{self, Around, ExportError, Format, MAX_DEPTH, Selection, Table};
use crate::http::etag::Streamed;
use crate::http::filters::parse_bool;
use crate::http::params::Params;
use crate::http::path_id::PathId;
use crate::jobs;
use crate::state::AppState;

/// The graph as GraphML, NDJSON, or one CSV table.
///
/// Nodes are developers and repositories with their fields; edges are `follows`
/// (developer → developer), `owns` and `starred` (developer → repository). The answer is
/// streamed: a failure part-way cuts the connection rather than ending the file cleanly.
#[utoipa::path(get, path = "/github/export/{format}", tag = "export", operation_id = "export",
    params(
        ("format" = ExportFormat, Path, description = "GraphML, NDJSON, or one CSV table"),
        ("table" = Option<Table>, Query, description = "With `csv`, required: the table"),
        ("around" = Option<String>, Query,
            description = "Only this developer's neighbourhood (a login): the nodes within `depth` edges of theirs, either way, and the edges among them"),
        ("depth" = Option<u32>, Query, minimum = 0, maximum = 6,
            description = "How far `around` reaches (default 1)"),
        ("complete" = Option<bool>, Query,
            description = "Only records fetched from their own GitHub page, and the edges between them"),
    ),
    responses(
        (status = 200, description = "The export, as a download", content(
            (String = "application/graphml+xml"),
            (String = "application/x-ndjson"),
            (String = "text/csv"),
        )),
        (status = 404, description = "No such format, or no developer with the login `around` names",
            body = ErrorDetail),
        (status = 503, description = "Too many exports are running, or the database is unavailable; try again shortly",
            body = ErrorDetail),
    ))]
pub async fn export(
    State(state): State<AppState>,
    PathId(format): PathId<ExportFormat>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref());
    let format = format.with_table(&params)?;
    let selection = parse_selection(&params)?;
    // An export holds a pooled connection for as long as the download lasts.
    let permit = state.exports.clone().try_acquire_owned().map_err(|_| {
        ApiError::Status(
            StatusCode::SERVICE_UNAVAILABLE,
            "Too many exports are running; try again when one has ended.",
        )
    })?;
    if let Some(around) = &selection.around {
        if state
            .db
            .known_developer(Key::Name(&around.login))
            .await?
            .is_none()
        {
            return Err(ApiError::Status(
                StatusCode::NOT_FOUND,
                "No developer with the login `around` names is stored.",
            ));
        }
    }
    let (sender, chunks) = export::channel();
    let db = state.db.clone();
    tokio::spawn(async move {
        let _permit = permit;
        match export::export(&db, format, &selection, sender).await {
            Ok(_) | Err(ExportError::Abandoned) => {}
            Err(err) => tracing::error!(error = %err, "an export failed part-way"),
        }
    });
    let body = Body::from_stream(stream::unfold(chunks, |mut chunks| async move {
        chunks.recv().await.map(|chunk| (chunk, chunks))
    }));
    let disposition = format!("attachment; filename=\"{}\"", format.file_name());
    Ok((
        [
            (CONTENT_TYPE, format.content_type().to_owned()),
            (CONTENT_DISPOSITION, disposition),
        ],
        Extension(Streamed),
        body,
    )
        .into_response())
}

/// The `{format}` of the path.
#[derive(Clone, Copy, Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ExportFormat {
    Graphml,
    Ndjson,
    Csv,
}

impl FromStr for ExportFormat {
    type Err = ();

    fn from_str(name: &str) -> Result<Self, ()> {
        match name {
            "graphml" => Ok(Self::Graphml),
            "ndjson" => Ok(Self::Ndjson),
            "csv" => Ok(Self::Csv),
            _ => Err(()),
        }
    }
}

impl ExportFormat {
    fn with_table(self, params: &Params) -> Result<Format, ApiError> {
        match self {
            Self::Graphml => Ok(Format::GraphMl),
            Self::Ndjson => Ok(Format::Ndjson),
            Self::Csv => {
                let names: Vec<&str> = Table::ALL.iter().map(|t| t.name()).collect();
                params
                    .non_empty("table")
                    .and_then(|table| table.parse().ok())
                    .map(Format::Csv)
                    .ok_or_else(|| {
                        ApiError::invalid_param(
                            "table",
                            &format!(
                                "CSV has one file per table: choose one of {}.",
                                names.join(", ")
                            ),
                        )
                    })
            }
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
    if around
        .as_ref()
        .is_some_and(|a| !jobs::valid_login(&a.login))
    {
        errors.insert("around".into(), json!(["Not a GitHub login."]));
    }
    if !errors.is_empty() {
        return Err(ApiError::InvalidParams(errors));
    }
    Ok(Selection {
        around,
        complete_only,
    })
}
