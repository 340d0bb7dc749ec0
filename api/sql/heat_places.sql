-- Where each hotspot (:lons[i], :lats[i], WGS 84) lies: the current grid holding it and the street around it
-- (NULL outside them), in the hotspots' order.
SELECT h.i, g.id AS grid_id, g.code AS grid_code, s.name AS street
FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[])) WITH ORDINALITY AS h(lon, lat, i)
CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(h.lon, h.lat), 4326) AS p) pt
LEFT JOIN LATERAL (
    SELECT gr.id, gr.code FROM grid gr
    WHERE gr.version_id = (SELECT id FROM grid_version WHERE is_current) AND ST_Intersects(gr.geom, pt.p)
    ORDER BY gr.id LIMIT 1
) g ON true
LEFT JOIN LATERAL (
    SELECT a.name FROM admin_area a WHERE a.level = 'street' AND ST_Intersects(a.geom, pt.p) ORDER BY a.id LIMIT 1
) s ON true
ORDER BY h.i;
