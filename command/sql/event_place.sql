-- Where to dispatch to for an event: its point, else a point inside its
-- community or street; with the current grid that covers its own point (none
-- for an event located only by area) and the area it was located by (its
-- community, else its street), whose grids' workers it has a claim on.
WITH e AS (
    SELECT e.id, e.state, e.duplicate_of_id, e.category_code, e.geom IS NOT NULL AS has_point,
           coalesce(e.community_id, e.street_id) AS area_id,
           coalesce(e.geom,
                    (SELECT ST_PointOnSurface(a.geom) FROM admin_area a WHERE a.id = e.community_id),
                    (SELECT ST_PointOnSurface(a.geom) FROM admin_area a WHERE a.id = e.street_id)) AS g
    FROM event e WHERE e.id = :id
)
SELECT e.id, e.state, e.duplicate_of_id, e.category_code, e.has_point, e.area_id,
       ST_X(e.g) AS lon, ST_Y(e.g) AS lat,
       (SELECT g.id FROM grid g
        WHERE e.has_point AND g.version_id = (SELECT id FROM grid_version WHERE is_current)
          AND ST_Covers(g.geom, e.g)
        ORDER BY g.id LIMIT 1) AS grid_id
FROM e;
