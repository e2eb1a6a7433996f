//! Pure mappings between Arca's records and the metadata standards it speaks.

pub mod citation;
pub mod datacite;
pub mod dublin_core;
pub mod profile;
pub mod schema;
pub mod schema_org;
pub mod search;
pub mod signposting;
