//! The curators' replication console as one read model: the mirror sites, the latest
//! transfers, and the fixity checks of the last days.

use super::{Actor, ServiceResult, require_curator};
use crate::db::fixity::{FixityCount, FixityProblem};
use crate::db::mirrors::TransferRow;
use crate::storage::mirror::MirrorSpec;

#[derive(Debug, Clone)]
pub struct MirrorConsole {
    pub mirrors: Vec<MirrorSpec>,
    /// The latest transfers, newest first.
    pub transfers: Vec<TransferRow>,
    /// Fixity checks of the last `days`, by location and outcome.
    pub checks: Vec<FixityCount>,
    pub problems: Vec<FixityProblem>,
    pub days: i64,
}
super::capability!(mirror_console);

impl Service<'_> {
    pub async fn get(
        &self,
        actor: &Actor,
        transfers_shown: i64,
        days: i64,
    ) -> ServiceResult<MirrorConsole> {
        require_curator(actor, "see replication and fixity")?;
        let mirrors = self.mirrors().list().await?;
        let transfers = self.mirrors().transfers(None, "", transfers_shown).await?;
        let (checks, problems) = self.fixity().report(days).await?;
        Ok(MirrorConsole {
            mirrors,
            transfers,
            checks,
            problems,
            days,
        })
    }
}
