-- The :per_kind nearest free resources of each kind in :kinds to (:lon, :lat)
-- (the point written out in the ORDER BY so that the GiST index orders them).
-- A resource is busy while an event holds an active (unreleased) resource
-- assignment of it, and is not offered to anyone else until released.
SELECT k.kind, r.id, r.code, r.name, r.capacity, ST_X(r.geom) AS lon, ST_Y(r.geom) AS lat,
       ST_Distance(r.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS distance_m
FROM unnest(CAST(:kinds AS text[])) WITH ORDINALITY AS k(kind, ord)
CROSS JOIN LATERAL (
    SELECT r.* FROM resource r
    WHERE r.kind = k.kind
      AND NOT EXISTS (SELECT 1 FROM assignment a
                      WHERE a.resource_id = r.id AND a.kind = 'resource' AND a.released_at IS NULL)
    ORDER BY r.geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)
    LIMIT :per_kind
) AS r
ORDER BY k.ord, distance_m;
