-- Everything intake needs to know about a point event, in one round trip: is
-- (:channel, :external_id) already registered; the routing of route_point.sql
-- (keep the two alike); and the root of an open event of leaf :code within
-- :radius_m and :window_s (as in find_duplicate.sql; skipped when :code is NULL).
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g)
SELECT
    CASE WHEN g.id IS NOT NULL THEN true ELSE EXISTS (
        SELECT 1 FROM admin_area d WHERE d.level = 'district' AND ST_Covers(d.geom, p.g)
    ) END AS inside,
    g.id AS grid_id,
    c.id AS community_id,
    coalesce(c.parent_id, (
        SELECT a.id FROM admin_area a
        WHERE a.level = 'street' AND ST_Covers(a.geom, p.g)
        ORDER BY a.id LIMIT 1
    )) AS street_id,
    (SELECT e.id FROM event e WHERE e.channel = :channel AND e.external_id = :external_id) AS existing_id,
    (
        SELECT coalesce(e.duplicate_of_id, e.id)
        FROM event e
        WHERE CAST(:code AS text) IS NOT NULL
          AND e.category_code = :code
          AND e.reported_at BETWEEN CAST(:at AS timestamptz) - make_interval(secs => :window_s)
                                AND CAST(:at AS timestamptz) + make_interval(secs => :window_s)
          AND e.state NOT IN ('closed', 'rejected')
          AND e.geom && ST_Expand(p.g, :pad_deg)
          AND ST_DWithin(e.geom::geography, p.g::geography, :radius_m)
        ORDER BY e.reported_at, e.id
        LIMIT 1
    ) AS root_id
FROM p
LEFT JOIN LATERAL (
    SELECT g.id FROM grid g
    WHERE g.version_id = (SELECT id FROM grid_version WHERE is_current) AND ST_Covers(g.geom, p.g)
    ORDER BY g.id LIMIT 1
) AS g ON true
LEFT JOIN LATERAL (
    SELECT a.id, a.parent_id FROM admin_area a
    WHERE a.level = 'community' AND ST_Covers(a.geom, p.g)
    ORDER BY a.id LIMIT 1
) AS c ON true;
