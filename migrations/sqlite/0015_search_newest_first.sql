-- Search results come newest first. Words and author names are checked against each
-- entry's own words while walking the newest entries (`words`, `names`: the entry's
-- distinct words, each with a space either side), and through the full-text index
-- only when they are rare among recent datasets: no request grows with the archive.
ALTER TABLE search_entries ADD COLUMN words TEXT NOT NULL DEFAULT '';
ALTER TABLE search_entries ADD COLUMN names TEXT NOT NULL DEFAULT '';
-- Replaced by search_pdb and search_authors (0014).
ALTER TABLE search_entries DROP COLUMN pdb_ids;
ALTER TABLE search_entries DROP COLUMN authors;
-- Rebuilt at the next start from the published records (fill_search_index), with
-- words folded the new way (diacritics removed on both databases).
DELETE FROM search_text;
DELETE FROM search_authors;
DELETE FROM search_pdb;
DELETE FROM search_facets;
DELETE FROM search_entries;
