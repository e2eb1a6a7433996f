//! One deposit as its author or a curator sees it through the API: the version, its file
//! totals, its DOI's registration and its open hold, read on one connection after one
//! visibility check, so no caller reads a deposit's parts without authorising first.

use super::deposits::load_visible;
use super::{Actor, ServiceResult, Services};
use crate::db::{self, dois::DoiRow, holds::HoldRow, versions::VersionRow};

#[derive(Debug, Clone)]
pub struct DepositView {
    pub version: VersionRow,
    pub file_count: i64,
    pub total_bytes: i64,
    /// The DOI's registration, once one is reserved.
    pub doi: Option<DoiRow>,
    /// The hold in force, while the deposit is on hold.
    pub hold: Option<HoldRow>,
}

impl Services {
    pub async fn deposit_view(&self, actor: &Actor, id: &str) -> ServiceResult<DepositView> {
        let mut conn = self.db.conn().await?;
        let version = load_visible(&mut conn, actor, id).await?;
        let (file_count, total_bytes) = db::files::totals(&mut conn, &version.id).await?;
        let doi = match &version.doi {
            Some(doi) => db::dois::get(&mut conn, doi).await?,
            None => None,
        };
        let hold = db::holds::open_for(&mut conn, &version.id).await?;
        Ok(DepositView {
            version,
            file_count,
            total_bytes,
            doi,
            hold,
        })
    }
}
