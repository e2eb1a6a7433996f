//! The `arca` command line: one binary for the server, the worker, administration and
//! the upload client. Names here are a public contract for facility scripts.

pub mod accounts;
pub mod cite;
pub mod download;
pub mod mirrors;
pub mod upload;
pub mod usage;

use crate::config::{Config, Overrides};
use crate::model::checksum::{Algorithm, Hasher};
use crate::services::Services;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "arca",
    version,
    about = "Data publication and DOI-minting archive"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log lines as text, or as one JSON object each (for log collectors). Each line of
    /// a request carries its request id; `ARCA_LOG` sets the levels.
    #[arg(long, global = true, env = "ARCA_LOG_FORMAT", default_value = "text")]
    log_format: LogFormat,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Where the archive keeps its state; shared by every server-side command.
#[derive(Args, Clone)]
pub struct ArchiveArgs {
    /// Directory for the SQLite catalogue, staged uploads and local objects.
    #[arg(long, env = "ARCA_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// sqlite://… or postgres://… (default: SQLite in the data directory).
    #[arg(long, env = "ARCA_DATABASE_URL")]
    database_url: Option<String>,
    /// TOML settings file (storage, upload limits).
    #[arg(long, env = "ARCA_CONFIG")]
    config: Option<PathBuf>,
}

impl ArchiveArgs {
    pub(crate) fn load(&self, bind: Option<String>) -> anyhow::Result<Config> {
        Ok(Config::load(Overrides {
            data_dir: self.data_dir.clone(),
            bind,
            database_url: self.database_url.clone(),
            config: self.config.clone(),
        })?)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server with an in-process worker.
    Serve {
        #[command(flatten)]
        archive: ArchiveArgs,
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long, env = "ARCA_BIND")]
        bind: Option<String>,
        /// Serve HTTP only: jobs and periodic work are left to `arca worker` processes.
        #[arg(long)]
        no_worker: bool,
    },
    /// Run background jobs only (verification, DOIs, releases, transfers, fixity).
    Worker {
        #[command(flatten)]
        archive: ArchiveArgs,
    },
    /// Manage people.
    User {
        #[command(subcommand)]
        command: accounts::UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Upload a directory tree into a deposit: resumable, parallel, verified.
    Upload(upload::UploadArgs),
    /// Download a dataset: every file verified, resumable, from the nearest mirror.
    Download(download::DownloadArgs),
    /// References for a manuscript: the deposits' data citations and their software's.
    Cite(cite::CiteArgs),
    /// Usage statistics: COUNTER Dataset Reports.
    Usage {
        #[command(subcommand)]
        command: usage::UsageCommand,
    },
    /// Mail: check that the archive's mail server takes a message.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// DOIs: compare with DataCite and repair drift.
    Doi {
        #[command(subcommand)]
        command: DoiCommand,
    },
    /// Mirror sites for replication.
    Mirror {
        #[command(subcommand)]
        command: mirrors::MirrorCommand,
    },
    /// Transfers of datasets to mirrors: list, show, retry.
    Transfer {
        #[command(subcommand)]
        command: mirrors::TransferCommand,
    },
    /// Fixity audits of every stored copy: run now, or report.
    Fixity {
        #[command(subcommand)]
        command: mirrors::FixityCommand,
    },
    /// Copy a running embedded archive (SQLite catalogue and its objects) into DIR;
    /// a second run into the same DIR copies only what is new.
    Backup {
        #[command(flatten)]
        archive: ArchiveArgs,
        /// The backup directory (created if need be).
        #[arg(long)]
        to: PathBuf,
    },
    /// Make a new embedded archive from a backup, every object hashed on the way.
    Restore {
        /// A directory written by `arca backup`.
        #[arg(long)]
        from: PathBuf,
        /// The new archive's data directory (absent or empty).
        #[arg(long)]
        data_dir: PathBuf,
    },
    /// Check that the catalogue and the object store agree: every object present with
    /// its size; stored objects no catalogue row lists are reported. Exits 1 on a
    /// missing or wrong-sized object.
    Check {
        #[command(flatten)]
        archive: ArchiveArgs,
    },
    /// The settings: check them and print what the archive would run with.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// A local server speaking the DataCite REST API (for offline work and tests).
    DataciteSandbox {
        #[arg(long, default_value = "127.0.0.1:8090")]
        bind: String,
        #[arg(long, default_value = "ARCA.SANDBOX")]
        repository_id: String,
        #[arg(long, env = "ARCA_SANDBOX_PASSWORD", default_value = "sandbox")]
        password: String,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Read the settings (flags, ARCA_* variables, the TOML file, defaults), refuse
    /// unknown keys and values that cannot work, and print the effective settings as TOML
    /// with secrets masked.
    Check {
        #[command(flatten)]
        archive: ArchiveArgs,
        #[arg(long, env = "ARCA_BIND")]
        bind: Option<String>,
    },
}

#[derive(Subcommand)]
enum DoiCommand {
    /// Compare every DOI with DataCite and enqueue a repair for each that drifted.
    Reconcile {
        #[command(flatten)]
        archive: ArchiveArgs,
    },
}

#[derive(Subcommand)]
enum MailCommand {
    /// Send one message to ADDRESS now (not through the queue) and print what the mail
    /// server answered.
    Test {
        #[command(flatten)]
        archive: ArchiveArgs,
        #[arg(long)]
        to: String,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a person and print it (it is shown only once).
    Create {
        #[command(flatten)]
        archive: ArchiveArgs,
        #[arg(long)]
        email: String,
        /// Days until it expires (1 to 3650).
        #[arg(long, default_value_t = crate::services::users::DEFAULT_TOKEN_DAYS)]
        days: u32,
        /// A name to recognise it by (say, the beamline machine it lives on).
        #[arg(long)]
        name: Option<String>,
    },
    /// List a person's tokens: id, name, created, expires, revoked.
    List {
        #[command(flatten)]
        archive: ArchiveArgs,
        #[arg(long)]
        email: String,
    },
    /// Revoke a token by its id: it stops working at once.
    Revoke {
        #[command(flatten)]
        archive: ArchiveArgs,
        id: String,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ARCA_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().with_current_span(false).init(),
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve {
            archive,
            bind,
            no_worker,
        } => serve(archive.load(bind)?, !no_worker).await,
        Command::Worker { archive } => {
            let services = Services::open(archive.load(None)?).await?;
            crate::web::install_renderers(&services);
            tracing::info!("worker running");
            tokio::select! {
                _ = crate::worker::run(services) => {}
                _ = shutdown_signal() => {}
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::User { command } => accounts::run(command).await,
        Command::Mail {
            command: MailCommand::Test { archive, to },
        } => {
            let services = Services::open(archive.load(None)?).await?;
            match services.mail().test(&to).await? {
                Ok(reply) => {
                    println!("sent to {to}: the server answered {reply}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Token {
            command:
                TokenCommand::Create {
                    archive,
                    email,
                    days,
                    name,
                },
        } => {
            let services = Services::open(archive.load(None)?).await?;
            println!(
                "{}",
                services
                    .users()
                    .create_token(&email, days, name.as_deref())
                    .await?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Token {
            command: TokenCommand::List { archive, email },
        } => {
            use crate::model::date::utc_seconds;
            let services = Services::open(archive.load(None)?).await?;
            println!("id\tname\tcreated\texpires\trevoked");
            for t in services.users().tokens(&email).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.name.as_deref().unwrap_or("-"),
                    utc_seconds(t.created_at),
                    t.expires_at.map_or("never".into(), utc_seconds),
                    t.revoked_at.map_or("-".into(), utc_seconds),
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Token {
            command: TokenCommand::Revoke { archive, id },
        } => {
            let services = Services::open(archive.load(None)?).await?;
            services.users().revoke_token(&id).await?;
            println!("token {id} revoked");
            Ok(ExitCode::SUCCESS)
        }
        Command::Upload(args) => upload::run(args).await,
        Command::Download(args) => download::run(args).await,
        Command::Mirror { command } => mirrors::mirror(command).await,
        Command::Usage { command } => usage::run(command).await,
        Command::Transfer { command } => mirrors::transfer(command).await,
        Command::Fixity { command } => mirrors::fixity(command).await,
        Command::Cite(args) => cite::run(args).await,
        Command::Doi {
            command: DoiCommand::Reconcile { archive },
        } => {
            let services = Services::open(archive.load(None)?).await?;
            if services.datacite.is_none() {
                println!(
                    "DOIs are local to this archive ([doi] provider = \"local\"): nothing to reconcile"
                );
                return Ok(ExitCode::SUCCESS);
            }
            let drift = services.dois().reconcile().await?;
            for d in &drift {
                println!(
                    "{}: DataCite shows {}, the archive wants {}: repair queued",
                    d.doi,
                    d.remote.as_deref().unwrap_or("nothing"),
                    d.wanted
                );
            }
            println!(
                "{} out of step; the worker repairs them",
                crate::model::words::count(drift.len() as u64, "DOI", "DOIs")
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { archive, to } => {
            let services = Services::open(archive.load(None)?).await?;
            let r = services.backup().run(&to).await?;
            println!(
                "backed up {} objects ({} bytes) to {}: {} new linked, {} new copied, {} already there",
                r.objects,
                r.bytes,
                to.display(),
                r.linked,
                r.copied,
                r.kept
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { from, data_dir } => {
            let r = crate::services::backup::restore(&from, &data_dir)?;
            println!(
                "restored {} objects ({} bytes) and the catalogue into {}",
                r.objects,
                r.bytes,
                data_dir.display()
            );
            let config = Config::load(Overrides {
                data_dir: Some(data_dir),
                ..Default::default()
            })?;
            print_check(&Services::open(config).await?).await
        }
        Command::Check { archive } => {
            print_check(&Services::open(archive.load(None)?).await?).await
        }
        Command::Config {
            command: ConfigCommand::Check { archive, bind },
        } => {
            let config = archive.load(bind)?;
            print!("{}", config.masked_toml());
            eprintln!("settings are valid");
            Ok(ExitCode::SUCCESS)
        }
        Command::DataciteSandbox {
            bind,
            repository_id,
            password,
        } => {
            let listener = tokio::net::TcpListener::bind(&bind).await?;
            let app = crate::datacite::sandbox::Sandbox::new(&repository_id, &password).router();
            tracing::info!(
                "DataCite sandbox on http://{} (repository {repository_id})",
                listener.local_addr()?
            );
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown_signal())
                .await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Ask on the terminal; with no terminal (a script), the user gets no password and
/// signs in with tokens only.
fn prompt_password() -> anyhow::Result<Option<String>> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let p = rpassword::prompt_password("Password (empty for token-only access): ")?;
    Ok((!p.is_empty()).then_some(p))
}

/// `arca check`'s report; exit code 1 when an object is missing or has the wrong size.
async fn print_check(services: &Services) -> anyhow::Result<ExitCode> {
    let r = services.backup().check_store().await?;
    println!("{} objects ({} bytes) in the catalogue", r.objects, r.bytes);
    for sha in &r.missing {
        println!("missing\t{sha}");
    }
    for (sha, want, got) in &r.wrong_size {
        println!("wrong size\t{sha}\t{got} bytes stored, {want} in the catalogue");
    }
    for sha in &r.orphans {
        println!("not in the catalogue\t{sha}");
    }
    println!(
        "{} missing, {} of the wrong size, {} stored objects not in the catalogue{}",
        r.missing_count,
        r.wrong_size_count,
        r.orphan_count,
        if r.missing_count + r.wrong_size_count + r.orphan_count > 300 {
            " (the first 100 of each listed)"
        } else {
            ""
        }
    );
    Ok(if r.agrees() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn serve(config: Config, with_worker: bool) -> anyhow::Result<ExitCode> {
    let bind = config.bind.clone();
    if let Some(warning) = config.loopback_links_warning() {
        tracing::warn!("{warning}");
    }
    let header_timeout = std::time::Duration::from_secs(config.web.header_timeout_seconds);
    if config.mail.is_none() {
        tracing::info!("mail is off: set [mail] smtp_url and from to send notifications");
    }
    let services = Services::open(config).await?;
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    let worker = with_worker.then(|| tokio::spawn(crate::worker::run(services.clone())));
    // Usage counted here is written every [usage] flush_seconds, and once more after
    // the last request at shutdown.
    let (stop_flushing, stopped) = tokio::sync::oneshot::channel::<()>();
    let flusher = {
        let services = services.clone();
        tokio::spawn(async move {
            services
                .usage()
                .flush_until(async {
                    let _ = stopped.await;
                })
                .await;
        })
    };
    let app = crate::web::build_app(services);
    tracing::info!(
        worker = with_worker,
        "Arca listening on http://{}",
        listener.local_addr()?
    );
    crate::web::server::serve(listener, app, header_timeout, shutdown_signal()).await?;
    let _ = stop_flushing.send(());
    let _ = flusher.await;
    if let Some(w) = worker {
        w.abort();
    }
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// The SHA-256 of a local file (hex), read in 1 MiB blocks; `progress` hears of each.
/// What a path segment may hold unescaped in a URL.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A dataset path as the path part of a URL, each segment escaped.
pub(crate) fn url_path(path: &str) -> String {
    path.split('/')
        .map(|s| percent_encoding::utf8_percent_encode(s, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

pub(crate) fn sha256_of_file(
    path: &std::path::Path,
    mut progress: impl FnMut(u64),
) -> std::io::Result<String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = Hasher::new(Algorithm::Sha256);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        progress(n as u64);
    }
    Ok(h.finish().hex)
}
