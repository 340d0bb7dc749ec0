-- The building whose address is the longest of :candidates (the incoming
-- address and its prefixes, so that "…12号3栋501室" finds "…12号"), with a
-- point on its surface to route by.
SELECT b.id, b.address, ST_X(pt.g) AS lon, ST_Y(pt.g) AS lat
FROM building b
CROSS JOIN LATERAL (SELECT ST_PointOnSurface(b.geom) AS g) AS pt
WHERE b.address = ANY(:candidates)
ORDER BY length(b.address) DESC, b.id
LIMIT 1;
