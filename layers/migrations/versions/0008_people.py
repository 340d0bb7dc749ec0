"""people who sign in to the wall, console and planner

- ``person``: a named person with a role (the API's roles) and, for a
  department, its departments, for a grid worker, the worker's code. The
  password is kept only as an argon2 hash. ``session_epoch`` is part of every
  session token a person is given: disabling a person or changing the
  password bumps it, and every token issued before stops working at once.
  People are not deleted (the audit log names them); they are disabled.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ROLES = ("admin", "operator", "supervisor", "planner", "analyst", "department", "grid_worker", "wall", "open311")


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("departments", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("worker_code", sa.Text(), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("session_epoch", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("login ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'", name=op.f("ck_person_login_shape")),
        sa.CheckConstraint("role IN (" + ", ".join(f"'{r}'" for r in ROLES) + ")", name=op.f("ck_person_role")),
        sa.CheckConstraint("(role = 'department') = (cardinality(departments) > 0)",
                           name=op.f("ck_person_departments_for_department")),
        sa.CheckConstraint("(role = 'grid_worker') = (worker_code IS NOT NULL)",
                           name=op.f("ck_person_worker_for_grid_worker")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
    )
    op.create_index("uq_person_login_lower", "person", [sa.text("lower(login)")], unique=True)


def downgrade() -> None:
    op.drop_index("uq_person_login_lower", table_name="person")
    op.drop_table("person")
