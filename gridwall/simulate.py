"""A slow trickle of new demo events through the API's intake: a living demo (``gridwall simulate``).

Why through the API and not into the store: a simulated event then takes the
path a real one takes — classification, routing, deadline, duplicate check,
the live feed, the audit log — under a key of its own (``simulator``), so
every row it leaves names it. Categories and channels are drawn with the demo's
own mixes (:func:`gis_data.demo.sample_intakes`); places are the district's
buildings, asked of the API once.

One round is :meth:`Simulator.step` (what tests call); :meth:`Simulator.run`
repeats it every 20–60 s until told to stop.
"""

from __future__ import annotations

import logging
import threading
import uuid

import httpx
import numpy as np

__all__ = ["Simulator", "SIMULATOR_KEY_NAME", "keys_file_entry"]

log = logging.getLogger(__name__)

#: the name of the simulator's API key: audit rows and histories name it ``operator:simulator``
SIMULATOR_KEY_NAME = "simulator"
#: buildings asked of the API as places for new events
_PLACES = 1000
#: metres (roughly, in degrees) a new event lies from its building's centre
_JITTER_DEG = 0.00012


def keys_file_entry(key: str) -> str:
    """The ``[[keys]]`` entry of the simulator's key (role operator: it files events on any channel).

    Examples
    --------
    >>> keys_file_entry("k").splitlines()[1:3]
    ['name = "simulator"', 'role = "operator"']
    """
    import hashlib

    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return f'[[keys]]\nname = "{SIMULATOR_KEY_NAME}"\nrole = "operator"\nsha256 = "{digest}"\n'


class Simulator:
    """New demo events, posted one by one to ``POST /events``.

    Parameters
    ----------
    client:
        An ``httpx.Client`` on the API, carrying the key the events are filed under.
    seed:
        Seed of the draws (categories, places, pauses); fresh entropy when ``None``.
    every:
        The pause between two events, seconds, drawn uniformly in this range.
    """

    def __init__(self, client: httpx.Client, *, seed: int | None = None,
                 every: tuple[float, float] = (20.0, 60.0)) -> None:
        self.client = client
        self.rng = np.random.default_rng(seed)
        self.every = every
        self.sent = 0
        self._places: list[tuple[float, float, str]] | None = None

    def places(self) -> list[tuple[float, float, str]]:
        """Building centres of the district with their addresses (``lon, lat, address``), asked once."""
        if self._places is None:
            got = self.client.get("/layers/buildings", params={"limit": _PLACES})
            got.raise_for_status()
            places = []
            for f in got.json().get("features", []):
                ring = _outer_ring(f.get("geometry") or {})
                if ring:
                    lon = sum(p[0] for p in ring) / len(ring)
                    lat = sum(p[1] for p in ring) / len(ring)
                    places.append((lon, lat, (f.get("properties") or {}).get("address") or ""))
            if not places:
                raise RuntimeError("the API lists no buildings: load a district first (gridwall demo)")
            self._places = places
        return self._places

    def step(self, n: int = 1) -> list[dict]:
        """Post ``n`` new events now; the API's answers (``id``, ``code``, …), in order."""
        from gis_data.demo import sample_intakes

        places = self.places()
        drawn = sample_intakes(self.rng, n)
        out = []
        for channel, category, name in drawn.itertuples(index=False):
            lon, lat, address = places[int(self.rng.integers(len(places)))]
            dx, dy = self.rng.uniform(-_JITTER_DEG, _JITTER_DEG, 2)
            body = {"channel": channel, "external_id": f"SIM-{uuid.uuid4().hex[:20]}", "category": category,
                    "lon": round(lon + dx, 6), "lat": round(lat + dy, 6), "title": f"{address}{name}"}
            answer = self.client.post("/events", json=body)
            answer.raise_for_status()
            out.append(answer.json())
            self.sent += 1
        return out

    def pause(self) -> float:
        """Seconds until the next event."""
        low, high = self.every
        return float(self.rng.uniform(low, high))

    def run(self, stop: threading.Event) -> None:
        """Post an event every :attr:`every` seconds until ``stop`` is set; an API away is waited for, not fatal."""
        log.info("simulator: one new demo event every %.0f–%.0f s", *self.every)
        while not stop.wait(self.pause()):
            try:
                for event in self.step():
                    log.info("simulator: event %s (%s) filed", event.get("code"), event.get("id"))
            except (httpx.HTTPError, RuntimeError) as exc:
                log.warning("simulator: no event this round: %s", exc)


def _outer_ring(geometry: dict) -> list | None:
    coords = geometry.get("coordinates")
    if not coords:
        return None
    if geometry.get("type") == "MultiPolygon":
        return coords[0][0]
    if geometry.get("type") == "Polygon":
        return coords[0]
    if geometry.get("type") == "Point":
        return [coords]
    return None
