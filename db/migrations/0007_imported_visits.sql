-- Imports (issue 15): the visit total a link brought from the service it came from. Those exports hold a
-- total, not the per-day history, so it is kept apart and added to the visits hop counted.
ALTER TABLE links ADD COLUMN imported_visits bigint NOT NULL DEFAULT 0 CHECK (imported_visits >= 0);
