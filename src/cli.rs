//! The `gitomatic` command line: what each subcommand does, given parsed arguments.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::app::{self, App};
use crate::auth::password;
use crate::config::Config;
use crate::db::users::Saved;
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
pub enum Command {
    /// Serve the /github/ API (applies pending migrations first).
    Serve {
        /// Listen on this address [default: 127.0.0.1:8000, or 0.0.0.0:$PORT when PORT is set].
        #[arg(long, value_name = "ADDR")]
        bind: Option<SocketAddr>,
    },
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
    /// Print a commented TOML file with every setting at its default.
    PrintDefaultConfig,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::PrintDefaultConfig = cli.command {
        print!("{}", Config::default_toml());
        return Ok(());
    }
    let mut config = Config::load(cli.config.as_deref(), |name| std::env::var(name).ok())?;
    telemetry::init(config.log_format);
    match cli.command {
        Command::Serve { bind } => {
            if let Some(bind) = bind {
                config.bind = bind;
            }
            App::build(config)
                .await?
                .run_until_stopped(app::shutdown_signal())
                .await
        }
        Command::Migrate => {
            app::connect_and_migrate(&config).await?.close().await;
            Ok(())
        }
        Command::CreateUser {
            name,
            password_stdin,
        } => create_user(&config, &name, password_stdin).await,
        Command::PrintDefaultConfig => unreachable!("handled before the configuration is read"),
    }
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
