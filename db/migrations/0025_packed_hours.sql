-- A link's hour is one row (issues 13 and 17). visit_counts held a row per link, hour, dimension and value:
-- about 29 rows for an hour of a link visited from a few places, each written with its two indexes, and an
-- owner_link_hours row beside them with three more. Writing those rows was nearly all of PostgreSQL's work
-- per visit: 4.3 s to add an hour of 10,000 links (292,000 rows) and 3.5 s to add to it again, measured
-- here. visit_hours holds one row per link and hour: the total (dimension 0) as humans and bots, and every
-- other dimension's values and counts in four arrays of the same length. The same hour took 1.3 and 1.5 s.
--
-- owner_id rides along (a link never changes owner), so visit_hours is also what owner_link_hours was: the
-- owner's per-link hours for the top links, through visit_hours_owner. The view visit_counts reads the hours
-- back as rows of (link, dimension, hour, value), as the table of that name held them.
--
-- Every writer adds hours through visit_hours_add(), in one statement: it locks the links (0022's reason),
-- merges each link's hour, adds to the owner's hours and, for hours of days already closed, to the day
-- summaries, as the triggers on visit_counts did.
LOCK TABLE visit_counts, owner_link_hours, visit_close IN ACCESS EXCLUSIVE MODE;

CREATE TABLE visit_hours (
    link_id  bigint NOT NULL,
    bucket   timestamptz NOT NULL,
    owner_id bigint NOT NULL,
    humans   bigint NOT NULL CHECK (humans >= 0),
    bots     bigint NOT NULL CHECK (bots >= 0),
    -- dimension i's value vals[i] counted hs[i] humans and bs[i] bots (dimensions 1..8 of 0006)
    dims     smallint[] NOT NULL,
    vals     text[] COLLATE "C" NOT NULL,
    hs       bigint[] NOT NULL,
    bs       bigint[] NOT NULL,
    PRIMARY KEY (link_id, bucket),
    CHECK (cardinality(dims) = cardinality(vals) AND cardinality(vals) = cardinality(hs)
        AND cardinality(hs) = cardinality(bs))
);
-- the owner's top links over the hours at either end of a range, index-only as owner_link_hours' key was
CREATE INDEX visit_hours_owner ON visit_hours (owner_id, bucket) INCLUDE (link_id, humans, bots);
-- what the roll-up deletes: rows arrive in hour order, so a few bytes per 128 pages find them
CREATE INDEX visit_hours_bucket ON visit_hours USING brin (bucket);
ALTER TABLE visit_hours SET (parallel_workers = 0);

INSERT INTO visit_hours (link_id, bucket, owner_id, humans, bots, dims, vals, hs, bs)
SELECT v.link_id, v.bucket, l.owner_id, coalesce(sum(v.humans) FILTER (WHERE v.dim = 0), 0),
    coalesce(sum(v.bots) FILTER (WHERE v.dim = 0), 0),
    coalesce(array_agg(v.dim) FILTER (WHERE v.dim > 0), '{}'),
    coalesce(array_agg(v.value) FILTER (WHERE v.dim > 0), '{}'),
    coalesce(array_agg(v.humans) FILTER (WHERE v.dim > 0), '{}'),
    coalesce(array_agg(v.bots) FILTER (WHERE v.dim > 0), '{}')
FROM visit_counts v JOIN links l ON l.id = v.link_id
WHERE v.hourly
GROUP BY v.link_id, v.bucket, l.owner_id;

DROP TABLE visit_counts;
DROP TABLE owner_link_hours;
DROP FUNCTION visit_summaries_add();

CREATE VIEW visit_counts AS
SELECT link_id, owner_id, 0::smallint AS dim, bucket, ''::text COLLATE "C" AS value, humans, bots
FROM visit_hours
UNION ALL
SELECT v.link_id, v.owner_id, d.dim, v.bucket, d.value, d.humans, d.bots
FROM visit_hours v CROSS JOIN LATERAL unnest(v.dims, v.vals, v.hs, v.bs) AS d(dim, value, humans, bots);

-- Adds visits to the hours: row i is link ids[i]'s hs[i] humans and bs[i] bots in hour hours[i] (since the
-- epoch) with value vals[i] of dimension dims[i] (0, the total, with value ''). The master sends each key
-- once (grouping them here was a fifth of the time); a key given twice is kept as two entries until the
-- hour's next merge, and every reader adds entries up. Visits of links that are gone are dropped. Returns
-- how many rows were added.
CREATE FUNCTION visit_hours_add(ids bigint[], hours integer[], dims integer[], vals text[], hs bigint[],
    bs bigint[]) RETURNS bigint LANGUAGE plpgsql SET work_mem = '32MB' AS $$
DECLARE
    closed integer;
    n bigint;
BEGIN
    -- a close that starts meanwhile waits for this commit and sees these hours, or this waits for the
    -- close's commit and finds their day closed (0016)
    SELECT ((day - date '1970-01-01') * 24) INTO closed FROM visit_close FOR SHARE;
    WITH held AS (SELECT id, owner_id FROM links WHERE id = ANY(ids) FOR KEY SHARE),
    u AS MATERIALIZED (
        SELECT u.id, held.owner_id, u.hour, u.dim, u.value, u.h, u.b
        FROM unnest(ids, hours, dims, vals, hs, bs) AS u(id, hour, dim, value, h, b)
        JOIN held ON held.id = u.id),
    owners AS (INSERT INTO owner_hours AS o (owner_id, dim, bucket, value, humans, bots)
        SELECT owner_id, dim, to_timestamp(hour::bigint * 3600), value, sum(h), sum(b) FROM u
        GROUP BY owner_id, dim, hour, value
        ON CONFLICT (owner_id, dim, bucket, value) DO UPDATE SET humans = o.humans + excluded.humans,
            bots = o.bots + excluded.bots),
    added AS (INSERT INTO visit_hours AS c (link_id, bucket, owner_id, humans, bots, dims, vals, hs, bs)
        SELECT id, to_timestamp(hour::bigint * 3600), owner_id, coalesce(sum(h) FILTER (WHERE dim = 0), 0),
            coalesce(sum(b) FILTER (WHERE dim = 0), 0), coalesce(array_agg(dim) FILTER (WHERE dim > 0), '{}'),
            coalesce(array_agg(value) FILTER (WHERE dim > 0), '{}'),
            coalesce(array_agg(h) FILTER (WHERE dim > 0), '{}'),
            coalesce(array_agg(b) FILTER (WHERE dim > 0), '{}')
        FROM u GROUP BY id, owner_id, hour
        -- the four arrays of one aggregate read the merged values in the same order
        ON CONFLICT (link_id, bucket) DO UPDATE SET humans = c.humans + excluded.humans,
            bots = c.bots + excluded.bots,
            (dims, vals, hs, bs) = (SELECT coalesce(array_agg(m.dim), '{}'), coalesce(array_agg(m.value), '{}'),
                coalesce(array_agg(m.h), '{}'), coalesce(array_agg(m.b), '{}')
                FROM (SELECT x.dim, x.value, sum(x.h)::bigint AS h, sum(x.b)::bigint AS b
                      FROM (SELECT * FROM unnest(c.dims, c.vals, c.hs, c.bs)
                            UNION ALL
                            SELECT * FROM unnest(excluded.dims, excluded.vals, excluded.hs, excluded.bs))
                          AS x(dim, value, h, b)
                      GROUP BY x.dim, x.value) m))
    SELECT count(*) INTO n FROM u;
    IF EXISTS (SELECT 1 FROM unnest(hours) h WHERE h < closed) THEN
        EXECUTE visit_summaries_days('SELECT u.id AS link_id, l.owner_id, u.dim, to_timestamp(u.hour::bigint * 3600) AS bucket,
                u.value, u.h AS humans, u.b AS bots
            FROM unnest($1, $2, $3, $4, $5, $6) AS u(id, hour, dim, value, h, b) JOIN links l ON l.id = u.id
            WHERE u.hour < $7')
            USING ids, hours, dims, vals, hs, bs, closed;
    END IF;
    RETURN n;
END $$;

CREATE OR REPLACE FUNCTION visit_close_days() RETURNS date LANGUAGE plpgsql AS $$
DECLARE
    lo date;
    hi date := (now() AT TIME ZONE 'UTC')::date;
BEGIN
    SELECT day INTO lo FROM visit_close FOR UPDATE;
    IF lo >= hi THEN
        RETURN lo;
    END IF;
    EXECUTE visit_summaries_days('SELECT link_id, owner_id, dim, bucket, value, humans, bots FROM visit_counts
        WHERE bucket >= $1 AND bucket < $2')
        USING lo::timestamp AT TIME ZONE 'UTC', hi::timestamp AT TIME ZONE 'UTC';
    UPDATE visit_close SET day = hi;
    RETURN hi;
END $$;

CREATE OR REPLACE FUNCTION visit_summaries_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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
