-- hop's schema: owners and their API keys, links, and visit counts per link, UTC day and referrer host.

CREATE TABLE owners (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Only a SHA-256 of a key is stored; the key itself is shown once, when it is made.
CREATE TABLE api_keys (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id   bigint NOT NULL REFERENCES owners (id) ON DELETE CASCADE,
    hash       bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

CREATE TABLE links (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug       text COLLATE "C" NOT NULL UNIQUE,
    owner_id   bigint REFERENCES owners (id) ON DELETE CASCADE,
    url        text NOT NULL,
    redirect   smallint NOT NULL DEFAULT 302 CHECK (redirect IN (301, 302, 307, 308)),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    disabled   boolean NOT NULL DEFAULT false
);
-- Listing is newest first per owner, paged by id (a keyset that inserts cannot shift).
CREATE INDEX links_owner_id ON links (owner_id, id DESC);

-- Workers never write here: the pool's master adds batches of counts, so no redirect waits on a row lock.
CREATE TABLE visits (
    link_id bigint NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    day     date NOT NULL,
    host    text NOT NULL,
    n       bigint NOT NULL CHECK (n >= 0),
    PRIMARY KEY (link_id, day, host)
);

-- Every change to a link tells every worker on every host to drop its cached copy, in the same transaction.
CREATE FUNCTION links_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('hop_links', OLD.slug);
    ELSE
        PERFORM pg_notify('hop_links', NEW.slug);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER links_notify AFTER INSERT OR UPDATE OR DELETE ON links
    FOR EACH ROW EXECUTE FUNCTION links_notify();
