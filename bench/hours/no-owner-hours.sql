-- bench/hours.sh variant: visit_hours_put without its owner's hours (the owners CTE taken out of the function
-- as it stands), the most that summing them anywhere else could save the statement.
DO $$
DECLARE
    def text := pg_get_functiondef('visit_hours_put'::regproc);
    cut text := regexp_replace(def, 'owners AS \(INSERT INTO owner_hours.*o\.bots \+ excluded\.bots\),\s*', '');
BEGIN
    IF cut = def THEN
        RAISE EXCEPTION 'no owners CTE found in visit_hours_put';
    END IF;
    EXECUTE cut;
END $$;
