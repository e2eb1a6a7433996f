-- The software catalogue kept by curators: a program and how its authors ask to be
-- cited (a CSL-JSON item: the reference paper, or the software itself).
CREATE TABLE software (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    aliases TEXT NOT NULL,
    homepage TEXT,
    citation TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
