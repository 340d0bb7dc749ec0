"""a real district's files: areas by name, named grids, river lines, history verdicts

- ``admin_area.geom`` may be NULL for streets and communities: a district that
  has only a list of names and codes (the NBS street list) still routes events
  to them by name. A district keeps its outline (CHECK).
- ``grid.name``: a district's grids have names (天水街道灯芯巷社区第一网格) that
  its events and its people use.
- ``water.geom`` holds polygons or centre lines: many sources draw rivers as
  lines only.
- ``event.on_time``: a history load's own verdict from the source (its on-time
  flag); NULL means "judge by closed_at <= deadline_at", as for live events.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("admin_area", "geom", nullable=True)
    op.create_check_constraint(op.f("ck_admin_area_district_has_outline"), "admin_area", "level <> 'district' OR geom IS NOT NULL")
    op.add_column("grid", sa.Column("name", sa.Text(), nullable=True))
    op.add_column("event", sa.Column("on_time", sa.Boolean(), nullable=True))
    op.execute("ALTER TABLE water ALTER COLUMN geom TYPE geometry(Geometry, 4326) USING geom")
    op.create_check_constraint(op.f("ck_water_polygons_or_lines"), "water",
                               "GeometryType(geom) IN ('MULTIPOLYGON', 'MULTILINESTRING')")


def downgrade() -> None:
    op.drop_constraint("ck_water_polygons_or_lines", "water", type_="check")
    op.execute("DELETE FROM water WHERE GeometryType(geom) <> 'MULTIPOLYGON'")
    op.execute("ALTER TABLE water ALTER COLUMN geom TYPE geometry(MultiPolygon, 4326) USING geom")
    op.drop_column("event", "on_time")
    op.drop_column("grid", "name")
    op.drop_constraint("ck_admin_area_district_has_outline", "admin_area", type_="check")
    op.alter_column("admin_area", "geom", nullable=False)
