//! The worker's one dispatch: each kind of job to the capability that does it. It sits
//! above every capability it calls, so the jobs themselves (`jobs.rs`) stay a plain
//! enum any capability can enqueue.

use super::ServiceResult;
use super::jobs::{Job, JobError};
use super::notices::{Notice, To};
use crate::model::NoticeKind;

super::capability!(dispatch);

impl Service<'_> {
    /// Run the job `id` (the worker's one dispatch).
    pub async fn run(&self, id: &str, job: &Job) -> Result<(), JobError> {
        match job {
            Job::Verify { version_id } => Ok(self.verify().run(version_id).await?),
            Job::DoiSync { doi } => Ok(self.dois().sync(doi).await?),
            Job::ReleaseBatch { batch_id } => Ok(self.releases().run_batch(batch_id).await?),
            Job::Transfer { transfer } => Ok(self.mirrors().run_transfer(transfer).await?),
            Job::MirrorRemove { version_id } => Ok(self
                .mirrors()
                .remove_from_public_mirrors(version_id)
                .await?),
            Job::Landing { dataset_id } => Ok(self.landing().refresh(dataset_id).await?),
            Job::Periodic(round) => Ok(self.periodic().run(id, round).await?),
            Job::Mail { mail_id } => self.mail().deliver(mail_id).await,
            Job::UsageReport { month } => self.usage_report().send(month).await,
            Job::Extract { sha256 } => Ok(self.extraction().run(sha256).await?),
        }
    }

    /// A job out of attempts: curators hear of those they must act on (the rest show
    /// in `arca jobs` and the metrics).
    pub async fn gave_up(&self, job: &Job, error: &str) -> ServiceResult<()> {
        let Job::Transfer { transfer } = job else {
            return Ok(());
        };
        let t = self.mirrors().transfer(transfer).await?;
        let notice = Notice {
            to: To::Curators,
            kind: NoticeKind::TransferFailed,
            deposit: Some(&t.version_id),
            message: format!(
                "the copy of deposit {} to the mirror '{}' failed for good ({error}): retry it \
                 from the mirrors page or with `arca transfer retry {}`",
                t.version_id, t.mirror, t.id
            ),
        };
        self.notices().notify_now(notice).await
    }
}
