//! `arca usage report`: a month's COUNTER Dataset Report, written out and, with
//! `--send`, queued for DataCite.

use crate::config::Config;
use crate::model::usage::Month;
use crate::services::Services;
use crate::services::usage_report::Period;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum UsageCommand {
    /// Write MONTH's Dataset Report (JSON) to --out (default: standard output); with
    /// --send, also queue it for DataCite's usage reports API.
    Report {
        #[command(flatten)]
        archive: super::ArchiveArgs,
        /// The month, YYYY-MM (in [usage] time_zone).
        #[arg(long)]
        month: String,
        /// Where to write the report.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// Send it to DataCite from the job queue (needs [usage] report_to_datacite).
        #[arg(long)]
        send: bool,
    },
}

pub async fn run(command: UsageCommand) -> anyhow::Result<ExitCode> {
    let UsageCommand::Report {
        archive,
        month,
        out,
        send,
    } = command;
    let month = Month::parse(&month).map_err(|e| anyhow::anyhow!("--month: {e}"))?;
    let config: Config = archive.load(None)?;
    let services = Services::open(config).await?;
    // What this process counted is nothing; what servers counted is in the catalogue.
    let stream = services.usage_report().stream(Period::month(month));
    use futures::StreamExt;
    let mut stream = std::pin::pin!(stream);
    let mut sink: Box<dyn std::io::Write> = match &out {
        Some(p) => Box::new(std::io::BufWriter::new(std::fs::File::create(p)?)),
        None => Box::new(std::io::stdout().lock()),
    };
    while let Some(chunk) = stream.next().await {
        sink.write_all(&chunk?)?;
    }
    sink.write_all(b"\n")?;
    sink.flush()?;
    if let Some(p) = &out {
        eprintln!("wrote {month}'s Dataset Report to {}", p.display());
    }
    if send {
        services.usage_report().enqueue_send(month).await?;
        eprintln!("queued for DataCite; a worker sends it (see `arca jobs`)");
    }
    Ok(ExitCode::SUCCESS)
}
