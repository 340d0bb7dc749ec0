"""route a point in one SQL function

``gridwall_route_point(geometry)`` answers, for a point in EPSG:4326, which
current grid and community cover it, its street (the community's parent,
else the street covering it) and whether it is inside the district at all (a
point in a grid is: grids tile the district, so the district outline is only
tested when no grid covers it). A point on a shared border is covered by both
sides; the lower id wins, as when members are assigned.

Why a function: routing a point was written out three times (one point, one
intake, a batch of intakes) and had to be kept alike by hand. It is a
``LANGUAGE sql STABLE`` set-returning function that is not ``STRICT``, so the
planner inlines it into the calling query (``FROM ... CROSS JOIN LATERAL
gridwall_route_point(p.g)``): one definition, no per-call function overhead.

No tables change: the models are untouched.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_FUNCTION = """
CREATE OR REPLACE FUNCTION gridwall_route_point(pt geometry)
RETURNS TABLE (inside boolean, grid_id integer, community_id integer, street_id integer)
LANGUAGE sql STABLE PARALLEL SAFE AS $fn$
SELECT
    g.id IS NOT NULL OR EXISTS (
        SELECT 1 FROM admin_area d WHERE d.level = 'district' AND ST_Covers(d.geom, pt)
    ),
    g.id,
    c.id,
    coalesce(c.parent_id, (
        SELECT a.id FROM admin_area a
        WHERE a.level = 'street' AND ST_Covers(a.geom, pt)
        ORDER BY a.id LIMIT 1
    ))
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT gr.id FROM grid gr
    WHERE gr.version_id = (SELECT v.id FROM grid_version v WHERE v.is_current) AND ST_Covers(gr.geom, pt)
    ORDER BY gr.id LIMIT 1
) AS g ON true
LEFT JOIN LATERAL (
    SELECT a.id, a.parent_id FROM admin_area a
    WHERE a.level = 'community' AND ST_Covers(a.geom, pt)
    ORDER BY a.id LIMIT 1
) AS c ON true
$fn$;
"""


def upgrade() -> None:
    op.execute(_FUNCTION)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS gridwall_route_point(geometry)")
