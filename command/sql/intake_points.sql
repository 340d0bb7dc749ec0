-- The lookup of a whole batch of point events (arrays, one element per event,
-- in order), in one round trip: is (channel, external_id) already registered,
-- the routing (gridwall_route_point, migration 0005, as for a single event),
-- and the root of a stored open duplicate of the same leaf within its radius
-- and window (the same test as intake_point.sql and find_duplicate.sql).
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
    r.inside,
    r.grid_id,
    r.community_id,
    r.street_id,
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
CROSS JOIN LATERAL gridwall_route_point(p.g) AS r
ORDER BY p.n;
