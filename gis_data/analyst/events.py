"""Event analysis for notebooks: monthly trend, on-time rate by street, channel mix, density and hotspots.

The figures are computed from a frame of :func:`~gis_data.analyst.store.read_events` with the same
definitions as the command centre's key figures (:mod:`command.kpi`), so a notebook and the wall agree:
duplicates are left out; *closed* is state ``closed``; *on time* is closed no later than the deadline;
the on-time rate is on-time ÷ closed; the closure rate is closed ÷ events not rejected.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gis_data.analyst.store import LOCAL_TZ, Store, metric_crs, read_events, read_layer, using
from gis_data.demo.events import CHANNEL_SHARE
from gis_data.rasters import Overlay, Raster, hotspots, kernel_density, overlay_image

__all__ = ["monthly_counts", "on_time_by_street", "channel_mix", "EventDensity", "event_density"]

log = logging.getLogger(__name__)


def _own(events: pd.DataFrame) -> pd.DataFrame:
    return events[events["duplicate_of_id"].isna()] if "duplicate_of_id" in events else events


def monthly_counts(events: pd.DataFrame, *, by: str | None = "top_name") -> pd.DataFrame:
    """Events per calendar month (Beijing time), one column per value of ``by`` (or one ``events`` column).

    Months without events inside the span are shown as zero rows, so a trend line does not skip them.
    """
    own = _own(events)
    month = own["reported_at"].dt.tz_convert(LOCAL_TZ).dt.tz_localize(None).dt.to_period("M")
    if by is None:
        table = own.groupby(month).size().to_frame("events")
    else:
        table = own.groupby([month, own[by]]).size().unstack(fill_value=0)
    if len(table):
        table = table.reindex(pd.period_range(table.index.min(), table.index.max(), freq="M"), fill_value=0)
    table.index.name = "month"
    return table


def on_time_by_street(events: pd.DataFrame) -> pd.DataFrame:
    """Per street: events, closed, closed on time, on-time rate and closure rate (worst on-time rate first).

    Same definitions as :func:`command.kpi.kpis` for a street: duplicates out, on time = ``closed_at <=
    deadline_at`` (an event without deadline is never on time), rates over closed and over not-rejected events.
    """
    own = _own(events)
    closed = own["state"].eq("closed")
    by_times = (own["closed_at"] <= own["deadline_at"]).fillna(False).astype(bool)
    # a history load's own verdict wins, as in the store's KPIs (command/sql/kpis.sql)
    verdict = own["on_time"].astype("boolean") if "on_time" in own.columns else pd.Series(pd.NA, index=own.index,
                                                                                          dtype="boolean")
    on_time = closed & verdict.fillna(by_times).astype(bool)
    frame = pd.DataFrame({
        "street_code": own["street_code"], "street_name": own.get("street_name", own["street_code"]),
        "events": 1, "rejected": own["state"].eq("rejected").astype(int), "closed": closed.astype(int),
        "closed_on_time": on_time.astype(int),
    })
    table = frame.groupby(["street_code", "street_name"], dropna=False)[
        ["events", "rejected", "closed", "closed_on_time"]].sum()
    table["on_time_rate"] = table["closed_on_time"] / table["closed"].where(table["closed"] > 0)
    working = table["events"] - table["rejected"]
    table["closure_rate"] = table["closed"] / working.where(working > 0)
    return table.sort_values(["on_time_rate", "events"], ascending=[True, False]).reset_index()


def channel_mix(events: pd.DataFrame) -> pd.DataFrame:
    """Events and share per channel, beside the 开福区 reference mix (53 % self-settled, 33 % patrol …)."""
    own = _own(events)
    counts = own["channel"].value_counts()
    channels = list(dict.fromkeys([*CHANNEL_SHARE, *counts.index]))
    table = pd.DataFrame({"events": counts.reindex(channels, fill_value=0)})
    total = int(table["events"].sum())
    table["share"] = table["events"] / total if total else np.nan
    table["reference_share"] = pd.Series(CHANNEL_SHARE).reindex(channels)
    table.index.name = "channel"
    return table


@dataclass(frozen=True)
class EventDensity:
    """Density of one class and window of events, its hotspots, and where its GeoTIFF went.

    Attributes
    ----------
    density
        Events per km² on the district's metric grid (integral = ``n_events``).
    hotspots
        Top hotspots (EPSG:4326 points) with ``rank``, ``density``, ``events_within`` and the ``grid_code``
        (and community) they lie in.
    n_events
        Located events used (events without geometry cannot be placed).
    path
        The GeoTIFF written, when a path was given.
    """

    density: Raster
    hotspots: gpd.GeoDataFrame
    n_events: int
    path: Path | None

    def overlay(self, **kwargs) -> Overlay:
        """The heat overlay for a web map (see :func:`gis_data.rasters.overlay_image`)."""
        return overlay_image(self.density, **kwargs)


def event_density(
    start: str | date | datetime,
    end: str | date | datetime,
    *,
    category: str | list[str] | None = None,
    engine: Store = None,
    cell_m: float = 25.0,
    bandwidth_m: float = 200.0,
    n_hotspots: int = 10,
    path: str | Path | None = None,
) -> EventDensity:
    """Kernel density of the events of a class and time window over the district, with its top hotspots.

    The grid covers the district outline (so windows and classes line up cell for cell) in the district's
    metric CRS; the GeoTIFF, when ``path`` is given, carries that CRS and transform.

    Examples
    --------
    >>> d = event_density("2026-07-01", "2026-10-01", category="02", path="city_mgmt_q3.tif")   # doctest: +SKIP
    >>> d.hotspots[["rank", "grid_code", "events_within"]]                                       # doctest: +SKIP
    """
    with using(engine) as conn:
        events = read_events(start, end, category=category, engine=conn)
        crs = metric_crs(conn)
        outline = read_layer("admin_areas", engine=conn, where={"level": "district"})
        grids = read_layer("grids", engine=conn)
    bounds = tuple(outline.to_crs(crs).total_bounds)
    located = events[events.geometry.notna() & ~events.geometry.is_empty]
    density = kernel_density(located, crs=crs, cell_m=cell_m, bandwidth_m=bandwidth_m, bounds=bounds)
    spots = hotspots(density, located, n=n_hotspots, zones=grids,
                     zone_columns=("code", "community_code", "community_name"))
    spots = spots.rename(columns={"code": "grid_code"})
    out = Path(path) if path is not None else None
    if out is not None:
        density.write(out)
    n = int(density.tags["n_points"])
    log.info("event density %s – %s: %d located events, %d hotspots", start, end, n, len(spots))
    return EventDensity(density, spots, n, out)


