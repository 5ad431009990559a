-- bench/hours.sh variant: no index of visit_hours carries a count and its new pages keep half their room, so
-- adding to an hour row can be a HOT update. Measured 2026-12-07 (see README, Performance): the writes gain,
-- but the link's series and the owner's top links then read each row's heap page, and make bench-stats' top
-- links went from 33 to 106 ms in PostgreSQL (target 100 for the request), the table 65 % larger.
ALTER TABLE visit_hours DROP CONSTRAINT visit_hours_pkey,
    ADD CONSTRAINT visit_hours_pkey PRIMARY KEY (link_id, bucket);
DROP INDEX visit_hours_owner;
CREATE INDEX visit_hours_owner ON visit_hours (owner_id, bucket);
ALTER TABLE visit_hours SET (fillfactor = 50);
VACUUM FULL visit_hours;
