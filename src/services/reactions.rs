//! Which capabilities follow a deposit's state, in the order they run inside the
//! transition's transaction. Adding a capability that follows deposits: write its
//! `follows` in its own module and add one line here.

use super::transitions::{React, Reacted, Reactions, Transition};
use super::{ServiceResult, Services};
use crate::db::Tx;
use std::pin::Pin;

type Reaction<'a> = Pin<Box<dyn Future<Output = ServiceResult<Reacted>> + Send + 'a>>;

pub(super) static REACTIONS: Reactions = Reactions {
    before_event: &[release_batches, holds, publication] as &[React],
    after_event: &[verification, dois, mirrors, landing_page],
};

/// Leaving a batch, joining one, finishing its item (`releases.rs`).
fn release_batches<'a>(s: &'a Services, tx: &'a mut Tx, t: &'a mut Transition) -> Reaction<'a> {
    Box::pin(async move { s.releases().follows(tx, t).await })
}

/// Placing and ending holds (`holds.rs`).
fn holds<'a>(s: &'a Services, tx: &'a mut Tx, t: &'a mut Transition) -> Reaction<'a> {
    Box::pin(async move { s.holds().follows(tx, t).await })
}

/// The published record, OAI-PMH sets and the search index (`public.rs`).
fn publication<'a>(s: &'a Services, tx: &'a mut Tx, t: &'a mut Transition) -> Reaction<'a> {
    Box::pin(async move { s.public().follows(tx, t).await })
}

/// The verification job on submission (`verify.rs`).
fn verification<'a>(s: &'a Services, tx: &'a mut Tx, t: &'a mut Transition) -> Reaction<'a> {
    Box::pin(async move { s.verify().follows(tx, t).await })
}

/// Reserving the DOI, moving it and the concept DOI with the dataset (`dois.rs`).
fn dois<'a>(s: &'a Services, tx: &'a mut Tx, t: &'a mut Transition) -> Reaction<'a> {
    Box::pin(async move { s.dois().follows(tx, t).await })
}

/// Copies to mirror sites by their policy (`mirrors.rs`).
fn mirrors<'a>(s: &'a Services, tx: &'a mut Tx, t: &'a mut Transition) -> Reaction<'a> {
    Box::pin(async move { s.mirrors().follows(tx, t).await })
}

/// The landing page's read model (`landing.rs`).
fn landing_page<'a>(s: &'a Services, tx: &'a mut Tx, t: &'a mut Transition) -> Reaction<'a> {
    Box::pin(async move { s.landing().follows(tx, t).await })
}
