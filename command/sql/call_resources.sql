-- Assign resources (:ids, at :ds metres) to event :e. A resource another event
-- took meanwhile is skipped, not doubled: the partial unique index on active
-- resource assignments (uq_assignment_active_resource) makes the second insert
-- wait for the first to commit and then do nothing. Returns the ids assigned.
INSERT INTO assignment (event_id, kind, resource_id, assigned_by, straight_m)
SELECT :e, 'resource', r.id, :actor, r.d
FROM unnest(CAST(:ids AS integer[]), CAST(:ds AS float8[])) AS r(id, d)
ON CONFLICT (resource_id) WHERE released_at IS NULL AND resource_id IS NOT NULL DO NOTHING
RETURNING resource_id;
