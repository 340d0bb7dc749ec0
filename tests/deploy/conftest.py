"""A clean Debian bookworm machine with no network, and this checkout's offline bundle to install on it.

The machine is a ``debootstrap --variant=minbase bookworm`` root (what a fresh
install holds before anyone adds a package), entered with ``chroot`` inside
its own network, mount and PID namespaces: the network namespace has a
loopback and no other link, so nothing in it can reach a registry; the mounts
it needs (``/proc``, ``/dev/shm``, ``/dev/pts``) exist only in its mount
namespace; and every process started in it (PostgreSQL, uvicorn) dies with the
namespace's first process, which the fixture kills whatever happens.

The root is made once per day and kept in the bundle cache
(``$GRIDWALL_BUNDLE_CACHE``, default ``~/.cache/gridwall-bundle``) as a
pristine copy; each module gets its own copy of it. It is made while the
bundle builds, since both mostly wait on the network.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MIRROR = "http://deb.debian.org/debian"
# the chroot's processes see this environment only
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _die_with_parent() -> None:
    """In a child before exec: the kernel kills it when the test process dies, even by SIGKILL (PR_SET_PDEATHSIG)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


def cache_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "gridwall-bundle"
    return Path(os.environ.get("GRIDWALL_BUNDLE_CACHE", default))


@dataclass
class CleanImage:
    """A pristine minbase root, made today (by ``making`` when not yet there)."""

    path: Path
    making: subprocess.Popen | None
    log: Path

    def ready(self) -> Path:
        if self.making is not None:
            code = self.making.wait(timeout=1800)
            self.making = None
            if code != 0 and not self.path.is_dir():
                raise RuntimeError(f"debootstrap failed ({code}): {self.log.read_text()[-2000:]}")
        return self.path


@pytest.fixture(scope="module")
def clean_image() -> Iterator[CleanImage]:
    """Today's minbase bookworm root; started in the background when it has to be made."""
    if os.geteuid() != 0:
        raise RuntimeError("the offline-install test makes and enters a chroot: run it as root")
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    image = cache / f"bookworm-minbase-{dt.date.today():%Y%m%d}"
    if image.is_dir():
        yield CleanImage(image, None, cache)
        return
    for old in cache.glob("bookworm-minbase-*"):  # an earlier day's image
        shutil.rmtree(old, ignore_errors=True)
    for abandoned in cache.glob("making-bookworm-minbase-*"):  # a session killed while making one
        if time.time() - abandoned.stat().st_mtime > 3 * 3600:
            shutil.rmtree(abandoned, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix="making-bookworm-minbase-", dir=cache))
    # its own mount namespace: debootstrap's /proc and /sys mounts in the target vanish with it, even on failure;
    # mv -T fails rather than nest when another session made today's image meanwhile (ready() then takes that one)
    script = (f"debootstrap --variant=minbase --arch=amd64 bookworm {staging}/root {MIRROR} "
              f"&& mv -T {staging}/root {image}")
    log = staging / "debootstrap.log"
    with log.open("w") as out:
        making = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    made = CleanImage(image, making, log)
    try:
        yield made
    finally:
        if made.making is not None:  # the module ended early: debootstrap and what it runs go too
            os.killpg(made.making.pid, signal.SIGKILL)
            made.making.wait()
        shutil.rmtree(staging, ignore_errors=True)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """This checkout's offline bundle, built by scripts/bundle.sh (deleted afterwards: it is ~400 MB)."""
    out = tmp_path_factory.mktemp("bundle")
    proc = subprocess.run(["bash", str(REPO / "scripts" / "bundle.sh"), str(out)], capture_output=True, text=True,
                          timeout=3600, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"scripts/bundle.sh failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n"
                           f"{proc.stderr[-3000:]}")
    (archive,) = out.glob("gridwall-offline-*.tar")
    try:
        yield archive
    finally:
        shutil.rmtree(out, ignore_errors=True)


class Machine:
    """A copy of the clean image, entered through chroot in namespaces of its own (no network)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # the namespaces' first process: `sleep` as PID 1 of the new PID namespace, /proc of that namespace
        # mounted in the root; --kill-child takes it (and so every process in the namespace) down with unshare
        self.holder = subprocess.Popen(
            ["unshare", "--net", "--mount", "--pid", "--fork", "--kill-child", f"--mount-proc={root}/proc",
             "sleep", "infinity"],
            preexec_fn=_die_with_parent,
        )
        try:
            self.pid = self._first_process()
            self.host(["ip", "link", "set", "lo", "up"])
            self.host(["mount", "-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "shm", f"{root}/dev/shm"])
            self.host(["mount", "-t", "devpts", "-o", "newinstance,ptmxmode=0666,mode=620", "devpts",
                       f"{root}/dev/pts"])
        except BaseException:
            self.close()
            raise

    def _first_process(self) -> int:
        children = Path(f"/proc/{self.holder.pid}/task/{self.holder.pid}/children")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.holder.poll() is not None:
                raise RuntimeError(f"unshare ended at once ({self.holder.returncode})")
            pids = children.read_text().split()
            # the forked child is ours once it runs sleep, after the /proc mount
            if pids and Path(f"/proc/{pids[0]}/cmdline").read_bytes().startswith(b"sleep"):
                return int(pids[0])
            time.sleep(0.05)
        raise RuntimeError("the namespace's first process did not start")

    def _enter(self) -> list[str]:
        return ["nsenter", f"--target={self.pid}", "--net", "--mount", "--pid", "--"]

    def host(self, argv: list[str], **kw) -> subprocess.CompletedProcess:
        """A host program run in the namespaces, outside the chroot (ip, mount)."""
        return subprocess.run(self._enter() + argv, check=True, capture_output=True, text=True, timeout=60, **kw)

    def command(self, argv: list[str], env: dict[str, str] | None = None) -> list[str]:
        environment = {"PATH": PATH, "HOME": "/root", "LANG": "C.UTF-8", **(env or {})}
        return self._enter() + ["chroot", str(self.root), "/usr/bin/env", "-i",
                                *(f"{k}={v}" for k, v in environment.items()), *argv]

    def run(self, argv: list[str], env: dict[str, str] | None = None, timeout: float = 600,
            check: bool = True) -> subprocess.CompletedProcess:
        """A program of the machine's, run in the chroot; its output, and a clear error when it fails."""
        proc = subprocess.run(self.command(argv, env), capture_output=True, text=True, timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} failed ({proc.returncode}) in the clean machine:\n"
                                 f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
        return proc

    def mounts(self) -> list[str]:
        """This host namespace's mount points inside the root: none, ever (the namespace keeps its own)."""
        return [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()
                if line.split()[1].startswith(str(self.root))]

    def processes(self) -> list[int]:
        """Processes whose root directory is inside the machine."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.readlink(entry / "root").startswith(str(self.root)):
                        found.append(int(entry.name))
                except OSError:
                    continue
        return found

    def close(self) -> None:
        if self.holder.poll() is None:
            self.holder.send_signal(signal.SIGKILL)
        self.holder.wait()
        deadline = time.monotonic() + 30
        while self.processes() and time.monotonic() < deadline:  # the kernel reaps the namespace's processes
            time.sleep(0.1)


@pytest.fixture(scope="module")
def machine(clean_image: CleanImage, bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Machine]:
    """A fresh copy of the clean image with the bundle unpacked in /root, in namespaces with no network."""
    root = tmp_path_factory.mktemp("clean-bookworm") / "root"
    subprocess.run(["cp", "-a", str(clean_image.ready()), str(root)], check=True)
    subprocess.run(["tar", "-xf", str(bundle), "-C", str(root / "root")], check=True)
    box = Machine(root)
    try:
        yield box
    finally:
        box.close()
        left = box.mounts(), box.processes()
        # rm's --one-file-system: never into a mount, were one left inside the root
        subprocess.run(["rm", "-rf", "--one-file-system", str(root)], check=False)
        assert left == ([], []), f"the clean machine left mounts or processes behind: {left}"
