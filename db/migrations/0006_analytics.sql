-- Analytics (issue 13): visits counted per link, per hour (per day once rolled up) and per dimension value,
-- humans and bots apart. A row is a (link, dimension, bucket, value) and its two counts, so storage grows with
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
-- what the hourly roll-up looks for
CREATE INDEX visit_counts_hourly ON visit_counts (bucket) WHERE hourly;

-- Yesterday's counts (per UTC day and referrer host, every visit) become daily rows of humans: the other
-- dimensions were never recorded, so they are 'unknown'.
INSERT INTO visit_counts (link_id, dim, bucket, hourly, value, humans, bots)
SELECT link_id, 0, day::timestamp AT TIME ZONE 'UTC', false, '', sum(n), 0 FROM visits GROUP BY link_id, day
UNION ALL
SELECT link_id, 1, day::timestamp AT TIME ZONE 'UTC', false, host, n, 0 FROM visits
UNION ALL
SELECT v.link_id, d.dim, v.day::timestamp AT TIME ZONE 'UTC', false, 'unknown', sum(v.n), 0
FROM visits v CROSS JOIN generate_series(2, 8) AS d(dim) GROUP BY v.link_id, d.dim, v.day;

DROP TABLE visits;
