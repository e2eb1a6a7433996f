//! A BagIt bag as a tar stream, through the import pipeline: the tar header scanner, the
//! tar reader, tag files and payload into memory, every BagIt check, the metadata the
//! bag carries (DataCite XML or bag-info.txt) and the deposit schema. Only the catalogue
//! and the object store are left out.
#![no_main]
use arca::model::bagit::PayloadFile;
use arca::model::{Algorithm, Checksum};
use arca::services::bag_reader::{self, PayloadSink};
use arca::services::ServiceResult;
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Payload bytes held in memory, with the checksums the import computes.
struct Memory;

impl PayloadSink for Memory {
    async fn take(&mut self, entry: &mut (impl AsyncRead + Unpin + Send)) -> ServiceResult<PayloadFile> {
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).await?;
        Ok(PayloadFile {
            size: bytes.len() as u64,
            checksums: Algorithm::ALL.iter().map(|a| Checksum::of(*a, &bytes)).collect(),
        })
    }
}

fuzz_target!(|data: &[u8]| {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        if let Ok(read) = bag_reader::read_bag(data, 1 << 20, &mut Memory).await {
            let _ = bag_reader::accept(read);
        }
    });
});
