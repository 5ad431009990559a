-- Analytics (issue 13): visits counted per link, per hour and per dimension value, humans and bots apart;
-- hours are kept HOP_ANALYTICS_HOURLY_DAYS days, days for ever (visit_days below). A row is a (link, dimension, bucket, value) and its two counts, so storage grows with
-- the distinct values a link sees, never with its visits. dim: 0 total (value ''), 1 referrer host ('' none),
-- 2 country ('unknown'), 3 device, 4 browser, 5 OS, 6 utm_source, 7 utm_medium, 8 utm_campaign ('' none).
-- Every dimension's rows of a link and bucket add up to its total row.
CREATE TABLE visit_counts (
    link_id bigint NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    dim     smallint NOT NULL CHECK (dim BETWEEN 0 AND 8),
    bucket  timestamptz NOT NULL,
    hourly  boolean NOT NULL,
    value   text COLLATE "C" NOT NULL,
    humans  bigint NOT NULL CHECK (humans >= 0),
    bots    bigint NOT NULL CHECK (bots >= 0),
    PRIMARY KEY (link_id, dim, bucket, hourly, value)
);
-- what the roll-up looks for (every row the master writes is hourly; hourly stays in the key so that a day
-- row could sit beside the hours of its day)
CREATE INDEX visit_counts_hourly ON visit_counts (bucket) WHERE hourly;


-- Summaries the stats API reads instead of a year of hours (issue 13's targets: a year of one link's hourly
-- stats within 20 ms, an owner of 10,000 links within 100 ms). Both are kept by the triggers below from the
-- hourly rows as they are written, so that every writer (the master's batches, tests, imports) keeps them:
-- visit_days, every UTC day of every link (owner_id carried for the owner's top links), never rolled up;
-- owner_hours and owner_days, the same per owner, every link of the owner added up (owner_hours follows the
-- hourly retention of visit_counts). Top lists read whole UTC days from the day tables and only the hours of
-- the partial days at either end of a range from the hourly ones.
CREATE TABLE visit_days (
    link_id  bigint NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    owner_id bigint NOT NULL,
    dim      smallint NOT NULL,
    day      date NOT NULL,
    value    text COLLATE "C" NOT NULL,
    humans   bigint NOT NULL,
    bots     bigint NOT NULL,
    PRIMARY KEY (link_id, dim, day, value)
);
-- the owner's top links: an index-only scan of the owner's totals over the days asked
CREATE INDEX visit_days_owner ON visit_days (owner_id, day) INCLUDE (link_id, humans, bots) WHERE dim = 0;

CREATE TABLE owner_hours (
    owner_id bigint NOT NULL REFERENCES owners (id) ON DELETE CASCADE,
    dim      smallint NOT NULL,
    bucket   timestamptz NOT NULL,
    value    text COLLATE "C" NOT NULL,
    humans   bigint NOT NULL,
    bots     bigint NOT NULL,
    PRIMARY KEY (owner_id, dim, bucket, value)
);
CREATE TABLE owner_days (
    owner_id bigint NOT NULL REFERENCES owners (id) ON DELETE CASCADE,
    dim      smallint NOT NULL,
    day      date NOT NULL,
    value    text COLLATE "C" NOT NULL,
    humans   bigint NOT NULL,
    bots     bigint NOT NULL,
    PRIMARY KEY (owner_id, dim, day, value)
);

-- Adds what a statement changed in hourly rows (the new rows, or new minus old for updates) to the three
-- summaries, once per statement and in one statement: a batch of thousands of rows costs three grouped
-- upserts. Rows that are not hourly (the roll-up's daily rows) were counted as hours already.
CREATE FUNCTION visit_summaries_add() RETURNS trigger LANGUAGE plpgsql AS $$
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
        WITH delta AS (%s),
        days AS (INSERT INTO visit_days AS d (link_id, owner_id, dim, day, value, humans, bots)
            SELECT link_id, owner_id, dim, (bucket AT TIME ZONE 'UTC')::date, value, sum(humans), sum(bots)
            FROM delta GROUP BY 1, 2, 3, 4, 5
            ON CONFLICT (link_id, dim, day, value) DO UPDATE SET humans = d.humans + excluded.humans,
                bots = d.bots + excluded.bots),
        hours AS (INSERT INTO owner_hours AS h (owner_id, dim, bucket, value, humans, bots)
            SELECT owner_id, dim, bucket, value, sum(humans), sum(bots) FROM delta GROUP BY 1, 2, 3, 4
            ON CONFLICT (owner_id, dim, bucket, value) DO UPDATE SET humans = h.humans + excluded.humans,
                bots = h.bots + excluded.bots)
        INSERT INTO owner_days AS d (owner_id, dim, day, value, humans, bots)
        SELECT owner_id, dim, (bucket AT TIME ZONE 'UTC')::date, value, sum(humans), sum(bots)
        FROM delta GROUP BY 1, 2, 3, 4
        ON CONFLICT (owner_id, dim, day, value) DO UPDATE SET humans = d.humans + excluded.humans,
            bots = d.bots + excluded.bots$q$, delta);
    RETURN NULL;
END $$;
CREATE TRIGGER visit_counts_added AFTER INSERT ON visit_counts REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION visit_summaries_add();
CREATE TRIGGER visit_counts_updated AFTER UPDATE ON visit_counts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION visit_summaries_add();

-- A deleted link's visits leave its owner's summaries too, as they leave visit_counts and visit_days.
CREATE FUNCTION visit_summaries_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE owner_days o SET humans = o.humans - d.humans, bots = o.bots - d.bots
    FROM visit_days d WHERE d.link_id = OLD.id AND o.owner_id = OLD.owner_id AND o.dim = d.dim
        AND o.day = d.day AND o.value = d.value;
    UPDATE owner_hours o SET humans = o.humans - v.humans, bots = o.bots - v.bots
    FROM visit_counts v WHERE v.link_id = OLD.id AND v.hourly AND o.owner_id = OLD.owner_id
        AND o.dim = v.dim AND o.bucket = v.bucket AND o.value = v.value;
    RETURN OLD;
END $$;
CREATE TRIGGER links_forget_visits BEFORE DELETE ON links FOR EACH ROW EXECUTE FUNCTION visit_summaries_forget();

-- Yesterday's counts (per UTC day and referrer host, every visit) become day rows of humans: the other
-- dimensions were never recorded, so they are 'unknown'.
INSERT INTO visit_days (link_id, owner_id, dim, day, value, humans, bots)
SELECT x.link_id, l.owner_id, x.dim, x.day, x.value, sum(x.n), 0
FROM (SELECT link_id, 0 AS dim, day, '' AS value, n FROM visits
      UNION ALL SELECT link_id, 1, day, host, n FROM visits
      UNION ALL SELECT v.link_id, d.dim, v.day, 'unknown', v.n FROM visits v CROSS JOIN generate_series(2, 8) d(dim)
     ) x JOIN links l ON l.id = x.link_id
GROUP BY 1, 2, 3, 4, 5;
INSERT INTO owner_days (owner_id, dim, day, value, humans, bots)
SELECT owner_id, dim, day, value, sum(humans), sum(bots) FROM visit_days GROUP BY 1, 2, 3, 4;
DROP TABLE visits;

-- Stats statements read a few thousand rows through an index; a parallel plan's workers cost more to start
-- than they save (and far more on a busy host), so none of these tables is scanned in parallel.
ALTER TABLE visit_counts SET (parallel_workers = 0);
ALTER TABLE visit_days SET (parallel_workers = 0);
ALTER TABLE owner_hours SET (parallel_workers = 0);
ALTER TABLE owner_days SET (parallel_workers = 0);
