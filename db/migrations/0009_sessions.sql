-- Sessions of the web page: a person signs in with an API key once and gets a random session id in an
-- HttpOnly cookie. Only a SHA-256 of the id is stored. A session belongs to the key it was made from, so
-- revoking the owner's keys ends their sessions (the lookup joins the key and wants it unrevoked).
CREATE TABLE sessions (
    hash       bytea PRIMARY KEY,
    key_id     bigint NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    owner_id   bigint NOT NULL REFERENCES owners (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
-- Expired sessions are swept when a new one is made.
CREATE INDEX sessions_expires_at ON sessions (expires_at);
