//! API and repository tests. They run against SQLite by default and against
//! PostgreSQL when ARCA_TEST_DATABASE_URL is a postgres:// URL (see README).

#[path = "../support/mod.rs"]
mod support;

mod access;
mod accounts;
mod bags;
mod citations;
mod common;
mod deposits;
mod dois;
mod extract;
mod fuzz_seeds;
mod gc;
mod hardening;
mod holds;
mod jobs;
mod lookups;
mod mail;
mod manifests;
mod many_servers;
mod metadata;
mod mirrors;
mod oai;
mod oidc;
mod openapi;
mod operations;
mod public;
mod releases;
mod reviewers;
mod s3;
mod search;
mod uploads;
mod usage;
mod verify;
mod versions;
mod web;
