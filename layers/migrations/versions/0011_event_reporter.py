"""moves: the worker who reported an event

- ``event.reporter_worker_id``: the grid worker whose phone filed the event
  (patrol, self-settled), NULL for every other channel and for events filed
  by a person in the hall. A grid worker settles itself (自办自结) only the
  self-settled events it reported. Why a column and not the first history
  row's actor: the actor is a name (an API key's, a person's login) that
  changes when a worker signs in instead of using the phone's key, and a
  name is not a worker; the id survives both. A deleted worker leaves
  NULL (the history still names who filed it).
- Events already stored take the worker whose code is the first history
  row's actor (history loads name the worker by code).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("event", sa.Column("reporter_worker_id", sa.Integer(), nullable=True))
    op.create_foreign_key(op.f("fk_event_reporter_worker_id_grid_worker"), "event", "grid_worker",
                          ["reporter_worker_id"], ["id"], ondelete="SET NULL")
    op.create_index(op.f("ix_event_reporter_worker_id"), "event", ["reporter_worker_id"])
    op.execute("""
        UPDATE event e SET reporter_worker_id = w.id
        FROM event_history h JOIN grid_worker w ON w.code = h.actor
        WHERE h.event_id = e.id AND h.from_state IS NULL AND e.channel IN ('patrol', 'self_settled')
    """)


def downgrade() -> None:
    op.drop_index(op.f("ix_event_reporter_worker_id"), table_name="event")
    op.drop_constraint(op.f("fk_event_reporter_worker_id_grid_worker"), "event", type_="foreignkey")
    op.drop_column("event", "reporter_worker_id")
