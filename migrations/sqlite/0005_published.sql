-- What the public and harvesters see: one row per released version, kept forever.
-- Withdrawal marks the row deleted (OAI-PMH "persistent" deletes) and moves its
-- datestamp, so incremental harvesters learn of it.
CREATE TABLE published (
    version_id TEXT PRIMARY KEY REFERENCES dataset_versions(id),
    dataset_id TEXT NOT NULL REFERENCES datasets(id),
    datestamp BIGINT NOT NULL,
    released_at BIGINT NOT NULL,
    deleted BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX published_datestamp ON published (datestamp, version_id);
CREATE INDEX published_released ON published (released_at, version_id);
CREATE INDEX published_dataset ON published (dataset_id, released_at);

-- OAI-PMH set membership, with the datestamp repeated so a harvest of one set pages
-- through one index.
CREATE TABLE published_sets (
    set_spec TEXT NOT NULL,
    datestamp BIGINT NOT NULL,
    version_id TEXT NOT NULL REFERENCES published(version_id),
    PRIMARY KEY (set_spec, datestamp, version_id)
);
CREATE INDEX published_sets_version ON published_sets (version_id);

CREATE TABLE oai_sets (
    spec TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
