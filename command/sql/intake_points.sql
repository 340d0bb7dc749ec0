-- intake_point.sql for a whole batch (arrays, one element per event, in
-- order): the repeat check, routing and the search for a stored open duplicate
-- of every point event in one round trip. Keep the two alike.
WITH p AS (
    SELECT i.*, ST_SetSRID(ST_MakePoint(i.lon, i.lat), 4326) AS g
    FROM unnest(
        CAST(:lon AS double precision[]), CAST(:lat AS double precision[]), CAST(:channel AS text[]),
        CAST(:external_id AS text[]), CAST(:code AS text[]), CAST(:at AS timestamptz[]),
        CAST(:window_s AS double precision[]), CAST(:radius_m AS double precision[]),
        CAST(:pad_deg AS double precision[])
    ) WITH ORDINALITY AS i(lon, lat, channel, external_id, code, at, window_s, radius_m, pad_deg, n)
)
SELECT
    p.n,
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
    (SELECT e.id FROM event e WHERE e.channel = p.channel AND e.external_id = p.external_id) AS existing_id,
    (
        SELECT coalesce(e.duplicate_of_id, e.id)
        FROM event e
        WHERE p.code IS NOT NULL
          AND e.category_code = p.code
          AND e.reported_at BETWEEN p.at - make_interval(secs => p.window_s)
                                AND p.at + make_interval(secs => p.window_s)
          AND e.state NOT IN ('closed', 'rejected')
          AND e.geom && ST_Expand(p.g, p.pad_deg)
          AND ST_DWithin(e.geom::geography, p.g::geography, p.radius_m)
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
) AS c ON true
ORDER BY p.n;
