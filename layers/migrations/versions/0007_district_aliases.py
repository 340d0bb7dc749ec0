"""a district's own event-type crosswalk, kept in the store

- ``district_alias``: names and codes other systems send (12345 type paths,
  数字城管 classes, a district's own names) mapped onto leaf codes by the
  district itself, one per (source, alias). No ``version_id``: they outlive a
  taxonomy version; an alias whose leaf the current version lacks is ignored.
- ``district_alias_revision``: one row that every change sets to a fresh
  random number, so that each process's cached taxonomy (and intake's check
  that it is still current) notices a new alias at once. Random, not
  ``rev + 1`` nor a sequence: a rolled-back change must never leave its
  number to be reused, and two stores must never share one, or a process
  that cached other aliases under that number would keep serving them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "district_alias",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("alias", sa.Text(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("source <> '' AND alias <> '' AND code <> ''", name=op.f("ck_district_alias_not_empty")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_district_alias")),
        sa.UniqueConstraint("source", "alias", name=op.f("uq_district_alias_source_alias")),
    )
    op.create_table(
        "district_alias_revision",
        sa.Column("id", sa.SmallInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("rev", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_district_alias_revision_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_district_alias_revision")),
    )
    op.execute("INSERT INTO district_alias_revision (id, rev) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_table("district_alias_revision")
    op.drop_table("district_alias")
