use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;
use gitomatic::cli::{self, Cli};

/// glibc's allocator, as tuned for a long-running service: one arena (a thread per SQLite
/// connection otherwise gets its own, and each kept its peak), and fixed thresholds (past a
/// large block freed, the adaptive ones let freed memory stay in the heap).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MALLOC_TUNABLES: &str = "glibc.malloc.arena_max=1:glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=131072";

/// glibc reads its tunables only as a process starts: the process starts again, as itself,
/// with them set. Someone who set their own keeps theirs.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn with_malloc_tunables() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("GLIBC_TUNABLES").is_some() {
        return;
    }
    let Ok(me) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(me);
    if let Some(name) = args.next() {
        command.arg0(name);
    }
    // Returns only when the exec failed: then the process goes on untuned.
    let _ = command
        .args(args)
        .env("GLIBC_TUNABLES", MALLOC_TUNABLES)
        .exec();
}

fn main() -> ExitCode {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    with_malloc_tunables();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                err.exit();
            }
            // clap adds usage lines; a bad flag deserves one line that says what is wrong.
            // Its message may go on over a few lines (the arguments missing) before them.
            let text = err.to_string();
            let message: Vec<&str> = text
                .lines()
                .take_while(|line| !line.is_empty() && !line.starts_with("Usage:"))
                .map(str::trim)
                .collect();
            let message = message.join(" ");
            let reason = message.strip_prefix("error: ").unwrap_or(&message);
            eprintln!("gitomatic: {reason} (see 'gitomatic --help')");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("gitomatic: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let message = format!("{err:#}").replace('\n', " ");
            eprintln!("gitomatic: {message}");
            ExitCode::FAILURE
        }
    }
}
