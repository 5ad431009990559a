-- A new link no longer sends a NOTIFY. The host's link table keeps no answer for a slug that has no link
-- (a miss stores nothing), so nothing any worker holds can be made wrong by an insert: only an update or a
-- delete can. Each insert cost a trigger call and a notification that every worker of every host read; a
-- million-line import sent a million of them.
CREATE OR REPLACE FUNCTION links_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hop_links', coalesce(OLD.domain_id, 0) || ':' || OLD.slug);
    IF TG_OP = 'UPDATE' AND (OLD.domain_id IS DISTINCT FROM NEW.domain_id OR OLD.slug <> NEW.slug) THEN
        PERFORM pg_notify('hop_links', coalesce(NEW.domain_id, 0) || ':' || NEW.slug);
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE TRIGGER links_notify AFTER UPDATE OR DELETE ON links
    FOR EACH ROW EXECUTE FUNCTION links_notify();
