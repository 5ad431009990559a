-- Visits counted exactly once across a PostgreSQL outage (issue 17). Every batch of visit counts the master
-- writes, from memory or from a spool file, carries a random 63-bit id that the same statement records here:
-- a batch whose COMMIT landed but whose answer was lost (the connection cut at that instant) is found here
-- when it is sent again and adds nothing the second time. The master deletes an id once it knows the batch
-- can never be sent again (its answer arrived and, for a spool file, the file is gone), so the table holds
-- only the ids still in doubt; an id nobody confirmed (a master killed in between) is pruned after 30 days.
CREATE TABLE visit_batches (
    id         bigint PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX visit_batches_applied_at ON visit_batches (applied_at);

-- One random id for this database: written into every spool file, so that a spool directory that another
-- database's pool left (a shared home directory, a restored copy) is never replayed into this one.
CREATE TABLE visit_spool_identity (id uuid PRIMARY KEY);
INSERT INTO visit_spool_identity VALUES (gen_random_uuid());
