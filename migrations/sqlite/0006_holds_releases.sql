-- Holds until publication, release batches, reviewer links and notifications.

-- A hold keeps an approved dataset private until a date or until its article or PDB
-- entry is out. At most one is open per version; `ended_at` closes it.
CREATE TABLE holds (
    id TEXT PRIMARY KEY,
    version_id TEXT NOT NULL REFERENCES dataset_versions(id),
    kind TEXT NOT NULL CHECK (kind IN ('date', 'article', 'pdb')),
    target TEXT NOT NULL,
    placed_by TEXT NOT NULL REFERENCES users(id),
    placed_at BIGINT NOT NULL,
    -- The longest the hold may last (configurable, default three years).
    lapses_at BIGINT NOT NULL,
    reminded_at BIGINT,
    -- "My paper is out": the article DOI the author gave, awaiting a curator.
    claimed_doi TEXT,
    -- When publication was detected (watcher), confirmed (curator) or the date came.
    published_at BIGINT,
    last_checked_at BIGINT,
    ended_at BIGINT
);
CREATE INDEX holds_version ON holds (version_id, ended_at);
CREATE INDEX holds_open ON holds (ended_at, last_checked_at);

-- A release batch: datasets made public together at one moment.
CREATE TABLE release_batches (
    id TEXT PRIMARY KEY,
    release_at BIGINT NOT NULL UNIQUE,
    cutoff_at BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'running', 'done')),
    created_by TEXT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX release_batches_state ON release_batches (state, release_at);

CREATE TABLE release_items (
    batch_id TEXT NOT NULL REFERENCES release_batches(id),
    version_id TEXT NOT NULL REFERENCES dataset_versions(id),
    state TEXT NOT NULL CHECK (state IN ('pending', 'released', 'failed')),
    error TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    added_at BIGINT NOT NULL,
    finished_at BIGINT,
    PRIMARY KEY (batch_id, version_id)
);
CREATE INDEX release_items_version ON release_items (version_id);

-- Secret links that let a journal's reviewers read one unreleased dataset.
CREATE TABLE reviewer_links (
    id TEXT PRIMARY KEY,
    version_id TEXT NOT NULL REFERENCES dataset_versions(id),
    token_hash TEXT NOT NULL UNIQUE,
    note TEXT,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX reviewer_links_version ON reviewer_links (version_id);

-- What people are told: to one person, or (user_id NULL) to every curator.
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    user_id TEXT REFERENCES users(id),
    version_id TEXT REFERENCES dataset_versions(id),
    message TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX notifications_user ON notifications (user_id, id);
