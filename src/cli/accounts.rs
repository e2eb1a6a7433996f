//! `arca user`: people for operators, on the same services the web uses.

use super::{ArchiveArgs, prompt_password};
use crate::model::Role;
use crate::model::date::utc_seconds;
use crate::services::Services;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a person. The password comes from ARCA_PASSWORD, else a prompt.
    Add {
        #[command(flatten)]
        archive: ArchiveArgs,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// author, curator or admin.
        #[arg(long, default_value = "author")]
        role: Role,
    },
    /// List people by e-mail address: e-mail, name, role, password or not, created,
    /// disabled (at most 1000; continue with --after the last address shown).
    List {
        #[command(flatten)]
        archive: ArchiveArgs,
        /// Only people with this role.
        #[arg(long)]
        role: Option<Role>,
        /// Start after this e-mail address.
        #[arg(long, default_value = "")]
        after: String,
    },
    /// Show one person: role, password or not, created, disabled, live tokens.
    Show {
        #[command(flatten)]
        archive: ArchiveArgs,
        #[arg(long)]
        email: String,
    },
    /// Disable a person: their sessions end and their tokens are revoked at once, and
    /// they cannot sign in until enabled.
    Disable {
        #[command(flatten)]
        archive: ArchiveArgs,
        #[arg(long)]
        email: String,
    },
    /// Let a disabled person sign in again (with new tokens: revoked ones stay revoked).
    Enable {
        #[command(flatten)]
        archive: ArchiveArgs,
        #[arg(long)]
        email: String,
    },
    /// Change a person's role (author, curator or admin).
    SetRole {
        #[command(flatten)]
        archive: ArchiveArgs,
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: Role,
    },
}

pub async fn run(command: UserCommand) -> anyhow::Result<ExitCode> {
    match command {
        UserCommand::Add {
            archive,
            email,
            name,
            role,
        } => {
            let services = Services::open(archive.load(None)?).await?;
            let password = match std::env::var("ARCA_PASSWORD") {
                Ok(p) => Some(p),
                Err(_) => prompt_password()?,
            };
            let user = services
                .users()
                .add(&email, &name, role, password.as_deref())
                .await?;
            println!("added {} <{}> as {}", user.name, user.email, user.role);
        }
        UserCommand::List {
            archive,
            role,
            after,
        } => {
            let services = Services::open(archive.load(None)?).await?;
            println!("email\tname\trole\tpassword\tcreated\tdisabled");
            for a in services.accounts().list(role, &after).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    a.user.email,
                    a.user.name,
                    a.user.role,
                    if a.has_password { "yes" } else { "no" },
                    utc_seconds(a.created_at),
                    a.disabled_at.map_or("-".into(), utc_seconds),
                );
            }
        }
        UserCommand::Show { archive, email } => {
            let services = Services::open(archive.load(None)?).await?;
            let shown = services.accounts().show(&email).await?;
            let a = &shown.account;
            println!("email: {}", a.user.email);
            println!("name: {}", a.user.name);
            println!("role: {}", a.user.role);
            println!("password: {}", if a.has_password { "yes" } else { "no" });
            println!("created: {}", utc_seconds(a.created_at));
            println!(
                "disabled: {}",
                a.disabled_at.map_or("no".into(), utc_seconds)
            );
            println!("live tokens: {}", shown.live_tokens);
        }
        UserCommand::Disable { archive, email } => {
            let services = Services::open(archive.load(None)?).await?;
            let ended = services.accounts().disable(&email).await?;
            println!(
                "{email} disabled: {} ended, {} revoked",
                crate::model::words::count(ended.sessions, "session", "sessions"),
                crate::model::words::count(ended.tokens, "token", "tokens")
            );
        }
        UserCommand::Enable { archive, email } => {
            let services = Services::open(archive.load(None)?).await?;
            services.accounts().enable(&email).await?;
            println!("{email} enabled");
        }
        UserCommand::SetRole {
            archive,
            email,
            role,
        } => {
            let services = Services::open(archive.load(None)?).await?;
            services.accounts().set_role(&email, role).await?;
            println!("{email} is now {role}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
