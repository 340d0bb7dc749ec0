"""The embedded cluster: create, stop, start again with the data still there."""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path

import psycopg
import pytest

from layers.cluster import LocalCluster


@pytest.fixture
def private_cluster():
    cluster = LocalCluster(Path(tempfile.mkdtemp(prefix="gridwall-cl-", dir="/tmp")), database="d", fsync=True)
    yield cluster
    cluster.destroy()


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def test_status_before_creation_says_not_created(private_cluster):
    status = private_cluster.status()
    assert not status.initialised and not status.running
    assert "not created" in str(status)


def test_data_survives_a_restart_and_postgis_is_there(private_cluster):
    url = private_cluster.up()
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        assert conn.execute("SELECT extname FROM pg_extension WHERE extname = 'postgis'").fetchone()
        assert conn.execute("SHOW fsync").fetchone()[0] == "on"
        conn.execute("CREATE TABLE kept (n int)")
        conn.execute("INSERT INTO kept VALUES (42)")
    assert private_cluster.down() is True
    assert private_cluster.status().running is False
    assert private_cluster.down() is False
    url = private_cluster.up()
    with psycopg.connect(_plain(url)) as conn:
        assert conn.execute("SELECT n FROM kept").fetchone() == (42,)
    assert private_cluster.status().running is True


def test_credentials_are_private_and_listening_is_loopback_only(private_cluster):
    url = private_cluster.up()
    meta = private_cluster.data_dir / "cluster.json"
    assert meta.stat().st_mode & 0o077 == 0
    with psycopg.connect(_plain(url)) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1"


def test_a_taken_port_moves_the_cluster(private_cluster):
    private_cluster.up()
    port = private_cluster.status().port
    private_cluster.down()
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the stopped cluster's TIME_WAITs linger
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        private_cluster.up()
        assert private_cluster.status().port != port
    assert private_cluster.status().running

