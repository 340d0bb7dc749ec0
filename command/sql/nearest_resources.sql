-- The :per_kind nearest resources of each kind in :kinds to (:lon, :lat)
-- (the point written out in the ORDER BY so that the GiST index orders them).
SELECT k.kind, r.id, r.code, r.name, r.capacity, ST_X(r.geom) AS lon, ST_Y(r.geom) AS lat,
       ST_Distance(r.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS distance_m
FROM unnest(CAST(:kinds AS text[])) WITH ORDINALITY AS k(kind, ord)
CROSS JOIN LATERAL (
    SELECT r.* FROM resource r WHERE r.kind = k.kind
    ORDER BY r.geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)
    LIMIT :per_kind
) AS r
ORDER BY k.ord, distance_m;
