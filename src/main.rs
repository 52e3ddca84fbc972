//! The `latchkey` command: serve (default), migrate, create-admin.

use std::process::ExitCode;

use actix_web::web;
use clap::{Parser, Subcommand};
use latchkey::admin::{create_admin, set_disabled_by_email, AdminOutcome};
use latchkey::clock::Clock;
use latchkey::config::{Config, SettingsArgs};
use latchkey::domain::{Email, Password};
use latchkey::startup::{self, AppState};

#[derive(Parser)]
#[command(
    name = "latchkey",
    version,
    about = "Self-hosted sign-in with per-device sessions"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    settings: SettingsArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app and JSON API (the default)
    Serve,
    /// Apply pending database migrations and exit
    Migrate,
    /// Make an account an admin, creating it if needed. The password comes from
    /// LATCHKEY_ADMIN_PASSWORD when set, else from a prompt.
    CreateAdmin {
        #[arg(long)]
        email: String,
    },
    /// Disable an account and sign out all its sessions (on every instance within the
    /// revocation poll interval)
    DisableUser {
        #[arg(long)]
        email: String,
    },
    /// Let a disabled account sign in again
    EnableUser {
        #[arg(long)]
        email: String,
    },
}

/// glibc keeps freed memory of large allocations in per-thread arenas, so the 19 MiB argon2
/// buffers of many threads would pile up in RSS. Fixed mmap threshold: large buffers are mapped
/// and returned to the system on free; few arenas: less fragmentation across threads.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

fn main() -> ExitCode {
    tune_allocator();
    if let Err(e) = dotenvy::dotenv() {
        if !e.not_found() {
            eprintln!("latchkey: cannot read .env: {e}");
            return ExitCode::from(2);
        }
    }
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,actix_server=warn".into());
    match cli.settings.log_format.as_deref().map(str::trim) {
        None | Some("text") => tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(filter)
            .init(),
        Some("json") => tracing_subscriber::fmt()
            .json()
            .with_writer(std::io::stderr)
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .init(),
        Some(other) => {
            eprintln!(
                "latchkey: invalid setting LATCHKEY_LOG_FORMAT: {other:?} is not text or json"
            );
            return ExitCode::from(2);
        }
    }
    let config = match Config::from_args(&cli.settings) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("latchkey: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config),
        Command::Migrate => build(config).map(|_| println!("Migrations are up to date.")),
        Command::CreateAdmin { email } => make_admin(config, &email),
        Command::DisableUser { email } => set_disabled(config, &email, true),
        Command::EnableUser { email } => set_disabled(config, &email, false),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("latchkey: {message}");
            ExitCode::FAILURE
        }
    }
}

fn build(config: Config) -> Result<AppState, String> {
    AppState::build(config, Clock::system()).map_err(|e| e.to_string())
}

fn serve(config: Config) -> Result<(), String> {
    let database = config.database_url.describe();
    let state = web::Data::new(build(config)?);
    let addr = state.config.addr.clone();
    let listener =
        std::net::TcpListener::bind(&addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    actix_web::rt::System::new().block_on(async move {
        let server = startup::serve(state, listener).map_err(|e| e.to_string())?;
        println!("Latchkey is serving on http://{local}/ (database: {database})");
        server.await.map_err(|e| e.to_string())
    })
}

fn make_admin(config: Config, email: &str) -> Result<(), String> {
    let email = Email::parse(email)?;
    let min_length = config.password_min_length;
    let state = build(config)?;
    let outcome = create_admin(&state, &email, || {
        let password = match std::env::var("LATCHKEY_ADMIN_PASSWORD") {
            Ok(password) => password,
            Err(_) => {
                let first = rpassword::prompt_password(format!("Password for {email}: "))
                    .map_err(|e| format!("cannot read the password: {e}"))?;
                let again = rpassword::prompt_password("Repeat the password: ")
                    .map_err(|e| format!("cannot read the password: {e}"))?;
                if first != again {
                    return Err("the passwords do not match".into());
                }
                first
            }
        };
        Password::new_for_signup(password, min_length)
    })?;
    match outcome {
        AdminOutcome::Created => println!("Created admin account {email}."),
        AdminOutcome::Promoted => println!("{email} is now an admin."),
        AdminOutcome::AlreadyAdmin => println!("{email} was already an admin."),
    }
    Ok(())
}

fn set_disabled(config: Config, email: &str, disabled: bool) -> Result<(), String> {
    let email = Email::parse(email)?;
    let state = build(config)?;
    let ended = set_disabled_by_email(&state, &email, disabled)?;
    if disabled {
        println!("{email} is disabled; {ended} session(s) revoked.");
    } else {
        println!("{email} may sign in again.");
    }
    Ok(())
}
