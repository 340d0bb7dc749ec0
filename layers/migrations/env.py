"""Alembic environment: run by :func:`layers.db.migrate`, never configured by hand."""

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine

from layers.models import Base

config = context.config


def _include_object(obj, name, type_, reflected, compare_to):
    # PostGIS' own tables are not ours
    if type_ == "table" and name in {"spatial_ref_sys"}:
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=_include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
