//! The DataCite Metadata Schema 4.7: the whole model, its controlled lists as closed
//! types, DataCite JSON (the REST API's attributes) through serde, and DataCite XML
//! (kernel-4) both ways.

pub mod model;
pub mod vocab;
pub mod xml;

pub use model::Resource;
