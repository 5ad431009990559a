-- A q of 2 characters has no trigram, so links_owner_search cannot narrow it and every one of the owner's
-- links is read. Given the pattern, the planner expects a rare pair to match almost nothing and chooses a
-- sequential scan of the whole table and a sort: 55 ms at 100,000 links, against 31 ms for walking the
-- owner's links newest first and stopping at the page's end (make bench-search, same data). A prepared
-- statement cannot carry planner settings, so this walk is a function that carries them; it returns the
-- page's ids, and link_search_short (db/statements.c) reads their rows. The body names its parameters
-- by number: a parameter named like a column (tags) would mean the column.
CREATE FUNCTION link_search_short(owner bigint, before bigint, pattern text, tags text[], lim bigint)
    RETURNS SETOF bigint
    LANGUAGE sql STABLE
    SET enable_seqscan = off
    SET enable_bitmapscan = off
AS $$
    SELECT k.id FROM links k
    WHERE k.owner_id = $1 AND k.id < $2 AND k.search_text LIKE $3 AND k.tags @> $4
    ORDER BY k.id DESC LIMIT $5
$$;
