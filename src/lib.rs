//! Arca: a data publication and DOI-minting archive. Layers, inner to outer:
//! `model` (pure), `db` and `storage` (adapters), `services` (one user-visible
//! operation each), and the edges `web`, `worker` and `cli`.

pub mod cli;
pub mod config;
pub mod datacite;
pub mod db;
pub mod extract;
pub mod lookups;
pub mod mail;
pub mod metadata;
pub mod model;
pub mod oai;
pub mod oidc;
pub mod services;
pub mod storage;
pub mod web;
pub mod worker;
