-- insert_event.sql for a whole batch: events with ids drawn beforehand (so that
-- a duplicate can name an earlier event of the same batch), their first
-- history rows, their audit rows, and the counts on stored roots. Keep the two
-- alike. One reporter (a worker's code, or NULL) for the whole batch: one sender's.
WITH r AS (
    SELECT *
    FROM unnest(
        CAST(:id AS bigint[]), CAST(:channel AS text[]), CAST(:external_id AS text[]),
        CAST(:category_code AS text[]), CAST(:title AS text[]), CAST(:description AS text[]),
        CAST(:address AS text[]), CAST(:grid_id AS integer[]), CAST(:community_id AS integer[]),
        CAST(:street_id AS integer[]), CAST(:department AS text[]), CAST(:priority AS smallint[]),
        CAST(:reported_at AS timestamptz[]), CAST(:deadline_at AS timestamptz[]), CAST(:duplicate_of_id AS bigint[]),
        CAST(:duplicate_count AS integer[]), CAST(:lon AS double precision[]), CAST(:lat AS double precision[]),
        CAST(:source_class AS text[]), CAST(:stored_root AS boolean[]), CAST(:note AS text[]), CAST(:detail AS text[])
    ) AS r(id, channel, external_id, category_code, title, description, address, grid_id, community_id, street_id,
           department, priority, reported_at, deadline_at, duplicate_of_id, duplicate_count, lon, lat, source_class,
           stored_root, note, detail)
),
ins AS (
    INSERT INTO event (
        id, code, channel, external_id, category_code, title, description, address, grid_id, community_id,
        street_id, department, priority, state, reported_at, deadline_at, duplicate_of_id, duplicate_count, geom,
        location_kind, source_class, supervision_level, reporter_worker_id
    )
    SELECT r.id,
           'EV' || to_char(r.reported_at AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || '-'
               || lpad(r.id::text, greatest(8, length(r.id::text)), '0'),
           r.channel, r.external_id, r.category_code, r.title, r.description, r.address, r.grid_id, r.community_id,
           r.street_id, r.department, r.priority, 'reported', r.reported_at, r.deadline_at, r.duplicate_of_id,
           r.duplicate_count, ST_SetSRID(ST_MakePoint(r.lon, r.lat), 4326), 'point', r.source_class, 0,
           (SELECT w.id FROM grid_worker w WHERE w.code = CAST(:reporter AS text))
    FROM r ORDER BY r.id
    RETURNING id, code, reported_at
),
hist AS (
    INSERT INTO event_history (event_id, from_state, to_state, at, actor, note)
    SELECT ins.id, NULL, 'reported', ins.reported_at, :actor, r.note FROM ins JOIN r USING (id)
),
aud AS (
    INSERT INTO audit_log (actor, action, entity, entity_id, detail)
    SELECT :actor, CASE WHEN r.duplicate_of_id IS NULL THEN 'intake' ELSE 'intake_duplicate' END,
           'event', ins.id::text, CAST(r.detail AS jsonb)
    FROM ins JOIN r USING (id)
),
roots AS (
    UPDATE event e SET duplicate_count = e.duplicate_count + c.n
    FROM (SELECT r.duplicate_of_id AS id, count(*) AS n FROM r WHERE r.stored_root GROUP BY 1) AS c
    WHERE e.id = c.id
    RETURNING e.id
)
SELECT ins.id, ins.code FROM ins ORDER BY ins.id;
