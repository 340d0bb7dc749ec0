-- Route a point (:lon, :lat in EPSG:4326): which current grid and community
-- cover it, its street (the community's parent, else the street covering it),
-- and whether it is inside the district (a point in a grid is: grids tile the
-- district, so the district outline is only tested when no grid covers it). A
-- point on a shared border is covered by both sides; the lower id wins, as when
-- members are assigned.
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
    )) AS street_id
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
