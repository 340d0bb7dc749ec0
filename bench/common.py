"""Shared helpers for the benchmarks: a throwaway cluster, timing, medians."""

from __future__ import annotations

import asyncio
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from layers.cluster import LocalCluster  # noqa: E402


@contextmanager
def throwaway_cluster(*, fsync: bool = True) -> Iterator[LocalCluster]:
    """A private cluster for one benchmark run (fsync on by default, as in production)."""
    cluster = LocalCluster(Path(tempfile.mkdtemp(prefix="gridwall-bench-", dir="/tmp")), fsync=fsync)
    cluster.up()
    try:
        yield cluster
    finally:
        cluster.destroy()


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def median(values: list[float]) -> float:
    """The median, the figure we quote."""
    return statistics.median(values)


def table(rows: list[tuple], header: tuple) -> str:
    """A plain fixed-width table."""
    cells = [tuple(str(c) for c in header)] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile of seconds, in milliseconds (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(math.ceil(q * len(ordered))) - 1)] * 1e3


class Connection:
    """One keep-alive HTTP/1.1 connection for the load generator.

    Why not httpx here: at hundreds of requests a second its client costs
    about as much CPU per request as the server under test, and the two share
    the machine's two cores; a bare asyncio stream costs a few per cent of it.
    """

    def __init__(self, host: str, port: int, key: str) -> None:
        self.host, self.port = host, port
        self.head = f"Host: {host}:{port}\r\nX-API-Key: {key}\r\nContent-Type: application/json\r\n"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        """One POST; (status, body)."""
        return await self._send(f"POST {path} HTTP/1.1\r\n{self.head}Content-Length: {len(body)}\r\n\r\n".encode()
                                + body)

    async def get(self, path: str) -> tuple[int, bytes]:
        """One GET; (status, body)."""
        return await self._send(f"GET {path} HTTP/1.1\r\n{self.head}\r\n".encode())

    async def _send(self, request: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()
