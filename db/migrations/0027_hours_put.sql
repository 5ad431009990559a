-- The master sends each link's hour as one element, and adds new values to an hour row without merging them
-- (issues 13 and 17). visit_hours_add (0025) took one element per link, hour, dimension and value, and spent
-- most of its time taking that apart: for a part of 625 link-hours of 29 values each, 18 ms unnesting and
-- joining the 18,000 elements, 12 ms grouping them back into link-hours and 24 ms merging each row's arrays
-- with the old ones, of 82 ms. The master has every link-hour in hand already.
--
-- visit_hours_put takes, for link-hour i, its total (humans[i], bots[i]) and its values as four array
-- literals (dims[i] a smallint[], vals[i] a text[], hs[i] and bs[i] bigint[]), which PostgreSQL parses in
-- one pass each. A link-hour may come only once per call. An hour row that exists gets the new values
-- appended, as 0025 kept a key sent twice: every reader adds up the entries of one (dimension, value). The
-- row's entries are merged only when there would be more than 64 of them, which bounds a row to about 2 KB
-- (the size at which PostgreSQL starts compressing it). Arrays are unnested in select lists, not in FROM,
-- where each row's unnest fills a tuplestore: a fifth to a quarter less time. Measured here, on 625
-- link-hours of 29 values (a part of 10,000 links): a new hour 23 ms instead of 43 to 104, appending 23 ms and
-- merging 39 ms instead of 48 to 60.
--
-- Writers no longer lock each link FOR KEY SHARE (0022): they hold one advisory lock, shared, which a link's
-- delete takes exclusively (below).
--
-- visit_hours_add keeps its signature for the tests and the benchmarks that write hours from SQL: it groups
-- its elements into link-hours and calls visit_hours_put.
CREATE FUNCTION visit_hours_put(link_ids bigint[], hour_ids integer[], total_h bigint[], total_b bigint[],
    dim_lits text[], val_lits text[], h_lits text[], b_lits text[]) RETURNS bigint LANGUAGE plpgsql
    SET work_mem = '32MB' SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    closed integer;
    n bigint;
BEGIN
    -- a close that starts meanwhile waits for this commit and sees these hours, or this waits for the
    -- close's commit and finds their day closed (0016)
    SELECT ((day - date '1970-01-01') * 24) INTO closed FROM visit_close FOR SHARE;
    -- a link's delete waits for this commit and then takes these hours with the link's, or this waits for
    -- the delete's commit and finds no link (visit_summaries_forget, below); taken after visit_close, so
    -- that a write waiting for a day's close holds up no delete
    PERFORM pg_advisory_xact_lock_shared(7274670, 27);
    WITH held AS (SELECT id, owner_id FROM links WHERE id = ANY(link_ids)),
    g AS MATERIALIZED (
        SELECT u.id, held.owner_id, u.hour, u.h, u.b, u.d::smallint[] AS dims, u.v::text[] AS vals,
            u.hh::bigint[] AS hs, u.bb::bigint[] AS bs
        FROM unnest(link_ids, hour_ids, total_h, total_b, dim_lits, val_lits, h_lits, b_lits)
            AS u(id, hour, h, b, d, v, hh, bb)
        JOIN held ON held.id = u.id),
    owners AS (INSERT INTO owner_hours AS o (owner_id, dim, bucket, value, humans, bots)
        SELECT a.owner_id, a.dim, to_timestamp(a.hour::bigint * 3600), a.value, sum(a.h), sum(a.b)
        FROM (SELECT g.owner_id, 0::smallint AS dim, g.hour, ''::text AS value, g.h, g.b FROM g
              UNION ALL
              -- unnest in the select list: no tuplestore per row, as unnest(...) in FROM makes
              SELECT g.owner_id, unnest(g.dims), g.hour, unnest(g.vals), unnest(g.hs), unnest(g.bs) FROM g) a
        GROUP BY a.owner_id, a.dim, a.hour, a.value
        ON CONFLICT (owner_id, dim, bucket, value) DO UPDATE SET humans = o.humans + excluded.humans,
            bots = o.bots + excluded.bots),
    added AS (INSERT INTO visit_hours AS c (link_id, bucket, owner_id, humans, bots, dims, vals, hs, bs)
        SELECT g.id, to_timestamp(g.hour::bigint * 3600), g.owner_id, g.h, g.b, g.dims, g.vals, g.hs, g.bs
        FROM g
        -- one of the two branches answers: the entries appended, or merged by (dimension, value)
        ON CONFLICT (link_id, bucket) DO UPDATE SET humans = c.humans + excluded.humans,
            bots = c.bots + excluded.bots,
            (dims, vals, hs, bs) = (
                SELECT c.dims || excluded.dims, c.vals || excluded.vals, c.hs || excluded.hs,
                    c.bs || excluded.bs
                WHERE cardinality(c.dims) + cardinality(excluded.dims) <= 64
                UNION ALL
                SELECT coalesce(array_agg(m.dim), '{}'), coalesce(array_agg(m.value), '{}'),
                    coalesce(array_agg(m.h), '{}'), coalesce(array_agg(m.b), '{}')
                FROM (SELECT x.dim, x.value, sum(x.h)::bigint AS h, sum(x.b)::bigint AS b
                      FROM (SELECT unnest(c.dims), unnest(c.vals), unnest(c.hs), unnest(c.bs)
                            UNION ALL
                            SELECT unnest(excluded.dims), unnest(excluded.vals), unnest(excluded.hs),
                                unnest(excluded.bs))
                          AS x(dim, value, h, b)
                      GROUP BY x.dim, x.value) m
                HAVING cardinality(c.dims) + cardinality(excluded.dims) > 64))
    SELECT coalesce(sum(1 + cardinality(g.dims)), 0) INTO n FROM g;
    IF EXISTS (SELECT 1 FROM unnest(hour_ids) h WHERE h < closed) THEN
        EXECUTE visit_summaries_days('SELECT u.id AS link_id, l.owner_id, x.dim,
                to_timestamp(u.hour::bigint * 3600) AS bucket, x.value, x.h AS humans, x.b AS bots
            FROM unnest($1, $2, $3, $4, $5, $6, $7, $8) AS u(id, hour, h, b, d, v, hh, bb)
            JOIN links l ON l.id = u.id
            CROSS JOIN LATERAL (SELECT 0::smallint, ''''::text, u.h, u.b
                UNION ALL
                SELECT * FROM unnest(u.d::smallint[], u.v::text[], u.hh::bigint[], u.bb::bigint[]))
                AS x(dim, value, h, b)
            WHERE u.hour < $9')
            USING link_ids, hour_ids, total_h, total_b, dim_lits, val_lits, h_lits, b_lits, closed;
    END IF;
    RETURN n;
END $$;

-- Row i of the arguments is link ids[i]'s hs[i] humans and bs[i] bots in hour hours[i], for dimension dims[i]
-- (0 the total) and value vals[i]: grouped into link-hours for visit_hours_put. Keys given twice stay two
-- entries, as they did.
CREATE OR REPLACE FUNCTION visit_hours_add(ids bigint[], hours integer[], dims integer[], vals text[],
    hs bigint[], bs bigint[]) RETURNS bigint LANGUAGE sql AS $$
    SELECT visit_hours_put(coalesce(array_agg(k.id), '{}'), coalesce(array_agg(k.hour), '{}'),
        coalesce(array_agg(k.h), '{}'), coalesce(array_agg(k.b), '{}'), coalesce(array_agg(k.d), '{}'),
        coalesce(array_agg(k.v), '{}'), coalesce(array_agg(k.hh), '{}'), coalesce(array_agg(k.bb), '{}'))
    FROM (SELECT u.id, u.hour, coalesce(sum(u.h) FILTER (WHERE u.dim = 0), 0)::bigint AS h,
              coalesce(sum(u.b) FILTER (WHERE u.dim = 0), 0)::bigint AS b,
              coalesce(array_agg(u.dim) FILTER (WHERE u.dim > 0), '{}')::text AS d,
              coalesce(array_agg(u.value) FILTER (WHERE u.dim > 0), '{}')::text AS v,
              coalesce(array_agg(u.h) FILTER (WHERE u.dim > 0), '{}')::text AS hh,
              coalesce(array_agg(u.b) FILTER (WHERE u.dim > 0), '{}')::text AS bb
          FROM unnest(ids, hours, dims, vals, hs, bs) AS u(id, hour, dim, value, h, b)
          GROUP BY u.id, u.hour) k
$$;

-- A link's delete waits for the writes of hours in flight, which no longer lock each link: 0022 had every
-- write lock its links FOR KEY SHARE, which writes each link's row (its lock, WAL-logged) and so dirtied a
-- page of links for nearly every link-hour written. Over a million links, where most links visited in an
-- hour are on pages of their own, those pages went back to disk and into the WAL again and again. The
-- writers hold one advisory lock, shared, and a delete takes it exclusively (the two-key form: the masters'
-- writer ids are one-key advisory locks).
CREATE OR REPLACE FUNCTION visit_summaries_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- the writers of hours hold this shared (visit_hours_put): the hours a write in flight adds are in the
    -- table when the statements below read it, and a write that comes later finds no link
    PERFORM pg_advisory_xact_lock(7274670, 27);
    UPDATE owner_days o SET humans = o.humans - d.humans, bots = o.bots - d.bots
    FROM visit_days d WHERE d.link_id = OLD.id AND o.owner_id = OLD.owner_id AND o.dim = d.dim
        AND o.day = d.day AND o.value = d.value;
    UPDATE owner_months o SET humans = o.humans - m.humans, bots = o.bots - m.bots
    FROM visit_months m WHERE m.link_id = OLD.id AND o.owner_id = OLD.owner_id AND o.dim = m.dim
        AND o.month = m.month AND o.value = m.value;
    UPDATE owner_hours o SET humans = o.humans - v.humans, bots = o.bots - v.bots
    FROM visit_counts v WHERE v.link_id = OLD.id AND o.owner_id = OLD.owner_id
        AND o.dim = v.dim AND o.bucket = v.bucket AND o.value = v.value;
    DELETE FROM owner_link_spans s
    USING (SELECT DISTINCT k.lvl, (d.day - date '1970-01-01') >> k.lvl AS span
           FROM visit_days d, generate_series(1, 10) k(lvl) WHERE d.link_id = OLD.id AND d.dim = 0) x
    WHERE s.owner_id = OLD.owner_id AND s.lvl = x.lvl AND s.span = x.span AND s.link_id = OLD.id;
    DELETE FROM visit_hours WHERE link_id = OLD.id;
    RETURN OLD;
END $$;
