//! The export written to files (or standard output) by `gitomatic export`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::{Counts, Format, Piece, Selection, Table};
use crate::db::Db;

/// The formats `--format` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FileFormat {
    Graphml,
    Csv,
    Ndjson,
}

/// Writes the export: GraphML or NDJSON to `output` (standard output without one), CSV as
/// one file per table in the directory `output`, all from one read of the database. Files
/// are written under a temporary name and renamed when the export is whole, so an
/// interrupted one leaves no file that looks complete.
pub async fn write(
    db: &Db,
    format: FileFormat,
    selection: &Selection,
    output: Option<&Path>,
) -> anyhow::Result<Counts> {
    let format = match format {
        FileFormat::Graphml => Format::GraphMl,
        FileFormat::Csv => Format::Csv,
        FileFormat::Ndjson => Format::Ndjson,
    };
    match (format, output) {
        (Format::Csv, None) => {
            bail!("CSV is one file per table: name a directory with --output DIR")
        }
        (Format::Csv, Some(dir)) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the directory {}", dir.display()))?;
            let mut tables = Files {
                files: Vec::new(),
                tables_in: Some(dir.to_owned()),
            };
            let result = copy(db, format, selection, &mut tables).await;
            finish(tables.files, result)
        }
        (format, Some(path)) => {
            let mut file = Files {
                files: vec![Partial::create(path)?],
                tables_in: None,
            };
            let result = copy(db, format, selection, &mut file).await;
            finish(file.files, result)
        }
        (format, None) => copy(db, format, selection, &mut std::io::stdout().lock()).await,
    }
}

/// Where the pieces of an export go.
trait Destination {
    fn start_table(&mut self, table: Table) -> anyhow::Result<()>;
    fn write(&mut self, bytes: &[u8]) -> anyhow::Result<()>;
}

impl Destination for std::io::StdoutLock<'_> {
    fn start_table(&mut self, _: Table) -> anyhow::Result<()> {
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.write_all(bytes).context("cannot write the export")
    }
}

/// A file written under `NAME.partial` until it is whole.
struct Partial {
    path: PathBuf,
    partial: PathBuf,
    writer: BufWriter<File>,
}

impl Partial {
    fn create(path: &Path) -> anyhow::Result<Self> {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".partial");
        let partial = path.with_file_name(name);
        let file = File::create(&partial)
            .with_context(|| format!("cannot create {}", partial.display()))?;
        Ok(Self {
            path: path.to_owned(),
            partial,
            writer: BufWriter::new(file),
        })
    }

    fn keep(self) -> anyhow::Result<()> {
        let partial = self.partial.clone();
        self.writer
            .into_inner()
            .map_err(|err| err.into_error())
            .and_then(|file| file.sync_all())
            .with_context(|| format!("cannot write {}", partial.display()))?;
        std::fs::rename(&partial, &self.path).with_context(|| {
            format!(
                "cannot rename {} to {}",
                partial.display(),
                self.path.display()
            )
        })
    }
}

/// The files an export writes: one, or (CSV) one per table, `TABLE.csv` in `tables_in`.
struct Files {
    files: Vec<Partial>,
    tables_in: Option<PathBuf>,
}

impl Destination for Files {
    fn start_table(&mut self, table: Table) -> anyhow::Result<()> {
        if let Some(dir) = &self.tables_in {
            let path = dir.join(format!("{}.csv", table.name()));
            self.files.push(Partial::create(&path)?);
        }
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        let file = self.files.last_mut().context("no file to write to")?;
        file.writer
            .write_all(bytes)
            .with_context(|| format!("cannot write {}", file.partial.display()))
    }
}

/// Renames the files into place when the export is whole; removes them otherwise.
fn finish(files: Vec<Partial>, result: anyhow::Result<Counts>) -> anyhow::Result<Counts> {
    if result.is_err() {
        for file in files {
            let _ = std::fs::remove_file(&file.partial);
        }
        return result;
    }
    for file in files {
        file.keep()?;
    }
    result
}

/// Runs the export and hands its pieces to `out` as they come.
async fn copy(
    db: &Db,
    format: Format,
    selection: &Selection,
    out: &mut impl Destination,
) -> anyhow::Result<Counts> {
    let (sender, mut pieces) = super::channel();
    let export = super::export(db, format, &Table::ALL, selection, sender);
    tokio::pin!(export);
    let mut result = None;
    loop {
        tokio::select! {
            done = &mut export, if result.is_none() => result = Some(done),
            piece = pieces.recv() => match piece {
                Some(Ok(Piece::Table(table))) => out.start_table(table)?,
                Some(Ok(Piece::Bytes(bytes))) => out.write(&bytes)?,
                // The export's own error is the one to report.
                Some(Err(_)) => {}
                None => break,
            },
        }
    }
    let counts = match result {
        Some(result) => result?,
        None => export.await?,
    };
    Ok(counts)
}
