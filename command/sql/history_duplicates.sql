-- Events of one history load that intake would have merged into an earlier one:
-- same leaf, within the leaf's duplicate radius and window of an earlier event
-- of the same load. Reported, never merged.
SELECT b.id AS event_id, min(a.id) AS would_merge_into
FROM event b
JOIN event_class c ON c.code = b.category_code AND c.version_id = :version_id
JOIN event a
  ON a.id = ANY(CAST(:ids AS bigint[])) AND a.id <> b.id AND a.category_code = b.category_code
 AND (a.reported_at, a.id) < (b.reported_at, b.id)
 AND b.reported_at - a.reported_at <= make_interval(secs => c.dup_window_hours * 3600)
 AND ST_DWithin(CAST(a.geom AS geography), CAST(b.geom AS geography), c.dup_radius_m)
WHERE b.id = ANY(CAST(:ids AS bigint[])) AND b.geom IS NOT NULL
GROUP BY b.id
ORDER BY b.id;
