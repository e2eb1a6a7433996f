-- DOIs: one row per DOI ever reserved. Rows are never deleted, so a DOI is never
-- handed to another dataset; `wanted_state` is what the archive wants DataCite to
-- show, `remote_state` what DataCite showed when last read back.
CREATE TABLE dois (
    doi TEXT PRIMARY KEY,
    version_id TEXT NOT NULL REFERENCES dataset_versions(id),
    provider TEXT NOT NULL CHECK (provider IN ('local', 'datacite')),
    wanted_state TEXT NOT NULL CHECK (wanted_state IN ('draft', 'registered', 'findable')),
    remote_state TEXT,
    synced_at BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX dois_version ON dois (version_id);
