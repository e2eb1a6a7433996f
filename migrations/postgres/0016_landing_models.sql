-- Landing pages read from one row each: everything a page shows, written when the
-- dataset's public face changes. `public_rev` counts those changes in the transactions
-- that make them; a row is used only while it was built from the current count, so a
-- release, withdrawal or new version shows on every server at once.
ALTER TABLE datasets ADD COLUMN public_rev BIGINT NOT NULL DEFAULT 0;
CREATE TABLE landing_models (
    dataset_id TEXT NOT NULL REFERENCES datasets(id),
    -- 0: the dataset's page (its latest release, or its held page); n: version n's.
    version_number BIGINT NOT NULL,
    rev BIGINT NOT NULL,
    model TEXT NOT NULL,
    -- The page as served, rendered from the model by the first request that needed it
    -- (HTML, Link header, 1 = gone + 2 = noindex), for the Arca version and public URL
    -- in page_key; cleared with every new model.
    page TEXT,
    page_link TEXT,
    page_flags BIGINT,
    page_key TEXT,
    PRIMARY KEY (dataset_id, version_number)
);
