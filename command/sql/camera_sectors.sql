-- Cameras' view sectors as polygons (EPSG:4326 GeoJSON), for the cameras in
-- current grid :grid_id, or all of them when it is NULL.
SELECT c.id, c.code, c.kind, c.online, c.heading_deg, c.fov_deg, c.range_m,
       ST_AsGeoJSON(gridwall_camera_sector(c.geom, c.kind, c.heading_deg, c.fov_deg, c.range_m, :srid), 7) AS sector
FROM camera c
WHERE (CAST(:grid_id AS integer) IS NULL OR c.grid_id = :grid_id)
  AND (NOT :online_only OR c.online)
ORDER BY c.id;
