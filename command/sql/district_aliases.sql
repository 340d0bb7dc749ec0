-- The district's own aliases (of one :source, or all when it is NULL), each
-- with its leaf in the current taxonomy version: leaf is NULL and active is
-- false when that version has no leaf of the alias's code (resolving then
-- ignores the alias; it comes back to life if a later version has the leaf).
SELECT a.id, a.source, a.alias, a.code, a.created_by, a.created_at,
       c.name_zh AS leaf, c.code IS NOT NULL AS active
FROM district_alias a
LEFT JOIN taxonomy_version t ON t.is_current
LEFT JOIN event_class c ON c.version_id = t.id AND c.code = a.code AND c.level = 3
WHERE CAST(:source AS text) IS NULL OR a.source = :source
ORDER BY a.source, a.alias;
