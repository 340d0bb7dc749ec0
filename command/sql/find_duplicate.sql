-- The first open event of leaf :code within :radius_m metres of (:lon, :lat)
-- reported within :window_s seconds of :at; the answer is the root of its
-- duplicate chain. The bounding box in degrees (:pad_deg, at least the radius)
-- lets the GiST index on event.geom do the first cut.
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g)
SELECT coalesce(e.duplicate_of_id, e.id) AS root_id, e.id AS match_id,
       ST_Distance(e.geom::geography, p.g::geography) AS distance_m
FROM event e, p
WHERE e.category_code = :code
  AND e.reported_at BETWEEN CAST(:at AS timestamptz) - make_interval(secs => :window_s)
                        AND CAST(:at AS timestamptz) + make_interval(secs => :window_s)
  AND e.state NOT IN ('closed', 'rejected')
  AND e.geom && ST_Expand(p.g, :pad_deg)
  AND ST_DWithin(e.geom::geography, p.g::geography, :radius_m)
  AND (CAST(:exclude_id AS bigint) IS NULL OR e.id <> :exclude_id)
ORDER BY e.reported_at, e.id
LIMIT 1;
