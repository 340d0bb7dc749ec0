-- Which of a batch of WGS 84 points lie farther than :margin_m metres from the
-- district (0-based indexes, in order). A store without a district row refuses
-- nothing: there is no boundary to hold points to. The box test first keeps
-- the geography distance to the points near the edge.
WITH d AS (SELECT geom FROM admin_area WHERE level = 'district'),
p AS (
    SELECT i - 1 AS ix, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS g
    FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[])) WITH ORDINALITY AS f(lon, lat, i)
)
SELECT p.ix
FROM p
WHERE EXISTS (SELECT 1 FROM d)
  AND NOT EXISTS (
      SELECT 1 FROM d
      WHERE ST_Intersects(d.geom, p.g)
         OR ST_DWithin(d.geom::geography, p.g::geography, :margin_m)
  )
ORDER BY p.ix;
