-- A large checksum manifest is written here in short transactions, then moved into
-- expected_checksums by one set-based statement: other writers are never held up for
-- the whole manifest, and nobody sees half of one. Rows a crash left behind are
-- removed by housekeeping.
CREATE TABLE manifest_staging (
    staging_id TEXT NOT NULL,
    version_id TEXT NOT NULL,
    path TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    digest TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (staging_id, path)
);
CREATE INDEX manifest_staging_age ON manifest_staging (created_at);
