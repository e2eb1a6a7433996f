//! The worker's one dispatch: each kind of job to the capability that does it. It sits
//! above every capability it calls, so the jobs themselves (`jobs.rs`) stay a plain
//! enum any capability can enqueue.

use super::jobs::{Job, JobError};

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
        }
    }
}
