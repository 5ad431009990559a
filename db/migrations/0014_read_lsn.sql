-- Read-your-writes with a read replica (HOP_DB_READ, db/db.c): every change to an owner's links stamps the
-- owner with the primary's WAL position, in the same transaction as the change, whatever made it (the API,
-- a bulk create, an import, a domain's removal). A replica answers that owner's list and stats reads only
-- once it shows the owner's stamp at least as far as the primary does: that row is replayed with the change's
-- commit, so the change is visible there too. Comparing the stamp with pg_last_wal_replay_lsn() would not
-- do: the commit record comes after the position the transaction can read, so a replica may have replayed
-- past the stamp and still not the commit.
CREATE TABLE read_lsn (
    owner_id bigint PRIMARY KEY REFERENCES owners (id) ON DELETE CASCADE,
    lsn      pg_lsn NOT NULL
);

-- One row per owner a statement touched (not per link: an import of 10,000 links stamps its owner once).
-- greatest(): two writers of one owner wait on this row in turn, and the later commit keeps the larger stamp.
CREATE FUNCTION read_lsn_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO read_lsn AS r (owner_id, lsn)
    SELECT o.owner_id, pg_current_wal_insert_lsn()
    FROM (SELECT DISTINCT owner_id FROM changed WHERE owner_id IS NOT NULL) o
    ON CONFLICT (owner_id) DO UPDATE SET lsn = greatest(r.lsn, excluded.lsn);
    RETURN NULL;
END $$;

-- A trigger with a transition table has one event: three of them, one function.
CREATE TRIGGER links_read_lsn_insert AFTER INSERT ON links REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION read_lsn_stamp();
CREATE TRIGGER links_read_lsn_update AFTER UPDATE ON links REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION read_lsn_stamp();
CREATE TRIGGER links_read_lsn_delete AFTER DELETE ON links REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION read_lsn_stamp();
