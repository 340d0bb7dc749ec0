"""api: change notices for the live feed

Statement-level triggers on ``event``, ``grid_worker`` and ``assignment``
send a small JSON notice on channel ``gridwall_changes`` for each changed row
(``pg_notify``; delivered on commit, in commit order, to every listening API
process). A statement that changes more than 200 rows — a district load, a
re-homing after a grid version is accepted — sends one ``bulk`` notice
instead, so loads stay fast and clients simply refetch. Notices stay far
under PostgreSQL's 8,000-byte limit: ids, codes, states, department and the
point, never free text.

No tables: API keys live in a hashed keys file named by the settings
(see ``api.security``), not in the store.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_BULK = 200

_FUNCTIONS = {
    "event": f"""
CREATE OR REPLACE FUNCTION gridwall_notify_event() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    n bigint;
    r record;
BEGIN
    SELECT count(*) INTO n FROM changed;
    IF n > {_BULK} THEN
        PERFORM pg_notify('gridwall_changes', json_build_object(
            'kind', 'event', 'op', 'bulk', 'count', n, 'tg_op', lower(TG_OP))::text);
        RETURN NULL;
    END IF;
    FOR r IN SELECT * FROM changed ORDER BY id LOOP
        PERFORM pg_notify('gridwall_changes', json_build_object(
            'kind', 'event', 'op', lower(TG_OP), 'id', r.id, 'code', r.code, 'state', r.state,
            'channel', r.channel, 'category_code', r.category_code, 'department', r.department,
            'priority', r.priority, 'grid_id', r.grid_id, 'duplicate_of', r.duplicate_of_id,
            'supervision_level', r.supervision_level, 'deadline_at', r.deadline_at,
            'lon', ST_X(r.geom), 'lat', ST_Y(r.geom))::text);
    END LOOP;
    RETURN NULL;
END
$fn$;
""",
    "grid_worker": f"""
CREATE OR REPLACE FUNCTION gridwall_notify_grid_worker() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    n bigint;
    r record;
BEGIN
    SELECT count(*) INTO n FROM changed;
    IF n > {_BULK} THEN
        PERFORM pg_notify('gridwall_changes', json_build_object(
            'kind', 'worker', 'op', 'bulk', 'count', n, 'tg_op', lower(TG_OP))::text);
        RETURN NULL;
    END IF;
    FOR r IN SELECT * FROM changed ORDER BY id LOOP
        PERFORM pg_notify('gridwall_changes', json_build_object(
            'kind', 'worker', 'op', lower(TG_OP), 'id', r.id, 'code', r.code, 'status', r.status,
            'updated_at', r.updated_at, 'lon', ST_X(r.geom), 'lat', ST_Y(r.geom))::text);
    END LOOP;
    RETURN NULL;
END
$fn$;
""",
    "assignment": f"""
CREATE OR REPLACE FUNCTION gridwall_notify_assignment() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    n bigint;
    r record;
BEGIN
    SELECT count(*) INTO n FROM changed;
    IF n > {_BULK} THEN
        PERFORM pg_notify('gridwall_changes', json_build_object(
            'kind', 'assignment', 'op', 'bulk', 'count', n, 'tg_op', lower(TG_OP))::text);
        RETURN NULL;
    END IF;
    FOR r IN SELECT c.*, w.code AS worker_code FROM changed c LEFT JOIN grid_worker w ON w.id = c.worker_id
             ORDER BY c.id LOOP
        PERFORM pg_notify('gridwall_changes', json_build_object(
            'kind', 'assignment', 'op', lower(TG_OP), 'id', r.id, 'event_id', r.event_id,
            'assignment_kind', r.kind, 'worker_id', r.worker_id, 'worker_code', r.worker_code,
            'camera_id', r.camera_id, 'resource_id', r.resource_id, 'released', r.released_at IS NOT NULL)::text);
    END LOOP;
    RETURN NULL;
END
$fn$;
""",
}


def upgrade() -> None:
    for table, function in _FUNCTIONS.items():
        op.execute(function)
        for when, ref in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            op.execute(
                f"CREATE TRIGGER gridwall_notify_{table}_{when.lower()} AFTER {when} ON {table} "
                f"REFERENCING {ref} TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION gridwall_notify_{table}()"
            )


def downgrade() -> None:
    for table in _FUNCTIONS:
        for when in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS gridwall_notify_{table}_{when} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS gridwall_notify_{table}()")
