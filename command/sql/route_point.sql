-- Route a point (:lon, :lat in EPSG:4326): the current grid, community and
-- street covering it and whether it is inside the district. The rules live in
-- one place, the SQL function gridwall_route_point (migration 0005), which
-- intake_point.sql and intake_points.sql call too.
SELECT r.inside, r.grid_id, r.community_id, r.street_id
FROM gridwall_route_point(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) AS r;
