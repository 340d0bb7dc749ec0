-- Put every camera into the grid of :version_id that covers it.
UPDATE camera c
SET grid_id = hit.grid_id
FROM (
    SELECT DISTINCT ON (c2.id) c2.id, g.id AS grid_id
    FROM camera c2
    LEFT JOIN grid g ON g.version_id = :version_id AND ST_Covers(g.geom, c2.geom)
    ORDER BY c2.id, g.id
) AS hit
WHERE c.id = hit.id
  AND c.grid_id IS DISTINCT FROM hit.grid_id;
