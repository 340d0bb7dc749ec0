"""The ``gridwall`` command line: the one place that wires every package.

::

    gridwall up [--simulate] [--production [--workers N]]
                                      embedded PostGIS + demo district (if empty) + service (+ a trickle of events)
    gridwall db up | down | status | migrate
    gridwall demo [--scale small|default|city] [--seed N] [--end now|reference|ISO-TIME]
    gridwall simulate [--api URL] [--every 20-60] [--rounds N]
    gridwall district init OUTLINE [--code ADCODE | --name NAME] [--crs gcj02|bd09|EPSG:xxxx]
    gridwall load FILE --layer NAME [--map MAPPING.toml] [--crs …] [--on-error skip --rejects R.csv] [--dry-run]
    gridwall serve [--host H] [--port P] [--workers N]
    gridwall wall [--dev]
    gridwall partition UNITS.gpkg --out assignment.csv [--rebalance] [--report report.json]
    gridwall taxonomy alias add ALIAS CODE [--source S] [--actor A]
    gridwall taxonomy alias import FILE.csv [--actor A]        (header: source,alias,code)
    gridwall taxonomy alias list [--source S]
    gridwall taxonomy alias remove ALIAS [--source S] [--actor A]
    gridwall user add LOGIN --name N --role R [--department D …] [--worker CODE] [--generate | --password-stdin]
    gridwall user list | disable LOGIN | enable LOGIN | passwd LOGIN
    gridwall --version | -v COMMAND …                          (-v: debug messages, alembic's among them)
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from layers.errors import GridwallError

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["main", "cli"]

log = logging.getLogger("gridwall")


def _db_settings():
    from layers.settings import DatabaseSettings

    return DatabaseSettings()


@contextmanager
def _engine() -> Iterator[Engine]:
    """An engine for one command, disposed whatever happens."""
    from layers.db import make_engine

    engine = make_engine(_db_settings())
    try:
        yield engine
    finally:
        engine.dispose()


@click.group()
@click.version_option(package_name="gridwall", prog_name="gridwall", message="%(prog)s %(version)s")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages, the migration tool's (alembic) among them.")
def cli(verbose: bool) -> None:
    """gridwall: the command platform for city grid governance (网格化管理)."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:  # alembic tells at INFO each plugin it sets up and each step it takes: noise at a command line
        logging.getLogger("alembic").setLevel(logging.WARNING)
    _check_import_names()


#: the distribution's other top-level packages: generic names, so each must come from where ``gridwall`` came from
_PACKAGES = ("api", "app", "command", "gis_data", "grid_partition", "layers")


def _check_import_names() -> None:
    """Refuse to run on a folder or another distribution's package that shadows one of ours (``app``, ``api``…).

    The install keeps the names apart by living in a venv of its own (README: import names); this catches what
    still gets in the way — a ``PYTHONPATH``, or the working folder under ``python -m gridwall`` — in a few
    milliseconds, without importing anything.
    """
    from importlib.util import find_spec

    home = Path(__file__).resolve().parents[1]
    for name in _PACKAGES:
        spec = find_spec(name)
        found = Path(spec.origin).resolve().parent if spec is not None and spec.origin else None
        if found is None or found.parent != home:
            raise click.ClickException(
                f"the package '{name}' is {found or 'missing'}, not gridwall's (in {home}): another folder or "
                f"package of that name comes first on sys.path; run gridwall from its own venv, without PYTHONPATH")


# -- db ---------------------------------------------------------------------------
@cli.group()
def db() -> None:
    """Start, stop and inspect the store."""


@db.command("up")
def db_up() -> None:
    """Start the embedded PostGIS (or check the external one) and migrate it."""
    from layers.db import ensure_up, migrate

    settings = _db_settings()
    from command.taxonomy import load_taxonomy

    ensure_up(settings)
    with _engine() as engine:
        migrate(engine)
        with engine.begin() as conn:
            load_taxonomy(conn, actor="cli")  # a no-op when this taxonomy version is current
    click.echo("store up and migrated" + ("" if settings.embedded else " (external GRIDWALL_DATABASE_URL)"))


@db.command("down")
def db_down() -> None:
    """Stop the embedded PostGIS (an external server is left alone)."""
    from layers.cluster import LocalCluster

    settings = _db_settings()
    if not settings.embedded:
        click.echo("GRIDWALL_DATABASE_URL is set: the external server is not ours to stop")
        return
    stopped = LocalCluster(settings.data_dir, database=settings.name).down()
    click.echo("embedded PostGIS stopped" if stopped else "embedded PostGIS was not running")


@db.command("status")
def db_status() -> None:
    """Say whether the store runs, its versions, and what it holds."""
    from layers.cluster import LocalCluster
    from layers.db import health
    from layers.queries import layer_counts

    settings = _db_settings()
    if settings.embedded:
        status = LocalCluster(settings.data_dir, database=settings.name).status()
        click.echo(str(status))
        if not status.running:
            sys.exit(1)
    with _engine() as engine:
        h = health(engine)
        if not h.ok:
            click.echo("store unreachable")
            sys.exit(1)
        click.echo(f"PostgreSQL {h.postgres}, PostGIS {h.postgis}, schema {h.schema_revision} "
                   f"(head {h.schema_head})")
        if h.schema_revision:
            with engine.connect() as conn:
                for name, count in layer_counts(conn).items():
                    click.echo(f"  {name:<14}{count:>10,}")
                if h.schema_revision == h.schema_head:
                    _echo_calendar_notices(conn)


@db.command("migrate")
def db_migrate() -> None:
    """Bring the schema to the newest migration."""
    from layers.db import migrate

    with _engine() as engine:
        migrate(engine)
    click.echo("schema migrated")


# -- data -----------------------------------------------------------------------------
@cli.command()
@click.option("--scale", type=click.Choice(["small", "default", "city"]), default="default", show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--if-empty", is_flag=True, help="Do nothing when the store already holds buildings.")
@click.option("--end", default="now", show_default=True,
              help="When the year of events ends: now (to the minute), reference (2026-10-31 23:59, the tests' "
                   "fixed demo) or an ISO time with its offset.")
def demo(scale: str, seed: int, if_empty: bool, end: str = "now") -> None:
    """Generate the demo district and load it (one transaction); its events end now unless told otherwise."""
    from gis_data.load import load_demo, store_is_empty

    until = _demo_end(end)

    with _engine() as engine:
        with engine.begin() as conn:
            if not store_is_empty(conn):
                if if_empty:
                    click.echo("store already holds a district: demo not loaded")
                    return
                raise click.ClickException("the store already holds a district; the demo loads into an empty store")
        started = time.perf_counter()
        with engine.begin() as conn:
            counts = load_demo(conn, scale=scale, seed=seed, progress=_progress_echo, end=until)
    click.echo(f"demo district ({scale}, seed {seed}, events until {until or 'the reference time'}) loaded in "
               f"{time.perf_counter() - started:.1f} s:")
    for name, n in counts.items():
        click.echo(f"  {name:<14}{n:>10,}")


def _demo_end(end: str):
    """``--end``: ``now`` rounded to the minute, ``reference`` (``None``: the library's fixed time) or an ISO time."""
    import pandas as pd

    from gis_data.demo import demo_end

    if end == "reference":
        return None
    if end == "now":
        return pd.Timestamp.now(tz="UTC").round("min")
    try:
        return demo_end(end)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--end") from None


@cli.command()
@click.option("--api", "api_url", default=None, help="The API's URL (default: this machine's, GRIDWALL_API_PORT).")
@click.option("--key", envvar="GRIDWALL_SIMULATOR_KEY", default=None,
              help="The key events are filed under (default: this machine's simulator key, as `gridwall up "
                   "--simulate` made it; GRIDWALL_SIMULATOR_KEY).")
@click.option("--every", default="20-60", show_default=True, help="Seconds between two events, LOW-HIGH.")
@click.option("--rounds", type=click.IntRange(0), default=0, show_default=True, help="Stop after N events (0: never).")
@click.option("--seed", type=int, default=None)
def simulate(api_url: str | None, key: str | None, every: str, rounds: int, seed: int | None) -> None:
    """File a new demo event every 20–60 s through the API, until interrupted: a living demo."""
    import threading

    import httpx

    from gridwall.simulate import Simulator

    key = key or (_secret_path("api-simulator-key").read_text().strip()
                  if _secret_path("api-simulator-key").exists() else None)
    if not key:
        raise click.UsageError("no key: pass --key (role operator or admin), or run `gridwall up --simulate` once")
    url = api_url or f"http://127.0.0.1:{_api_settings(None, None).port}"
    with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=30) as client:
        sim = Simulator(client, seed=seed, every=_every(every))
        stop = threading.Event()
        try:
            while rounds == 0 or sim.sent < rounds:
                if stop.wait(sim.pause() if sim.sent else 0):
                    break
                for event in sim.step():
                    click.echo(f"{event.get('code')}  (id {event.get('id')})")
        except KeyboardInterrupt:
            pass
        except httpx.HTTPError as exc:
            raise click.ClickException(f"the API at {url} refused or is away: {exc}") from None
    click.echo(f"{sim.sent} events filed")


def _every(text: str) -> tuple[float, float]:
    try:
        low, _, high = text.partition("-")
        pair = float(low), float(high or low)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not LOW-HIGH seconds", param_hint="--every") from None
    if not 0 <= pair[0] <= pair[1]:
        raise click.BadParameter(f"{text!r}: LOW must be at most HIGH", param_hint="--every")
    return pair


def _simulator(api, key: str):
    """The simulator's thread beside ``gridwall up``'s API (it waits out the API's start: a round that finds no API
    is skipped)."""
    import threading

    import httpx

    from gridwall.simulate import Simulator

    client = httpx.Client(base_url=f"http://{api.host}:{api.port}", headers={"X-API-Key": key}, timeout=30)
    return threading.Thread(target=Simulator(client).run, args=(threading.Event(),), name="simulator", daemon=True)


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--layer", "layer_name", required=True, help="Target layer (buildings, cameras, grids, events, …).")
@click.option("--map", "mapping_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A TOML mapping: which source field feeds which layer field, fixed values, value maps, filters.")
@click.option("--crs", default=None, help="The file's CRS if it has none or a wrong one: EPSG:xxxx, gcj02 or bd09.")
@click.option("--source-layer", default=None, help="Layer inside a GeoPackage, sheet of an XLSX, folder of a KML.")
@click.option("--on-error", type=click.Choice(["raise", "skip"]), default="raise", show_default=True,
              help="raise: all or nothing. skip: load the good features, refuse the rest (see --rejects).")
@click.option("--rejects", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write refused features, each with its reason, to this CSV.")
@click.option("--dry-run", is_flag=True, help="Check everything, write nothing; report what would load and what not.")
@click.option("--repair", is_flag=True, help="Repair invalid geometries with make_valid (and say how many).")
@click.option("--tolerance", type=click.FloatRange(0, 5000), default=50.0, show_default=True,
              help="Metres a feature may reach beyond the district outline (outlines differ between sources).")
@click.option("--actor", default="cli", show_default=True, help="Who loads, for the audit log.")
def load(file: Path, layer_name: str, mapping_path: Path | None, crs: str | None, source_layer: str | None,
         on_error: str, rejects: Path | None, dry_run: bool, repair: bool, tolerance: float, actor: str) -> None:
    """Load FILE (GeoJSON, GeoPackage, Shapefile, GeoParquet, KML, CSV, XLSX) into a layer."""
    from gis_data.importer import ImportOptions, import_file
    from gis_data.mapping import read_mapping

    mapping = read_mapping(mapping_path) if mapping_path is not None else None
    options = ImportOptions(crs=crs, source_layer=source_layer, mapping=mapping, on_error=on_error, repair=repair,
                            dry_run=dry_run, actor=actor, tolerance_m=tolerance)
    with _engine() as engine, engine.begin() as conn:
        report, raw = import_file(conn, file, layer_name, options)
    for line in report.lines():
        click.echo(line)
    if rejects is not None:
        click.echo(f"{report.write_rejects(rejects, raw):,} refused features written to {rejects}")


@cli.group()
def district() -> None:
    """Start a district in an empty store."""


@district.command("init")
@click.argument("outline", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--code", default=None, help="The district's code (DataV adcode) when the file holds several.")
@click.option("--name", default=None, help="The district's name when the file holds several.")
@click.option("--crs", default=None, help="The file's CRS if it has none or a wrong one (DataV: gcj02).")
@click.option("--actor", default="cli", show_default=True)
def district_init(outline: Path, code: str | None, name: str | None, crs: str | None, actor: str) -> None:
    """Start the store's district from an OUTLINE file (e.g. DataV's), choosing its metric CRS."""
    from command.taxonomy import load_taxonomy
    from gis_data.importer import init_district

    with _engine() as engine, engine.begin() as conn:
        load_taxonomy(conn, actor=actor)  # events name its leaves; a no-op when current
        report = init_district(conn, outline, code=code, name=name, crs=crs, actor=actor)
        srid = conn.execute(_district_srid()).scalar()
    for line in report.lines():
        click.echo(line)
    click.echo(f"district ready; metric CRS EPSG:{srid}")


def _district_srid():
    from sqlalchemy import text

    return text("SELECT metric_srid FROM admin_area WHERE level = 'district'")


# -- serve ----------------------------------------------------------------------------
@cli.command()
@click.option("--host", default=None, help="Bind address (default from GRIDWALL_API_HOST).")
@click.option("--port", type=int, default=None, help="Port (default from GRIDWALL_API_PORT).")
@click.option("--workers", type=click.IntRange(1, 32), default=None,
              help="Processes serving the API (default from GRIDWALL_API_WORKERS, 1).")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the API until interrupted (sessions signed with GRIDWALL_API_SESSION_SECRET, or this machine's own)."""
    import os

    secret = None if os.environ.get("GRIDWALL_API_SESSION_SECRET") else _local_secret("session-secret")
    _serve(_api_settings(host, port, workers=workers, session_secret=secret))


@cli.command()
@click.option("--dev", is_flag=True, help="Werkzeug's development server in this process, not gunicorn.")
def wall(dev: bool) -> None:
    """Serve the wall, console and planner (GRIDWALL_WALL_API_URL points at the API).

    Under gunicorn: GRIDWALL_WALL_WORKERS processes of GRIDWALL_WALL_THREADS threads (2 × 32).
    """
    import logging.config

    from app import run_wall
    from app.serving import ACTOR_ENVIRON
    from gridwall.requestlog import WsgiAccessLog, logging_config

    config = logging_config(logging.getLogger().level <= logging.DEBUG)
    logging.config.dictConfig(config)
    run_wall(dev=dev, wrap=lambda app: WsgiAccessLog(app, ACTOR_ENVIRON), log_config=config)


@cli.command()
@click.option("--scale", type=click.Choice(["small", "default", "city"]), default="default", show_default=True)
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@click.option("--simulate", is_flag=True, help="File a new demo event every 20–60 s (actor operator:simulator).")
@click.option("--production", is_flag=True,
              help="Serve as the systemd units do: the API under uvicorn workers, the wall under gunicorn.")
@click.option("--workers", type=click.IntRange(1, 32), default=None,
              help="With --production: API processes (default GRIDWALL_API_WORKERS, else 2).")
def up(scale: str, host: str | None, port: int | None, simulate: bool, production: bool,
       workers: int | None) -> None:
    """Everything for a first look: store up, demo district if empty (its events ending now), the API and the wall.

    With ``--production`` the wall runs under gunicorn in a process of its own (``gridwall wall``) and the API
    under ``--workers`` uvicorn processes: what ``gridwall-api.service`` and ``gridwall-wall.service`` run.
    """
    import os
    import threading

    from werkzeug.serving import run_simple

    from app import WallSettings, create_wall_app

    ctx = click.get_current_context()
    ctx.invoke(db_up)
    ctx.invoke(demo, scale=scale, seed=7, if_empty=True, end="now")
    key = _local_secret("api-admin-key")
    wall_key = _local_secret("api-wall-key")
    sim_key, keys_file = None, None
    if simulate and os.environ.get("GRIDWALL_API_KEYS_FILE"):  # the owner's keys file is not ours to write
        log.warning("GRIDWALL_API_KEYS_FILE is set: the simulator files its events with the admin key")
        sim_key = key
    elif simulate:
        from gridwall.simulate import keys_file_entry

        sim_key = _local_secret("api-simulator-key")
        keys_file = _secret_path("api-keys.toml")
        keys_file.touch(mode=0o600)
        keys_file.write_text(keys_file_entry(sim_key))
    if production and workers is None and "GRIDWALL_API_WORKERS" not in os.environ:
        workers = 2
    api = _api_settings(host, port, admin_key=key, wall_key=wall_key, session_secret=_local_secret("session-secret"),
                        keys_file=keys_file, workers=workers)
    first = _first_admin()
    # the wall's day (today, or the demo's last day) is the wall's own to find: it asks the API. The wall server
    # reads with a key of role wall; people sign in and act with their own sessions.
    wall_settings = WallSettings(api_url=f"http://{api.host}:{api.port}", api_key=wall_key,
                                 secret_key=_local_secret("wall-cookie-secret"))
    wall_proc = None
    if production:  # gunicorn owns its process (signals, forked workers): `gridwall wall` beside this one
        import subprocess

        wall_proc = subprocess.Popen([sys.executable, "-c", "from gridwall.cli import main; main()", "wall"],
                                     env={**os.environ, **_environment_of(wall_settings)})
    else:
        from app.serving import ready

        wall_app = create_wall_app(wall_settings)  # Dash registers its pages on the main thread only
        ready(wall_app)  # compression and cache headers, as in production
        threading.Thread(target=run_simple, name="wall", daemon=True,
                         args=(wall_settings.host, wall_settings.port, wall_app.server),
                         kwargs={"threaded": True, "use_reloader": False}).start()
    click.echo(f"gridwall wall on http://{wall_settings.host}:{wall_settings.port}/  (console: /console, "
               f"planner: /planner)")
    click.echo(f"admin API key for this machine: {_secret_path('api-admin-key')}")
    if first:
        click.echo(f"sign in as 'admin' with the password in {first} (add people with `gridwall user add`)")
    if sim_key:
        _simulator(api, sim_key).start()
        click.echo("simulator on: a new demo event every 20–60 s")
    try:
        _serve(api)
    finally:
        if wall_proc is not None:
            wall_proc.terminate()
            wall_proc.wait(timeout=30)


def _api_settings(host: str | None, port: int | None, **extra):
    from api.settings import ApiSettings

    overrides = {k: v for k, v in {"host": host, "port": port, **extra}.items() if v is not None}
    return ApiSettings(**overrides)


def _secret_path(name: str) -> Path:
    """Where one of this machine's secrets lives: in the gridwall home (``GRIDWALL_HOME``), beside ``pg/``."""
    from layers.settings import HomeSettings

    return HomeSettings().secret(name)


def _local_secret(name: str) -> str:
    """One of this machine's secrets (a key, the session secret), made once and readable by its owner only."""
    import secrets

    path = _secret_path(name)
    if not path.exists():
        path.parent.mkdir(mode=0o711, parents=True, exist_ok=True)  # the postgres user walks through to pg/
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()


def _first_admin() -> Path | None:
    """On a store nobody can sign in to yet, a person 'admin' with a made-up password, kept in a file readable by
    this machine's owner only; the file's path (``None`` when people exist already)."""
    import secrets

    from api.people import add_person, list_people

    with _engine() as engine, engine.begin() as conn:
        if list_people(conn):
            return None
        password = secrets.token_urlsafe(12)
        add_person(conn, login="admin", name="管理员", role="admin", password=password, actor="system:gridwall-up")
    path = _secret_path("first-admin-password")
    path.unlink(missing_ok=True)
    path.touch(mode=0o600)
    path.write_text(password + "\n")
    return path


def _serve(settings) -> None:
    """Run the API under uvicorn: in this process, or in ``settings.workers`` processes sharing the port.

    Each worker builds its own app (``api.main:create_app`` in factory mode)
    from the environment, so what the command line set is handed over as
    ``GRIDWALL_API_*`` variables; the live feed stays whole across workers
    because each listens to the store (LISTEN/NOTIFY), not to its siblings.
    """
    import os

    import uvicorn

    from api.main import create_app
    from gridwall.requestlog import AccessLog, logging_config

    db = _db_settings()
    sessions = settings.workers * (db.pool_size + db.pool_overflow + 1)
    if sessions > 95:  # PostgreSQL's max_connections is 100 unless raised, a few kept for the superuser and us
        log.warning("%d workers × (pool %d + overflow %d + feed 1) = %d sessions: raise the server's "
                    "max_connections or lower GRIDWALL_DATABASE_POOL_SIZE", settings.workers, db.pool_size,
                    db.pool_overflow, sessions)
    click.echo(f"gridwall API on http://{settings.host}:{settings.port}/  (health: /health, docs: /docs; "
               f"{settings.workers} worker(s), {db.pool_size} connections each)")
    # open live-feed streams (walls) would otherwise hold Ctrl-C up indefinitely
    # the head of a request (request line and headers) is bounded by the same limit the app holds headers to
    # one line per request, keys redacted (gridwall.requestlog), in every worker: uvicorn's own access log is off
    options = dict(host=settings.host, port=settings.port, log_level="info", timeout_graceful_shutdown=5,
                   h11_max_incomplete_event_size=settings.max_header_bytes, access_log=False,
                   log_config=logging_config(logging.getLogger().level <= logging.DEBUG))
    if settings.workers == 1:
        uvicorn.run(AccessLog(create_app(settings, db)), **options)
        return
    os.environ.update(_environment_of(settings))
    uvicorn.run("gridwall.requestlog:logged_api", factory=True, workers=settings.workers, **options)


def _environment_of(settings) -> dict[str, str]:
    """The variables (``GRIDWALL_API_*``, ``GRIDWALL_WALL_*``: the settings' prefix) that make a worker's
    ``ApiSettings()`` or ``WallSettings()`` equal ``settings``."""
    from pydantic import BaseModel, SecretStr

    env = {}
    for name in settings.model_fields_set:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, BaseModel):
            value = value.model_dump_json()
        elif isinstance(value, dict):
            import json

            value = json.dumps(value)
        env[f"{settings.model_config['env_prefix']}{name.upper()}"] = str(value)
    return env


# -- partition -----------------------------------------------------------------------
@cli.command()
@click.argument("units", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_csv", type=click.Path(dir_okay=False, path_type=Path),
              help="With UNITS: where to write unit_id,grid_id.")
@click.option("--rebalance", is_flag=True, help="Keep in-band grids of the current plan; re-draw the rest.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--accept", "accept_now", is_flag=True, help="Store mode: make the proposal current at once.")
@click.option("--force", is_flag=True, help="With --accept: accept even a proposal worse than the current plan.")
@click.option("--actor", default="cli", show_default=True)
def partition(units: Path | None, out_csv: Path | None, rebalance: bool, report_path: Path | None,
              accept_now: bool, force: bool, actor: str) -> None:
    """Re-draw grids to household and population bands.

    With UNITS (a gridbench-format GeoPackage): write unit_id,grid_id to --out.
    Without: run on the store's buildings and write a proposed grid version
    (accept it here with --accept, or later in the planner).
    """
    with click.progressbar(length=100, label="partitioning") as bar:
        done = [0]

        def progress(share: float, _stage: str) -> None:
            step = int(share * 100) - done[0]
            if step > 0:
                bar.update(step)
                done[0] += step

        if units is not None:
            if out_csv is None:
                raise click.UsageError("--out is required with a UNITS file")
            from gis_data.gridbench import run_partition_file

            report = run_partition_file(units, out_csv, rebalance=rebalance, report_path=report_path,
                                        progress=progress)
            summary = report.summary()
        else:
            summary = _partition_store(rebalance, accept_now, force, actor, report_path, progress)
    for key in ("n_grids", "share_grids_within_bounds", "all_contiguous", "mean_polsby_popper",
                "changed_units_share", "n_infeasible", "runtime_seconds"):
        if key in summary:
            click.echo(f"  {key:<28}{summary[key]}")
    if units is not None:
        click.echo(f"assignment written to {out_csv}")


def _partition_store(rebalance: bool, accept_now: bool, force: bool, actor: str, report_path: Path | None,
                     progress) -> dict:
    import json

    from layers import partitioning

    with _engine() as engine:
        with engine.begin() as conn:  # the proposal is kept even when the accept below is refused
            version, report = partitioning.propose(conn, mode="rebalance" if rebalance else "partition",
                                                   created_by=actor, progress=progress)
        if report_path is not None:
            report_path.write_text(json.dumps(report, ensure_ascii=False, indent=1))
        guard = report["guard"]
        for name in ("current", "proposed"):
            if guard[name]:
                q = guard[name]
                click.echo(f"\n  {name:<9} {q['n_grids']} grids, {q['n_in_band']} in band, "
                           f"{100 * q['households_in_band_share']:.1f}% of households in in-band grids, "
                           f"worst grid {100 * q['worst_violation']:.0f}% outside its band", nl=False)
        click.echo()
        for why in guard["worse"]:
            click.echo(f"  worse: {why}")
        if accept_now:
            with engine.begin() as conn:
                partitioning.accept(conn, version, actor=actor, force=force)
    state = "accepted and current" if accept_now else "proposed (accept it in the planner or with --accept)"
    click.echo(f"grid version {version}: {state}; {report['n_changed_grids']} grids changed")
    return report["summary"]


# -- taxonomy ------------------------------------------------------------------------
@cli.group()
def taxonomy() -> None:
    """The event taxonomy and the district's own crosswalk onto it."""


@taxonomy.group()
def alias() -> None:
    """The district's aliases: names and codes other systems send, mapped onto leaf classes."""


@alias.command("add")
@click.argument("alias_text", metavar="ALIAS")
@click.argument("code")
@click.option("--source", default="*", show_default=True,
              help="The sending system (12345, dcm, the district's own name), or * for any.")
@click.option("--actor", default="cli", show_default=True, help="Who maps it, for the audit log.")
def alias_add(alias_text: str, code: str, source: str, actor: str) -> None:
    """Map ALIAS (a name, a code, a group name or a type/main/sub path) onto the leaf CODE; replaces a mapping."""
    from command.taxonomy import add_aliases

    with _engine() as engine, engine.begin() as conn:
        written = add_aliases(conn, [(source, alias_text, code)], actor=actor)
    click.echo(f"alias {alias_text!r} of {source} -> {code}" + ("" if written else " (already so)"))


@alias.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--actor", default="cli", show_default=True, help="Who maps them, for the audit log.")
def alias_import(file: Path, actor: str) -> None:
    """Add the aliases of a CSV file (UTF-8, header source,alias,code), all or none."""
    from command.taxonomy import import_aliases

    with _engine() as engine, engine.begin() as conn:
        written = import_aliases(conn, file, actor=actor)
    click.echo(f"{written:,} aliases added or changed from {file.name}")


@alias.command("list")
@click.option("--source", default=None, help="Only this system's aliases.")
def alias_list(source: str | None) -> None:
    """The district's aliases, each with its leaf in the current taxonomy (or why it is ignored)."""
    from command.taxonomy import list_aliases

    with _engine() as engine, engine.connect() as conn:
        rows = list_aliases(conn, source)
    for r in rows:
        leaf = r["leaf"] if r["active"] else "IGNORED: no such leaf in the current taxonomy"
        click.echo(f"{r['source']}\t{r['alias']}\t{r['code']}\t{leaf}\t{r['created_by']}\t"
                   f"{r['created_at']:%Y-%m-%d %H:%M}")
    click.echo(f"{len(rows):,} aliases" + (f" of {source}" if source else ""))


@alias.command("remove")
@click.argument("alias_text", metavar="ALIAS")
@click.option("--source", default="*", show_default=True)
@click.option("--actor", default="cli", show_default=True, help="Who removes it, for the audit log.")
def alias_remove(alias_text: str, source: str, actor: str) -> None:
    """Remove the alias ALIAS of --source."""
    from command.taxonomy import remove_alias

    with _engine() as engine, engine.begin() as conn:
        removed = remove_alias(conn, source, alias_text, actor=actor)
    click.echo(f"alias {removed['alias']!r} of {source} (-> {removed['code']}) removed")


# -- people ------------------------------------------------------------------------
def _cli_actor() -> str:
    import getpass

    return f"cli:{getpass.getuser()}"


def _password(from_stdin: bool, generate: bool) -> tuple[str, bool]:
    """The password to set: from stdin, made up (and shown once), or asked for twice."""
    import secrets

    if from_stdin:
        return sys.stdin.readline().rstrip("\n"), False
    if generate:
        return secrets.token_urlsafe(12), True
    return click.prompt("password", hide_input=True, confirmation_prompt=True), False


@cli.group()
def user() -> None:
    """The people who sign in to the wall, console and planner."""


@user.command("add")
@click.argument("login")
@click.option("--name", required=True, help="The person's full name (shown in the audit log).")
@click.option("--role", required=True, type=click.Choice(["admin", "operator", "supervisor", "planner", "analyst",
                                                          "department", "grid_worker", "wall"]))
@click.option("--department", "departments", multiple=True, help="For --role department; repeatable.")
@click.option("--worker", default=None, help="For --role grid_worker: the worker's code.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.option("--generate", is_flag=True, help="Make up a password and print it once.")
def user_add(login: str, name: str, role: str, departments: tuple[str, ...], worker: str | None,
             password_stdin: bool, generate: bool) -> None:
    """Add a person who signs in as LOGIN (a wall display: --role wall)."""
    from api.people import add_person

    password, shown = _password(password_stdin, generate)
    with _engine() as engine, engine.begin() as conn:
        person = add_person(conn, login=login, name=name, role=role, password=password, actor=_cli_actor(),
                            departments=departments, worker_code=worker)
    click.echo(f"{person.login} ({person.name}, {person.role}) added" + (f"; password: {password}" if shown else ""))


@user.command("list")
def user_list() -> None:
    """Everyone, with role, scope and whether disabled."""
    from api.people import list_people

    with _engine() as engine, engine.connect() as conn:
        people = list_people(conn)
    for p in people:
        scope = ", ".join(p.departments) or p.worker_code or ""
        click.echo(f"{p.login:<20} {p.role:<12} {p.name}" + (f"  [{scope}]" if scope else "")
                   + ("  DISABLED" if p.disabled else ""))


def _set_disabled(login: str, disabled: bool) -> None:
    from api.people import set_disabled

    with _engine() as engine, engine.begin() as conn:
        set_disabled(conn, login, disabled, actor=_cli_actor())
    click.echo(f"{login} {'disabled' if disabled else 'enabled'}")


@user.command("disable")
@click.argument("login")
def user_disable(login: str) -> None:
    """Disable LOGIN: it cannot sign in, and its open sessions end within seconds."""
    _set_disabled(login, True)


@user.command("enable")
@click.argument("login")
def user_enable(login: str) -> None:
    """Let LOGIN sign in again."""
    _set_disabled(login, False)


@user.command("passwd")
@click.argument("login")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.option("--generate", is_flag=True, help="Make up a password and print it once.")
def user_passwd(login: str, password_stdin: bool, generate: bool) -> None:
    """Give LOGIN a new password; its open sessions end."""
    from api.people import set_password

    password, shown = _password(password_stdin, generate)
    with _engine() as engine, engine.begin() as conn:
        set_password(conn, login, password, actor=_cli_actor())
    click.echo(f"{login}: new password set" + (f": {password}" if shown else ""))


def _progress_echo(share: float, stage: str) -> None:
    log.info("%3.0f%% %s", share * 100, stage)


# -- the working calendar -----------------------------------------------------------
@cli.group()
def calendar() -> None:
    """Holidays and 调休 days: chinesecalendar, overridden by the days an admin sets here.

    \b
    gridwall calendar show --year 2027
    gridwall calendar load 2027.csv --actor NAME      (header: date,working,name; declares the year)
    gridwall calendar set 2027-02-05 --off --name 春节 --actor NAME
    """


@calendar.command("show")
@click.option("--year", type=int, required=True, help="The year to list.")
def calendar_show(year: int) -> None:
    """The YEAR's holidays and 调休 days with their source; fails for a year the calendar does not know."""
    from command.holidays import year_days

    with _engine() as engine, engine.connect() as conn:
        days = year_days(conn, year)
    for d in days:
        click.echo(f"{d.day:%Y-%m-%d} {'一二三四五六日'[d.day.weekday()]}  {'班' if d.working else '休'}  "
                   f"{d.name or '-'}\t{d.source}")
    off = sum(not d.working for d in days)
    click.echo(f"{year}: {off} days off, {len(days) - off} 调休 days worked")


@calendar.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--year", type=int, default=None, help="The year the file declares (default: its latest date's).")
@click.option("--actor", required=True, help="Who loads it, for the audit log.")
def calendar_load(file: Path, year: int | None, actor: str) -> None:
    """Load a year's holidays and 调休 days from FILE (a CSV of the State Council's notice), all or none."""
    from command.holidays import load_year

    with _engine() as engine, engine.begin() as conn:
        done = load_year(conn, file, actor=actor, year=year)
    click.echo(f"{done.year} declared from {done.source}: {done.off} days off, {done.work} 调休 days worked"
               + (f" ({done.removed} earlier days of {done.year} replaced)" if done.removed else ""))


@calendar.command("set")
@click.argument("day", metavar="DATE", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--off/--work", "off", required=True, help="A day off (holiday) or a day worked (调休).")
@click.option("--name", default="", help="What the day is (春节, 国庆节调休 …).")
@click.option("--actor", required=True, help="Who sets it, for the audit log.")
def calendar_set(day, off: bool, name: str, actor: str) -> None:
    """Declare DATE (YYYY-MM-DD) a day off or a day worked, overriding chinesecalendar."""
    from command.holidays import set_day

    with _engine() as engine, engine.begin() as conn:
        set_day(conn, day.date(), working=not off, name=name, actor=actor)
    click.echo(f"{day:%Y-%m-%d}: {'off' if off else 'worked'}" + (f" ({name})" if name else ""))


def _echo_calendar_notices(conn) -> None:
    from command.holidays import calendar_notices, today_in

    for notice in calendar_notices(conn, today_in()):
        click.echo(f"warning: {notice}")


def main() -> None:
    """Entry point: errors of the family end the command with their message."""
    try:
        cli(standalone_mode=False)
    except GridwallError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)


# --- gridwall export: a layer or every area's figures as a file (api.export, the same rows as the API's) ---


@cli.command("export")
@click.argument("layer")
@click.option("--format", "fmt", required=True, help="csv, xlsx, gpkg, shp (a zip), parquet; kpis: csv or xlsx.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The file to write.")
@click.option("--filter", "filters", multiple=True, help="property:value or property:a|b (repeatable), as /layers.")
@click.option("--bbox", default=None, help="minx,miny,maxx,maxy in WGS 84 degrees.")
@click.option("--version", "grid_version", type=int, default=None, help="Grid version (grids only).")
@click.option("--department", "departments", multiple=True,
              help="Export only what a key of this department sees (repeatable); default: everything.")
@click.option("--level", type=click.Choice(["street", "community", "grid"]), default=None,
              help="kpis only: one row per area of this level.")
@click.option("--start", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="kpis only: first day.")
@click.option("--end", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="kpis only: day after the last.")
def export(layer: str, fmt: str, out: Path, filters: tuple[str, ...], bbox: str | None, grid_version: int | None,
           departments: tuple[str, ...], level: str | None, start, end) -> None:
    """Write LAYER (a map layer, or ``kpis`` for every area's figures) to a file.

    \b
    gridwall export cameras --format gpkg --out cameras.gpkg --filter kind:dome
    gridwall export events --format xlsx --out events.xlsx --department 城管局
    gridwall export kpis --level street --start 2026-10-01 --end 2026-11-01 --format csv --out streets.csv
    """
    from api.security import Principal

    if layer == "kpis" and (filters or bbox or grid_version is not None):
        raise click.UsageError("kpis takes --level, --start, --end and --department, not --filter, --bbox or --version")
    if layer != "kpis" and (level or start or end):
        raise click.UsageError("--level, --start and --end are for kpis only")
    principal = Principal(name="cli-export", role="department" if departments else "admin",
                          departments=tuple(departments))
    with _engine() as engine, engine.connect() as conn:
        file = (_export_kpis(conn, principal, fmt, level, start, end) if layer == "kpis"
                else _export_layer(conn, principal, layer, fmt, filters, bbox, grid_version))
    out.write_bytes(file.content)
    click.echo(f"{out}: {len(file.content)} bytes ({file.media_type.split(';')[0]})")


def _export_layer(conn, principal, layer: str, fmt: str, filters, bbox, grid_version):
    from api.export import check_format, export_layer, layer_frame
    from api.features import Scope, parse_filters, served
    from api.params import parse_bbox

    sl = served(layer)
    check_format(fmt)
    scope = Scope(principal, parse_bbox(bbox), parse_filters(sl, list(filters)), grid_version)
    return export_layer(layer_frame(conn, sl, scope), sl.name, fmt)


def _export_kpis(conn, principal, fmt: str, level: str | None, start, end):
    from zoneinfo import ZoneInfo

    from api.access import kpi_departments
    from api.export import TABLE_FORMATS, check_format, export_area_figures
    from command.kpi import area_kpis
    from command.taxonomy import current_taxonomy

    check_format(fmt, TABLE_FORMATS)
    if level is None or start is None or end is None:
        raise click.UsageError("kpis needs --level, --start and --end")
    zone = ZoneInfo(current_taxonomy(conn).calendar.timezone)  # the days are the district's days
    figures = area_kpis(conn, level, start.replace(tzinfo=zone), end.replace(tzinfo=zone),
                        departments=kpi_departments(principal))
    return export_area_figures(figures.areas, level, fmt)
