"""a resource is busy while an event holds it

- ``uq_assignment_active_resource``: at most one active (unreleased)
  assignment per resource, as ``uq_assignment_active_worker`` holds for
  workers. Dispatch offers only resources without one and inserts with
  ``ON CONFLICT DO NOTHING`` on this index, so two events calling at once
  never hold one resource together. Before it is built, resources a store
  already holds twice keep their earliest assignment; the later ones are
  released (they were never really free to give).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_ACTIVE = "released_at IS NULL AND resource_id IS NOT NULL"


def upgrade() -> None:
    op.execute(sa.text("""
        UPDATE assignment a SET released_at = now()
        WHERE a.kind = 'resource' AND a.released_at IS NULL
          AND EXISTS (SELECT 1 FROM assignment b
                      WHERE b.resource_id = a.resource_id AND b.released_at IS NULL
                        AND (b.assigned_at, b.id) < (a.assigned_at, a.id))
    """))
    op.create_index("uq_assignment_active_resource", "assignment", ["resource_id"], unique=True,
                    postgresql_where=sa.text(_ACTIVE))


def downgrade() -> None:
    op.drop_index("uq_assignment_active_resource", table_name="assignment", postgresql_where=sa.text(_ACTIVE))
