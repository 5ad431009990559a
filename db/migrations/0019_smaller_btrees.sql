-- Two of links' btrees made smaller and cheaper to keep (issue 15: a large import is mostly PostgreSQL
-- maintaining links' indexes).
--
-- links_owner_url found a link by owner and md5(url): a 32-character text key whose inserts land anywhere in
-- the index. Its key is now hashtextextended(url, 0), an 8-byte integer (the hash PostgreSQL's own hash
-- partitioning uses, so it is stable): about half the size (34 against 16 MB at 400,000 links) and a few per
-- cent less of an import's CPU. Statements compare the url itself as well, so a collision costs a row read.
--
-- links_owner_id was (owner_id, id DESC): a new link, the highest id, went to the start of its owner's range,
-- where a page split leaves both halves half full (21 MB at 400,000 links). In ascending order it goes to the
-- end of the range, which PostgreSQL splits to leave the left page full (12 MB); the newest-first walks read
-- the same index backwards.
DROP INDEX links_owner_url;
CREATE INDEX links_owner_url ON links (owner_id, hashtextextended(url, 0));
DROP INDEX links_owner_id;
CREATE INDEX links_owner_id ON links (owner_id, id);
