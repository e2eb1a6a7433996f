//! `arca mirror`, `arca transfer` and `arca fixity`: replication and fixity for
//! operators, on the same services the worker uses.

use super::ArchiveArgs;
use crate::db::mirrors::TransferRow;
use crate::model::date::utc_seconds;
use crate::services::Services;
use crate::storage::mirror::{Credentials, MirrorSpec, Readers};
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

// Parsed once per run: the size of the larger variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub enum MirrorCommand {
    /// Add a mirror site (an S3-compatible bucket). Credentials are given by reference:
    /// two environment variable names, or a file; they are never stored or shown.
    Add {
        #[command(flatten)]
        archive: ArchiveArgs,
        #[arg(long)]
        name: String,
        /// e.g. https://s3.example.org
        #[arg(long)]
        endpoint: String,
        #[arg(long, default_value = crate::storage::mirror::DEFAULT_REGION)]
        region: String,
        #[arg(long)]
        bucket: String,
        #[arg(long, default_value = "")]
        prefix: String,
        /// Environment variable holding the access key id.
        #[arg(long, requires = "secret_env", conflicts_with = "credentials_file")]
        key_env: Option<String>,
        /// Environment variable holding the secret access key.
        #[arg(long, requires = "key_env")]
        secret_env: Option<String>,
        /// TOML file with access_key_id and secret_access_key.
        #[arg(long)]
        credentials_file: Option<PathBuf>,
        /// released (public data only) or all (held data too: trusted sites).
        #[arg(long, default_value = "released")]
        policy: crate::model::MirrorPolicy,
        #[command(flatten)]
        readers: ReadersArgs,
    },
    /// Let readers fetch a mirror's copies (manifests and `arca download` list them), or
    /// stop them.
    Readers {
        #[command(flatten)]
        archive: ArchiveArgs,
        name: String,
        #[command(flatten)]
        readers: ReadersArgs,
        /// Readers are not given this mirror's copies.
        #[arg(long, conflicts_with_all = ["public_url", "presign"])]
        none: bool,
    },
    /// List mirrors (credentials shown only as where they come from).
    List {
        #[command(flatten)]
        archive: ArchiveArgs,
    },
}

/// How readers reach a mirror's copies; neither flag: they do not.
#[derive(clap::Args)]
pub struct ReadersArgs {
    /// The bucket is published here (e.g. https://mirror.example.org/arca); an object
    /// is at this URL followed by its key.
    #[arg(long, conflicts_with = "presign")]
    public_url: Option<String>,
    /// The archive signs short-lived GET URLs with the mirror's credentials.
    #[arg(long)]
    presign: bool,
}

impl ReadersArgs {
    fn readers(self) -> Readers {
        match (self.public_url, self.presign) {
            (Some(url), _) => Readers::Public(url),
            (None, true) => Readers::Presigned,
            (None, false) => Readers::None,
        }
    }
}

#[derive(Subcommand)]
pub enum TransferCommand {
    /// Transfers, newest first.
    List {
        #[command(flatten)]
        archive: ArchiveArgs,
        /// Only the transfers of this deposit (version).
        #[arg(long)]
        deposit: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// One transfer in full.
    Show {
        #[command(flatten)]
        archive: ArchiveArgs,
        id: String,
    },
    /// Queue a transfer again (the worker resumes it where the mirror stands).
    Retry {
        #[command(flatten)]
        archive: ArchiveArgs,
        id: String,
    },
}

#[derive(Subcommand)]
pub enum FixityCommand {
    /// Audit the primary store and every mirror now; repair what is damaged.
    Run {
        #[command(flatten)]
        archive: ArchiveArgs,
    },
    /// What the audits found in the last days.
    Report {
        #[command(flatten)]
        archive: ArchiveArgs,
        #[arg(long, default_value_t = 30)]
        days: i64,
    },
}

fn line(t: &TransferRow) -> String {
    format!(
        "{}  {:<9}  {:<12}  deposit {}  files {}/{}  bytes {}/{}  faults {}",
        t.id,
        t.state,
        t.mirror,
        t.version_id,
        t.files_done,
        t.files_total,
        t.bytes_done,
        t.bytes_total,
        t.faults
    )
}

pub async fn mirror(command: MirrorCommand) -> anyhow::Result<ExitCode> {
    match command {
        MirrorCommand::Add {
            archive,
            name,
            endpoint,
            region,
            bucket,
            prefix,
            key_env,
            secret_env,
            credentials_file,
            policy,
            readers,
        } => {
            let credentials = match (key_env, secret_env, credentials_file) {
                (Some(k), Some(s), None) => Credentials::Env(k, s),
                (None, None, Some(f)) => Credentials::File(f),
                _ => anyhow::bail!("give --key-env and --secret-env, or --credentials-file"),
            };
            let services = Services::open(archive.load(None)?).await?;
            services
                .mirrors()
                .add(
                    MirrorSpec {
                        name: name.clone(),
                        endpoint,
                        region,
                        bucket,
                        prefix,
                        credentials,
                        policy,
                        readers: readers.readers(),
                    },
                    crate::services::mirrors::AddedBy::Operator,
                )
                .await?;
            println!("mirror {name} added");
        }
        MirrorCommand::Readers {
            archive,
            name,
            readers,
            none,
        } => {
            let readers = readers.readers();
            if readers == Readers::None && !none {
                anyhow::bail!("give --public-url URL, --presign or --none");
            }
            let services = Services::open(archive.load(None)?).await?;
            services
                .mirrors()
                .set_readers(&name, readers.clone())
                .await?;
            println!("mirror {name}: readers {readers}");
        }
        MirrorCommand::List { archive } => {
            let services = Services::open(archive.load(None)?).await?;
            for m in services.mirrors().list().await? {
                println!(
                    "{}  {}  bucket {}  prefix '{}'  policy {}  readers {}  credentials from {}",
                    m.name, m.endpoint, m.bucket, m.prefix, m.policy, m.readers, m.credentials
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn transfer(command: TransferCommand) -> anyhow::Result<ExitCode> {
    match command {
        TransferCommand::List {
            archive,
            deposit,
            limit,
        } => {
            let services = Services::open(archive.load(None)?).await?;
            for t in services
                .mirrors()
                .transfers(deposit.as_deref(), "", limit)
                .await?
            {
                println!("{}", line(&t));
            }
        }
        TransferCommand::Show { archive, id } => {
            let services = Services::open(archive.load(None)?).await?;
            let t = services.mirrors().transfer(&id).await?;
            println!("{}", line(&t));
            println!("created   {}", utc_seconds(t.created_at));
            if let Some(s) = t.started_at {
                println!("started   {}", utc_seconds(s));
            }
            if let Some(f) = t.finished_at {
                println!("finished  {}", utc_seconds(f));
            }
            if let Some(e) = &t.last_error {
                println!("last error: {e}");
            }
        }
        TransferCommand::Retry { archive, id } => {
            let services = Services::open(archive.load(None)?).await?;
            let t = services.mirrors().retry_transfer(&id).await?;
            println!("{}", line(&t));
            println!("queued: a running `arca serve` or `arca worker` carries it on");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn fixity(command: FixityCommand) -> anyhow::Result<ExitCode> {
    match command {
        FixityCommand::Run { archive } => {
            let services = Services::open(archive.load(None)?).await?;
            let run = services.fixity().run().await?;
            println!("checked {} copies ({} bytes)", run.checked, run.bytes);
            for (location, sha, what, done) in &run.problems {
                println!("{location}: {sha} {what}: {done}");
            }
            if run.problems.is_empty() {
                println!("every copy verified");
                Ok(ExitCode::SUCCESS)
            } else {
                Ok(ExitCode::from(1))
            }
        }
        FixityCommand::Report { archive, days } => {
            let services = Services::open(archive.load(None)?).await?;
            let (summary, problems) = services.fixity().report(days).await?;
            println!("fixity checks in the last {days} days:");
            for c in summary {
                println!("  {:<12} {:<13} {}", c.location, c.outcome, c.count);
            }
            for p in problems {
                println!(
                    "{}  {}: {} {}{}",
                    utc_seconds(p.checked_at),
                    p.location,
                    p.sha256,
                    p.outcome,
                    p.detail.map(|d| format!(" ({d})")).unwrap_or_default()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
