//! Graph export: developers and repositories as nodes, `follows`, `owns` and `starred` as
//! edges, in GraphML, CSV or NDJSON. Rows are encoded as the database hands them over and
//! passed on in chunks through a bounded channel, so memory stays flat whatever the graph's
//! size: the command line writes the chunks to files, the API streams them to the client.

pub mod encode;
mod files;
mod read;

use std::io;
use std::str::FromStr;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::db::Db;
pub use encode::Encoder;
pub use files::{FileFormat, write};

/// What a column of an exported node holds, which decides how each format writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    Id,
    Text,
    Int,
    Bool,
    Time,
}

/// A node's exported attributes, in order: the columns of its table.
pub struct Field {
    pub name: &'static str,
    pub kind: Type,
}

const fn field(name: &'static str, kind: Type) -> Field {
    Field { name, kind }
}

pub const DEVELOPER_FIELDS: &[Field] = &[
    field("id", Type::Id),
    field("github_id", Type::Int),
    field("login", Type::Text),
    field("name", Type::Text),
    field("location", Type::Text),
    field("bio", Type::Text),
    field("company", Type::Text),
    field("email", Type::Text),
    field("created_at", Type::Time),
    field("updated_at", Type::Time),
    field("followers_count", Type::Int),
    field("following_count", Type::Int),
    field("public_gists", Type::Int),
    field("public_repos", Type::Int),
    field("repositories_size", Type::Int),
    field("github_repositories_size", Type::Int),
    field("synced_at", Type::Time),
];

pub const REPOSITORY_FIELDS: &[Field] = &[
    field("id", Type::Id),
    field("github_id", Type::Int),
    field("owner_github_id", Type::Int),
    field("name", Type::Text),
    field("full_name", Type::Text),
    field("description", Type::Text),
    field("homepage", Type::Text),
    field("language", Type::Text),
    field("created_at", Type::Time),
    field("updated_at", Type::Time),
    field("has_downloads", Type::Bool),
    field("has_issues", Type::Bool),
    field("has_pages", Type::Bool),
    field("has_projects", Type::Bool),
    field("has_wiki", Type::Bool),
    field("private", Type::Bool),
    field("archived", Type::Bool),
    field("disabled", Type::Bool),
    field("stargazers_count", Type::Int),
    field("subscribers_count", Type::Int),
    field("watchers_count", Type::Int),
    field("open_issues_count", Type::Int),
    field("size", Type::Int),
    field("synced_at", Type::Time),
];

/// One kind of node or edge: a table of the CSV export, a section of the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Table {
    Developers,
    Repositories,
    /// Developer → developer they follow.
    Follows,
    /// Developer → repository they own.
    Owns,
    /// Developer → repository they starred, with when.
    Starred,
}

impl Table {
    pub const ALL: [Self; 5] = [
        Self::Developers,
        Self::Repositories,
        Self::Follows,
        Self::Owns,
        Self::Starred,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Developers => "developers",
            Self::Repositories => "repositories",
            Self::Follows => "follows",
            Self::Owns => "owns",
            Self::Starred => "starred",
        }
    }

    /// The attributes of a node table; edge tables have none of these.
    pub fn fields(self) -> Option<&'static [Field]> {
        match self {
            Self::Developers => Some(DEVELOPER_FIELDS),
            Self::Repositories => Some(REPOSITORY_FIELDS),
            _ => None,
        }
    }
}

impl FromStr for Table {
    type Err = ();

    fn from_str(name: &str) -> Result<Self, ()> {
        Self::ALL.into_iter().find(|t| t.name() == name).ok_or(())
    }
}

/// The output format: the graph in one GraphML or NDJSON document, or as CSV tables (each
/// with its header row).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    GraphMl,
    Ndjson,
    Csv,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::GraphMl => "application/graphml+xml; charset=utf-8",
            Self::Ndjson => "application/x-ndjson",
            Self::Csv => "text/csv; charset=utf-8; header=present",
        }
    }
}

/// The deepest neighbourhood asked for: at depth 3 a well-connected developer already
/// reaches most of a crawled graph.
pub const MAX_DEPTH: u32 = 6;

/// Which part of the graph to export: all of it, a developer's neighbourhood (every node
/// within `depth` edges of theirs, in either direction, and the edges among those nodes),
/// and, of that, only records fetched from their own GitHub page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    pub around: Option<Around>,
    pub complete_only: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Around {
    pub login: String,
    pub depth: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("no developer with login {0:?} is stored")]
    UnknownDeveloper(String),
    /// The reader went away (a client hung up): nothing more to do.
    #[error("the export's reader went away")]
    Abandoned,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// How much was exported.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub nodes: u64,
    pub edges: u64,
}

/// Chunks are passed on once they reach this size.
const CHUNK: usize = 64 * 1024;
/// Chunks waiting for a slow reader: with `CHUNK`, the most an export holds in memory.
pub const CHUNKS_IN_FLIGHT: usize = 8;
/// A reader that takes nothing for this long is taken to have gone: the export lets go of
/// its connection and snapshot (which on PostgreSQL hold back vacuum, on SQLite the WAL's
/// checkpoints).
const STALLED: Duration = Duration::from_secs(60);

/// What an export sends: the start of a table (where the CSV files part), or bytes.
#[derive(Debug)]
pub enum Piece {
    Table(Table),
    Bytes(Bytes),
}

/// Where the encoded rows go: an encoder whose full chunks are sent on.
pub struct Output {
    encoder: Encoder,
    pieces: mpsc::Sender<io::Result<Piece>>,
}

impl Output {
    pub fn encoder(&mut self) -> &mut Encoder {
        &mut self.encoder
    }

    /// Marks the start of `table`: what came before is sent, then the boundary.
    pub async fn start_table(&mut self, table: Table) -> Result<(), ExportError> {
        self.send().await?;
        self.deliver(Piece::Table(table)).await?;
        self.encoder.start_table(table);
        Ok(())
    }

    /// Sends what is encoded once it makes a chunk, waiting while the reader is behind.
    pub async fn pass_on(&mut self) -> Result<(), ExportError> {
        if self.encoder.pending() >= CHUNK {
            self.send().await?;
        }
        Ok(())
    }

    async fn send(&mut self) -> Result<(), ExportError> {
        let chunk = self.encoder.take();
        if chunk.is_empty() {
            return Ok(());
        }
        self.deliver(Piece::Bytes(chunk)).await
    }

    async fn deliver(&mut self, piece: Piece) -> Result<(), ExportError> {
        match tokio::time::timeout(STALLED, self.pieces.send(Ok(piece))).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) | Err(_) => Err(ExportError::Abandoned),
        }
    }
}

/// Exports `tables` of `selection` of the graph stored in `db` as `format`, in one read of
/// the database, sending it in pieces to `pieces`. A failure after some were sent is sent
/// too, so the reader does not mistake a cut-off export for a whole one.
pub async fn export(
    db: &Db,
    format: Format,
    tables: &[Table],
    selection: &Selection,
    pieces: mpsc::Sender<io::Result<Piece>>,
) -> Result<Counts, ExportError> {
    let mut output = Output {
        encoder: Encoder::new(format),
        pieces: pieces.clone(),
    };
    let result: Result<Counts, ExportError> = async {
        output.encoder.begin();
        db.export_graph(tables, selection, &mut output).await?;
        output.encoder.end();
        output.send().await?;
        Ok(output.encoder.counts())
    }
    .await;
    if let Err(err) = &result {
        let failed = pieces.send(Err(io::Error::other(err.to_string())));
        let _ = tokio::time::timeout(STALLED, failed).await;
    }
    result
}

/// The channel an export sends its pieces through.
pub fn channel() -> (
    mpsc::Sender<io::Result<Piece>>,
    mpsc::Receiver<io::Result<Piece>>,
) {
    mpsc::channel(CHUNKS_IN_FLIGHT)
}
