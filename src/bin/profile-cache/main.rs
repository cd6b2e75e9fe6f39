//! The `profile-cache` command line (feature `cli`): sync SAP Concur travel profiles into
//! a local database and read them offline, queue loyalty updates, handle notifications,
//! and run the built-in sandbox (`demo`, `sandbox`).
//!
//! Exit codes: 0 success, 1 partial success (some profiles or updates failed), 2 usage,
//! 3 unauthorized, 4 network/offline, 5 storage, 6 invalid input, 70 internal error (a
//! bug: please report it), 130 interrupted (Ctrl-C; run the command again to resume).

mod cli;
mod commands;
mod demo;
mod interrupt;
mod progress;

use clap::Parser;
use cli::{Cli, Command, LoyaltyCommand};
use std::process::ExitCode;

/// A failed command: the exit code and one line for stderr (no profile values, no tokens).
#[derive(Debug)]
pub struct Failure {
    code: u8,
    message: String,
    /// Made from [`profile_cache::Error::Xml`]: a document could not be read. From the
    /// server that is a server problem (4); read back from the database, a storage one
    /// (see [`Failure::stored`]).
    unreadable: bool,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
            unreadable: false,
        }
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// Ctrl-C stopped the command (exit code 130); `stopped` says what became of its work.
    pub fn interrupted(stopped: &str) -> Self {
        Failure::new(130, format!("interrupted by Ctrl-C: {stopped}"))
    }

    /// For commands that only read the database: a document that cannot be read came
    /// from the database itself, a storage error (5).
    pub fn stored(self) -> Self {
        if self.unreadable {
            Failure::new(
                5,
                "a profile stored in the database cannot be read; `profile-cache sync --full` fetches every profile again",
            )
        } else {
            self
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
            E::Xml(_) => (
                4,
                "SAP Concur sent a document the cache cannot read; try again later, and report it if it persists",
            ),
        };
        let mut f = Failure::new(code, format!("{e}; {hint}"));
        f.unreadable = matches!(e, E::Xml(_));
        f
    }
}

impl From<profile_cache::sandbox::SandboxError> for Failure {
    fn from(e: profile_cache::sandbox::SandboxError) -> Self {
        use profile_cache::sandbox::SandboxError as S;
        match e {
            S::Config(_) | S::FaultSyntax { .. } => Failure::usage(e.to_string()),
            S::Bind { .. } => Failure::new(4, format!("{e}; choose another --port")),
            // Not expected from `Sandbox::start`: an internal error, like a panic.
            _ => Failure::new(INTERNAL, format!("internal error ({e}); please report it")),
        }
    }
}

pub type Outcome = Result<(), Failure>;

/// The exit code of a bug (sysexits' `EX_SOFTWARE`): not "partial success" (1).
const INTERNAL: u8 = 70;

/// Set once the command's result is decided: the runtime is being shut down.
static EXITING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Never a backtrace: a closed stdout (`| head`) ends the program quietly; any other
/// panic is one line (the message names no profile values). Once the result is decided,
/// a panic of work abandoned at shutdown (e.g. a token request still waiting on a timer
/// of the runtime being shut down) is not the command's and is ignored.
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        if EXITING.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("unknown");
        if msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("error: internal error ({msg}{at}); please report it");
        std::process::exit(INTERNAL.into());
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
    let result = runtime.block_on(async {
        interrupt::install();
        let command = run(cli);
        tokio::pin!(command);
        tokio::select! {
            r = &mut command => r,
            // Commands stop their long work themselves; this ends any other one.
            _ = async {
                interrupt::wait().await;
                tokio::time::sleep(interrupt::GRACE + std::time::Duration::from_secs(1)).await;
            } => Err(Failure::interrupted("stopped")),
        }
    });
    // Sandbox and cache tasks end with the runtime; do not wait for slow connections.
    EXITING.store(true, std::sync::atomic::Ordering::SeqCst);
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    let result = match result {
        // Interrupted: 130 whatever else happened (a failure may be the cancellation's).
        Err(f) if f.code != 130 && interrupt::pressed() => Err(Failure::interrupted(
            "stopped; run the same command again to finish",
        )),
        Ok(()) if interrupt::pressed() => {
            Err(Failure::interrupted("the command had finished its work"))
        }
        r => r,
    };
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
        Command::Demo {
            profiles,
            latency_ms,
        } => demo::demo(&g, profiles, latency_ms).await,
        Command::Sandbox(args) => demo::sandbox(&g, args).await,
        Command::Sync(args) => commands::sync(&g, args).await,
        // Commands that only read (or change) the database.
        Command::Show { login, xml } => commands::show(&g, &login, xml).map_err(Failure::stored),
        Command::Search { query, limit } => {
            commands::search(&g, &query, limit).map_err(Failure::stored)
        }
        Command::List {
            status,
            modified_since,
        } => commands::list(&g, status, modified_since.as_deref()).map_err(Failure::stored),
        Command::Export { format, out } => {
            commands::export(&g, format, out.as_deref()).map_err(Failure::stored)
        }
        Command::Status => commands::status(&g).map_err(Failure::stored),
        Command::Loyalty(cmd @ LoyaltyCommand::Flush { .. }) => commands::loyalty(&g, cmd).await,
        Command::Loyalty(cmd) => commands::loyalty(&g, cmd).await.map_err(Failure::stored),
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
