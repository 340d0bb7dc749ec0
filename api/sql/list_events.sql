-- A page of the register, newest first (reported time, then id), optionally
-- within [:since, :until) of reported time, of the events the key sees
-- (api.access: the :see_* parameters); with :word, only those whose code,
-- title, address or description hold every pattern of :words (ILIKE; the
-- longest, :word, is answered by the trigram index ix_event_search_trgm).
SELECT e.id, e.code, e.channel, e.external_id, e.category_code, e.title, e.address, e.state, e.priority,
       e.department, e.grid_id, e.community_id, e.street_id, e.reported_at, e.deadline_at, e.closed_at,
       e.duplicate_of_id, e.duplicate_count, e.location_kind, e.supervision_level,
       ST_X(e.geom) AS lon, ST_Y(e.geom) AS lat
FROM event e
WHERE (CAST(:since AS timestamptz) IS NULL OR e.reported_at >= CAST(:since AS timestamptz))
  AND (CAST(:until AS timestamptz) IS NULL OR e.reported_at < CAST(:until AS timestamptz))
  AND (CAST(:word AS text) IS NULL OR (
        (e.code ILIKE CAST(:word AS text) OR e.title ILIKE CAST(:word AS text)
         OR e.address ILIKE CAST(:word AS text) OR e.description ILIKE CAST(:word AS text))
        AND NOT EXISTS (SELECT 1 FROM unnest(CAST(:words AS text[])) AS w(p)
                        WHERE NOT (e.code ILIKE w.p OR coalesce(e.title, '') ILIKE w.p
                                   OR coalesce(e.address, '') ILIKE w.p OR coalesce(e.description, '') ILIKE w.p))))
  AND /* sees events e */
ORDER BY e.reported_at DESC, e.id DESC
LIMIT :limit OFFSET :offset;
