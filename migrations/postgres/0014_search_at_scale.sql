-- Search at a million datasets: nothing a request does grows with the index.
-- Facet counts are kept by the transactions that release and withdraw datasets.
CREATE TABLE search_facets (
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (kind, value)
);
-- PDB ids one per row, author names as words: filters through indexes.
CREATE TABLE search_pdb (
    pdb_id TEXT NOT NULL,
    dataset_id TEXT NOT NULL,
    PRIMARY KEY (pdb_id, dataset_id)
);
CREATE TABLE search_authors (
    dataset_id TEXT PRIMARY KEY,
    names tsvector NOT NULL
);
CREATE INDEX search_authors_names ON search_authors USING GIN (names);
-- Newest-first listings under a filter walk an index.
CREATE INDEX search_entries_facility_newest ON search_entries (facility, released_at, dataset_id);
CREATE INDEX search_entries_beamline_newest ON search_entries (beamline, released_at, dataset_id);
CREATE INDEX search_entries_year_newest ON search_entries (year, released_at, dataset_id);
-- Rebuilt at the next start from the published records (fill_search_index), by the code
-- that keeps all of the above.
DELETE FROM search_text;
DELETE FROM search_entries;
