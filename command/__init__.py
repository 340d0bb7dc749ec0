"""command: the event loop and dispatch of the command centre, used by the API and the command line alike.

Events from every channel land in one register (:mod:`command.intake`), are
classified by a versioned taxonomy (:mod:`command.taxonomy`), routed to grid,
community, street and department (:mod:`command.routing`; an address by
:mod:`command.addresses`, which the hotline form's search shares), linked when they
repeat an open event (:mod:`command.duplicates`), moved through a closed loop
with supervision of overdue work (:mod:`command.lifecycle`), dispatched to the
nearest suitable worker, camera or resource (:mod:`command.dispatch`,
:mod:`command.network`), and measured (:mod:`command.kpi`,
:mod:`command.coverage`).

Every function takes a SQLAlchemy ``Connection``: the caller owns the
transaction. Nothing here imports ``api``, ``app`` or ``gis_data``; the
taxonomy files are read by path from ``gis_data/data``.
"""

__all__: list[str] = []
