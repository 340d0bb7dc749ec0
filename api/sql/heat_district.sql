-- The district's outline as a box in its metric CRS (:srid): what the heat map's grid covers, so that maps of two
-- windows line up cell for cell. No row values when the store holds no district.
SELECT ST_XMin(b) AS minx, ST_YMin(b) AS miny, ST_XMax(b) AS maxx, ST_YMax(b) AS maxy
FROM (SELECT ST_Extent(ST_Transform(geom, CAST(:srid AS integer))) AS b
      FROM admin_area WHERE level = 'district' AND geom IS NOT NULL) d;
