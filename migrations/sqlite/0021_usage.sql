-- Usage under the COUNTER Code of Practice (R5.1.1 §10.4, research data): counts by
-- month in the facility's time zone, per version (version_id) and for the dataset as
-- a whole (version_id ''), split by access method (regular, machine). Requests are
-- also investigations, as COUNTER defines them.
CREATE TABLE usage_counts (
    dataset_id TEXT NOT NULL,
    version_id TEXT NOT NULL,
    month TEXT NOT NULL,
    access TEXT NOT NULL,
    total_investigations BIGINT NOT NULL DEFAULT 0,
    unique_investigations BIGINT NOT NULL DEFAULT 0,
    total_requests BIGINT NOT NULL DEFAULT 0,
    unique_requests BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (dataset_id, version_id, month, access)
);
-- The report and the curators' ranking read a month's rows, best first.
CREATE INDEX usage_counts_month ON usage_counts (month, access, version_id, unique_requests);
-- All-time figures as landing pages show them (both access methods), so a page reads
-- one row for its version and one for its dataset.
CREATE TABLE usage_totals (
    dataset_id TEXT NOT NULL,
    version_id TEXT NOT NULL,
    total_investigations BIGINT NOT NULL DEFAULT 0,
    unique_investigations BIGINT NOT NULL DEFAULT 0,
    total_requests BIGINT NOT NULL DEFAULT 0,
    unique_requests BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (dataset_id, version_id)
);
CREATE INDEX usage_totals_ranked ON usage_totals (version_id, unique_requests);
-- A month's figures by facility and beamline ('' when the record names none).
CREATE TABLE usage_facilities (
    month TEXT NOT NULL,
    facility TEXT NOT NULL,
    beamline TEXT NOT NULL,
    access TEXT NOT NULL,
    total_investigations BIGINT NOT NULL DEFAULT 0,
    unique_investigations BIGINT NOT NULL DEFAULT 0,
    total_requests BIGINT NOT NULL DEFAULT 0,
    unique_requests BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (month, facility, beamline, access)
);
-- Which user-sessions (one-hour slices, keyed by a salted hash) already counted for an
-- item: what makes a count unique across servers. Kept two hours.
CREATE TABLE usage_sessions (
    session_key TEXT NOT NULL,
    dataset_id TEXT NOT NULL,
    version_id TEXT NOT NULL,
    activity TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (session_key, dataset_id, version_id, activity)
);
CREATE INDEX usage_sessions_at ON usage_sessions (at);
-- The day's salt for session keys, shared by every server; deleted after two days, so
-- no stored key can be traced back to an address.
CREATE TABLE usage_salts (
    day TEXT PRIMARY KEY,
    salt TEXT NOT NULL
);
-- Dataset reports sent to DataCite: the report id they answered, to update it later.
CREATE TABLE usage_reports (
    month TEXT PRIMARY KEY,
    report_id TEXT,
    sent_at BIGINT
);
-- Which version a kept landing page shows, so its figures are read with it.
ALTER TABLE landing_models ADD COLUMN version_id TEXT;
-- Kept pages are rebuilt once (with the version they show) on their next view.
UPDATE datasets SET public_rev = public_rev + 1;
