-- Register one event with its first history row, its audit row and, for a
-- duplicate, the count on its root, in one round trip. A second insert of the
-- same (channel, external_id) inserts nothing and returns no row.
WITH nid AS (SELECT nextval(pg_get_serial_sequence('event', 'id')) AS id),
ins AS (
    INSERT INTO event (
        id, code, channel, external_id, category_code, title, description, address, grid_id, community_id,
        street_id, department, priority, state, reported_at, deadline_at, duplicate_of_id, duplicate_count, geom,
        location_kind, source_class, supervision_level, reporter_worker_id
    )
    SELECT nid.id,
           'EV' || to_char(CAST(:reported_at AS timestamptz) AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || '-'
               || lpad(nid.id::text, greatest(8, length(nid.id::text)), '0'),
           :channel, :external_id, :category_code, :title, :description, :address, :grid_id, :community_id,
           :street_id, :department, :priority, 'reported', :reported_at, :deadline_at, :duplicate_of_id, 0,
           ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :location_kind, :source_class, 0,
           (SELECT w.id FROM grid_worker w WHERE w.code = CAST(:reporter AS text))
    FROM nid
    ON CONFLICT (channel, external_id) DO NOTHING
    RETURNING id, code, reported_at
),
hist AS (
    INSERT INTO event_history (event_id, from_state, to_state, at, actor, note)
    SELECT ins.id, NULL, 'reported', ins.reported_at, :actor, :note FROM ins
),
aud AS (
    INSERT INTO audit_log (actor, action, entity, entity_id, detail)
    SELECT :actor, CASE WHEN CAST(:duplicate_of_id AS bigint) IS NULL THEN 'intake' ELSE 'intake_duplicate' END,
           'event', ins.id::text, CAST(:detail AS jsonb)
    FROM ins
),
root AS (
    UPDATE event r SET duplicate_count = r.duplicate_count + 1
    FROM ins
    WHERE r.id = CAST(:duplicate_of_id AS bigint)
    RETURNING r.id
)
SELECT ins.id, ins.code FROM ins;
