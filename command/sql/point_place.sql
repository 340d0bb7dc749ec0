-- The current grid covering a point and the area around it (its community,
-- else its street): whose workers a click on the map has a claim on.
WITH q AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS p)
SELECT (SELECT g.id FROM grid g
        WHERE g.version_id = (SELECT id FROM grid_version WHERE is_current) AND ST_Covers(g.geom, q.p)
        ORDER BY g.id LIMIT 1) AS grid_id,
       coalesce((SELECT a.id FROM admin_area a WHERE a.level = 'community' AND ST_Covers(a.geom, q.p)
                 ORDER BY a.id LIMIT 1),
                (SELECT a.id FROM admin_area a WHERE a.level = 'street' AND ST_Covers(a.geom, q.p)
                 ORDER BY a.id LIMIT 1)) AS area_id
FROM q;
