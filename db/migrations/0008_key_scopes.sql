-- API keys get a scope, what they may do (read: GET; create: GET and POST; full: everything), and a coarse
-- last use, which the pool's workers record in memory and write at most once a minute per key.
ALTER TABLE api_keys
    ADD COLUMN scope text NOT NULL DEFAULT 'full' CHECK (scope IN ('read', 'create', 'full')),
    ADD COLUMN last_used_at timestamptz;
