//! The `gitomatic` command line: what each subcommand does, given parsed arguments.

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::app::{self, App};
use crate::auth::password;
use crate::config::Config;
use crate::db::users::Saved;
use crate::export::{self, Around, FileFormat, Selection};
use crate::http::MetricsState;
use crate::import::DjangoDatabase;
use crate::jobs::{self, Background, Task};
use crate::sync::{Steps, SyncError, Syncer};
use crate::telemetry;

#[derive(Debug, Parser)]
#[command(
    name = "gitomatic",
    version,
    about = "git-o-matic-9k: GitHub discovery service"
)]
pub struct Cli {
    /// Read settings from this TOML file (see `gitomatic print-default-config`).
    #[arg(short = 'c', long = "config", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum SyncTarget {
    /// A developer: profile, repositories with stargazers, followers, following, starred,
    /// and the profile of everyone met on the way.
    User {
        /// The GitHub login.
        login: String,
    },
    /// A repository: itself, its owner, its stargazers and their profiles.
    Repo {
        /// OWNER/NAME, as on GitHub.
        full_name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the /github/ API (applies pending migrations first).
    Serve {
        /// Listen on this address [default: 127.0.0.1:8000, or 0.0.0.0:$PORT when PORT is set].
        #[arg(long, value_name = "ADDR")]
        bind: Option<SocketAddr>,
        /// Workers running jobs in this process [default: the `workers` setting, 2].
        #[arg(long, value_name = "N")]
        workers: Option<u32>,
        /// Do not queue periodic jobs from this process (another one does).
        #[arg(long)]
        no_scheduler: bool,
    },
    /// Run the scheduler and workers without HTTP: a separate worker process.
    Worker,
    /// Run a sync in the foreground with a progress bar, waiting out quota resets.
    #[command(subcommand)]
    Sync(SyncTarget),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create an API user, or set the password of an existing one.
    CreateUser {
        /// The user name for Basic auth.
        name: String,
        /// Read the password from standard input instead of prompting for it.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Write the graph to files: GraphML, CSV (one file per node and edge kind) or NDJSON.
    Export {
        #[arg(long, value_enum)]
        format: FileFormat,
        /// The file to write (GraphML, NDJSON; standard output without it), or the directory
        /// to write the CSV files into.
        #[arg(short, long, value_name = "FILE|DIR")]
        output: Option<PathBuf>,
        /// Only this developer's neighbourhood: the nodes within --depth edges of theirs,
        /// either way, and the edges among them.
        #[arg(long, value_name = "LOGIN")]
        around: Option<String>,
        /// How far --around reaches.
        #[arg(long, default_value_t = 1, requires = "around",
            value_parser = clap::value_parser!(u32).range(0..=i64::from(export::MAX_DEPTH)))]
        depth: u32,
        /// Only records fetched from their own GitHub page, and the edges between them.
        #[arg(long)]
        complete: bool,
    },
    /// Import another service's database into this one.
    #[command(subcommand)]
    Import(ImportSource),
    /// Print a commented TOML file with every setting at its default.
    PrintDefaultConfig,
}

#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// The Django git-o-matic-9k's PostgreSQL database: records keep their ids, API users
    /// their passwords. Safe to run again; a killed import goes on where it stopped.
    Django {
        /// postgres://USER:PASSWORD@HOST:PORT/DB of the Django service.
        database_url: String,
        /// Rows written per transaction.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=1000))]
        batch_size: u32,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::PrintDefaultConfig = cli.command {
        print!("{}", Config::default_toml());
        return Ok(());
    }
    let mut config = Config::load(cli.config.as_deref(), |name| std::env::var(name).ok())?;
    telemetry::init(config.log_format);
    match cli.command {
        Command::Serve {
            bind,
            workers,
            no_scheduler,
        } => {
            if let Some(bind) = bind {
                config.bind = bind;
            }
            if let Some(workers) = workers {
                config.workers = workers;
            }
            if no_scheduler {
                config.discovery_schedule.clear();
                config.heartbeat_schedule.clear();
            }
            App::build(config)
                .await?
                .run_until_stopped(app::shutdown_signal())
                .await
        }
        Command::Worker => {
            let db = app::connect_and_migrate(&config).await?;
            let metrics_listener = app::bind_metrics(&config).await?;
            let syncer = app::syncer(&db, &config)?;
            let workers = config.workers.max(1);
            let background = Background::start(&db, syncer, &config, workers).await?;
            let metrics = app::serve_metrics(
                metrics_listener,
                MetricsState {
                    db: db.clone(),
                    pools: Arc::new([("work", db.clone())]),
                },
                &config,
            );
            tracing::info!(workers, "worker process running");
            app::shutdown_signal().await;
            metrics.cancel();
            background.stop().await;
            db.close().await;
            Ok(())
        }
        Command::Sync(target) => sync_in_foreground(&config, target).await,
        Command::Migrate => {
            app::connect_and_migrate(&config).await?.close().await;
            Ok(())
        }
        Command::CreateUser {
            name,
            password_stdin,
        } => create_user(&config, &name, password_stdin).await,
        Command::Export {
            format,
            output,
            around,
            depth,
            complete,
        } => {
            let selection = Selection {
                around: around.map(|login| Around { login, depth }),
                complete_only: complete,
            };
            export_to_files(&config, format, &selection, output.as_deref()).await
        }
        Command::Import(ImportSource::Django {
            database_url,
            batch_size,
        }) => import_from_django(&config, &database_url, batch_size).await,
        Command::PrintDefaultConfig => unreachable!("handled before the configuration is read"),
    }
}

async fn sync_in_foreground(config: &Config, target: SyncTarget) -> anyhow::Result<()> {
    let task = match target {
        SyncTarget::User { login } => {
            if !jobs::valid_login(&login) {
                bail!("{login:?} is not a GitHub login");
            }
            Task::FullProfileSync { username: login }
        }
        SyncTarget::Repo { full_name } => {
            let Some((owner, name)) = full_name
                .split_once('/')
                .filter(|(o, n)| jobs::valid_login(o) && jobs::valid_repo_name(n))
            else {
                bail!("{full_name:?} is not OWNER/NAME of a GitHub repository");
            };
            Task::FullRepositorySync {
                username: owner.to_owned(),
                repo_name: name.to_owned(),
            }
        }
    };
    let db = app::connect_and_migrate(config).await?;
    let syncer = app::syncer(&db, config)?;
    let steps = Steps::new();
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let result = loop {
        let run = jobs::execute(
            &task,
            &db,
            &syncer,
            i64::from(config.discovery_batch),
            &steps,
        );
        tokio::pin!(run);
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
        let outcome = loop {
            tokio::select! {
                outcome = &mut run => break outcome,
                _ = tick.tick() => bar.set_message(progress_line(&steps, &syncer)),
            }
        };
        match outcome {
            Err(SyncError::Postpone { until }) => {
                bar.println(format!(
                    "GitHub's quota is spent: waiting until {until} to go on"
                ));
                let wait = (until - chrono::Utc::now()).to_std().unwrap_or_default();
                tokio::time::sleep(wait + std::time::Duration::from_secs(1)).await;
            }
            other => break other,
        }
    };
    bar.finish_with_message(progress_line(&steps, &syncer));
    db.close().await;
    result.map_err(Into::into)
}

fn progress_line(steps: &Steps, syncer: &Syncer) -> String {
    let quotas: Vec<String> = syncer
        .quotas_left()
        .into_iter()
        .map(|(resource, left)| format!("{resource} {left}"))
        .collect();
    let quota = if quotas.is_empty() {
        "unknown".to_owned()
    } else {
        quotas.join(", ")
    };
    format!(
        "{} pages · {} records · GitHub quota left: {quota}",
        steps.pages(),
        steps.records()
    )
}

async fn export_to_files(
    config: &Config,
    format: FileFormat,
    selection: &Selection,
    output: Option<&Path>,
) -> anyhow::Result<()> {
    let db = app::connect_and_migrate(config).await?;
    let started = Instant::now();
    let counts = export::write(&db, format, selection, output).await;
    db.close().await;
    let counts = counts?;
    let seconds = started.elapsed().as_secs_f64();
    // On standard error: standard output may be the export itself.
    eprintln!(
        "exported {} nodes and {} edges in {seconds:.1} s ({:.0} edges/s)",
        counts.nodes,
        counts.edges,
        counts.edges as f64 / seconds.max(0.001)
    );
    Ok(())
}

async fn import_from_django(config: &Config, source: &str, batch: u32) -> anyhow::Result<()> {
    // The source is checked first: a wrong one leaves our database untouched.
    let source = DjangoDatabase::open(source).await?;
    let db = app::connect_and_migrate(config).await?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} rows · {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let report = source.import_into(&db, batch, &bar).await;
    bar.finish_and_clear();
    db.close().await;
    println!("imported from the Django database: {}", report?);
    Ok(())
}

async fn create_user(config: &Config, name: &str, password_stdin: bool) -> anyhow::Result<()> {
    password::validate(name, "-")?;
    let secret = if password_stdin {
        read_password_from_stdin()?
    } else {
        prompt_password(name)?
    };
    password::validate(name, &secret)?;
    let db = app::connect_and_migrate(config).await?;
    let saved = db.save_user(name, &password::hash(&secret)).await?;
    db.close().await;
    match saved {
        Saved::Created => println!("created user {name}"),
        Saved::Updated => println!("updated the password of user {name}"),
    }
    Ok(())
}

fn read_password_from_stdin() -> anyhow::Result<String> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("cannot read the password from standard input")?;
    // `echo pw | …` adds a line ending that is not part of the password.
    let trimmed = input.strip_suffix('\n').unwrap_or(&input);
    Ok(trimmed.strip_suffix('\r').unwrap_or(trimmed).to_owned())
}

fn prompt_password(name: &str) -> anyhow::Result<String> {
    let no_terminal = "cannot prompt for a password without a terminal; use --password-stdin";
    let first =
        rpassword::prompt_password(format!("Password for {name}: ")).context(no_terminal)?;
    let second = rpassword::prompt_password("Repeat the password: ").context(no_terminal)?;
    if first != second {
        bail!("the passwords do not match; nothing was changed");
    }
    Ok(first)
}
