-- Every link has an owner. A link made by hand in SQL without one stopped the counting of every visit on
-- the host: its visits' summaries are per owner, so the batch that held them failed on each try (a NOT NULL
-- violation in owner_link_hours), and every later batch waited behind it. Links without an owner go to the
-- owner "unowned", made only if there are any, so that `hop keys create unowned` reaches them; from now on
-- such an insert is refused where it is made.
INSERT INTO owners (name)
SELECT 'unowned'
WHERE EXISTS (SELECT 1 FROM links WHERE owner_id IS NULL)
  AND NOT EXISTS (SELECT 1 FROM owners WHERE name = 'unowned');
UPDATE links SET owner_id = (SELECT id FROM owners WHERE name = 'unowned')
WHERE owner_id IS NULL;
ALTER TABLE links ALTER COLUMN owner_id SET NOT NULL;
