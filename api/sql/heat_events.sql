-- The located events of the heat map as x, y in the district's metric CRS (:srid): reported within
-- [:since, :until) (either end open, NULL), in one of :states (NULL: every state), of the events the key sees
-- (api.access: the :see_* parameters). One statement, every value bound: the map is made from these rows only.
SELECT ST_X(p.xy) AS x, ST_Y(p.xy) AS y
FROM event e
CROSS JOIN LATERAL (SELECT ST_Transform(e.geom, CAST(:srid AS integer)) AS xy) p
WHERE e.geom IS NOT NULL AND NOT ST_IsEmpty(e.geom)
  AND (CAST(:since AS timestamptz) IS NULL OR e.reported_at >= CAST(:since AS timestamptz))
  AND (CAST(:until AS timestamptz) IS NULL OR e.reported_at < CAST(:until AS timestamptz))
  AND (CAST(:states AS text[]) IS NULL OR e.state = ANY(CAST(:states AS text[])))
  AND /* sees events e */;
