-- What a notification is about, so pages and mail can say it and people can choose.
ALTER TABLE notifications ADD COLUMN kind TEXT NOT NULL DEFAULT 'notice';

-- Each person's watermark: the notifications with an id up to it have been read.
CREATE TABLE notification_reads (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    read_up_to TEXT NOT NULL
);

-- Which notifications a person also gets by mail: each at once, a daily digest, none.
ALTER TABLE users ADD COLUMN mail_notices TEXT NOT NULL DEFAULT 'all'
    CHECK (mail_notices IN ('all', 'digest', 'none'));

-- Up to which notification each digest reader has been mailed.
CREATE TABLE notification_digests (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    sent_up_to TEXT NOT NULL
);

-- Mail to send, composed when its event happened, in that event's transaction; a
-- job sends it and sets sent_at, so a mail server that is down delays mail but
-- loses none, and a sent message is not sent again.
CREATE TABLE mail_outbox (
    id TEXT PRIMARY KEY,
    to_address TEXT NOT NULL,
    to_name TEXT,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    server_reply TEXT
);

-- Links mailed to a person (a password reset, an address to confirm): single-use,
-- expiring, kept only as hashes; a new one for the same purpose voids the older.
CREATE TABLE mailed_links (
    token_hash TEXT PRIMARY KEY,
    purpose TEXT NOT NULL CHECK (purpose IN ('password_reset', 'address_check')),
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX mailed_links_user ON mailed_links (user_id, purpose);

-- When a reviewer link was first opened: the depositor hears of it once.
ALTER TABLE reviewer_links ADD COLUMN first_used_at BIGINT;
