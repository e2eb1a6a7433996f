//! Which capabilities follow a deposit's state, in the order they run inside the
//! transition's transaction. Adding a capability that follows deposits: write its
//! `follows` in its own module and add it to a list here.

use super::transitions::{React, Reactions};

/// A capability's `follows` as a [`React`]: `reaction!(dois)` runs
/// `services.dois().follows(tx, transition)`.
macro_rules! reaction {
    ($capability:ident) => {{
        fn react<'a>(
            s: &'a super::Services,
            tx: &'a mut crate::db::Tx,
            t: &'a mut super::transitions::Transition,
        ) -> std::pin::Pin<
            Box<dyn Future<Output = super::ServiceResult<super::transitions::Reacted>> + Send + 'a>,
        > {
            Box::pin(async move { s.$capability().follows(tx, t).await })
        }
        react as React
    }};
}

pub(super) static REACTIONS: Reactions = Reactions {
    before_event: &[
        // Leaving a batch, joining one, finishing its item.
        reaction!(releases),
        // Placing and ending holds.
        reaction!(holds),
        // The published record, OAI-PMH sets and the search index.
        reaction!(public),
    ],
    after_event: &[
        // The verification job on submission.
        reaction!(verify),
        // Reserving the DOI, moving it and the concept DOI with the dataset.
        reaction!(dois),
        // Copies to mirror sites by their policy.
        reaction!(mirrors),
        // The landing page's read model.
        reaction!(landing),
        // Telling the depositor (or the curators), on their page and by mail.
        reaction!(notices),
    ],
};
