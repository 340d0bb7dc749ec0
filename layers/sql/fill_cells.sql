-- Tessellation cells for the buildings that have none (a district that loaded
-- its own footprints): the Voronoi cell of every building's point on surface,
-- among all buildings, clipped to the building's block when its point lies in
-- it, else to the district outline (else left unclipped). Drawn in the metric
-- CRS :srid, stored in EPSG:4326 like every geometry. Buildings whose points
-- coincide share a cell; grids are unions of cells, so they tile the district.
WITH pts AS (
    SELECT b.id, b.block_id, ST_Transform(ST_PointOnSurface(b.geom), :srid) AS p
    FROM building b
),
frame AS (
    SELECT ST_Transform(ST_Union(geom), :srid) AS geom FROM admin_area WHERE level = 'district'
),
cells AS (
    SELECT (ST_Dump(ST_VoronoiPolygons(ST_Collect(p), 0.0,
                                       ST_Expand(ST_Envelope(ST_Collect(p)), 2000.0)))).geom AS cell
    FROM pts
),
owned AS (
    SELECT DISTINCT ON (pts.id) pts.id, pts.p, pts.block_id, c.cell
    FROM pts JOIN cells c ON ST_Intersects(c.cell, pts.p)
    ORDER BY pts.id
),
clipped AS (
    SELECT o.id,
           CASE WHEN blk.id IS NOT NULL AND ST_Intersects(ST_Transform(blk.geom, :srid), o.p)
                    THEN ST_Intersection(o.cell, ST_Transform(blk.geom, :srid))
                WHEN f.geom IS NOT NULL AND ST_Intersects(f.geom, o.p) THEN ST_Intersection(o.cell, f.geom)
                ELSE o.cell END AS cell
    FROM owned o
    LEFT JOIN block blk ON blk.id = o.block_id
    CROSS JOIN frame f
)
UPDATE building b
SET cell = ST_Multi(ST_CollectionExtract(ST_Transform(c.cell, 4326), 3))
FROM clipped c
WHERE b.id = c.id AND b.cell IS NULL;
