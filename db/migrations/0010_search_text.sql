-- A q= search of 2 characters cannot be narrowed by a trigram index, so it reads every one of the owner's
-- links; building lower(slug, url, title) on each of those rows was most of its cost (97 ms at 100,000
-- links). The folded text is now stored once per link (about as many bytes again as slug, url and title),
-- and the trigram index is built on it. The expression must stay the one link_search (db/statements.c)
-- used before: a newline between the fields, which no q may hold, so that a match never spans two fields;
-- collation "C", so lower() folds A-Z only. Adding the column rewrites links under an exclusive lock: on a
-- large live instance, run the migration when a pause of a few seconds in uncached redirects is acceptable.
DROP INDEX IF EXISTS links_owner_search;
ALTER TABLE links ADD COLUMN search_text text COLLATE "C"
    GENERATED ALWAYS AS (lower(slug || E'\n' || url || E'\n' || coalesce(title, ''))) STORED;
CREATE INDEX links_owner_search ON links USING gin (owner_id, search_text gin_trgm_ops);
