-- Link options (issue 11): a password, a visit limit, query forwarding, app-store targets, tags, a title,
-- where a dead link sends people, and what finding links needs.
ALTER TABLE links
    ADD COLUMN password_hash text,                                   -- libsodium crypto_pwhash_str; NULL: none
    ADD COLUMN max_visits    bigint CHECK (max_visits >= 1),         -- NULL: unlimited
    ADD COLUMN forward_query boolean NOT NULL DEFAULT false,
    ADD COLUMN ios_url       text,
    ADD COLUMN android_url   text,
    ADD COLUMN tags          text[] COLLATE "C" NOT NULL DEFAULT '{}',
    ADD COLUMN title         text,
    ADD COLUMN expired_url   text;

-- Visits counted against max_visits, apart from links so that claiming one neither rewrites the link's row
-- nor tells every worker to drop the link from its cache. A claim is one upsert that locks this row, so
-- any number of workers on any number of hosts can never grant more than max_visits.
CREATE TABLE link_claims (
    link_id bigint PRIMARY KEY REFERENCES links (id) ON DELETE CASCADE,
    used    bigint NOT NULL CHECK (used >= 0)
);

-- Finding links: every tag given (GIN on the array), and a case-insensitive substring of slug, url and title
-- (trigrams; pg_trgm ships with PostgreSQL and is a trusted extension). "reuse" finds an owner's link by url.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX links_tags ON links USING gin (tags);
CREATE INDEX links_search ON links USING gin ((slug || ' ' || url || ' ' || coalesce(title, '')) gin_trgm_ops);
CREATE INDEX links_owner_url ON links (owner_id, md5(url));
