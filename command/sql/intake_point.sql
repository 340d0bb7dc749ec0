-- One point event taken in, in one statement (one round trip, atomic on its
-- own): the lookup, and the write when the lookup allows it.
--
-- The lookup: is (:channel, :external_id) already registered (then nothing is
-- written and the caller reads the first registration); the routing of the point
-- (gridwall_route_point, migration 0005); the root of an open event of leaf
-- :code within :radius_m and :window_s (as in find_duplicate.sql; skipped when
-- :code is NULL); and whether the taxonomy the caller resolved the class with
-- (:taxonomy_id, :checksum) is still the current one, read with the district's
-- aliases as they are now (:alias_rev, migration 0007) and the calendar's days
-- as they are now (:calendar_rev, migration 0012: the deadline was counted with them).
--
-- The write, only for a new event that is inside the district, whose class
-- was resolved (:accept) against the current taxonomy: the event, its first
-- history row, its audit row and, for a duplicate, the count on its root. A
-- concurrent insert of the same (channel, external_id) makes the insert do
-- nothing (new_id is NULL): the caller then reads the winner.
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g),
look AS (
    SELECT
        r.inside, r.grid_id, r.community_id, r.street_id,
        (SELECT t.id = :taxonomy_id AND t.checksum = :checksum AND coalesce(r.rev, 0) = :alias_rev
                AND coalesce(c.rev, 0) = :calendar_rev
         FROM taxonomy_version t LEFT JOIN district_alias_revision r ON r.id = 1
              LEFT JOIN calendar_revision c ON c.id = 1
         WHERE t.is_current) AS taxonomy_ok,
        (
            SELECT coalesce(e.duplicate_of_id, e.id)
            FROM event e
            WHERE CAST(:code AS text) IS NOT NULL
              AND e.category_code = :code
              AND e.reported_at BETWEEN CAST(:at AS timestamptz) - make_interval(secs => :window_s)
                                    AND CAST(:at AS timestamptz) + make_interval(secs => :window_s)
              AND e.state NOT IN ('closed', 'rejected')
              AND e.geom && ST_Expand(p.g, :pad_deg)
              AND ST_DWithin(e.geom::geography, p.g::geography, :radius_m)
            ORDER BY e.reported_at, e.id
            LIMIT 1
        ) AS root_id,
        (SELECT x.id FROM event x WHERE x.channel = :channel AND x.external_id = :external_id) AS existing_id
    FROM p
    CROSS JOIN LATERAL gridwall_route_point(p.g) AS r
),
nid AS (
    SELECT nextval(pg_get_serial_sequence('event', 'id')) AS id
    FROM look
    WHERE look.existing_id IS NULL AND look.inside AND look.taxonomy_ok AND CAST(:accept AS boolean)
),
ins AS (
    INSERT INTO event (
        id, code, channel, external_id, category_code, title, description, address, grid_id, community_id,
        street_id, department, priority, state, reported_at, deadline_at, duplicate_of_id, duplicate_count, geom,
        location_kind, source_class, supervision_level, reporter_worker_id
    )
    SELECT nid.id,
           'EV' || to_char(CAST(:reported_at AS timestamptz) AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || '-'
               || lpad(nid.id::text, greatest(8, length(nid.id::text)), '0'),
           :channel, :external_id, :category_code, :title, :description, :address, look.grid_id,
           look.community_id, look.street_id, :department, :priority, 'reported', :reported_at, :deadline_at,
           look.root_id, 0, p.g, :location_kind, :source_class, 0,
           (SELECT w.id FROM grid_worker w WHERE w.code = CAST(:reporter AS text))
    FROM nid, look, p
    ON CONFLICT (channel, external_id) DO NOTHING
    RETURNING id, code, reported_at, duplicate_of_id
),
hist AS (
    INSERT INTO event_history (event_id, from_state, to_state, at, actor, note)
    SELECT ins.id, NULL, 'reported', ins.reported_at, :actor,
           :note || coalesce(', duplicate of event ' || ins.duplicate_of_id, '')
    FROM ins
),
aud AS (
    INSERT INTO audit_log (actor, action, entity, entity_id, detail)
    SELECT :actor, CASE WHEN ins.duplicate_of_id IS NULL THEN 'intake' ELSE 'intake_duplicate' END,
           'event', ins.id::text,
           jsonb_set(CAST(:detail AS jsonb), '{duplicate_of}', coalesce(to_jsonb(ins.duplicate_of_id), 'null'))
    FROM ins
),
root AS (
    UPDATE event r SET duplicate_count = r.duplicate_count + 1
    FROM ins
    WHERE r.id = ins.duplicate_of_id
    RETURNING r.id
)
SELECT look.inside, look.grid_id, look.community_id, look.street_id, look.taxonomy_ok, look.root_id,
       look.existing_id, ins.id AS new_id, ins.code AS new_code
FROM look LEFT JOIN ins ON true;
