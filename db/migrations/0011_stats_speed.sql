-- Stats speed (issue 13's targets: a year of one link's stats within 20 ms, GET /api/stats for an owner of
-- 10,000 links within 100 ms). Coarser summaries kept by the same statement triggers as visit_days, so that
-- a range is read as [hours][days][months][days][hours] for one link, and as a few spans per link for an
-- owner's top links, instead of every day of every link:
-- visit_months, owner_months: each UTC month of a link and of an owner, every dimension (as visit_days and
--   owner_days, of which they are the sums), kept for ever;
-- owner_link_spans: each link's totals (dimension 0) per span of 2^lvl UTC days, lvl 1..10, spans aligned on
--   1970-01-01 (span = days since then >> lvl); any range of whole days is at most two spans per level
--   (single days come from visit_days' owner index), kept for ever;
-- owner_link_hours: each link's totals per UTC hour, by owner, for the partial days at either end of a range;
--   kept HOP_ANALYTICS_HOURLY_DAYS like the hours of visit_counts (the roll-up drops both).
CREATE TABLE visit_months (
    link_id bigint NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    dim     smallint NOT NULL,
    month   date NOT NULL,
    value   text COLLATE "C" NOT NULL,
    humans  bigint NOT NULL,
    bots    bigint NOT NULL,
    PRIMARY KEY (link_id, dim, month, value)
);
CREATE TABLE owner_months (
    owner_id bigint NOT NULL REFERENCES owners (id) ON DELETE CASCADE,
    dim      smallint NOT NULL,
    month    date NOT NULL,
    value    text COLLATE "C" NOT NULL,
    humans   bigint NOT NULL,
    bots     bigint NOT NULL,
    PRIMARY KEY (owner_id, dim, month, value)
);
-- The counts ride in the keys (INCLUDE): the top links read tens of thousands of these rows, and an
-- index-only scan reads them without a heap page each.
CREATE TABLE owner_link_spans (
    owner_id bigint NOT NULL REFERENCES owners (id) ON DELETE CASCADE,
    lvl      smallint NOT NULL CHECK (lvl BETWEEN 1 AND 10),
    span     integer NOT NULL,
    link_id  bigint NOT NULL,
    humans   bigint NOT NULL,
    bots     bigint NOT NULL,
    PRIMARY KEY (owner_id, lvl, span, link_id) INCLUDE (humans, bots)
);
CREATE TABLE owner_link_hours (
    owner_id bigint NOT NULL REFERENCES owners (id) ON DELETE CASCADE,
    bucket   timestamptz NOT NULL,
    link_id  bigint NOT NULL,
    humans   bigint NOT NULL,
    bots     bigint NOT NULL,
    PRIMARY KEY (owner_id, bucket, link_id) INCLUDE (humans, bots)
);
-- what the roll-up looks for
CREATE INDEX owner_link_hours_bucket ON owner_link_hours (bucket);
-- a link's hourly totals without a heap page each: a year of hours per day of a zone is 8,760 of them
CREATE INDEX visit_counts_totals ON visit_counts (link_id, bucket) INCLUDE (humans, bots) WHERE dim = 0 AND hourly;

-- The fewest spans of 2^lvl days (lvl 0..10; lvl 0 a single day) that tile the days [a, b), counted from
-- 1970-01-01: each span inside [a, b) whose parent span is not, at most two per level. PL/pgSQL, so the
-- planner takes its ROWS and plans a few index scans (a generate_series of unknown bounds looked like
-- thousands of spans, and the plan's cost then switched JIT compilation on, slower than the query itself).
CREATE FUNCTION stats_spans(a integer, b integer) RETURNS TABLE (lvl integer, span integer)
LANGUAGE plpgsql IMMUTABLE ROWS 12 AS $$
BEGIN
    RETURN QUERY SELECT k, i FROM generate_series(0, 10) k, generate_series((a + (1 << k) - 1) >> k, (b >> k) - 1) i
        WHERE k = 10 OR (i >> 1) << (k + 1) < a OR ((i >> 1) + 1) << (k + 1) > b;
END $$;

-- Stats statements read a few thousand rows through indexes: parallel workers cost more to start than they
-- save (tens of milliseconds on a busy host, measured), and parallel_workers = 0 (0006) does not stop a
-- Parallel Append over plain index scans, which a wrong guess of an edge's rows brought in. A statement that
-- calls a PARALLEL UNSAFE function is planned without workers: the stats statements call this one.
CREATE FUNCTION stats_no_workers() RETURNS boolean LANGUAGE plpgsql IMMUTABLE PARALLEL UNSAFE AS $$
BEGIN
    RETURN true;
END $$;

ALTER TABLE visit_months SET (parallel_workers = 0);
ALTER TABLE owner_months SET (parallel_workers = 0);
ALTER TABLE owner_link_spans SET (parallel_workers = 0);
ALTER TABLE owner_link_hours SET (parallel_workers = 0);

-- 0006's function with the new summaries: still one statement per batch, each summary one grouped upsert.
CREATE OR REPLACE FUNCTION visit_summaries_add() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta text := CASE TG_OP WHEN 'INSERT' THEN
        'SELECT n.link_id, l.owner_id, n.dim, n.bucket, n.value, n.humans, n.bots
         FROM new_rows n JOIN links l ON l.id = n.link_id WHERE n.hourly'
    ELSE
        'SELECT n.link_id, l.owner_id, n.dim, n.bucket, n.value, n.humans - o.humans AS humans,
           n.bots - o.bots AS bots
         FROM new_rows n JOIN old_rows o USING (link_id, dim, bucket, hourly, value)
         JOIN links l ON l.id = n.link_id WHERE n.hourly' END;
BEGIN
    EXECUTE format($q$
        WITH delta AS MATERIALIZED (%s),
        days AS (INSERT INTO visit_days AS d (link_id, owner_id, dim, day, value, humans, bots)
            SELECT link_id, owner_id, dim, (bucket AT TIME ZONE 'UTC')::date, value, sum(humans), sum(bots)
            FROM delta GROUP BY 1, 2, 3, 4, 5
            ON CONFLICT (link_id, dim, day, value) DO UPDATE SET humans = d.humans + excluded.humans,
                bots = d.bots + excluded.bots),
        hours AS (INSERT INTO owner_hours AS h (owner_id, dim, bucket, value, humans, bots)
            SELECT owner_id, dim, bucket, value, sum(humans), sum(bots) FROM delta GROUP BY 1, 2, 3, 4
            ON CONFLICT (owner_id, dim, bucket, value) DO UPDATE SET humans = h.humans + excluded.humans,
                bots = h.bots + excluded.bots),
        odays AS (INSERT INTO owner_days AS d (owner_id, dim, day, value, humans, bots)
            SELECT owner_id, dim, (bucket AT TIME ZONE 'UTC')::date, value, sum(humans), sum(bots)
            FROM delta GROUP BY 1, 2, 3, 4
            ON CONFLICT (owner_id, dim, day, value) DO UPDATE SET humans = d.humans + excluded.humans,
                bots = d.bots + excluded.bots),
        months AS (INSERT INTO visit_months AS m (link_id, dim, month, value, humans, bots)
            SELECT link_id, dim, date_trunc('month', bucket AT TIME ZONE 'UTC')::date, value, sum(humans),
                sum(bots)
            FROM delta GROUP BY 1, 2, 3, 4
            ON CONFLICT (link_id, dim, month, value) DO UPDATE SET humans = m.humans + excluded.humans,
                bots = m.bots + excluded.bots),
        omonths AS (INSERT INTO owner_months AS m (owner_id, dim, month, value, humans, bots)
            SELECT owner_id, dim, date_trunc('month', bucket AT TIME ZONE 'UTC')::date, value, sum(humans),
                sum(bots)
            FROM delta GROUP BY 1, 2, 3, 4
            ON CONFLICT (owner_id, dim, month, value) DO UPDATE SET humans = m.humans + excluded.humans,
                bots = m.bots + excluded.bots),
        lhours AS (INSERT INTO owner_link_hours AS h (owner_id, bucket, link_id, humans, bots)
            SELECT owner_id, bucket, link_id, sum(humans), sum(bots) FROM delta WHERE dim = 0
            GROUP BY 1, 2, 3
            ON CONFLICT (owner_id, bucket, link_id) DO UPDATE SET humans = h.humans + excluded.humans,
                bots = h.bots + excluded.bots)
        INSERT INTO owner_link_spans AS s (owner_id, lvl, span, link_id, humans, bots)
        SELECT x.owner_id, k.lvl, x.day >> k.lvl, x.link_id, sum(x.humans), sum(x.bots)
        FROM (SELECT owner_id, link_id, (bucket AT TIME ZONE 'UTC')::date - date '1970-01-01' AS day,
                  humans, bots FROM delta WHERE dim = 0) x, generate_series(1, 10) k(lvl)
        GROUP BY 1, 2, 3, 4
        ON CONFLICT (owner_id, lvl, span, link_id) DO UPDATE SET humans = s.humans + excluded.humans,
            bots = s.bots + excluded.bots$q$, delta);
    RETURN NULL;
END $$;

-- A deleted link's visits leave its owner's summaries too (its own rows go with it: visit_months by its
-- foreign key, the owner's per-link rows here, found through the link's day and hour rows).
CREATE OR REPLACE FUNCTION visit_summaries_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE owner_days o SET humans = o.humans - d.humans, bots = o.bots - d.bots
    FROM visit_days d WHERE d.link_id = OLD.id AND o.owner_id = OLD.owner_id AND o.dim = d.dim
        AND o.day = d.day AND o.value = d.value;
    UPDATE owner_months o SET humans = o.humans - m.humans, bots = o.bots - m.bots
    FROM visit_months m WHERE m.link_id = OLD.id AND o.owner_id = OLD.owner_id AND o.dim = m.dim
        AND o.month = m.month AND o.value = m.value;
    UPDATE owner_hours o SET humans = o.humans - v.humans, bots = o.bots - v.bots
    FROM visit_counts v WHERE v.link_id = OLD.id AND v.hourly AND o.owner_id = OLD.owner_id
        AND o.dim = v.dim AND o.bucket = v.bucket AND o.value = v.value;
    DELETE FROM owner_link_spans s
    USING (SELECT DISTINCT k.lvl, (d.day - date '1970-01-01') >> k.lvl AS span
           FROM visit_days d, generate_series(1, 10) k(lvl) WHERE d.link_id = OLD.id AND d.dim = 0) x
    WHERE s.owner_id = OLD.owner_id AND s.lvl = x.lvl AND s.span = x.span AND s.link_id = OLD.id;
    DELETE FROM owner_link_hours h USING visit_counts v
    WHERE v.link_id = OLD.id AND v.dim = 0 AND v.hourly AND h.owner_id = OLD.owner_id
        AND h.bucket = v.bucket AND h.link_id = OLD.id;
    RETURN OLD;
END $$;

-- What is there already: the months are the sums of the days (0006's imported days included), the spans
-- those of the links' total days, the links' hours those of the hourly rows.
INSERT INTO visit_months (link_id, dim, month, value, humans, bots)
SELECT link_id, dim, date_trunc('month', day::timestamp)::date, value, sum(humans), sum(bots)
FROM visit_days GROUP BY 1, 2, 3, 4;
INSERT INTO owner_months (owner_id, dim, month, value, humans, bots)
SELECT owner_id, dim, date_trunc('month', day::timestamp)::date, value, sum(humans), sum(bots)
FROM owner_days GROUP BY 1, 2, 3, 4;
INSERT INTO owner_link_spans (owner_id, lvl, span, link_id, humans, bots)
SELECT d.owner_id, k.lvl, (d.day - date '1970-01-01') >> k.lvl, d.link_id, sum(d.humans), sum(d.bots)
FROM visit_days d, generate_series(1, 10) k(lvl) WHERE d.dim = 0
GROUP BY 1, 2, 3, 4;
INSERT INTO owner_link_hours (owner_id, bucket, link_id, humans, bots)
SELECT l.owner_id, v.bucket, v.link_id, sum(v.humans), sum(v.bots)
FROM visit_counts v JOIN links l ON l.id = v.link_id WHERE v.dim = 0 AND v.hourly
GROUP BY 1, 2, 3;
