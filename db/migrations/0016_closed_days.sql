-- Day, month and span summaries are written once per UTC day, when the day is over, not with every batch
-- (issues 13 and 17: with visits spread over 10,000 links, the per-batch upserts of those summaries were
-- three quarters of PostgreSQL's work per visit, about 10 rows per link in a batch on top of its 9 hours).
-- visit_close.day is the first UTC day not yet closed: the day tables (visit_days, owner_days, the months and
-- owner_link_spans) hold the days before it; readers take the days after it from the hourly tables, which
-- keep them (the roll-up drops no hour of a day that is not closed). The master closes the days that ended
-- (STMT_VISITS_CLOSE); hours written later for a closed day (a spool replayed after an outage, a test's rows)
-- go straight to the day summaries, as every hour did before.
LOCK TABLE visit_counts IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE visit_close (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    day date NOT NULL
);
INSERT INTO visit_close (day) VALUES ((now() AT TIME ZONE 'UTC')::date);

-- The statement that adds rows of hours (`src`: link_id, owner_id, dim, bucket, value, humans, bots) to the
-- day, month and span summaries, as 0011's trigger did for every batch: the close and the trigger's late
-- hours share it.
CREATE FUNCTION visit_summaries_days(src text) RETURNS text LANGUAGE sql IMMUTABLE AS $f$
SELECT format($q$
    WITH delta AS MATERIALIZED (%s),
    days AS (INSERT INTO visit_days AS d (link_id, owner_id, dim, day, value, humans, bots)
        SELECT link_id, owner_id, dim, (bucket AT TIME ZONE 'UTC')::date, value, sum(humans), sum(bots)
        FROM delta GROUP BY 1, 2, 3, 4, 5
        ON CONFLICT (link_id, dim, day, value) DO UPDATE SET humans = d.humans + excluded.humans,
            bots = d.bots + excluded.bots),
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
            bots = m.bots + excluded.bots)
    INSERT INTO owner_link_spans AS s (owner_id, lvl, span, link_id, humans, bots)
    SELECT x.owner_id, k.lvl, x.day >> k.lvl, x.link_id, sum(x.humans), sum(x.bots)
    FROM (SELECT owner_id, link_id, (bucket AT TIME ZONE 'UTC')::date - date '1970-01-01' AS day,
              humans, bots FROM delta WHERE dim = 0) x, generate_series(1, 10) k(lvl)
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (owner_id, lvl, span, link_id) DO UPDATE SET humans = s.humans + excluded.humans,
        bots = s.bots + excluded.bots$q$, src)
$f$;

-- Every batch adds to the owner's hours and per-link hours; only hours of closed days go to the day
-- summaries too. FOR SHARE on visit_close: a close that starts meanwhile waits for this batch's commit (and
-- then sees its hours), or this batch waits for the close's (and then finds their day closed).
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
    closed timestamptz;
BEGIN
    SELECT day::timestamp AT TIME ZONE 'UTC' INTO closed FROM visit_close FOR SHARE;
    EXECUTE format($q$
        WITH delta AS MATERIALIZED (%s),
        hours AS (INSERT INTO owner_hours AS h (owner_id, dim, bucket, value, humans, bots)
            SELECT owner_id, dim, bucket, value, sum(humans), sum(bots) FROM delta GROUP BY 1, 2, 3, 4
            ON CONFLICT (owner_id, dim, bucket, value) DO UPDATE SET humans = h.humans + excluded.humans,
                bots = h.bots + excluded.bots)
        INSERT INTO owner_link_hours AS h (owner_id, bucket, link_id, humans, bots)
        SELECT owner_id, bucket, link_id, sum(humans), sum(bots) FROM delta WHERE dim = 0
        GROUP BY 1, 2, 3
        ON CONFLICT (owner_id, bucket, link_id) DO UPDATE SET humans = h.humans + excluded.humans,
            bots = h.bots + excluded.bots$q$, delta);
    PERFORM FROM new_rows WHERE hourly AND bucket < closed LIMIT 1;
    IF FOUND THEN
        EXECUTE visit_summaries_days(format('SELECT * FROM (%s) d WHERE d.bucket < $1', delta)) USING closed;
    END IF;
    RETURN NULL;
END $$;

-- Closes the UTC days that ended: adds their hours to the day summaries and moves visit_close past them, in
-- one statement run by the master (STMT_VISITS_CLOSE), whichever host's master comes first. VOLATILE (the
-- default) matters: after the FOR UPDATE has waited for the batches that hold visit_close FOR SHARE, the
-- next statement takes a new snapshot, which sees their hours. Returns the first day still open.
CREATE FUNCTION visit_close_days() RETURNS date LANGUAGE plpgsql AS $$
DECLARE
    lo date;
    hi date := (now() AT TIME ZONE 'UTC')::date;
BEGIN
    SELECT day INTO lo FROM visit_close FOR UPDATE;
    IF lo >= hi THEN
        RETURN lo;
    END IF;
    EXECUTE visit_summaries_days('SELECT v.link_id, l.owner_id, v.dim, v.bucket, v.value, v.humans, v.bots
        FROM visit_counts v JOIN links l ON l.id = v.link_id
        WHERE v.hourly AND v.bucket >= $1 AND v.bucket < $2')
        USING lo::timestamp AT TIME ZONE 'UTC', hi::timestamp AT TIME ZONE 'UTC';
    UPDATE visit_close SET day = hi;
    RETURN hi;
END $$;

-- Counter updates in visit_counts can now be HOT (no index entry written, no index growing with versions):
-- no index of it carries the counts, and each page keeps room for the new versions of its rows. An index
-- that holds a column an update changes makes every update of the table write all its indexes, and
-- visit_counts_totals held the counts of the total rows. A link's hourly totals are read from
-- owner_link_hours instead (the same numbers, written by the trigger), through an index of its own: one
-- row a link and batch where the other was nine.
DROP INDEX visit_counts_totals;
CREATE INDEX owner_link_hours_link ON owner_link_hours (link_id, bucket) INCLUDE (humans, bots);
ALTER TABLE visit_counts SET (fillfactor = 80);

-- Today's day rows (and any later, from a clock ahead) leave the day summaries, and the months and spans
-- they were added to: from now on a day's summaries are written when it closes, from its hours. Day rows that
-- no hour accounts for (0006 carried the old table's days; no hours were kept then) become hours at the
-- day's midnight instead, so that they are read, and closed, with the rest of their day.
CREATE TEMP TABLE open_days ON COMMIT DROP AS
SELECT link_id, owner_id, dim, day, value, humans, bots FROM visit_days
WHERE day >= (SELECT day FROM visit_close);
CREATE TEMP TABLE open_hours ON COMMIT DROP AS
SELECT v.link_id, v.dim, (v.bucket AT TIME ZONE 'UTC')::date AS day, v.value, sum(v.humans) AS humans,
    sum(v.bots) AS bots
FROM visit_counts v
WHERE v.hourly AND v.bucket >= (SELECT day FROM visit_close)::timestamp AT TIME ZONE 'UTC'
GROUP BY 1, 2, 3, 4;
UPDATE visit_months m SET humans = m.humans - o.humans, bots = m.bots - o.bots
FROM (SELECT link_id, dim, date_trunc('month', day::timestamp)::date AS month, value, sum(humans) AS humans,
          sum(bots) AS bots FROM open_days GROUP BY 1, 2, 3, 4) o
WHERE m.link_id = o.link_id AND m.dim = o.dim AND m.month = o.month AND m.value = o.value;
UPDATE owner_months m SET humans = m.humans - o.humans, bots = m.bots - o.bots
FROM (SELECT owner_id, dim, date_trunc('month', day::timestamp)::date AS month, value, sum(humans) AS humans,
          sum(bots) AS bots FROM owner_days WHERE day >= (SELECT day FROM visit_close) GROUP BY 1, 2, 3, 4) o
WHERE m.owner_id = o.owner_id AND m.dim = o.dim AND m.month = o.month AND m.value = o.value;
UPDATE owner_link_spans s SET humans = s.humans - o.humans, bots = s.bots - o.bots
FROM (SELECT owner_id, k.lvl, (day - date '1970-01-01') >> k.lvl AS span, link_id, sum(humans) AS humans,
          sum(bots) AS bots FROM open_days, generate_series(1, 10) k(lvl) WHERE dim = 0 GROUP BY 1, 2, 3, 4) o
WHERE s.owner_id = o.owner_id AND s.lvl = o.lvl AND s.span = o.span AND s.link_id = o.link_id;
DELETE FROM visit_days WHERE day >= (SELECT day FROM visit_close);
DELETE FROM owner_days WHERE day >= (SELECT day FROM visit_close);
DELETE FROM visit_months WHERE humans = 0 AND bots = 0;
DELETE FROM owner_months WHERE humans = 0 AND bots = 0;
DELETE FROM owner_link_spans WHERE humans = 0 AND bots = 0;
INSERT INTO visit_counts AS c (link_id, dim, bucket, hourly, value, humans, bots)
SELECT d.link_id, d.dim, d.day::timestamp AT TIME ZONE 'UTC', true, d.value,
    greatest(d.humans - coalesce(h.humans, 0), 0), greatest(d.bots - coalesce(h.bots, 0), 0)
FROM open_days d LEFT JOIN open_hours h USING (link_id, dim, day, value)
WHERE d.humans > coalesce(h.humans, 0) OR d.bots > coalesce(h.bots, 0)
ON CONFLICT (link_id, dim, bucket, hourly, value)
DO UPDATE SET humans = c.humans + excluded.humans, bots = c.bots + excluded.bots;
