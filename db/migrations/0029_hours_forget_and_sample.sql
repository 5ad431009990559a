-- Two changes to the hours (issue 17).
--
-- A link's delete takes every entry of its hours out of the owner's hours. Since 0025 an hour row may hold
-- one (dimension, value) more than once (a later batch's entries are appended until the row is merged), and
-- visit_summaries_forget subtracted the link's hours from owner_hours with UPDATE ... FROM visit_counts:
-- where the join gives a target row twice, PostgreSQL applies one of them, so an owner kept the visits of a
-- deleted link's second entry in its hours. The entries are added up first.
CREATE OR REPLACE FUNCTION visit_summaries_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- the writers of hours hold this shared (visit_hours_put, 0027): the hours a write in flight adds are in
    -- the table when the statements below read it, and a write that comes later finds no link
    PERFORM pg_advisory_xact_lock(7274670, 27);
    UPDATE owner_days o SET humans = o.humans - d.humans, bots = o.bots - d.bots
    FROM visit_days d WHERE d.link_id = OLD.id AND o.owner_id = OLD.owner_id AND o.dim = d.dim
        AND o.day = d.day AND o.value = d.value;
    UPDATE owner_months o SET humans = o.humans - m.humans, bots = o.bots - m.bots
    FROM visit_months m WHERE m.link_id = OLD.id AND o.owner_id = OLD.owner_id AND o.dim = m.dim
        AND o.month = m.month AND o.value = m.value;
    UPDATE owner_hours o SET humans = o.humans - v.humans, bots = o.bots - v.bots
    FROM (SELECT dim, bucket, value, sum(humans) AS humans, sum(bots) AS bots FROM visit_counts
          WHERE link_id = OLD.id GROUP BY dim, bucket, value) v
    WHERE o.owner_id = OLD.owner_id AND o.dim = v.dim AND o.bucket = v.bucket AND o.value = v.value;
    DELETE FROM owner_link_spans s
    USING (SELECT DISTINCT k.lvl, (d.day - date '1970-01-01') >> k.lvl AS span
           FROM visit_days d, generate_series(1, 10) k(lvl) WHERE d.link_id = OLD.id AND d.dim = 0) x
    WHERE s.owner_id = OLD.owner_id AND s.lvl = x.lvl AND s.span = x.span AND s.link_id = OLD.id;
    DELETE FROM visit_hours WHERE link_id = OLD.id;
    RETURN OLD;
END $$;

-- ANALYZE samples 6,000 rows of visit_hours, not 30,000. Under load autovacuum analyzes the table about once
-- a minute (every visited link-hour's row changes), and that was a sixth of PostgreSQL's CPU in make
-- bench-scale's minute of Zipf load over a million links: 0.52 s a run, reading a page for nearly every row
-- it sampled. With these targets it took 55 ms. The plans need the links' and hours' spread and the largest
-- owners (the 20 most common values), not finer histograms; the counts are never filtered on.
ALTER TABLE visit_hours ALTER link_id SET STATISTICS 20, ALTER bucket SET STATISTICS 20,
    ALTER owner_id SET STATISTICS 20, ALTER humans SET STATISTICS 0, ALTER bots SET STATISTICS 0;
