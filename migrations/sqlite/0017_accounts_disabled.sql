-- An operator can disable a person: their sessions and tokens end at once, and they
-- cannot sign in until enabled again. NULL: enabled.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
