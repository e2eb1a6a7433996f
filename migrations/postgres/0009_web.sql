-- Browser sign-in. A session is a random token the browser keeps in a cookie; only its
-- SHA-256 is stored. Each session has its own CSRF token for forms and scripts.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Invitations curators send; the link carries a token stored only as its hash.
CREATE TABLE invitations (
    token_hash TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('author', 'curator')),
    invited_by TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

-- The search index: the latest public version of each dataset. Rewritten on release,
-- removed on withdrawal; filters are plain columns, the text is a tsvector.
CREATE TABLE search_entries (
    dataset_id TEXT PRIMARY KEY REFERENCES datasets(id),
    version_id TEXT NOT NULL REFERENCES dataset_versions(id),
    released_at BIGINT NOT NULL,
    year BIGINT,
    facility TEXT,
    beamline TEXT,
    -- ' 1abc 2xyz ': whole-id matches with LIKE '% 1abc %'.
    pdb_ids TEXT NOT NULL,
    -- Lower-cased author names, one per line, for substring matches.
    authors TEXT NOT NULL
);
CREATE INDEX search_entries_released ON search_entries (released_at, dataset_id);
CREATE INDEX search_entries_facility ON search_entries (facility, beamline);
CREATE INDEX search_entries_year ON search_entries (year);
CREATE TABLE search_text (
    dataset_id TEXT PRIMARY KEY REFERENCES search_entries(dataset_id) ON DELETE CASCADE,
    body TSVECTOR NOT NULL
);
CREATE INDEX search_text_body ON search_text USING GIN (body);
