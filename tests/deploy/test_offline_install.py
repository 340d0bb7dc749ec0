"""The offline bundle installs gridwall on a clean bookworm with no network, and the service starts there.

The bundle is built from this checkout (scripts/bundle.sh), the machine is a
fresh minbase debootstrap entered in a network namespace with no route out
(see conftest.py). The module's fixture runs the bundle's install.sh once;
the tests then check what it did, start the store and the API in the machine,
and run the installer again.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy.conftest import Machine

# a command as the units run it: as the user gridwall, with the settings of the environment file the install wrote
AS_SERVICE = "set -a; . /etc/gridwall/gridwall.env; set +a; cd /var/lib/gridwall; exec gridwall {}"


def _as_service(command: str) -> list[str]:
    return ["runuser", "-u", "gridwall", "--", "sh", "-c", AS_SERVICE.format(command)]


# GET /health from inside the machine, once the port answers (a connection refused while uvicorn starts is retried)
HEALTH = """
import json, sys, time, urllib.error, urllib.request
request = urllib.request.Request(sys.argv[2], headers={"X-API-Key": sys.argv[1]})
deadline = time.monotonic() + 120
while True:
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            body = answer.read().decode()
            print(json.dumps({"status": answer.status, "body": json.loads(body) if "json" in answer.headers.get(
                "Content-Type", "") else body}))
            break
    except urllib.error.HTTPError as refused:
        print(json.dumps({"status": refused.code, "body": refused.read().decode()}))
        break
    except (ConnectionRefusedError, urllib.error.URLError):
        if time.monotonic() > deadline:
            raise
        time.sleep(0.2)
"""

# a connection to a public address (deb.debian.org's, and PyPI's) from inside the machine
OUTSIDE = """
import errno, json, socket
tried = {}
for address in ("151.101.2.132", "151.101.0.223"):
    try:
        socket.create_connection((address, 80), timeout=5).close()
        tried[address] = "connected"
    except OSError as exc:
        tried[address] = errno.errorcode.get(exc.errno, str(exc))
print(json.dumps(tried))
"""


@dataclass
class Installed:
    machine: Machine
    bundle: Path                 # the unpacked bundle inside the machine
    before: dict[str, str]       # the machine's packages before the install: name -> version
    output: str                  # what install.sh said


def _packages(machine: Machine) -> dict[str, str]:
    listed = machine.run(["dpkg-query", "-W", "-f", "${Package} ${Version} ${db:Status-Status}\\n"]).stdout
    return {name: version for name, version, status in (line.split() for line in listed.splitlines())
            if status == "installed"}


def _manifest_debs(bundle: Path) -> dict[str, str]:
    text = bundle.joinpath("MANIFEST").read_text()
    section = text.split("[debs]\n", 1)[1].split("\n\n", 1)[0]
    return dict(line.split() for line in section.splitlines())


@pytest.fixture(scope="module")
def installed(machine: Machine) -> Iterator[Installed]:
    (folder,) = machine.root.joinpath("root").glob("gridwall-offline-*")
    before = _packages(machine)
    proc = machine.run(["bash", f"/root/{folder.name}/install.sh"], timeout=1800)
    yield Installed(machine, folder, before, proc.stdout + proc.stderr)


def test_the_machine_has_no_route_out(machine):
    routes = machine.host(["ip", "route", "show", "table", "all"]).stdout
    links = machine.host(["ip", "-o", "link"]).stdout.splitlines()
    assert [line.split(":")[1].strip() for line in links] == ["lo"]
    assert "default" not in routes
    # a clean machine has no python3 yet: bash's /dev/tcp tries deb.debian.org's address
    tried = machine.run(["bash", "-c", "exec 3<>/dev/tcp/151.101.2.132/80"], check=False)
    assert tried.returncode != 0 and "Network is unreachable" in tried.stderr, tried.stderr


def test_the_bundle_holds_only_what_a_clean_machine_lacks(installed):
    bundled = _manifest_debs(installed.bundle)
    already = {name: version for name, version in bundled.items() if installed.before.get(name) == version}
    assert already == {}, "the bundle carries packages a clean bookworm has at the same version"
    assert {"postgresql-15-postgis-3", "postgresql-15", "python3-venv", "fonts-wqy-microhei"} <= bundled.keys()
    assert "chromium" not in bundled  # only with --with-browser
    assert "python3" not in installed.before  # the clean machine truly lacked them
    assert "postgresql-15" not in installed.before


def test_the_install_takes_every_package_from_the_bundle(installed):
    after = _packages(installed.machine)
    bundled = _manifest_debs(installed.bundle)
    assert {name: after.get(name) for name in bundled} == bundled
    tried = json.loads(installed.machine.run(["/opt/gridwall/venv/bin/python", "-c", OUTSIDE]).stdout)
    assert set(tried.values()) == {"ENETUNREACH"}, tried


def test_gridwall_is_installed_from_the_bundled_wheel(installed):
    machine = installed.machine
    link = machine.root / "usr/local/bin/gridwall"
    assert link.is_symlink() and str(link.readlink()) == "/opt/gridwall/venv/bin/gridwall"
    (wheel,) = installed.bundle.joinpath("wheels").glob("gridwall-*.whl")
    version = wheel.name.split("-")[1]
    said = machine.run(["/opt/gridwall/venv/bin/python", "-c",
                        "from importlib.metadata import version; import gridwall, sys; "
                        "print(version('gridwall'), gridwall.__file__, sys.version_info[:2])"]).stdout.split()
    assert said[0] == version
    assert said[1].startswith("/opt/gridwall/venv/lib/python3.11/site-packages/gridwall/")
    assert machine.run(["getent", "passwd", "gridwall"]).stdout.split(":")[5] == "/var/lib/gridwall"
    assert f"gridwall {version} in /opt/gridwall/venv" in installed.output


def test_the_checkout_s_service_files_are_installed_and_an_existing_environment_file_is_kept(installed):
    root = installed.machine.root
    shipped = installed.bundle / "deploy"
    units = sorted(p.name for p in shipped.glob("*.service")) if shipped.is_dir() else []
    assert units == sorted(p.name for p in root.joinpath("etc/systemd/system").glob("gridwall*.service"))
    for unit in units:
        assert root.joinpath("etc/systemd/system", unit).read_bytes() == shipped.joinpath(unit).read_bytes()
    example = shipped / "gridwall.env.example"
    env = root / "etc/gridwall/gridwall.env"
    assert env.exists() == example.exists()
    if example.exists():
        assert env.stat().st_mode & 0o777 == 0o640
        # the example line by line, each placeholder secret filled with one of its own, the wall's key twice
        written, shipped_lines = env.read_text().splitlines(), example.read_text().splitlines()
        filled = {a.split("=")[0]: b.split("=", 1)[1] for a, b in zip(shipped_lines, written) if a != b}
        assert len(written) == len(shipped_lines) and all(a.endswith("=change-me") for a in shipped_lines
                                                          if a.split("=")[0] in filled)
        assert {"GRIDWALL_API_SESSION_SECRET", "GRIDWALL_API_WALL_KEY", "GRIDWALL_WALL_SECRET_KEY"} <= filled.keys()
        assert filled["GRIDWALL_API_WALL_KEY"] == filled["GRIDWALL_WALL_API_KEY"]
        assert len(set(filled.values())) == len(filled) - 1 and min(map(len, filled.values())) >= 32
        keys = root / "etc/gridwall/admin-key"
        assert keys.stat().st_mode & 0o777 == 0o600 and len(keys.read_text().strip()) >= 32
        assert 'role = "admin"' in root.joinpath("etc/gridwall/api-keys.toml").read_text()
        kept = env.read_text()
        env.write_text(kept + "GRIDWALL_API_PORT=8000\n")  # the operator's own; a second install leaves it alone
        installed.machine.run(["bash", f"/root/{installed.bundle.name}/install.sh"])
        assert env.read_text() == kept + "GRIDWALL_API_PORT=8000\n"
    assert root.joinpath("opt/gridwall/README.md").read_bytes() == installed.bundle.joinpath("README.md").read_bytes()


def test_the_store_the_api_and_the_wall_start_as_the_units_run_them(installed):
    """As the units do: the user gridwall, the installed environment file and keys; /health answers with the
    bundle's PostgreSQL and PostGIS, and the wall (gunicorn) its sign-in page and its styles, from the wheel."""
    machine = installed.machine
    bundled = _manifest_debs(installed.bundle)
    up = machine.run(_as_service("db up"), timeout=300)
    assert "store up and migrated" in up.stdout
    status = machine.run(_as_service("db status")).stdout
    versions = re.search(r"PostgreSQL (\S+) .*PostGIS (\S+),", status)
    assert versions, status
    admin_key = machine.root.joinpath("etc/gridwall/admin-key").read_text().strip()
    servers, logs = [], []
    try:
        for command in ("serve", "wall"):
            logs.append(machine.root.parent / f"{command}.log")
            with logs[-1].open("w") as out:
                # a session of its own: nsenter forks the command into the namespace, and the group holds both
                servers.append(subprocess.Popen(machine.command(_as_service(command)), stdout=out,
                                                stderr=subprocess.STDOUT, start_new_session=True))
        answers = {}
        for name, url in (("health", "http://127.0.0.1:8000/health"), ("login", "http://127.0.0.1:8050/login"),
                          ("css", "http://127.0.0.1:8050/assets/gridwall.css")):
            asked = machine.run(["/opt/gridwall/venv/bin/python", "-c", HEALTH, admin_key, url], timeout=180,
                                check=False)
            said = "\n".join(log.read_text()[-3000:] for log in logs)
            assert asked.returncode == 0 and all(s.poll() is None for s in servers), f"{asked.stderr}\n{said}"
            answers[name] = json.loads(asked.stdout)
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
        for server in servers:
            server.wait(timeout=60)
        machine.run(_as_service("db down"), check=False)
    assert answers["health"]["status"] == 200, answers["health"]
    body = answers["health"]["body"]
    assert body["status"] == "ok" and body["schema_revision"] == body["schema_head"]
    # the server runs the bundle's PostgreSQL and PostGIS: 15.20-0+deb12u1 and 3.3.2+dfsg-1+b1 in the bundle
    assert body["postgres"].split()[0] == bundled["postgresql-15"].split("-")[0] == versions.group(1)
    assert body["postgis"] == bundled["postgresql-15-postgis-3"].split("+")[0] == versions.group(2)
    assert answers["login"]["status"] == 200 and 'href="/assets/gridwall.css"' in answers["login"]["body"]
    assert answers["css"]["status"] == 200 and ".shell-nav" in answers["css"]["body"]


def test_install_runs_again_and_keeps_what_is_there(installed):
    machine = installed.machine
    packages = _packages(machine)
    again = machine.run(["bash", f"/root/{installed.bundle.name}/install.sh"], timeout=600)
    assert "Debian packages already installed at the bundle's versions" in again.stdout
    assert "user gridwall exists" in again.stdout
    assert _packages(machine) == packages
    assert not machine.root.joinpath("etc/postgresql/15/main").exists()  # no stray default cluster
