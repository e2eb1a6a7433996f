//! Pictures of image files for people deciding what a dataset holds: drawn on first
//! request from the stored image, kept in the catalogue, and served from there after.
//! Depositors and curators see their deposits'; everyone sees those of released datasets.

use futures::TryStreamExt;

use super::{Actor, ServiceError, ServiceResult};
use crate::db::{self, files::FileRow, now_ms};
use crate::extract::{hdf5, preview};
use crate::model::{DataFormat, PreviewSize};

/// The largest CBF image drawn: it is read whole (a Pilatus 6M frame is 6–25 MB). An
/// HDF5 file is read by ranges, its first frame only ([`hdf5::FRAME_BYTES`] at most).
pub const MAX_SOURCE_BYTES: i64 = 128 << 20;

super::capability!(previews);

fn side(size: PreviewSize) -> usize {
    match size {
        PreviewSize::Small => 256,
        PreviewSize::Large => 1024,
    }
}

fn none(path: &str, why: impl std::fmt::Display) -> ServiceError {
    ServiceError::Invalid {
        field: "path".into(),
        message: format!("'{path}' has no preview: {why}"),
    }
}

impl Service<'_> {
    /// A picture of a deposit's file, for its depositors and curators.
    pub async fn of_deposit(
        &self,
        actor: &Actor,
        id: &str,
        path: &str,
        size: PreviewSize,
    ) -> ServiceResult<Vec<u8>> {
        let f = self.deposits().file(actor, id, path).await?;
        self.picture(&f, size).await
    }

    /// A picture of a released dataset's file (the latest version).
    pub async fn of_dataset(
        &self,
        dataset_id: &str,
        path: &str,
        size: PreviewSize,
    ) -> ServiceResult<Vec<u8>> {
        let f = self.public().file(dataset_id, None, path).await?;
        self.picture(&f, size).await
    }

    /// A picture of a file shown through a reviewer link.
    pub async fn of_review(
        &self,
        token: &str,
        path: &str,
        size: PreviewSize,
    ) -> ServiceResult<Vec<u8>> {
        let f = self.reviewers().file(token, path).await?;
        self.picture(&f, size).await
    }

    /// The picture kept, or drawn now and kept.
    async fn picture(&self, f: &FileRow, size: PreviewSize) -> ServiceResult<Vec<u8>> {
        let mut conn = self.db.conn().await?;
        if let Some(png) = db::extractions::preview(&mut conn, &f.sha256, size).await? {
            return Ok(png);
        }
        let format = db::extractions::format_of(&mut conn, &f.sha256).await?;
        drop(conn);
        let side = side(size);
        let png = match format {
            Some(DataFormat::Cbf) => {
                if f.size > MAX_SOURCE_BYTES {
                    return Err(none(
                        &f.path,
                        format!("CBF images larger than {MAX_SOURCE_BYTES} bytes are not drawn"),
                    ));
                }
                let bytes: Vec<bytes::Bytes> = self
                    .storage
                    .read(&f.sha256, None, 1 << 20)
                    .await?
                    .try_collect()
                    .await?;
                let whole = bytes.concat();
                tokio::task::spawn_blocking(move || {
                    preview::cbf_picture(&whole, side).and_then(|p| p.png())
                })
                .await
                .map_err(|e| ServiceError::Internal(format!("drawing a preview: {e}")))?
            }
            // Only the first frame's chunks are read, by ranges, whatever the file's size.
            Some(DataFormat::Hdf5) => {
                self.extraction()
                    .hdf5(&f.sha256, f.size as u64, move |s| {
                        hdf5::frame_picture(s, side).and_then(|p| p.png())
                    })
                    .await?
            }
            _ => {
                return Err(none(
                    &f.path,
                    "only CBF and HDF5 images are drawn (read after upload)",
                ));
            }
        }
        .map_err(|e| none(&f.path, e))?;
        let mut tx = self.db.begin_write().await?;
        db::extractions::keep_preview(&mut tx, &f.sha256, size, &png, now_ms()).await?;
        tx.commit().await?;
        Ok(png)
    }
}
