-- Many short domains on one instance (issue 12). A link belongs to a domain, and slugs are unique per
-- domain. A link with no domain (domain_id NULL) lives in the instance's one namespace while no domain
-- exists at all; the first domain added becomes the default and adopts those links (hop domains add).
CREATE TABLE domains (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name               text COLLATE "C" NOT NULL UNIQUE CHECK (name <> '' AND name = lower(name)),
    is_default         boolean NOT NULL DEFAULT false,
    root_redirect      text,
    not_found_redirect text,
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX domains_one_default ON domains (is_default) WHERE is_default;

ALTER TABLE links ADD COLUMN domain_id bigint REFERENCES domains (id);
-- Slugs are unique per domain; 0 stands for "no domain" so that the key is never NULL.
ALTER TABLE links DROP CONSTRAINT links_slug_key;
CREATE UNIQUE INDEX links_domain_slug ON links ((coalesce(domain_id, 0)), slug);

-- The cache key is "domain id:slug"; a link moving between domains is dropped under both keys.
CREATE OR REPLACE FUNCTION links_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM pg_notify('hop_links', coalesce(OLD.domain_id, 0) || ':' || OLD.slug);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND
                            (OLD.domain_id IS DISTINCT FROM NEW.domain_id OR OLD.slug <> NEW.slug)) THEN
        PERFORM pg_notify('hop_links', coalesce(NEW.domain_id, 0) || ':' || NEW.slug);
    END IF;
    RETURN NULL;
END;
$$;

-- Every worker keeps the (short) list of domains; any change tells them all to read it again.
CREATE FUNCTION domains_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hop_domains', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER domains_notify AFTER INSERT OR UPDATE OR DELETE ON domains
    FOR EACH STATEMENT EXECUTE FUNCTION domains_notify();
