-- Mirror sites, transfers to them, the copies they hold, and fixity checks.

CREATE TABLE mirrors (
    name TEXT PRIMARY KEY,
    endpoint TEXT NOT NULL,
    region TEXT NOT NULL,
    bucket TEXT NOT NULL,
    prefix TEXT NOT NULL,
    -- Where the credentials are, never the credentials: {"env": [KEY_VAR, SECRET_VAR]}
    -- or {"file": PATH}.
    credentials TEXT NOT NULL,
    -- 'released': public data only; 'all': held data too (trusted sites).
    policy TEXT NOT NULL CHECK (policy IN ('released', 'all')),
    created_at BIGINT NOT NULL
);

-- One transfer per dataset version and mirror.
CREATE TABLE transfers (
    id TEXT PRIMARY KEY,
    version_id TEXT NOT NULL REFERENCES dataset_versions(id),
    mirror TEXT NOT NULL REFERENCES mirrors(name),
    state TEXT NOT NULL CHECK (state IN ('queued', 'active', 'succeeded', 'failed')),
    files_total BIGINT NOT NULL,
    files_done BIGINT NOT NULL,
    bytes_total BIGINT NOT NULL,
    bytes_done BIGINT NOT NULL,
    faults BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
CREATE INDEX transfers_state ON transfers (state, id);
CREATE INDEX transfers_version ON transfers (version_id, mirror);

-- A multipart upload in progress to a mirror, and the parts it accepted: a transfer
-- resumed after a crash or an outage sends only the rest.
CREATE TABLE mirror_uploads (
    mirror TEXT NOT NULL REFERENCES mirrors(name),
    sha256 TEXT NOT NULL,
    upload_id TEXT NOT NULL,
    part_size BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (mirror, sha256)
);
CREATE TABLE mirror_parts (
    mirror TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    part_number BIGINT NOT NULL,
    content_id TEXT NOT NULL,
    PRIMARY KEY (mirror, sha256, part_number)
);

-- Copies on mirrors, and when each was last found intact.
CREATE TABLE replicas (
    mirror TEXT NOT NULL REFERENCES mirrors(name),
    sha256 TEXT NOT NULL,
    stored_at BIGINT NOT NULL,
    verified_at BIGINT NOT NULL,
    PRIMARY KEY (mirror, sha256)
);

-- Fixity: each check of a copy (location 'primary' or a mirror's name).
CREATE TABLE fixity_checks (
    id TEXT PRIMARY KEY,
    location TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'missing', 'corrupt', 'repaired', 'unrepairable')),
    detail TEXT,
    checked_at BIGINT NOT NULL
);
CREATE INDEX fixity_checks_time ON fixity_checks (checked_at);
CREATE INDEX fixity_checks_object ON fixity_checks (sha256, location);
ALTER TABLE objects ADD COLUMN fixity_at BIGINT;
