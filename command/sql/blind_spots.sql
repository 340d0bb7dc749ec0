-- Per current grid (all, or those in :grid_ids): the length of street inside
-- the grid, and how much of it no online camera's view sector covers. Lengths
-- in metres in the metric CRS :srid. Streets are cut by the grid in EPSG:4326,
-- where a centre-line along a grid border is exactly on it (a street on a
-- border counts for both grids: both patrol it). Each camera's sector is drawn
-- once (cameras pre-selected by the grids' extent grown by the longest range,
-- GiST index on camera.geom); a grid unions only the sectors that touch its
-- streets, which is what keeps a whole district to about a second.
WITH g AS (
    SELECT g.id, g.code, g.geom
    FROM grid g
    WHERE g.version_id = (SELECT id FROM grid_version WHERE is_current)
      AND (CAST(:grid_ids AS integer[]) IS NULL OR g.id = ANY(CAST(:grid_ids AS integer[])))
),
pad AS (
    SELECT coalesce((SELECT max(range_m) FROM camera), 0)
           / (111320.0 * cos(radians((SELECT ST_Y(ST_Centroid(ST_Extent(geom)::geometry)) FROM g)))) * 1.01 AS deg
),
box AS (
    SELECT ST_Expand(ST_Extent(g.geom)::geometry, pad.deg) AS geom FROM g CROSS JOIN pad GROUP BY pad.deg
),
streets AS (
    SELECT g.id, ST_Transform(ST_Union(ST_CollectionExtract(ST_Intersection(r.geom, g.geom), 2)), :srid) AS geom
    FROM g JOIN road r ON r.geom && g.geom AND ST_Intersects(r.geom, g.geom)
    GROUP BY g.id
),
sectors AS MATERIALIZED (
    SELECT sec.geom, ST_Transform(sec.geom, :srid) AS metric
    FROM camera c CROSS JOIN box
    CROSS JOIN LATERAL (SELECT gridwall_camera_sector(c.geom, c.kind, c.heading_deg, c.fov_deg, c.range_m, :srid)
                        AS geom) sec
    WHERE c.online AND c.geom && box.geom
),
seen AS (
    SELECT s.id, ST_Union(v.metric) AS geom
    FROM streets s
    JOIN g ON g.id = s.id
    JOIN sectors v ON v.geom && g.geom AND ST_Intersects(v.metric, s.geom)
    GROUP BY s.id
),
parts AS (
    SELECT g.id, g.code, s.geom AS street,
           CASE WHEN s.geom IS NULL THEN NULL
                WHEN v.geom IS NULL THEN s.geom
                ELSE ST_CollectionExtract(ST_Difference(s.geom, v.geom), 2) END AS blind
    FROM g
    LEFT JOIN streets s ON s.id = g.id
    LEFT JOIN seen v ON v.id = g.id
)
SELECT id AS grid_id, code AS grid_code,
       coalesce(ST_Length(street), 0) AS street_m,
       coalesce(ST_Length(blind), 0) AS blind_m,
       CASE WHEN :with_geometry THEN ST_AsGeoJSON(ST_Transform(blind, 4326), 7) END AS blind_geojson
FROM parts
ORDER BY blind_m DESC, grid_id;
