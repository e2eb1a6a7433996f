//! `arca cite`: the manuscript kit from the command line, the reference list for one or
//! more deposits (data and software) and a data-availability paragraph.

use anyhow::{Context, bail};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct CiteArgs {
    #[arg(long, env = "ARCA_SERVER")]
    server: String,
    #[arg(long, env = "ARCA_TOKEN", hide_env_values = true)]
    token: String,
    /// apa, chicago-author-date, harvard-cite-them-right, ieee, nature or vancouver.
    #[arg(long, default_value = "apa")]
    style: String,
    /// A locale such as en-GB or de-DE for the style's terms.
    #[arg(long)]
    locale: Option<String>,
    /// Print CSL-JSON (for reference managers) instead of formatted references.
    #[arg(long)]
    json: bool,
    /// The deposits to cite.
    #[arg(required = true)]
    deposits: Vec<String>,
}

pub async fn run(args: CiteArgs) -> anyhow::Result<ExitCode> {
    let mut query = vec![("deposits", args.deposits.join(",")), ("style", args.style)];
    if let Some(l) = args.locale {
        query.push(("locale", l));
    }
    let resp = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/manuscript-kit",
            args.server.trim_end_matches('/')
        ))
        .bearer_auth(&args.token)
        .query(&query)
        .send()
        .await
        .context("cannot reach the archive")?;
    let status = resp.status();
    let kit: serde_json::Value = resp
        .json()
        .await
        .context("the archive's answer is not JSON")?;
    if !status.is_success() {
        bail!("{status}: {}", kit["detail"].as_str().unwrap_or("refused"));
    }
    let refs = kit["references"].as_array().cloned().unwrap_or_default();
    if args.json {
        let items: Vec<&serde_json::Value> = refs.iter().map(|r| &r["csl"]).collect();
        println!("{}", serde_json::to_string_pretty(&items)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("References\n");
    for r in &refs {
        println!("{}\n", r["text"].as_str().unwrap_or_default());
    }
    println!(
        "Data availability\n\n{}",
        kit["data_availability"].as_str().unwrap_or_default()
    );
    if let Some(unmatched) = kit["unmatched_software"]
        .as_array()
        .filter(|u| !u.is_empty())
    {
        let names: Vec<&str> = unmatched.iter().filter_map(|n| n.as_str()).collect();
        eprintln!(
            "\nNot in the software catalogue yet (ask a curator, or cite by hand): {}",
            names.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
