//! The export written to files (or standard output) by `gitomatic export`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::{Counts, Format, Selection, Table};
use crate::db::Db;

/// The formats `--format` names: CSV stands for its five tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FileFormat {
    Graphml,
    Csv,
    Ndjson,
}

/// Writes the export: GraphML or NDJSON to `output` (standard output without one), CSV as
/// one file per table in the directory `output`. Each file is written under a temporary
/// name and renamed when complete, so an interrupted export leaves no file that looks whole.
pub async fn write(
    db: &Db,
    format: FileFormat,
    selection: &Selection,
    output: Option<&Path>,
) -> anyhow::Result<Counts> {
    match (format, output) {
        (FileFormat::Csv, None) => {
            bail!("CSV is one file per table: name a directory with --output DIR")
        }
        (FileFormat::Csv, Some(dir)) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the directory {}", dir.display()))?;
            let mut total = Counts::default();
            for table in Table::ALL {
                let format = Format::Csv(table);
                let counts = to_file(db, format, selection, &dir.join(format.file_name())).await?;
                total.nodes += counts.nodes;
                total.edges += counts.edges;
            }
            Ok(total)
        }
        (format, output) => {
            let format = match format {
                FileFormat::Graphml => Format::GraphMl,
                _ => Format::Ndjson,
            };
            match output {
                Some(path) => to_file(db, format, selection, path).await,
                None => copy(db, format, selection, &mut std::io::stdout().lock()).await,
            }
        }
    }
}

async fn to_file(
    db: &Db,
    format: Format,
    selection: &Selection,
    path: &Path,
) -> anyhow::Result<Counts> {
    let partial = partial_name(path);
    let file = std::fs::File::create(&partial)
        .with_context(|| format!("cannot create {}", partial.display()))?;
    let mut writer = std::io::BufWriter::new(file);
    let counts = match copy(db, format, selection, &mut writer).await {
        Ok(counts) => counts,
        Err(err) => {
            drop(writer);
            let _ = std::fs::remove_file(&partial);
            return Err(err);
        }
    };
    writer
        .into_inner()
        .map_err(|err| err.into_error())
        .and_then(|file| file.sync_all())
        .with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, path)
        .with_context(|| format!("cannot rename {} to {}", partial.display(), path.display()))?;
    Ok(counts)
}

/// `graph.graphml` → `graph.graphml.partial`, beside it.
fn partial_name(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

/// Runs the export and writes its chunks to `out` as they come.
async fn copy(
    db: &Db,
    format: Format,
    selection: &Selection,
    out: &mut impl Write,
) -> anyhow::Result<Counts> {
    let (sender, mut chunks) = super::channel();
    let export = super::export(db, format, selection, sender);
    tokio::pin!(export);
    let mut result = None;
    loop {
        tokio::select! {
            done = &mut export, if result.is_none() => result = Some(done),
            chunk = chunks.recv() => match chunk {
                Some(Ok(bytes)) => out.write_all(&bytes).context("cannot write the export")?,
                // The export's own error is the one to report.
                Some(Err(_)) => {}
                None => break,
            },
        }
    }
    out.flush().context("cannot write the export")?;
    let counts = match result {
        Some(result) => result?,
        None => export.await?,
    };
    Ok(counts)
}
