-- visit_counts without a foreign key (issues 13 and 17): the first visits of every hour create that hour's
-- rows, about 30 per link visited, and the key checked each new row on its own (a query per row, about a
-- third of the statement: 1.0 of 3.3 s for the 292,000 rows of an hour of 10,000 links). The statements that
-- write counts (STMT_VISITS_ADD, STMT_VISITS_APPLY) now lock each link they write once, FOR KEY SHARE as the
-- key's check did, and drop visits of links that are gone; a link's deletion takes its counts with it here.
--
-- Why that is as safe as the key: deleting a link locks its row before its BEFORE DELETE trigger runs, so it
-- waits for a statement that holds the link, and the trigger then sees (and deletes) the rows that statement
-- added; a statement that comes after waits for the deletion and finds no link. A hand-written INSERT into
-- visit_counts must hold its link the same way (tests and bench/analytics.sh write counts of links that stay).
ALTER TABLE visit_counts DROP CONSTRAINT visit_counts_link_id_fkey;

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
    DELETE FROM visit_counts WHERE link_id = OLD.id;
    RETURN OLD;
END $$;
