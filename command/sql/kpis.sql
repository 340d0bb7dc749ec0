-- Figures for the events reported in [:start, :end) in one area (:level =
-- district | street | community | grid, :area_id), as of :as_of, of the
-- :departments' events (NULL: every department's). Duplicates are counted
-- apart and left out of every other figure: one problem, one count.
WITH ev AS (
    SELECT e.*
    FROM event e
    WHERE e.reported_at >= CAST(:start AS timestamptz) AND e.reported_at < CAST(:end AS timestamptz)
      AND CASE CAST(:level AS text)
              WHEN 'district' THEN true
              WHEN 'street' THEN e.street_id = :area_id
              WHEN 'community' THEN e.community_id = :area_id
              WHEN 'grid' THEN e.grid_id = :area_id
          END
      AND (CAST(:departments AS text[]) IS NULL OR e.department = ANY(CAST(:departments AS text[])))
),
own AS (SELECT * FROM ev WHERE duplicate_of_id IS NULL)
SELECT
    (SELECT count(*) FROM own) AS total,
    (SELECT count(*) FROM ev WHERE duplicate_of_id IS NOT NULL) AS duplicates,
    (SELECT count(*) FROM own WHERE state = 'rejected') AS rejected,
    (SELECT count(*) FROM own WHERE state = 'closed') AS closed,
    -- a history load's own verdict (on_time) wins over the times: the source knew its own deadlines
    (SELECT count(*) FROM own WHERE state = 'closed' AND coalesce(on_time, closed_at <= deadline_at))
        AS closed_on_time,
    (SELECT avg(extract(epoch FROM closed_at - reported_at)) / 3600.0 FROM own WHERE state = 'closed')
        AS mean_hours_to_close,
    (SELECT count(*) FROM own
      WHERE state <> 'rejected' AND CASE
          WHEN state = 'closed' THEN coalesce(NOT on_time, deadline_at < closed_at)
          ELSE deadline_at < CAST(:as_of AS timestamptz) END)
        AS overdue,
    (SELECT count(*) FROM own WHERE state = 'closed' AND rating IS NOT NULL) AS rated,
    (SELECT avg(rating) FROM own WHERE state = 'closed' AND rating IS NOT NULL) AS mean_rating,
    (SELECT count(*) FROM own WHERE state = 'closed' AND rating >= 4) AS satisfied,
    (SELECT coalesce(jsonb_object_agg(k, n), '{}') FROM
        (SELECT left(category_code, 2) AS k, count(*) AS n FROM own GROUP BY 1) s) AS by_class,
    (SELECT coalesce(jsonb_object_agg(k, n), '{}') FROM
        (SELECT left(category_code, 4) AS k, count(*) AS n FROM own GROUP BY 1) s) AS by_subclass,
    (SELECT coalesce(jsonb_object_agg(k, n), '{}') FROM
        (SELECT channel AS k, count(*) AS n FROM own GROUP BY 1) s) AS by_channel,
    (SELECT coalesce(jsonb_object_agg(k, n), '{}') FROM
        (SELECT state AS k, count(*) AS n FROM own GROUP BY 1) s) AS by_state;
