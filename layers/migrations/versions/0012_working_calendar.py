"""the working calendar's days, kept in the store and edited by an admin

- ``calendar_day``: a date declared worked or not (a holiday, a 调休 day),
  with its name (春节, 国庆节调休 …), who set it and when. It overrides the
  ``chinesecalendar`` package and the taxonomy file's lists: the package
  lags the State Council's notice (published each November) and a district
  may close or open a day of its own.
- ``calendar_year``: a year an admin declared whole (loaded from the year's
  notice); with the years the package covers, the years the calendar knows.
  A deadline that runs into any other year is counted provisionally.
- ``calendar_revision``: one row that every change sets to a fresh random
  number, as ``district_alias_revision`` does for aliases (0007): each
  process's cached taxonomy, which carries the calendar, and intake's check
  that it is still current notice a change at once.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("name", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("set_by", sa.Text(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("set_by <> ''", name=op.f("ck_calendar_day_named_actor")),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_day")),
    )
    op.create_table(
        "calendar_year",
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("source", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("declared_by", sa.Text(), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("year BETWEEN 1900 AND 2200", name=op.f("ck_calendar_year_plausible")),
        sa.CheckConstraint("declared_by <> ''", name=op.f("ck_calendar_year_named_actor")),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_calendar_year")),
    )
    op.create_table(
        "calendar_revision",
        sa.Column("id", sa.SmallInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("rev", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_calendar_revision_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_revision")),
    )
    op.execute("INSERT INTO calendar_revision (id, rev) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_table("calendar_revision")
    op.drop_table("calendar_year")
    op.drop_table("calendar_day")
