//! DataCite: the REST API client Arca uses, and a sandbox server that speaks the same
//! protocol for offline work and tests.

pub mod client;
pub mod sandbox;

pub use client::{DataciteClient, DataciteError, RemoteDoi};
