-- A page of the audit log, newest first (time, then id), filtered by any of:
-- who (:actor, any part of "role:name", case-insensitive, LIKE wildcards
-- escaped by the caller), what (:action), on what (:entity, :entity_id) and
-- when ([:since, :until)). A NULL filter is no filter. A signed-in person's
-- rows ("role:login") carry the person's name, and "who" finds it too.
SELECT a.id, a.at, a.actor, p.name AS person, a.action, a.entity, a.entity_id, a.detail
FROM audit_log a
LEFT JOIN person p ON lower(p.login) = lower(split_part(a.actor, ':', 2)) AND p.role = split_part(a.actor, ':', 1)
WHERE (CAST(:actor AS text) IS NULL OR a.actor ILIKE CAST(:actor AS text) OR p.name ILIKE CAST(:actor AS text))
  AND (CAST(:action AS text) IS NULL OR a.action = CAST(:action AS text))
  AND (CAST(:entity AS text) IS NULL OR a.entity = CAST(:entity AS text))
  AND (CAST(:entity_id AS text) IS NULL OR a.entity_id = CAST(:entity_id AS text))
  AND (CAST(:since AS timestamptz) IS NULL OR a.at >= CAST(:since AS timestamptz))
  AND (CAST(:until AS timestamptz) IS NULL OR a.at < CAST(:until AS timestamptz))
ORDER BY a.at DESC, a.id DESC
LIMIT :limit OFFSET :offset;
