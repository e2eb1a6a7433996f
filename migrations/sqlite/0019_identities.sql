-- Sign-in through OpenID Connect providers: which provider account is whose.
CREATE TABLE user_identities (
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX user_identities_user ON user_identities (user_id);

-- A verified ORCID iD (from signing in with ORCID), not one typed into a form.
ALTER TABLE users ADD COLUMN orcid TEXT;

-- A sign-in between its two legs: single-use, expiring, bound to the browser that
-- started it (browser_hash), its secrets kept on the server.
CREATE TABLE oidc_logins (
    state_hash TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    browser_hash TEXT NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next TEXT NOT NULL,
    -- Set when a signed-in person links this provider to their account.
    link_user_id TEXT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- A provider account whose verified address matches an existing account: linked only
-- once the person proves that account (its password).
CREATE TABLE oidc_pending_links (
    token_hash TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
