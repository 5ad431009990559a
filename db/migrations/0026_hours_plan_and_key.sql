-- Two fixes to 0025 (issues 13 and 17), measured with make bench-stats.
--
-- visit_hours_add (0025) plans its statement once per session, not for each call's arrays. PL/pgSQL plans
-- a statement for its parameters' values on its first five runs, and with the arrays of a batch as values
-- the planner estimated `id = ANY(ids)` element by element: a batch of 1,000 links (9,000 rows) took 250 ms
-- on a new connection against 30 to 45 ms with the plan for any values, which it then keeps.
ALTER FUNCTION visit_hours_add(bigint[], integer[], integer[], text[], bigint[], bigint[])
    SET plan_cache_mode = force_generic_plan;

-- A link's series reads its hours' totals from the key, without a heap page each, as it read them from
-- owner_link_hours' covering index before 0025: a year of one link's hours per day of Europe/Paris took 22 ms
-- through Caddy reading each row (1,252 pages for 8,761 hours of 30 values), against 15.6 ms before 0025. The
-- counts in the key cost the writes 16 bytes an entry: visit_hours_owner carries them already, so no update of a
-- row's counts was HOT (each wrote a new key entry) anyway.
ALTER TABLE visit_hours DROP CONSTRAINT visit_hours_pkey,
    ADD CONSTRAINT visit_hours_pkey PRIMARY KEY (link_id, bucket) INCLUDE (humans, bots);
