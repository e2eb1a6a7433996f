-- Whether a person's address is known to reach them. Accounts made before this (by
-- operators and invitations) count as verified; open sign-ups made while the archive
-- sends mail start unverified until their link is followed.
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;
UPDATE users SET email_verified_at = created_at;

