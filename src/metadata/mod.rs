//! Pure mappings between Arca's records and the metadata standards it speaks.

pub mod datacite;
