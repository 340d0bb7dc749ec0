"""API keys, roles and who may see what.

Why a keys file and not a table: keys are secrets, and the store is copied
to analysts' notebooks and backups; a file the operator of the machine owns
(``GRIDWALL_API_KEYS_FILE``) keeps them out of both, needs no migration, and
is re-read when it changes, so a key is revoked by deleting its lines. Only
SHA-256 digests are stored (keys are 32 random bytes, so a plain digest is
enough: there is nothing to guess), and a key is looked up by its digest.

The file is TOML::

    [[keys]]
    name = "hall-wall-1"
    role = "wall"
    sha256 = "9f2c…"                 # python -m api.security new wall hall-wall-1

    [[keys]]
    name = "fire-brigade"
    role = "department"
    departments = ["消防救援大队"]   # the cameras and events it is entitled to (根据权限共享)
    sha256 = "…"

    [[keys]]
    name = "worker-W0001"
    role = "grid_worker"
    worker = "W0001"                 # the worker this phone may update, by code
    sha256 = "…"

Roles: ``admin`` (everything), ``operator`` (the event loop and dispatch),
``supervisor`` (the command centre's 监督: verifies, closes, reopens, 督办; reads everything),
``planner`` (grids and partition jobs), ``analyst`` (reads, KPIs),
``department`` (its own cameras and events; moves its events), ``grid_worker``
(its own position and status; reports events; moves events it is sent to),
``wall`` (reads and the live feed, writes nothing), ``open311`` (the Open311
endpoints only). Which rows of each layer a role sees, and what it may file
and move, is :mod:`api.access`.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import sys
import threading
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from layers.errors import ConfigError

__all__ = ["ROLES", "Role", "Principal", "KeyStore", "KeyRedaction", "digest", "new_key", "redact",
           "install_key_redaction"]

log = logging.getLogger(__name__)

Role = Literal["admin", "operator", "supervisor", "planner", "analyst", "department", "grid_worker", "wall", "open311"]
ROLES: tuple[str, ...] = ("admin", "operator", "supervisor", "planner", "analyst", "department", "grid_worker", "wall",
                          "open311")


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key's name, role, and what it is scoped to.

    Attributes
    ----------
    departments:
        For ``department`` keys, its departments; empty for every other role.
        What a key sees and writes by these is :mod:`api.access`'s rule.
    worker_code:
        For ``grid_worker`` keys, the worker the key belongs to.
    """

    name: str
    role: str
    departments: tuple[str, ...] = ()
    worker_code: str | None = None

    @property
    def actor(self) -> str:
        """What audit rows and event histories record as the actor."""
        return f"{self.role}:{self.name}"


class _KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    role: Role
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    departments: list[str] = Field(default_factory=list)
    worker: str | None = None

    @model_validator(mode="after")
    def _scope_fits_role(self) -> _KeyIn:
        if self.role == "department" and not self.departments:
            raise ValueError("a department key needs 'departments'")
        if self.role != "department" and self.departments:
            raise ValueError("only department keys carry 'departments'")
        if (self.role == "grid_worker") != (self.worker is not None):
            raise ValueError("a grid_worker key needs 'worker' (and only it may have one)")
        return self


class _KeysFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    keys: list[_KeyIn] = Field(default_factory=list)


def digest(key: str) -> str:
    """The SHA-256 hex digest a key is stored and looked up by."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    """A fresh random key (32 bytes, URL-safe)."""
    return "gw_" + secrets.token_urlsafe(32)


class KeyStore:
    """The issued keys by digest; re-reads its file when the file changes.

    Parameters
    ----------
    path:
        The TOML keys file, or ``None`` for none.
    admin_key:
        A bootstrap admin key (from settings), kept as its digest only.
    recheck_s:
        How often (seconds) the file's modification time is looked at.
    """

    def __init__(self, path: Path | None, admin_key: str | None = None, *, recheck_s: float = 2.0) -> None:
        self._path = path
        self._static: dict[str, Principal] = {}
        if admin_key:
            self._static[digest(admin_key)] = Principal("bootstrap-admin", "admin")
        self._recheck_s = recheck_s
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._checked = 0.0
        self._keys: dict[str, Principal] = self._read() if path is not None else {}

    def _read(self) -> dict[str, Principal]:
        assert self._path is not None
        try:
            self._mtime = self._path.stat().st_mtime
            raw = tomllib.loads(self._path.read_text(encoding="utf-8"))
            parsed = _KeysFile.model_validate(raw)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read the API keys file {self._path}: {exc}") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"API keys file {self._path}, {where}: {first['msg']}") from exc
        keys = {}
        for k in parsed.keys:
            if k.sha256 in keys:
                raise ConfigError(f"API keys file {self._path}: key '{k.name}' has the digest of another key")
            keys[k.sha256] = Principal(k.name, k.role, tuple(k.departments), k.worker)
        log.info("API keys: %d read from %s", len(keys), self._path)
        return keys

    def _maybe_reload(self) -> None:
        now = time.monotonic()
        if self._path is None or now - self._checked < self._recheck_s:
            return
        with self._lock:
            self._checked = now
            try:
                mtime = self._path.stat().st_mtime
            except OSError:
                log.error("API keys file %s is gone: keeping the keys read before", self._path)
                return
            if mtime != self._mtime:
                try:
                    self._keys = self._read()
                except ConfigError as err:
                    log.error("%s: keeping the keys read before", err)

    def issued(self, principal: Principal) -> bool:
        """Whether ``principal``'s key is still in the file (re-read when it changed): a revoked key's is not.

        Why by principal and not by key: an open stream holds who it serves,
        not the secret it was opened with.
        """
        self._maybe_reload()
        return principal in self._static.values() or principal in self._keys.values()

    def lookup(self, key: str) -> Principal | None:
        """The principal a presented key belongs to, or ``None``."""
        self._maybe_reload()
        d = digest(key)
        return self._static.get(d) or self._keys.get(d)

    def __len__(self) -> int:
        return len(self._static) + len(self._keys)


#: a key in a query string (``api_key=``, also ``apikey``, ``key``, ``token``, ``access_token``), a header line or a
#: bearer token, wherever it appears in a log line; a value starting with ``%`` is a format placeholder
#: (``"api_key=%s"``), left for the argument to be redacted in its turn
_SECRETS = re.compile(
    r"(?i)(?P<q>\b(?:api_key|apikey|api-key|key|token|access_token)=)(?!%)[^&\s\"'#]+"
    r"|(?P<h>\bx-api-key\b[\"']?\s*[:=,]\s*[\"']?)(?!%)[^\s\"',;]+"
    r"|(?P<b>\bbearer\s+)(?!%)[^\s\"',;]+"
)


def redact(text: str) -> str:
    """``text`` with every key in it replaced by ``***``.

    Examples
    --------
    >>> redact("GET /stream?topic=event&api_key=gw_s3cret HTTP/1.1")
    'GET /stream?topic=event&api_key=*** HTTP/1.1'
    """
    return _SECRETS.sub(lambda m: (m.group("q") or m.group("h") or m.group("b")) + "***", text)


class KeyRedaction(logging.Filter):
    """A logging filter that redacts keys in a record's message and in its string arguments.

    Why the arguments one by one rather than the formatted message: uvicorn's
    access formatter reads its arguments (client, method, path with query,
    version, status) by position, so they must stay a tuple of five. Only a
    key the message and an argument share (``"api_key=%s"``) makes the record
    formatted here, its arguments dropped.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        if record.args:  # a key split between message and argument ("api_key=%s"): the line is flattened
            try:
                line = record.getMessage()
            except (TypeError, ValueError):  # a broken record: logging will report it, and nothing leaks then
                return True
            if redact(line) != line:
                record.msg, record.args = redact(line), ()
        return True


def install_key_redaction() -> None:
    """Redact keys in every log record from now on, whichever logger makes it and whichever handler writes it.

    Why the record factory and not a filter: a filter on a logger sees only
    what is logged on that very logger (not its children), and one on a
    handler only the handlers there are when it is installed; uvicorn and
    ``gridwall up`` each set up their own. The factory makes every record, so
    no line escapes. Installing twice adds nothing.
    """
    make = logging.getLogRecordFactory()
    if getattr(make, "redacts_keys", False):
        return
    redaction = KeyRedaction()

    def redacted(*args, **kwargs) -> logging.LogRecord:
        record = make(*args, **kwargs)
        redaction.filter(record)
        return record

    redacted.redacts_keys = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacted)


def _main(argv: list[str]) -> int:
    """``python -m api.security new ROLE NAME [DEPARTMENT… | WORKER]``: print a key and its TOML entry."""
    if len(argv) < 3 or argv[0] != "new" or argv[1] not in ROLES:
        sys.stderr.write(f"usage: python -m api.security new {{{'|'.join(ROLES)}}} NAME [DEPARTMENT…|WORKER]\n")
        return 2
    role, name, rest = argv[1], argv[2], argv[3:]
    key = new_key()
    lines = ["[[keys]]", f'name = "{name}"', f'role = "{role}"', f'sha256 = "{digest(key)}"']
    if role == "department":
        lines.append("departments = [" + ", ".join(f'"{d}"' for d in rest) + "]")
    if role == "grid_worker":
        lines.append(f'worker = "{rest[0] if rest else "WORKER-CODE"}"')
    sys.stdout.write(f"# give this key to the client (shown once): {key}\n" + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
