-- Two costs of writing hours at scale (issue 17), found by profiling PostgreSQL under make bench-scale's Zipf
-- load over a million links.
--
-- ANALYZE no longer samples visit_hours' packed arrays. Autovacuum analyzes the table as often as once a
-- minute while visits arrive (every write of an hour changes its row), and most of that time went to sorting
-- arrays for statistics no plan uses: no statement filters or joins on dims, vals, hs or bs. On a bench-scale
-- database (65,000 hour rows) ANALYZE visit_hours took 1.23 s, and 0.32 s without them; in a profile of
-- PostgreSQL over 10 s of that load, the autovacuum worker sorting arrays was the busiest process.
-- The visit log's batches are never filtered on either.
ALTER TABLE visit_hours ALTER dims SET STATISTICS 0, ALTER vals SET STATISTICS 0, ALTER hs SET STATISTICS 0,
    ALTER bs SET STATISTICS 0;
ALTER TABLE visit_log ALTER data SET STATISTICS 0;

-- visit_hours_put finds each link-hour's link (whether it still exists, and its owner) from the index alone.
-- Through the primary key every link read its heap page: a tenth of the statement's time in the Zipf cells,
-- where nearly every link-hour is a different link on a page of its own, and over a million links those pages
-- do not stay in shared buffers (196 MB of links against 128 MB by default; this index is about 30 MB).
CREATE INDEX links_id_owner ON links (id) INCLUDE (owner_id);
