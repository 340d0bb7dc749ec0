-- The basemap's labels: where each road, street and community name is written, and from which zoom.
--
-- Roads: the rows of one name and kind are merged (ST_LineMerge), so a road imported as many short rows is
-- labelled along its continuous pieces, not once per row; a piece carries one anchor per :spacing_m metres
-- (at least one), in the middle of its share. Streets and communities: one anchor on the surface of the area.
--
-- minzoom: the layer's own (:street_z, :community_z, :arterial_z, :local_z), or later while the name would not fit:
-- a road's share shorter on screen than its name is wide, an area narrower than its name (the side of a square of
-- its area). A name is about :char_px pixels a character plus :pad_px; a metre is 2^z / (156543.03 cos lat) pixels.
-- maxzoom (exclusive, NULL for none): the streets' names give way to the communities' (:street_maxz).
-- angle: screen degrees clockwise from east (a CSS rotate), in (-90, 90] so text is never upside down, measured in
-- Web Mercator across ±:tangent_m metres around the anchor.
-- rank: which name gives way when two overlap on screen (the lower wins): streets, arterials, communities, locals.
WITH named AS (
    SELECT name, kind, ST_LineMerge(ST_CollectionExtract(ST_Collect(geom), 2)) AS geom
    FROM road
    WHERE name IS NOT NULL AND btrim(name) <> '' AND geom IS NOT NULL
    GROUP BY name, kind
), pieces AS (
    SELECT n.name, n.kind, d.geom, ST_Length(d.geom::geography) AS len_m
    FROM named n CROSS JOIN LATERAL ST_Dump(n.geom) d
), shares AS (
    SELECT p.name, p.kind, ST_Transform(p.geom, 3857) AS merc, p.len_m,
           greatest(1, floor(p.len_m / :spacing_m))::int AS n
    FROM pieces p
    WHERE p.len_m > 0
), anchors AS (
    SELECT s.name, s.kind, s.merc, s.len_m / s.n AS share_m,
           (i + 0.5) / s.n AS f, least(0.5 / s.n, :tangent_m / s.len_m) AS d
    FROM shares s CROSS JOIN LATERAL generate_series(0, s.n - 1) i
), roads AS (
    SELECT a.name, a.kind, a.share_m,
           ST_Transform(ST_LineInterpolatePoint(a.merc, a.f), 4326) AS pt,
           ST_LineInterpolatePoint(a.merc, greatest(0, a.f - a.d)) AS p0,
           ST_LineInterpolatePoint(a.merc, least(1, a.f + a.d)) AS p1
    FROM anchors a
), areas AS (
    SELECT level, name, ST_PointOnSurface(geom) AS pt, sqrt(ST_Area(geom::geography)) AS side_m
    FROM admin_area
    WHERE level IN ('street', 'community') AND geom IS NOT NULL AND NOT ST_IsEmpty(geom)
      AND name IS NOT NULL AND btrim(name) <> ''
), labels AS (
    SELECT 'road' AS layer, name, kind, pt, share_m AS room_m,
           CASE WHEN kind = 'arterial' THEN :arterial_z ELSE :local_z END AS base_z,
           NULL::int AS maxzoom,
           CASE WHEN ST_X(p1) = ST_X(p0) THEN 90.0
                ELSE degrees(atan((ST_Y(p0) - ST_Y(p1)) / (ST_X(p1) - ST_X(p0)))) END AS angle
    FROM roads
    UNION ALL
    SELECT level, name, NULL, pt, side_m,
           CASE WHEN level = 'street' THEN :street_z ELSE :community_z END,
           CASE WHEN level = 'street' THEN CAST(:street_maxz AS int) END,
           0.0
    FROM areas
)
SELECT layer, name, kind, round(angle::numeric, 1)::float AS angle, maxzoom,
       CASE WHEN layer = 'street' THEN 0 WHEN kind = 'arterial' THEN 1 WHEN layer = 'community' THEN 2 ELSE 3 END
           AS rank,
       least(:top_z, greatest(base_z, ceil(log(2.0, greatest(1e-9,
           (char_length(name) * :char_px + :pad_px) * 156543.03392 * cos(radians(ST_Y(pt))) / greatest(room_m, 1e-3)
       )::numeric))))::int AS minzoom,
       ST_X(pt) AS lon, ST_Y(pt) AS lat
FROM labels
ORDER BY rank, room_m DESC, name;
