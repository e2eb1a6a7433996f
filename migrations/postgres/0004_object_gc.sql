-- Garbage collection (invariant 3): when an object was first seen unreferenced, and
-- whether a collector is deleting it (a claim by a new upload waits for that).
ALTER TABLE objects ADD COLUMN unreferenced_since BIGINT;
ALTER TABLE objects ADD COLUMN deleting BIGINT NOT NULL DEFAULT 0;
CREATE INDEX objects_unreferenced ON objects (unreferenced_since);
