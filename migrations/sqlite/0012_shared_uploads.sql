-- Uploads any server can continue. A PATCH holds a lease on its upload in the
-- catalogue, so two servers never write the same upload at once. On S3 an upload is
-- staged as a multipart upload: its parts (all `part_size` bytes) and the key of the
-- tail object holding the bytes after the last whole part are recorded here, beside
-- the offset and the hash state they belong to.
ALTER TABLE uploads ADD COLUMN lease_owner TEXT;
ALTER TABLE uploads ADD COLUMN lease_until BIGINT;
ALTER TABLE uploads ADD COLUMN staged_key TEXT;
ALTER TABLE uploads ADD COLUMN multipart_id TEXT;
ALTER TABLE uploads ADD COLUMN part_size BIGINT NOT NULL DEFAULT 0;
ALTER TABLE uploads ADD COLUMN tail_key TEXT;
CREATE TABLE upload_parts (
    upload_id TEXT NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
    part_number BIGINT NOT NULL,
    etag TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
