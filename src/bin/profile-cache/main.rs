//! The `profile-cache` command line (feature `cli`): sync SAP Concur travel profiles into
//! a local database and read them offline, queue loyalty updates, handle notifications,
//! and run the built-in sandbox (`demo`, `sandbox`).
//!
//! Exit codes: 0 success, 1 partial success (some profiles or updates failed), 2 usage,
//! 3 unauthorized, 4 network/offline, 5 storage, 6 invalid input, 130 interrupted
//! (Ctrl-C; run the command again to resume).

mod cli;
mod commands;
mod demo;
mod progress;

use clap::Parser;
use cli::{Cli, Command};
use std::process::ExitCode;

/// A failed command: the exit code and one line for stderr (no profile values, no tokens).
#[derive(Debug)]
pub struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Failure::new(2, message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Failure::new(6, message)
    }

    pub fn io(what: &str, e: std::io::Error) -> Self {
        Failure::new(6, format!("cannot {what}: {e}"))
    }
}

impl From<profile_cache::Error> for Failure {
    fn from(e: profile_cache::Error) -> Self {
        use profile_cache::Error as E;
        let (code, hint) = match &e {
            E::Unauthorized { .. } | E::TokenProvider(_) => (
                3,
                "check --token (PROFILE_CACHE_TOKEN) or the OAuth client id, secret and refresh token",
            ),
            E::Offline { .. } => (4, "check --base-url and the network, then try again"),
            E::RateLimited { .. } => (4, "wait a little, then try again"),
            E::Server { .. } => (4, "try again later; quote the correlation id to support"),
            E::Store(_) => (
                5,
                "check --db (PROFILE_CACHE_DB) names a profile-cache database this version can use",
            ),
            E::InvalidInput { .. } => (6, "fix the value and run the command again"),
            E::NotFound => (
                6,
                "check the login or id (`profile-cache search` finds travelers)",
            ),
            E::Cancelled => (130, "run the same command again to resume"),
            E::Xml(_) => (1, "the server sent a document the cache cannot read"),
        };
        Failure::new(code, format!("{e}; {hint}"))
    }
}

impl From<profile_cache::sandbox::SandboxError> for Failure {
    fn from(e: profile_cache::sandbox::SandboxError) -> Self {
        use profile_cache::sandbox::SandboxError as S;
        match e {
            S::Config(_) | S::FaultSyntax { .. } => Failure::usage(e.to_string()),
            S::Bind { .. } => Failure::new(4, format!("{e}; choose another --port")),
            _ => Failure::new(1, e.to_string()),
        }
    }
}

pub type Outcome = Result<(), Failure>;

/// Never a backtrace: a closed stdout (`| head`) ends the program quietly; any other
/// panic is one line (the message names no profile values).
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("unknown");
        if msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        eprintln!("error: internal error ({msg}); please report it");
        std::process::exit(1);
    }));
}

fn main() -> ExitCode {
    quiet_panics();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            return match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let _ = e.print();
                    ExitCode::SUCCESS
                }
                ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    let usage = <Cli as clap::CommandFactory>::command().render_usage();
                    eprintln!(
                        "error: a command is needed (try `profile-cache demo`)\n\n{usage}\n\nFor more information, try '--help'."
                    );
                    ExitCode::from(2)
                }
                _ => {
                    // One reason, then how to use the command.
                    let mut text = e.render().to_string();
                    if !text.contains("Usage:") {
                        let usage = <Cli as clap::CommandFactory>::command().render_usage();
                        let at = text.find("\nFor more information").unwrap_or(text.len());
                        text.insert_str(at, &format!("\n{usage}\n"));
                    }
                    eprint!("{text}");
                    ExitCode::from(2)
                }
            };
        }
    };
    if let Command::Completions { shell } = cli.command {
        let mut cmd = <Cli as clap::CommandFactory>::command();
        clap_complete::generate(shell, &mut cmd, "profile-cache", &mut std::io::stdout());
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(run(cli));
    // Sandbox and cache tasks end with the runtime; do not wait for slow connections.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

async fn run(cli: Cli) -> Outcome {
    let g = cli.global;
    match cli.command {
        Command::Demo { profiles } => demo::demo(&g, profiles).await,
        Command::Sandbox(args) => demo::sandbox(&g, args).await,
        Command::Sync(args) => commands::sync(&g, args).await,
        Command::Show { login, xml } => commands::show(&g, &login, xml),
        Command::Search { query, limit } => commands::search(&g, &query, limit),
        Command::List {
            status,
            modified_since,
        } => commands::list(&g, status, modified_since.as_deref()),
        Command::Export { format, out } => commands::export(&g, format, out.as_deref()),
        Command::Status => commands::status(&g),
        Command::Loyalty(cmd) => commands::loyalty(&g, cmd).await,
        Command::Subscribe(args) => commands::subscription(&g, args, true).await,
        Command::Unsubscribe(args) => commands::subscription(&g, args, false).await,
        Command::Postback {
            query,
            body,
            remote,
        } => commands::postback(&g, &query, body.as_deref(), remote).await,
        Command::Event { file, remote } => commands::event(&g, &file, remote).await,
        Command::Completions { .. } => Ok(()),
    }
}
