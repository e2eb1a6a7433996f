//! The author's console (and the deposit page curators act from): my deposits, the
//! deposit form, files and uploads, the DOI and citation, submit, and every action.

use super::deposit_form::{DepositForm, FieldErrors, field_of, licences};
use super::found::{FoundView, Offered, offers};
use super::{Chrome, page, plain, see_other};
use crate::db::versions::VersionRow;
use crate::model::{Action, DepositState, FileStatus};
use crate::services::deposits::ActionInput;
use crate::services::{Actor, ServiceError, Services};
use crate::web::error::{AppError, AppResult};
use crate::web::format::human_size;
use crate::web::session::{Browser, Form, SignedIn, checked_form};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A state in words, for people.
pub fn state_words(s: DepositState) -> &'static str {
    match s {
        DepositState::Draft => "Draft",
        DepositState::Submitted => "Submitted: files being verified",
        DepositState::Verified => "Verified: waiting for a curator",
        DepositState::Approved => "Approved",
        DepositState::OnHold => "On hold",
        DepositState::Scheduled => "Scheduled for release",
        DepositState::Released => "Released",
        DepositState::Withdrawn => "Withdrawn",
    }
}

/// The steps of a deposit's life, each "done", "current" or "todo": describe, upload,
/// reserve the DOI, submit, review, release. A step left out (a DOI not reserved) stays
/// "todo" while the deposit moves on: it can still be taken.
fn steps(
    state: DepositState,
    described: bool,
    has_files: bool,
    has_doi: bool,
) -> Vec<(&'static str, &'static str)> {
    use DepositState as S;
    let submitted = state != S::Draft;
    let reviewed = matches!(state, S::Approved | S::OnHold | S::Scheduled | S::Released);
    let released = matches!(state, S::Released | S::Withdrawn);
    let done = [
        ("Describe", described || submitted),
        ("Upload the files", has_files || submitted),
        ("Reserve the DOI", has_doi),
        ("Submit", submitted),
        ("Review by a curator", reviewed || released),
        ("Release", released),
    ];
    // The current step: the first not done (the DOI aside once the deposit is submitted).
    let current = done
        .iter()
        .position(|(name, d)| !(*d || (submitted && *name == "Reserve the DOI")));
    done.iter()
        .enumerate()
        .map(|(i, (name, d))| {
            let s = if *d {
                "done"
            } else if Some(i) == current {
                "current"
            } else {
                "todo"
            };
            (*name, s)
        })
        .collect()
}

/// The profile's funding in words: "Wellcome Trust (221234/Z/20/Z); ERC".
/// The grants as the DataCite record has them (the landing page says them the same
/// way); nothing while the description does not make a record yet.
fn funding_words(v: &crate::db::versions::VersionRow) -> String {
    crate::services::records::record_of(v)
        .map(|r| {
            r.funding_references
                .iter()
                .map(crate::metadata::datacite::model::FundingReference::in_words)
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}

/// What happens next, for the person looking: a curator reviewing someone else's deposit
/// is told what is theirs to do, an author what the archive and the curators do.
fn next_step(s: DepositState, has_files: bool, reviewing: bool) -> &'static str {
    match s {
        DepositState::Draft if reviewing => {
            "The author is still preparing this deposit; it comes to the queue once submitted."
        }
        DepositState::Submitted if reviewing => {
            "The archive is checking every file against its checksum; review it once it is verified."
        }
        DepositState::Verified if reviewing => {
            "Every file checked out. Review the description and the files, then approve the deposit or ask the author for changes."
        }
        DepositState::Approved if reviewing => {
            "Approved. Put it on hold until the article is out, schedule it into a release batch, or release it now."
        }
        DepositState::Draft if !has_files => {
            "Fill in the description and upload your files; then submit the deposit for review."
        }
        DepositState::Draft => {
            "When the description and files are complete, submit the deposit for review."
        }
        DepositState::Submitted => {
            "The archive is reading every file and checking it against its checksum. Nothing to do."
        }
        DepositState::Verified => {
            "Every file checked out. A curator will review the deposit and approve it or ask for changes."
        }
        DepositState::Approved => {
            "A curator approved the deposit. It will be put on hold until your article is out, or scheduled into a release."
        }
        DepositState::OnHold => {
            "The DOI leads to a page that says the data is on hold; the files stay private until release."
        }
        DepositState::Scheduled => {
            "The deposit goes public with its release batch; the DOI then leads to the public page."
        }
        DepositState::Released => "The dataset is public. Cite it with its DOI.",
        DepositState::Withdrawn => "The dataset was withdrawn; its DOI shows a tombstone.",
    }
}

pub struct Row {
    pub id: String,
    pub title: String,
    pub state: &'static str,
    pub doi: Option<String>,
    pub updated: String,
    pub dataset_id: String,
    pub released: bool,
    /// All-time views and downloads of a released version ("" otherwise).
    pub usage: String,
}

pub fn rows(page: &[VersionRow]) -> Vec<Row> {
    page.iter()
        .map(|v| Row {
            id: v.id.to_string(),
            title: v
                .metadata
                .pointer("/titles/0/title")
                .and_then(Value::as_str)
                .filter(|t| !t.trim().is_empty())
                .unwrap_or("(untitled)")
                .to_owned(),
            state: state_words(v.state),
            doi: v.doi.clone(),
            updated: crate::model::date::utc_minutes(v.updated_at),
            dataset_id: v.dataset_id.to_string(),
            released: v.state == DepositState::Released,
            usage: String::new(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "my.html")]
struct MyPage {
    chrome: Chrome,
    deposits: Vec<Row>,
    next: Option<String>,
    /// The person's tokens that still work.
    tokens: Vec<TokenLine>,
    /// Sign-in providers: name, what people call it, linked to this account.
    providers: Vec<(String, String, bool)>,
    /// The ORCID iD verified by signing in with ORCID.
    orcid: Option<String>,
    /// Mail is on and the person's address is not confirmed yet.
    unconfirmed: bool,
    /// For curators: how many deposits wait for review (submitted or verified).
    to_review: Option<i64>,
    email: String,
    token: Option<String>,
    server: String,
}

/// One API token as its owner sees it (never the secret).
struct TokenLine {
    id: String,
    name: String,
    created: String,
    expires: String,
}

#[derive(Deserialize, Default)]
pub struct MyQuery {
    #[serde(default)]
    before: String,
}

const MY_PAGE: i64 = 50;

async fn my_page(
    s: &Services,
    b: &Browser,
    actor: &Actor,
    before: &str,
    token: Option<String>,
) -> AppResult<Response> {
    // Curators see their own deposits here too; the queue is on /curate.
    let list = s
        .deposits()
        .own(actor, before, MY_PAGE)
        .await
        .map_err(AppError::page)?;
    let next = (list.len() as i64 == MY_PAGE)
        .then(|| list.last().map(|v| v.id.to_string()))
        .flatten();
    let released: Vec<String> = list
        .iter()
        .filter(|v| v.state == DepositState::Released)
        .map(|v| v.id.to_string())
        .collect();
    let figures = s
        .usage()
        .of_versions(&released)
        .await
        .map_err(AppError::page)?;
    let mut deposits = rows(&list);
    for d in &mut deposits {
        if d.released {
            let f = figures.get(&d.id).copied().unwrap_or_default();
            d.usage = format!(
                "{} · {}",
                crate::model::words::count(f.total_dataset_investigations as u64, "view", "views"),
                crate::model::words::count(
                    f.total_dataset_requests as u64,
                    "download",
                    "downloads"
                )
            );
        }
    }
    let tokens = s
        .users()
        .live_tokens(actor)
        .await
        .map_err(AppError::page)?
        .into_iter()
        .map(|t| TokenLine {
            id: t.id,
            name: t.name.unwrap_or_default(),
            created: crate::model::date::utc_day(t.created_at),
            expires: t
                .expires_at
                .map_or("never".into(), crate::model::date::utc_day),
        })
        .collect();
    let unconfirmed = s.config.mail.is_some()
        && !s
            .addresses()
            .confirmed(actor)
            .await
            .map_err(AppError::page)?;
    let (linked, orcid) = s.identities().linked(actor).await.map_err(AppError::page)?;
    let to_review = if actor.role.is_curator() {
        let waiting = s.deposits().waiting(actor).await.map_err(AppError::page)?;
        Some(
            waiting
                .iter()
                .filter(|w| matches!(w.state, DepositState::Submitted | DepositState::Verified))
                .map(|w| w.count)
                .sum(),
        )
    } else {
        None
    };
    let providers = s
        .identities()
        .providers()
        .into_iter()
        .map(|p| {
            let on = linked.contains(&p.name);
            (p.name, p.display_name, on)
        })
        .collect();
    page(
        b,
        &MyPage {
            chrome: Chrome::of(b),
            deposits,
            next,
            tokens,
            providers,
            orcid,
            unconfirmed,
            to_review,
            email: actor.email.clone(),
            token,
            server: s.config.public_base().to_owned(),
        },
    )
}

pub async fn mine(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    Query(q): Query<MyQuery>,
) -> AppResult<Response> {
    my_page(&s, &b, &actor, &q.before, None).await
}

/// Revoke one of the person's own tokens.
pub async fn revoke_token(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    axum::extract::Path(id): axum::extract::Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    checked_form(&b, &body)?;
    s.users()
        .revoke_own_token(&actor, &id)
        .await
        .map_err(AppError::page)?;
    Ok(super::see_other("/my#cli"))
}

/// A new API token for `arca upload`, shown once.
pub async fn token(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    body: Bytes,
) -> AppResult<Response> {
    checked_form(&b, &body)?;
    let token = s
        .users()
        .create_token(
            &actor.email,
            crate::services::users::DEFAULT_TOKEN_DAYS,
            Some("web"),
        )
        .await
        .map_err(AppError::page)?;
    my_page(&s, &b, &actor, "", Some(token)).await
}

#[derive(Template)]
#[template(path = "deposit_form.html")]
struct FormPage {
    chrome: Chrome,
    /// None for a new deposit.
    id: Option<String>,
    form: DepositForm,
    errors: FieldErrors,
    /// Shown above the form: why it came back.
    banner: Option<String>,
    licences: &'static [(&'static str, &'static str)],
    /// What the files say for each field, offered, never filled in.
    offers: BTreeMap<String, Vec<Offered>>,
    /// The operator's facility and beamlines, offered as choices ("" and none if unset).
    facility: String,
    beamlines: Vec<String>,
    /// The registries the form's script may suggest from ("orcid ror funders").
    lookups: String,
}

impl FormPage {
    fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }

    fn offered(&self, field: &str) -> Option<&Vec<Offered>> {
        self.offers.get(field)
    }

    fn invalid(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }

    /// The operator's list for a field (the facility, its beamlines), offered as the
    /// person types; anything else typed is accepted too.
    fn choices(&self, field: &str) -> Vec<String> {
        match field {
            "facility" if !self.facility.is_empty() => vec![self.facility.clone()],
            "beamline" => self.beamlines.clone(),
            _ => Vec::new(),
        }
    }

    fn choice_hint(&self, field: &str) -> &'static str {
        if self.choices(field).is_empty() {
            ""
        } else {
            "Choose from the list, or type another."
        }
    }
}

fn form_page(
    s: &Services,
    b: &Browser,
    id: Option<String>,
    form: DepositForm,
    errors: FieldErrors,
    banner: Option<String>,
    offers: BTreeMap<String, Vec<Offered>>,
) -> AppResult<Response> {
    let failed = !errors.is_empty();
    let mut resp = page(
        b,
        &FormPage {
            chrome: Chrome::of(b),
            id,
            form,
            errors,
            banner,
            licences: licences(),
            offers,
            facility: s.config.facility.name.clone(),
            beamlines: s
                .config
                .facility
                .beamlines
                .iter()
                .map(|b| b.name.clone())
                .collect(),
            lookups: crate::lookups::Registry::ALL
                .iter()
                .filter(|r| s.lookups().offered(**r))
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        },
    )?;
    if failed {
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}

/// Service problems as the form shows them, each next to its field.
fn field_errors(fields: Vec<crate::model::metadata::FieldError>) -> FieldErrors {
    let mut out = FieldErrors::new();
    for f in fields {
        out.entry(field_of(&f.pointer))
            .or_insert_with(|| plain(&f.detail));
    }
    out
}

pub async fn new_form(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
) -> AppResult<Response> {
    // The first author is the depositor, with the ORCID iD ORCID itself vouched for.
    let (_, orcid) = s
        .identities()
        .linked(&actor)
        .await
        .map_err(AppError::page)?;
    let form = DepositForm {
        contact_name: actor.name.clone(),
        contact_email: actor.email.clone(),
        authors: vec![super::deposit_form::AuthorRow {
            name: actor.name.clone(),
            orcid: orcid.unwrap_or_default(),
            ..Default::default()
        }],
        licence: "CC-BY-4.0".into(),
        ..Default::default()
    };
    form_page(
        &s,
        &b,
        None,
        form,
        FieldErrors::new(),
        None,
        BTreeMap::new(),
    )
}

fn this_year() -> i32 {
    crate::model::date::utc_day(crate::db::now_ms())[..4]
        .parse()
        .unwrap_or(1970)
}

/// Build the deposit from the form, or the form's own problems.
fn built(
    s: &Services,
    form: &DepositForm,
    old: Option<&VersionRow>,
) -> Result<(Value, Value), FieldErrors> {
    let empty = json!({});
    let (m, f) = old.map_or((&empty, &empty), |v| (&v.metadata, &v.facility));
    let publisher = &s.config.repository.name;
    match form.to_deposit(m, f, publisher, this_year()) {
        Ok(built) => Ok(built),
        // A number that is not one: said with every other problem the deposit has, so
        // one mistake does not hide the rest until the next save.
        Err(mut errors) => {
            let mut rest = form.clone();
            for field in errors.keys() {
                rest.clear(field);
            }
            if let Ok((m, f)) = rest.to_deposit(m, f, publisher, this_year())
                && let Err(fields) = crate::metadata::schema::check_deposit(&m, &f)
            {
                for (field, message) in field_errors(fields) {
                    errors.entry(field).or_insert(message);
                }
            }
            Err(errors)
        }
    }
}

fn saved_or_errors(e: ServiceError) -> Result<FieldErrors, AppError> {
    match e {
        ServiceError::InvalidMetadata(fields) => Ok(field_errors(fields)),
        ServiceError::Invalid { field, message } => {
            Ok(FieldErrors::from([(field, plain(&message))]))
        }
        other => Err(AppError::page(other)),
    }
}

pub async fn create(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    body: Bytes,
) -> AppResult<Response> {
    let raw = checked_form(&b, &body)?;
    let form = DepositForm::from_fields(&raw);
    let (m, f) = match built(&s, &form, None) {
        Ok(x) => x,
        Err(errors) => return form_page(&s, &b, None, form, errors, None, BTreeMap::new()),
    };
    match s.deposits().create(&actor, m, f).await {
        Ok(v) => Ok(see_other(&format!("/deposits/{}?done=saved", v.id))),
        Err(e) => {
            let errors = saved_or_errors(e)?;
            form_page(&s, &b, None, form, errors, None, BTreeMap::new())
        }
    }
}

pub async fn edit_form(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let e = s
        .deposit_view()
        .edit(&actor, &id)
        .await
        .map_err(AppError::page)?;
    let v = e.version;
    let form = DepositForm::from_deposit(&v.metadata, &v.facility);
    form_page(
        &s,
        &b,
        Some(id),
        form,
        FieldErrors::new(),
        None,
        offers(&e.found),
    )
}

pub async fn save(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let raw = checked_form(&b, &body)?;
    let form = DepositForm::from_fields(&raw);
    let v = s
        .deposits()
        .get(&actor, &id)
        .await
        .map_err(AppError::page)?;
    let (m, f) = match built(&s, &form, Some(&v)) {
        Ok(x) => x,
        Err(errors) => return form_page(&s, &b, Some(id), form, errors, None, BTreeMap::new()),
    };
    match s.deposits().update(&actor, &id, Some(m), Some(f)).await {
        Ok(_) => Ok(see_other(&format!("/deposits/{id}?done=saved"))),
        Err(e) => {
            let errors = saved_or_errors(e)?;
            form_page(&s, &b, Some(id), form, errors, None, BTreeMap::new())
        }
    }
}

pub struct FileView {
    pub path: String,
    /// Where its depositors and curators open it (the API, with their session).
    pub url: String,
    pub size: String,
    pub sha256: String,
    pub status: FileStatus,
    pub problem: Option<String>,
}

pub struct UploadView {
    pub path: String,
    pub url: String,
    pub received: String,
    pub length: i64,
    pub offset: i64,
}

pub struct EventView {
    pub when: String,
    /// Who acted: a person's name, or the archive itself.
    pub who: String,
    pub what: String,
    pub reason: Option<String>,
}

#[derive(Template)]
#[template(path = "deposit.html")]
struct DepositPage {
    chrome: Chrome,
    id: String,
    dataset_id: String,
    title: String,
    state: &'static str,
    state_slug: &'static str,
    next_step: &'static str,
    doi: Option<String>,
    doi_note: Option<String>,
    /// Set while something is under way; the page's script reloads it when it changes.
    live: Option<String>,
    /// Copies to mirror sites.
    copies: Vec<super::progress::CopyLine>,
    hold: Option<String>,
    /// What ends the hold, and its limit.
    hold_note: Option<String>,
    /// What curators asked for (the latest request for changes or failed check).
    asked: Option<String>,
    done: Option<String>,
    error: Option<String>,
    summary: Vec<(&'static str, String)>,
    files: Vec<FileView>,
    file_count: i64,
    total_size: String,
    uploads: Vec<UploadView>,
    editable: bool,
    is_owner: bool,
    curator: bool,
    /// Actions this visitor may take now, by name.
    can: Vec<&'static str>,
    citation: String,
    availability: Option<String>,
    references: Vec<String>,
    events: Vec<EventView>,
    upload_command: String,
    batches: Vec<(String, String)>,
    released: bool,
    /// The DOI leads to a page saying the data is on hold.
    held_page: bool,
    /// What the files' headers and names say.
    found: FoundView,
    /// Where the deposit is: each step with "done", "current" or "todo".
    steps: Vec<(&'static str, &'static str)>,
    /// Reviewer links made for the deposit.
    reviewer_links: Vec<super::reviewer_links::LinkLine>,
    /// A link just made: its secret URL, shown this once.
    new_link: Option<String>,
}

impl DepositPage {
    fn may(&self, action: &str) -> bool {
        self.can.contains(&action)
    }

    /// Whether the Actions section has anything (reviewer links have their own).
    fn acts(&self) -> bool {
        self.can.iter().any(|c| *c != "share")
    }
}

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    #[serde(default)]
    done: String,
}

fn done_words(done: &str) -> Option<String> {
    Some(
        match done {
            "saved" => "Saved. You can come back and finish it later.",
            "submit" => {
                "Submitted. The archive is now verifying every file; you will see the result here."
            }
            "doi" => "The DOI is reserved: cite it in your manuscript now.",
            "manifest" => "Checksum manifest recorded: each file is checked against it.",
            "removed" => "File removed.",
            "link-revoked" => "Reviewer link revoked: it opens nothing any more.",
            "approve" => "Approved.",
            "request-changes" => "Sent back to the author with your message.",
            "hold" => "Put on hold.",
            "schedule" => "Scheduled into a release batch.",
            "unschedule" => "Taken out of its release batch.",
            "release" => "Released: the dataset is public.",
            "withdraw" => "Withdrawn: the landing page is now a tombstone.",
            "published" => {
                "Thank you: the curators will confirm the publication and release the data."
            }
            _ => return None,
        }
        .to_owned(),
    )
}

/// The deposit's page; `new_link` is a reviewer link's secret URL, shown this once.
pub(super) async fn deposit_page(
    s: &Services,
    b: &Browser,
    actor: &Actor,
    id: &str,
    done: Option<String>,
    error: Option<String>,
    new_link: Option<String>,
) -> AppResult<Response> {
    let p = s
        .deposit_view()
        .page(actor, id)
        .await
        .map_err(AppError::page)?;
    let d = p.deposit;
    let v = d.version;
    // "Submitted: now verifying" is stale once verification has ended.
    let verifying = done_words("submit");
    let done = done.filter(|m| v.state == DepositState::Submitted || Some(m) != verifying.as_ref());
    let asked = p
        .events
        .iter()
        .rev()
        .map(|h| &h.event)
        .find(|e| matches!(e.kind.as_str(), "request_changes" | "verification_failed"))
        .filter(|_| v.state == DepositState::Draft)
        .and_then(|e| e.reason.clone());
    let citation = crate::services::records::record_of(&v)
        .as_ref()
        .map(crate::metadata::citation::datacite_text)
        .unwrap_or_else(|_| "Complete the description to see the citation.".into());
    let described = p.kit.is_some();
    let (availability, references) = match p.kit {
        Some(k) => (
            Some(k.data_availability),
            k.references.into_iter().map(|r| r.text).collect(),
        ),
        None => (None, Vec::new()),
    };
    let f = DepositForm::from_deposit(&v.metadata, &v.facility);
    // What the form holds, and how the data were collected as the landing page says it.
    let profile = serde_json::from_value(v.facility.clone()).unwrap_or_default();
    let summary: Vec<(&'static str, String)> = [
        ("Title", f.title.clone()),
        ("Deposited by", p.depositor.clone()),
        (
            "Authors",
            f.authors
                .iter()
                .map(|a| {
                    // What a curator checks: each person's ORCID iD and affiliation.
                    let more: Vec<String> = [
                        (!a.orcid.is_empty()).then(|| format!("ORCID {}", a.orcid)),
                        (!a.affiliation.is_empty()).then(|| a.affiliation.clone()),
                    ]
                    .into_iter()
                    .flatten()
                    .collect();
                    if more.is_empty() {
                        a.name.clone()
                    } else {
                        format!("{} ({})", a.name, more.join(", "))
                    }
                })
                .collect::<Vec<_>>()
                .join("; "),
        ),
        ("Funding", funding_words(&v)),
        ("Description", f.description.clone()),
        (
            "Related article",
            if f.article_in_preparation {
                "in preparation".into()
            } else {
                f.article_doi.clone()
            },
        ),
        ("PDB entries", f.pdb_ids.clone()),
        ("Licence", f.licence.clone()),
        ("Keywords", f.keywords.clone()),
    ]
    .into_iter()
    .chain(crate::metadata::profile::in_words(&profile))
    .filter(|(_, x)| !x.is_empty())
    .collect();
    let base = s.config.public_base();
    let view = DepositPage {
        chrome: Chrome::of(b),
        id: v.id.to_string(),
        dataset_id: v.dataset_id.to_string(),
        title: if f.title.is_empty() {
            "(untitled deposit)".into()
        } else {
            f.title.clone()
        },
        state: state_words(v.state),
        state_slug: v.state.as_str(),
        next_step: next_step(
            v.state,
            d.file_count > 0,
            actor.role.is_curator() && !p.is_owner,
        ),
        doi: v.doi.clone(),
        doi_note: d.doi.as_ref().map(super::progress::doi_note),
        live: super::progress::live_key(v.state, d.doi.as_ref(), &p.transfers),
        copies: super::progress::copies(&p.transfers),
        hold_note: d
            .hold
            .as_ref()
            .map(|h| super::progress::hold_note(h, &s.config.holds)),
        hold: d
            .hold
            .map(|h| crate::model::hold::describe_hold(h.kind, &h.target)),
        asked,
        done,
        error,
        summary,
        files: p
            .files
            .into_iter()
            .map(|x| FileView {
                size: human_size(x.size),
                url: crate::web::format::url_under(
                    &format!("/api/v1/deposits/{}/files", v.id),
                    &x.path,
                ),
                path: x.path,
                sha256: x.sha256,
                status: x.status,
                problem: x.problem,
            })
            .collect(),
        file_count: d.file_count,
        total_size: human_size(d.total_bytes),
        uploads: p
            .uploads
            .into_iter()
            .map(|u| UploadView {
                url: format!("/api/v1/uploads/{}", u.id),
                received: format!("{} of {}", human_size(u.offset), human_size(u.length)),
                path: u.path,
                length: u.length,
                offset: u.offset,
            })
            .collect(),
        editable: v.state.files_editable(),
        is_owner: p.is_owner,
        curator: actor.role.is_curator(),
        can: p.offers.iter().map(|o| o.name()).collect(),
        steps: steps(v.state, described, d.file_count > 0, v.doi.is_some()),
        reviewer_links: super::reviewer_links::lines(
            &p.reviewer_links,
            &p.events,
            crate::db::now_ms(),
        ),
        new_link,
        citation,
        availability,
        references,
        events: p
            .events
            .iter()
            .map(|h| {
                let e = &h.event;
                EventView {
                    when: crate::model::date::utc_minutes(e.created_at),
                    who: match (&h.actor_name, &e.actor_id) {
                        (Some(name), _) => name.clone(),
                        (None, None) => "the archive".into(),
                        (None, Some(_)) => "a former account".into(),
                    },
                    what: match (&e.from_state, &e.to_state) {
                        (Some(a), Some(b)) => format!("{}: {a} → {b}", e.kind.replace('_', " ")),
                        (None, Some(b)) => format!("{}: {b}", e.kind.replace('_', " ")),
                        _ => e.kind.replace('_', " "),
                    },
                    reason: e.reason.clone(),
                }
            })
            .collect(),
        upload_command: format!(
            "arca upload --server {base} --token YOUR_TOKEN --deposit {} DIRECTORY",
            v.id
        ),
        batches: p
            .open_batches
            .into_iter()
            .map(|bt| (bt.id, crate::model::date::utc_seconds(bt.release_at)))
            .collect(),
        released: v.state == DepositState::Released,
        held_page: v.state == DepositState::OnHold && v.doi.is_some(),
        found: FoundView::of(&p.found, &format!("/api/v1/deposits/{}/previews", v.id)),
    };
    page(b, &view)
}

pub async fn show(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> AppResult<Response> {
    deposit_page(&s, &b, &actor, &id, done_words(&q.done), None, None).await
}

/// A refusal shown on the deposit page, with the status the API would give.
pub(super) async fn refused(
    s: &Services,
    b: &Browser,
    actor: &Actor,
    id: &str,
    e: ServiceError,
) -> AppResult<Response> {
    use ServiceError as E;
    let message = match &e {
        E::Invalid { message, .. } => plain(message),
        E::Conflict(_) | E::Transition(_) | E::Forbidden(_) => plain(&e.to_string()),
        // Anything else is not a refusal the page can explain: its own error page.
        _ => return Err(AppError::page(e)),
    };
    let status = AppError::from(e).status;
    let mut resp = deposit_page(s, b, actor, id, None, Some(message), None).await?;
    *resp.status_mut() = status;
    Ok(resp)
}

fn hold_of(form: &Form) -> Option<Value> {
    match form.get("hold_kind").as_str() {
        "date" => Some(json!({ "until": form.get("until") })),
        "article" => Some(json!({ "until_publication": { "doi": form.get("until_doi") } })),
        "pdb" => Some(json!({ "until_publication": { "pdb": form.get("until_pdb") } })),
        _ => None,
    }
}

pub async fn act(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let form = checked_form(&b, &body)?;
    let name = form.get("action");
    let result = match name.as_str() {
        "published" => s
            .holds()
            .claim(&actor, &id, &form.get("doi"))
            .await
            .map(|_| id.clone()),
        "new-version" => s.versions().create(&actor, &id).await.map(|v| v.id.into()),
        other => {
            let Some(action) = Action::requested(other) else {
                return Err(AppError::new(
                    StatusCode::BAD_REQUEST,
                    "bad-request",
                    format!("no action '{other}' on deposits"),
                )
                .as_html());
            };
            let input = ActionInput {
                reason: Some(form.get("reason")).filter(|r| !r.is_empty()),
                hold: hold_of(&form),
                release: Some(form.get("release")).filter(|r| !r.is_empty()),
            };
            s.deposits()
                .act(&actor, &id, action, input)
                .await
                .map(|_| id.clone())
        }
    };
    match result {
        Ok(target) if name == "new-version" => Ok(see_other(&format!("/deposits/{target}/edit"))),
        Ok(_) => Ok(see_other(&format!("/deposits/{id}?done={name}"))),
        // Incomplete metadata on submit: back to the form, each gap marked.
        Err(ServiceError::InvalidMetadata(fields)) => {
            let e = s
                .deposit_view()
                .edit(&actor, &id)
                .await
                .map_err(AppError::page)?;
            let form = DepositForm::from_deposit(&e.version.metadata, &e.version.facility);
            form_page(
                &s,
                &b,
                Some(id),
                form,
                field_errors(fields),
                Some("Before the deposit can be submitted, these fields need attention.".into()),
                offers(&e.found),
            )
        }
        Err(e) => refused(&s, &b, &actor, &id, e).await,
    }
}

/// After a form: on to the deposit page with a note, or the page with the refusal.
async fn then_show<T>(
    s: &Services,
    b: &Browser,
    actor: &Actor,
    id: &str,
    result: Result<T, ServiceError>,
    done: &str,
) -> AppResult<Response> {
    match result {
        Ok(_) => Ok(see_other(&format!("/deposits/{id}?done={done}"))),
        Err(e) => refused(s, b, actor, id, e).await,
    }
}

pub async fn reserve_doi(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    checked_form(&b, &body)?;
    let r = s.dois().reserve(&actor, &id).await;
    then_show(&s, &b, &actor, &id, r, "doi#cite").await
}

pub async fn manifest(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let form = checked_form(&b, &body)?;
    let format = crate::model::manifest::ManifestFormat::Auto;
    let r = s
        .manifest()
        .put(&actor, &id, &form.raw("manifest"), None, format)
        .await;
    then_show(&s, &b, &actor, &id, r, "manifest#files").await
}

pub async fn remove_file(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let form = checked_form(&b, &body)?;
    let r = s
        .deposits()
        .delete_file(&actor, &id, &form.raw("path"))
        .await;
    then_show(&s, &b, &actor, &id, r, "removed#files").await
}

#[cfg(test)]
mod step_tests {
    use super::*;

    fn current(s: &[(&str, &str)]) -> Vec<String> {
        s.iter().map(|(n, st)| format!("{n}:{st}")).collect()
    }

    #[test]
    fn the_current_step_is_the_first_not_taken() {
        let s = steps(DepositState::Draft, false, false, false);
        assert_eq!(s[0], ("Describe", "current"));
        assert!(
            s[1..].iter().all(|(_, st)| *st == "todo"),
            "{:?}",
            current(&s)
        );
        let s = steps(DepositState::Draft, true, true, false);
        assert_eq!(s[2], ("Reserve the DOI", "current"));
        let s = steps(DepositState::Verified, true, true, false);
        // Submitted without a DOI: the review is what happens now.
        assert_eq!(s[2], ("Reserve the DOI", "todo"));
        assert_eq!(s[4], ("Review by a curator", "current"));
        let s = steps(DepositState::Released, true, true, true);
        assert!(s.iter().all(|(_, st)| *st == "done"), "{:?}", current(&s));
    }
}
