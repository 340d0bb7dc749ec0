-- Flag open events past their deadline and raise their supervision level (督办):
-- 1 once late, 2 when late by as long again as the event was allowed, 3 at twice
-- that. An event is written, and audited, only when it is first flagged or its
-- level goes up; a level raised by hand is never lowered.
WITH due AS (
    SELECT e.id,
           least(3, 1 + floor(
               extract(epoch FROM (CAST(:now AS timestamptz) - e.deadline_at))
               / greatest(extract(epoch FROM (e.deadline_at - e.reported_at)), 3600)
           ))::smallint AS level
    FROM event e
    WHERE e.deadline_at < CAST(:now AS timestamptz)
      AND e.state = ANY(:open)
      AND e.duplicate_of_id IS NULL
),
up AS (
    UPDATE event e
    SET overdue_at = coalesce(e.overdue_at, CAST(:now AS timestamptz)),
        supervision_level = greatest(e.supervision_level, due.level),
        supervised_at = CAST(:now AS timestamptz)
    FROM due
    WHERE e.id = due.id AND (e.overdue_at IS NULL OR due.level > e.supervision_level)
    RETURNING e.id, e.supervision_level, e.deadline_at
),
aud AS (
    INSERT INTO audit_log (actor, action, entity, entity_id, detail)
    SELECT :actor, 'overdue', 'event', up.id::text,
           jsonb_build_object('level', up.supervision_level, 'deadline_at', up.deadline_at,
                              'flagged_at', CAST(:now AS timestamptz))
    FROM up
)
SELECT id, supervision_level FROM up ORDER BY id;
