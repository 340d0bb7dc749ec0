-- A history load: events as the source recorded them (state, closing time, the
-- source's on-time verdict), each with its history rows, in one statement.
-- Idempotent on (channel, external_id) like intake: a row already registered
-- is left as it is and not returned. No duplicate merging: a history load
-- keeps the source's cases apart (the importer reports the pairs it would
-- have merged instead).
WITH r AS (
    SELECT *
    FROM unnest(
        CAST(:channel AS text[]), CAST(:external_id AS text[]), CAST(:category_code AS text[]),
        CAST(:source_class AS text[]), CAST(:title AS text[]), CAST(:address AS text[]),
        CAST(:grid_id AS integer[]), CAST(:community_id AS integer[]), CAST(:street_id AS integer[]),
        CAST(:department AS text[]), CAST(:priority AS smallint[]), CAST(:state AS text[]),
        CAST(:reported_at AS timestamptz[]), CAST(:deadline_at AS timestamptz[]), CAST(:closed_at AS timestamptz[]),
        CAST(:on_time AS boolean[]), CAST(:lon AS double precision[]), CAST(:lat AS double precision[]),
        CAST(:location_kind AS text[])
    ) AS r(channel, external_id, category_code, source_class, title, address, grid_id, community_id, street_id,
           department, priority, state, reported_at, deadline_at, closed_at, on_time, lon, lat, location_kind)
),
n AS (
    SELECT nextval(pg_get_serial_sequence('event', 'id')) AS id, r.* FROM r
),
ins AS (
    INSERT INTO event (
        id, code, channel, external_id, category_code, source_class, title, address, grid_id, community_id,
        street_id, department, priority, state, reported_at, deadline_at, closed_at, on_time, geom,
        location_kind, supervision_level
    )
    SELECT n.id,
           'EV' || to_char(n.reported_at AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || '-'
               || lpad(n.id::text, greatest(8, length(n.id::text)), '0'),
           n.channel, n.external_id, n.category_code, n.source_class, n.title, n.address, n.grid_id,
           n.community_id, n.street_id, n.department, n.priority, n.state, n.reported_at, n.deadline_at,
           n.closed_at, n.on_time,
           CASE WHEN n.lon IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(n.lon, n.lat), 4326) END,
           n.location_kind, 0
    FROM n ORDER BY n.id
    ON CONFLICT (channel, external_id) DO NOTHING
    RETURNING id, state, reported_at, closed_at
),
hist AS (
    INSERT INTO event_history (event_id, from_state, to_state, at, actor, note)
    SELECT id, NULL, 'reported', reported_at, :actor, :note FROM ins
    UNION ALL
    SELECT id, 'reported', state, coalesce(closed_at, reported_at), :actor, :note FROM ins WHERE state <> 'reported'
)
SELECT id FROM ins ORDER BY id;
