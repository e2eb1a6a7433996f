//! Replication and fixity in the curators' console: the mirrors (added here or with
//! `arca mirror add`; credentials only by reference, never shown), the transfers with
//! their progress and a retry, and the fixity checks of the last days.

use super::{Chrome, page, see_other};
use crate::db::fixity::FixityCount;
use crate::model::date::utc_minutes;
use crate::model::{FixityOutcome, MirrorPolicy, TransferState};
use crate::services::{Actor, ServiceError, Services, require_curator};
use crate::storage::mirror::{Credentials, MirrorSpec, Readers};
use crate::web::error::{AppError, AppResult};
use crate::web::format::human_size;
use crate::web::session::{Browser, SignedIn, checked_form};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

pub struct MirrorView {
    pub name: String,
    pub endpoint: String,
    pub bucket: String,
    pub policy: MirrorPolicy,
    pub credentials: String,
    /// How readers fetch its copies (manifests list them).
    pub readers: String,
}

pub struct TransferView {
    pub id: String,
    pub deposit: String,
    pub mirror: String,
    pub state: TransferState,
    pub files: String,
    pub bytes: String,
    pub percent: i64,
    pub faults: i64,
    pub last_error: Option<String>,
    pub when: String,
}

#[derive(Template)]
#[template(path = "mirrors.html")]
struct MirrorsPage {
    chrome: Chrome,
    mirrors: Vec<MirrorView>,
    transfers: Vec<TransferView>,
    /// Fixity checks of the last days.
    checks: Vec<FixityCount>,
    /// (location, object, outcome, detail, when)
    problems: Vec<(String, String, FixityOutcome, String, String)>,
    days: i64,
    error: Option<String>,
    /// The add form as typed, when it came back with an error.
    typed: Vec<(String, String)>,
}

impl MirrorsPage {
    fn typed(&self, field: &str) -> String {
        self.typed
            .iter()
            .find(|(k, _)| k == field)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

const TRANSFERS_SHOWN: i64 = 50;
const FIXITY_DAYS: i64 = 30;

async fn render(
    s: &Services,
    b: &Browser,
    actor: &Actor,
    error: Option<String>,
    typed: Vec<(String, String)>,
) -> AppResult<Response> {
    let console = s
        .mirror_console()
        .get(actor, TRANSFERS_SHOWN, FIXITY_DAYS)
        .await
        .map_err(AppError::page)?;
    let mirrors = console
        .mirrors
        .into_iter()
        .map(|m| MirrorView {
            credentials: m.credentials.to_string(),
            readers: m.readers.to_string(),
            name: m.name,
            endpoint: m.endpoint,
            bucket: if m.prefix.is_empty() {
                m.bucket
            } else {
                format!("{}/{}", m.bucket, m.prefix)
            },
            policy: m.policy,
        })
        .collect();
    let transfers = console
        .transfers
        .into_iter()
        .map(|t| TransferView {
            percent: (t.bytes_done * 100)
                .checked_div(t.bytes_total)
                .unwrap_or(100),
            files: format!("{} of {}", t.files_done, t.files_total),
            bytes: format!(
                "{} of {}",
                human_size(t.bytes_done),
                human_size(t.bytes_total)
            ),
            when: utc_minutes(t.finished_at.or(t.started_at).unwrap_or(t.created_at)),
            id: t.id,
            deposit: t.version_id,
            mirror: t.mirror,
            state: t.state,
            faults: t.faults,
            last_error: t.last_error,
        })
        .collect();
    let failed = error.is_some();
    let mut resp = page(
        b,
        &MirrorsPage {
            chrome: Chrome::of(b),
            mirrors,
            transfers,
            checks: console.checks,
            problems: console
                .problems
                .into_iter()
                .map(|p| {
                    (
                        p.location,
                        p.sha256,
                        p.outcome,
                        p.detail.unwrap_or_default(),
                        utc_minutes(p.checked_at),
                    )
                })
                .collect(),
            days: console.days,
            error,
            typed,
        },
    )?;
    if failed {
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}

pub async fn console(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
) -> AppResult<Response> {
    render(&s, &b, &actor, None, Vec::new()).await
}

pub async fn add(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    body: Bytes,
) -> AppResult<Response> {
    let form = checked_form(&b, &body)?;
    require_curator(&actor, "add mirrors").map_err(AppError::page)?;
    let credentials = match form.get("credentials").as_str() {
        "file" => Credentials::File(form.get("credentials_file").into()),
        _ => Credentials::Env(form.get("key_env"), form.get("secret_env")),
    };
    let added = match form.get("policy").parse::<MirrorPolicy>() {
        Ok(policy) => {
            let spec = MirrorSpec {
                name: form.get("name"),
                endpoint: form.get("endpoint"),
                region: Some(form.get("region"))
                    .filter(|r| !r.is_empty())
                    .unwrap_or_else(|| crate::storage::mirror::DEFAULT_REGION.into()),
                bucket: form.get("bucket"),
                prefix: form.get("prefix"),
                credentials,
                policy,
                readers: match form.get("readers").as_str() {
                    "public" => Readers::Public(form.get("public_url")),
                    "presigned" => Readers::Presigned,
                    _ => Readers::None,
                },
            };
            s.mirrors()
                .add(spec, crate::services::mirrors::AddedBy::Curator)
                .await
        }
        Err(_) => Err(ServiceError::invalid("policy", "'released' or 'all'")),
    };
    match added {
        Ok(()) => Ok(see_other("/curate/mirrors")),
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::Conflict(_))) => {
            let typed = form.0.into_iter().filter(|(k, _)| k != "csrf").collect();
            render(&s, &b, &actor, Some(super::plain(&e.to_string())), typed).await
        }
        Err(e) => Err(AppError::page(e)),
    }
}

pub async fn retry(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    checked_form(&b, &body)?;
    require_curator(&actor, "retry transfers").map_err(AppError::page)?;
    match s.mirrors().retry_transfer(&id).await {
        Ok(_) => Ok(see_other("/curate/mirrors")),
        Err(e @ ServiceError::Conflict(_)) => {
            render(
                &s,
                &b,
                &actor,
                Some(super::plain(&e.to_string())),
                Vec::new(),
            )
            .await
        }
        Err(e) => Err(AppError::page(e)),
    }
}
