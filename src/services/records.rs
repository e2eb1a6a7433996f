//! A deposit's DataCite record: its metadata with the facility profile applied and its
//! DOI, as DataCite holds (or will hold) it, the landing page shows it and the search
//! index reads it.

use super::{ServiceError, ServiceResult};
use crate::db::versions::VersionRow;
use crate::metadata::schema::check_deposit;

/// The record DataCite holds (or will hold) for a deposit: its metadata with the facility
/// profile applied and its DOI, if it has one.
pub fn record_of(v: &VersionRow) -> ServiceResult<crate::metadata::datacite::Resource> {
    Ok(record_and_profile(v)?.0)
}

/// The deposit's title as its citation gives it; empty when its metadata does not make
/// a record yet.
pub fn title_of(v: &VersionRow) -> String {
    record_of(v)
        .map(|r| crate::metadata::citation::title(&r))
        .unwrap_or_default()
}

/// The record, and the facility profile it was made from.
pub fn record_and_profile(
    v: &VersionRow,
) -> ServiceResult<(
    crate::metadata::datacite::Resource,
    crate::metadata::profile::Facility,
)> {
    let (_, facility, mut record) =
        check_deposit(&v.metadata, &v.facility).map_err(ServiceError::InvalidMetadata)?;
    record.doi = v.doi.as_ref().map(|d| d.to_uppercase());
    Ok((record, facility))
}
