-- Whether a person's address is known to reach them. Accounts made before this (by
-- operators and invitations) count as verified; open sign-ups made while the archive
-- sends mail start unverified until their link is followed.
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;
UPDATE users SET email_verified_at = created_at;

-- Links that confirm an address: single-use, expiring, kept only as hashes.
CREATE TABLE address_checks (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX address_checks_user ON address_checks (user_id);
