"""fuzzy search: pg_trgm and trigram indexes on what people type to find a place or an event

- ``pg_trgm``: similarity (``%``, ``<%``) and ``LIKE``/``ILIKE '%…%'`` answered
  from GIN indexes. Chinese text works: a CJK character is a word character
  in the cluster's ``C.UTF-8`` locale, so ``民亭街6号`` has trigrams.
- building addresses, resource names and area names (the hotline form's
  address search, :mod:`command.addresses`); an event's code, title, address
  and description (``GET /events?q=``), one GIN index over the four so that a
  word in any of them is one bitmap scan.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_INDEXES = {
    "ix_building_address_trgm": ("building", ("address",)),
    "ix_resource_name_trgm": ("resource", ("name",)),
    "ix_admin_area_name_trgm": ("admin_area", ("name",)),
    "ix_event_search_trgm": ("event", ("code", "title", "address", "description")),
}


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, (table, columns) in _INDEXES.items():
        op.create_index(name, table, list(columns), postgresql_using="gin",
                        postgresql_ops={c: "gin_trgm_ops" for c in columns})


def downgrade() -> None:
    for name, (table, _) in _INDEXES.items():
        op.drop_index(name, table_name=table)
    # the extension stays: another schema in the database may use it
