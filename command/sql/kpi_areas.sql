-- Figures of every area of one level (:level = street | community | grid) for
-- the events reported in [:start, :end), as of :as_of, of the :departments'
-- events (NULL: every department's), in one grouped pass: the wall's street
-- chart asks once instead of once per street. Each area's figures are those
-- kpis.sql gives for it alone (duplicates left out, a history load's own
-- on_time verdict wins over the times); an area without events counts zero.
-- Grids are the current version's.
WITH area AS (
    SELECT a.id, a.code, a.name FROM admin_area a WHERE a.level = CAST(:level AS text)
    UNION ALL
    SELECT g.id, g.code, g.name FROM grid g
    WHERE CAST(:level AS text) = 'grid' AND g.version_id = (SELECT id FROM grid_version WHERE is_current)
),
own AS (
    SELECT CASE CAST(:level AS text)
               WHEN 'street' THEN e.street_id
               WHEN 'community' THEN e.community_id
               WHEN 'grid' THEN e.grid_id
           END AS area_id,
           e.state, e.on_time, e.closed_at, e.deadline_at
    FROM event e
    WHERE e.reported_at >= CAST(:start AS timestamptz) AND e.reported_at < CAST(:end AS timestamptz)
      AND e.duplicate_of_id IS NULL
      AND (CAST(:departments AS text[]) IS NULL OR e.department = ANY(CAST(:departments AS text[])))
),
figures AS (
    SELECT area_id,
           count(*) AS total,
           count(*) FILTER (WHERE state = 'rejected') AS rejected,
           count(*) FILTER (WHERE state = 'closed') AS closed,
           count(*) FILTER (WHERE state = 'closed' AND coalesce(on_time, closed_at <= deadline_at)) AS closed_on_time,
           count(*) FILTER (WHERE state <> 'rejected' AND CASE
               WHEN state = 'closed' THEN coalesce(NOT on_time, deadline_at < closed_at)
               ELSE deadline_at < CAST(:as_of AS timestamptz) END) AS overdue
    FROM own
    WHERE area_id IS NOT NULL
    GROUP BY area_id
)
SELECT a.id, a.code, a.name,
       coalesce(f.total, 0) AS total, coalesce(f.rejected, 0) AS rejected, coalesce(f.closed, 0) AS closed,
       coalesce(f.closed_on_time, 0) AS closed_on_time, coalesce(f.overdue, 0) AS overdue
FROM area a LEFT JOIN figures f ON f.area_id = a.id
ORDER BY total DESC, a.code;
