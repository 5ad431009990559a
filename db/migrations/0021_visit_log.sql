-- The master's window (issues 13 and 17): visits reach PostgreSQL within a second as they always did, but as a
-- log of compact batches, not as counter rows. A batch sent straight to the counters costs a row per link,
-- hour and dimension value it touches, and with visits spread over many links nearly every visit touches rows
-- of its own (about five). The master also keeps the sum of its logged batches in memory, split into parts by
-- link, and adds each part to the counters every so often in one statement that deletes the part's log rows:
-- a link visited a hundred times in a minute then costs its rows once. The log makes that window as durable
-- as the counters: a master that dies leaves its log rows, and any master adds them later (adopts them).
--
-- A row: one batch's visits of one part, encoded by handlers/core/visits.c (a batch written with
-- HOP_VISITS_WINDOW_MS=0 never comes here). writer is the master that wrote it: a random id the master holds
-- as a session advisory lock while it is connected, so that a row whose writer holds no such lock is a dead
-- master's, and any master adopts it at once; written_at ages the rows of a master alive but stuck.
CREATE TABLE visit_log (
    id         bigint NOT NULL,
    part       smallint NOT NULL CHECK (part >= 0),
    writer     bigint NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now(),
    data       bytea NOT NULL,
    PRIMARY KEY (id, part)
);
-- the encoding is dense already: compressing it would cost CPU on every batch for little
ALTER TABLE visit_log ALTER data SET STORAGE EXTERNAL;
CREATE INDEX visit_log_written_at ON visit_log (written_at);

-- Takes a part's log rows out for the statement that adds their sum to the counters (STMT_VISITS_APPLY):
-- every one of them must be there. One that is gone was added already, by another master that adopted it
-- (or by this one, whose answer was lost): the whole statement is then undone, and the master rebuilds its
-- sum from the rows that are left.
CREATE FUNCTION visit_log_take(ids bigint[], p integer) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    DELETE FROM visit_log WHERE part = p AND id = ANY(ids);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> cardinality(ids) THEN
        RAISE EXCEPTION 'visit log rows of part % added already: % of %', p, cardinality(ids) - n,
            cardinality(ids) USING ERRCODE = 'serialization_failure';
    END IF;
    RETURN n;
END $$;
