-- The resources an event holds now (active resource assignments), nearest first.
SELECT r.id, r.code, r.name, r.kind, r.capacity, coalesce(a.straight_m, 0) AS distance_m
FROM assignment a JOIN resource r ON r.id = a.resource_id
WHERE a.event_id = :e AND a.kind = 'resource' AND a.released_at IS NULL
ORDER BY a.straight_m, r.id;
