-- API tokens expire (a year unless asked otherwise) and carry a name their owner
-- recognises; tokens made before expiry existed get a year from their creation.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
ALTER TABLE api_tokens ADD COLUMN name TEXT;
UPDATE api_tokens SET expires_at = created_at + 31536000000 WHERE expires_at IS NULL;
CREATE INDEX api_tokens_user ON api_tokens (user_id, created_at);
