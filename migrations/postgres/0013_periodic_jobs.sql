-- Periodic work (fixity, garbage collection, the publication watcher, housekeeping)
-- is enqueued by every worker with a key naming the task and its period: the unique
-- index lets the first one in, so N processes do each round once.
ALTER TABLE jobs ADD COLUMN unique_key TEXT;
CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key);
-- The fixity audit works through the objects least recently checked first.
CREATE INDEX objects_fixity ON objects (fixity_at);
CREATE INDEX replicas_verified ON replicas (mirror, verified_at);
