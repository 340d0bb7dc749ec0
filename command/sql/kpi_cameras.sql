-- Cameras inside one area (:level, :area_id) owned by :departments (NULL:
-- anyone's) and how many are online.
WITH area AS (
    SELECT CASE CAST(:level AS text)
               WHEN 'grid' THEN (SELECT geom FROM grid WHERE id = :area_id)
               WHEN 'district' THEN NULL
               ELSE (SELECT geom FROM admin_area WHERE id = :area_id)
           END AS geom
)
SELECT count(*) AS cameras, count(*) FILTER (WHERE c.online) AS online
FROM camera c, area
WHERE (CAST(:level AS text) = 'district' OR (area.geom IS NOT NULL AND ST_Covers(area.geom, c.geom)))
  AND (CAST(:departments AS text[]) IS NULL OR c.owner_dept = ANY(CAST(:departments AS text[])));
