-- Finding links (issue 11) with one owner's 100,000 links in mind: the indexes of 0002 served every owner at
-- once; these lead with owner_id (btree_gin, a trusted extension that ships with PostgreSQL), so a tag filter
-- or a search reads only the asking owner's entries. The search expression must stay exactly the one in
-- db/statements.c (link_search): a newline between the fields, which no q may hold, so that a match never
-- spans two fields. slug's collation is "C", so the expression's is too, and lower() folds A-Z only: a search
-- is case-insensitive for ASCII letters, whatever the database's locale.
CREATE EXTENSION IF NOT EXISTS btree_gin;
DROP INDEX IF EXISTS links_tags;
DROP INDEX IF EXISTS links_search;
CREATE INDEX links_owner_tags ON links USING gin (owner_id, tags);
CREATE INDEX links_owner_search ON links USING gin
    (owner_id, lower(slug || E'\n' || url || E'\n' || coalesce(title, '')) gin_trgm_ops);
