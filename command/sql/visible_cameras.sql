-- Online cameras that can see (:lon, :lat): within their range (metres, on the
-- spheroid) and, unless dome or PTZ (which turn all round) or without a
-- heading, with the point inside heading ± fov/2 (compass degrees). The
-- bounding box of the longest range lets the GiST index make the first cut;
-- max(range_m) is one look-up in its index.
WITH near AS (
    SELECT c.id, c.code, c.name, c.kind, c.heading_deg, c.fov_deg, c.range_m,
           ST_Distance(c.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS distance_m,
           degrees(ST_Azimuth(c.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography))
               AS bearing_deg
    FROM camera c
    WHERE c.online
      AND c.geom && ST_Expand(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326),
                              (SELECT max(range_m) FROM camera) / (111320.0 * cos(radians(:lat))) * 1.01)
      AND ST_DWithin(c.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, c.range_m)
)
SELECT * FROM near
WHERE kind IN ('dome', 'ptz') OR heading_deg IS NULL OR fov_deg >= 360 OR bearing_deg IS NULL
   OR abs((bearing_deg - heading_deg) - 360.0 * floor((bearing_deg - heading_deg + 180.0) / 360.0)) <= fov_deg / 2
ORDER BY distance_m, id
LIMIT :limit;
