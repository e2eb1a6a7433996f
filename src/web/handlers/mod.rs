//! One module per resource; each handler parses, calls one service, renders.

pub mod bags;
pub mod citation_styles;
pub mod datasets;
pub mod deposits;
pub mod doi;
pub mod extracted;
pub mod files;
pub mod health;
pub mod holds;
pub mod lookups;
pub mod manifests;
pub mod metrics;
pub mod mirrors;
pub mod oai;
pub mod previews;
pub mod releases;
pub mod review;
pub mod reviewers;
pub mod sitemap;
pub mod software;
pub mod uploads;
pub mod usage;
