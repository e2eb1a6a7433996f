-- The concept DOI of a dataset with several versions: it always resolves to the latest
-- released version (its `dois` row points there).
ALTER TABLE datasets ADD COLUMN concept_doi TEXT;
