"""Input checking and the unit adjacency graph in CSR form.

Units are addressed by position ``0..n-1`` inside the package; the caller's ``unit_id`` values only appear at the
edges (input checking and output).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from .errors import PartitionInputError

__all__ = ["EDGE_KINDS", "UnitGraph", "UnitTable", "read_units", "build_graph", "components"]

#: Edge kinds, in code order: what the shared border between two units crosses.
EDGE_KINDS = ("block", "street", "arterial")
_UNIT_COLUMNS = ("unit_id", "households", "population", "zone")


@dataclass(frozen=True)
class UnitTable:
    """The checked unit attributes as arrays (position ``i`` = row ``i`` of the input)."""

    unit_id: np.ndarray
    households: np.ndarray
    population: np.ndarray
    zone: np.ndarray  # int code into ``zone_names``
    zone_names: tuple[str, ...]
    xy: np.ndarray  # (n, 2) representative point of each unit


@dataclass(frozen=True)
class UnitGraph:
    """Undirected unit adjacency; ``u < v`` positions, one row per edge, plus a directed CSR view."""

    n: int
    u: np.ndarray
    v: np.ndarray
    kind: np.ndarray  # int8 code into EDGE_KINDS
    border: np.ndarray  # shared border length, metres
    indptr: np.ndarray
    indices: np.ndarray
    edge_of: np.ndarray  # undirected edge id of each directed CSR entry

    @property
    def src(self) -> np.ndarray:
        """Source position of each directed CSR entry."""
        return np.repeat(np.arange(self.n), np.diff(self.indptr))

    def matrix(self, mask: np.ndarray | None = None) -> csr_matrix:
        """Symmetric 0/1 adjacency matrix, optionally keeping only the undirected edges in ``mask``."""
        u, v = (self.u, self.v) if mask is None else (self.u[mask], self.v[mask])
        data = np.ones(2 * len(u), dtype=np.int8)
        return csr_matrix((data, (np.r_[u, v], np.r_[v, u])), shape=(self.n, self.n))


def _show(x) -> str:
    """repr of a value with numpy scalars shown as plain Python values."""
    return repr(x.item() if isinstance(x, np.generic) else x)


def _require_columns(df: pd.DataFrame, cols: tuple[str, ...], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise PartitionInputError(f"{what} is missing column(s) {missing}; it has {list(df.columns)}")


def _numeric(df: pd.DataFrame, col: str, what: str) -> np.ndarray:
    try:
        x = pd.to_numeric(df[col], errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise PartitionInputError(f"{what} column '{col}' is not numeric: {exc}") from exc
    bad = ~np.isfinite(x) | (x < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise PartitionInputError(
            f"{what} column '{col}' must be finite and >= 0; row {i} (unit_id {_show(df['unit_id'].iloc[i])}) has "
            f"{_show(x[i])}"
            f" ({int(bad.sum())} bad rows)")
    return x


def read_units(units: pd.DataFrame, zone_names: list[str]) -> UnitTable:
    """Check the units table and turn it into arrays.

    Parameters
    ----------
    units
        GeoDataFrame (or DataFrame with ``x``/``y`` columns) with ``unit_id``, ``households``, ``population`` and
        ``zone`` columns.
    zone_names
        The zones that have a profile.

    Raises
    ------
    PartitionInputError
        On a missing column, duplicate ``unit_id``, negative or missing counts, or a zone without a profile.
    """
    _require_columns(units, _UNIT_COLUMNS, "units")
    if len(units) == 0:
        raise PartitionInputError("units is empty")
    ids = units["unit_id"].to_numpy()
    dup = pd.Series(ids).duplicated(keep=False).to_numpy()
    if dup.any():
        rows = np.flatnonzero(dup)[:5].tolist()
        raise PartitionInputError(
            f"units column 'unit_id' is not unique: {sorted(set(ids[dup].tolist()))[:5]} repeat (rows {rows})")
    hh = _numeric(units, "households", "units")
    pop = _numeric(units, "population", "units")
    zones = units["zone"].astype(str).to_numpy()
    code = pd.Index(list(zone_names)).get_indexer(zones).astype(np.int64)
    if (code < 0).any():
        i = int(np.flatnonzero(code < 0)[0])
        unknown = sorted(set(zones[code < 0].tolist()))
        raise PartitionInputError(
            f"units column 'zone' has values without a profile: {unknown[:5]} (first at row {i}, unit_id "
            f"{_show(ids[i])}); profiles exist for {list(zone_names)}")
    if hasattr(units, "geometry") and "geometry" in units:
        geom = units.geometry
        if geom.isna().any() or geom.is_empty.any():
            i = int(np.flatnonzero((geom.isna() | geom.is_empty).to_numpy())[0])
            raise PartitionInputError(f"units row {i} (unit_id {_show(ids[i])}) has no geometry")
        pts = geom.representative_point()
        xy = np.c_[pts.x.to_numpy(), pts.y.to_numpy()]
    elif {"x", "y"} <= set(units.columns):
        xy = units[["x", "y"]].to_numpy(dtype=float)
    else:
        raise PartitionInputError("units needs a geometry column or 'x' and 'y' columns to place the units")
    return UnitTable(unit_id=ids, households=hh, population=pop, zone=code, zone_names=tuple(zone_names), xy=xy)


def build_graph(unit_ids: np.ndarray, adjacency: pd.DataFrame) -> UnitGraph:
    """Check an adjacency table ``u, v[, kind][, border_m]`` and build the graph over unit positions.

    ``kind`` defaults to ``'street'`` and ``border_m`` to 1.0 when absent.  Duplicate pairs are merged (border
    lengths added, the strongest kind kept: arterial > street > block).

    Raises
    ------
    PartitionInputError
        When a column is missing, an id is not a unit, a row links a unit to itself, a kind is unknown or a border
        length is negative.
    """
    _require_columns(adjacency, ("u", "v"), "adjacency")
    n = len(unit_ids)
    pos = pd.Index(unit_ids)
    iu = pos.get_indexer(adjacency["u"].to_numpy())
    iv = pos.get_indexer(adjacency["v"].to_numpy())
    for name, ix in (("u", iu), ("v", iv)):
        if (ix < 0).any():
            rows = np.flatnonzero(ix < 0)
            raise PartitionInputError(
                f"adjacency column '{name}' names unknown unit ids {adjacency[name].iloc[rows[:5]].tolist()} "
                f"(rows {rows[:5].tolist()}, {len(rows)} rows in all)")
    if (iu == iv).any():
        r = int(np.flatnonzero(iu == iv)[0])
        raise PartitionInputError(f"adjacency row {r} links unit {_show(adjacency['u'].iloc[r])} to itself")
    if "kind" in adjacency:
        kinds = adjacency["kind"].astype(str).to_numpy()
        kcode = pd.Index(list(EDGE_KINDS)).get_indexer(kinds).astype(np.int8)
        if (kcode < 0).any():
            r = int(np.flatnonzero(kcode < 0)[0])
            raise PartitionInputError(
                f"adjacency column 'kind' has {kinds[r]!r} at row {r}; expected one of {list(EDGE_KINDS)}")
    else:
        kcode = np.full(len(iu), 1, dtype=np.int8)
    if "border_m" in adjacency:
        border = _numeric(adjacency.assign(unit_id=adjacency["u"]), "border_m", "adjacency")
    else:
        border = np.ones(len(iu))
    a, b = np.minimum(iu, iv), np.maximum(iu, iv)
    if len(a):
        df = pd.DataFrame({"a": a, "b": b, "k": kcode, "w": border})
        df = df.groupby(["a", "b"], sort=True, as_index=False).agg(k=("k", "max"), w=("w", "sum"))
        a, b = df["a"].to_numpy(np.int64), df["b"].to_numpy(np.int64)
        kcode, border = df["k"].to_numpy(np.int8), df["w"].to_numpy(float)
    else:
        a = b = np.zeros(0, np.int64)
        kcode, border = np.zeros(0, np.int8), np.zeros(0)
    m = len(a)
    rows = np.r_[a, b]
    cols = np.r_[b, a]
    eid = np.r_[np.arange(m), np.arange(m)]
    order = np.lexsort((cols, rows))
    rows, cols, eid = rows[order], cols[order], eid[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return UnitGraph(n=n, u=a, v=b, kind=kcode, border=border, indptr=indptr, indices=cols.astype(np.int64),
                     edge_of=eid.astype(np.int64))


def components(graph: UnitGraph, edge_mask: np.ndarray | None = None,
               node_mask: np.ndarray | None = None) -> tuple[int, np.ndarray]:
    """Connected components over the edges in ``edge_mask`` whose both ends are in ``node_mask``.

    Nodes outside ``node_mask`` get label ``-1``.
    """
    keep = np.ones(len(graph.u), bool) if edge_mask is None else edge_mask.copy()
    if node_mask is not None:
        keep &= node_mask[graph.u] & node_mask[graph.v]
    _, lab = connected_components(graph.matrix(keep), directed=False)
    if node_mask is None:
        return int(lab.max()) + 1 if len(lab) else 0, lab
    out = np.full(graph.n, -1, dtype=np.int64)
    _, out[node_mask] = np.unique(lab[node_mask], return_inverse=True)
    return int(out.max()) + 1 if node_mask.any() else 0, out
