-- Archive core. Times are Unix milliseconds, ids are text, JSON is text.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('author', 'curator', 'admin')),
    password_hash TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE datasets (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL
);

-- A deposit is one version of a dataset: its metadata and its files.
CREATE TABLE dataset_versions (
    id TEXT PRIMARY KEY,
    dataset_id TEXT NOT NULL REFERENCES datasets(id),
    version_number BIGINT NOT NULL,
    state TEXT NOT NULL,
    metadata TEXT NOT NULL,
    facility TEXT NOT NULL,
    doi TEXT UNIQUE,
    verification TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (dataset_id, version_number)
);
CREATE INDEX dataset_versions_state ON dataset_versions (state, updated_at);

-- Content-addressed stored objects: written once, shared by every file with those bytes.
CREATE TABLE objects (
    sha256 TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE files (
    id TEXT PRIMARY KEY,
    version_id TEXT NOT NULL REFERENCES dataset_versions(id),
    path TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES objects(sha256),
    status TEXT NOT NULL,
    problem TEXT,
    verified_at BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (version_id, path)
);
CREATE INDEX files_sha256 ON files (sha256);

-- Checksums the depositor supplied: with an upload ('upload') or in a manifest ('manifest').
CREATE TABLE expected_checksums (
    version_id TEXT NOT NULL REFERENCES dataset_versions(id),
    path TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    digest TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (version_id, path, algorithm, source)
);

-- tus uploads in progress; a finished upload becomes a row in files and leaves this table.
CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    version_id TEXT NOT NULL REFERENCES dataset_versions(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    path TEXT NOT NULL,
    length BIGINT NOT NULL,
    upload_offset BIGINT NOT NULL,
    hash_state BYTEA NOT NULL,
    metadata TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    UNIQUE (version_id, path)
);
CREATE INDEX uploads_expires ON uploads (expires_at);

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    subject_type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    actor_id TEXT,
    kind TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT,
    reason TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX events_subject ON events (subject_id, id);

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    attempts BIGINT NOT NULL,
    max_attempts BIGINT NOT NULL,
    run_at BIGINT NOT NULL,
    lease_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs (state, run_at);
