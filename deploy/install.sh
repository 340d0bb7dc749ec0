#!/usr/bin/env bash
# Install gridwall from this offline bundle (scripts/bundle.sh made it) on Debian bookworm amd64, as root, with no
# network: every package comes from the bundle's own folders.
#
#   ./install.sh
#
# What it does, each step skipped when its result is already there (safe to run again, e.g. after unpacking a newer
# bundle over it):
#   1. Debian packages from debs/ (PostgreSQL 15 + PostGIS 3, python3-venv, a CJK font, Chromium if bundled), apt
#      pointed at that folder only, in an apt state of its own: the machine's sources and lists are left alone.
#      Where this brings PostgreSQL first, Debian's default cluster (main, port 5432) is not created: gridwall runs
#      its own embedded cluster (`gridwall db up`).
#   2. A virtual environment at $GRIDWALL_PREFIX/venv (/opt/gridwall/venv) with gridwall and its dependencies from
#      wheels/ (pip --no-index), and /usr/local/bin/gridwall pointing into it; the bundle's MANIFEST and README.md
#      beside the venv (BUNDLE, README.md).
#   3. A `gridwall` system user with its home /var/lib/gridwall (the services' store lives there).
#   4. deploy/'s systemd units into /etc/systemd/system and deploy/gridwall.env.example as /etc/gridwall/gridwall.env
#      (never over an existing one), when the bundle has them.
# apt, dpkg and pip write to /var/log/gridwall-install.log; a step that fails shows the end of it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
prefix=${GRIDWALL_PREFIX:-/opt/gridwall}
venv=$prefix/venv
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8

log=/var/log/gridwall-install.log
say() { echo "install: $*"; echo "install: $*" >> "$log" 2>/dev/null || true; }
die() { echo "install: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (it installs Debian packages and a system user)"
echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) $here" >> "$log"
# apt's and dpkg's chatter goes to the log; on failure its end is shown
quietly() { "$@" >> "$log" 2>&1 || { tail -n 25 "$log" >&2; die "$(basename "$1") failed (its whole output: $log)"; }; }
[ -f "$here/debs/Packages" ] && [ -d "$here/wheels" ] || die "$here is not an unpacked gridwall bundle (no debs/Packages)"
arch=$(dpkg --print-architecture)
[ "$arch" = amd64 ] || die "this bundle is for amd64; this machine is $arch"
codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
[ "$codename" = bookworm ] || die "this bundle is for Debian bookworm (12); this machine is '${codename:-unknown}'"

# -- 1. Debian packages ------------------------------------------------------------------------------------------
# apt sees the bundle's folder only, with lists and cache of its own; what is installed at the bundle's version
# already is left alone, an older version is upgraded (a newer bundle unpacked over an older one)
mapfile -t wanted < "$here/debs/WANTED"
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
echo "deb [trusted=yes] file:$here/debs ./" > "$state/sources.list"
apt_opts=(
  -o "Dir::Etc::SourceList=$state/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache" -o Acquire::Languages=none
  -o APT::Sandbox::User=root -o APT::Install-Recommends=false
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold
)
quietly apt-get "${apt_opts[@]}" update
if [ "$(dpkg-query -W -f='${db:Status-Status}' postgresql-common 2>/dev/null)" != installed ]; then
  say "installing postgresql-common; Debian's default cluster will not be created (gridwall runs its own)"
  quietly apt-get "${apt_opts[@]}" -y install postgresql-common
  quietly pg_conftool /etc/postgresql-common/createcluster.conf set create_main_cluster off
fi
plan=$(apt-get "${apt_opts[@]}" -s install "${wanted[@]}" 2>&1) ||
  die "the bundle's packages do not install on this machine: $(tail -n 5 <<< "$plan")"
changes=$(grep -c '^Inst ' <<< "$plan" || true)
if [ "$changes" -eq 0 ]; then
  say "Debian packages already installed at the bundle's versions (${wanted[*]})"
else
  say "installing ${wanted[*]}: $changes packages from the bundle"
  quietly apt-get "${apt_opts[@]}" -y install "${wanted[@]}"
fi

# -- 2. gridwall in its own virtual environment -----------------------------------------------------------------
wheel=$(ls "$here"/wheels/gridwall-*.whl 2>/dev/null | head -1)
[ -n "$wheel" ] || die "no gridwall wheel in $here/wheels"
if [ ! -x "$venv/bin/python" ]; then
  say "creating $venv ($(python3 --version))"
  mkdir -p "$prefix"
  quietly python3 -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --isolated --disable-pip-version-check -q)
before=$("$venv/bin/python" -c 'from importlib.metadata import version; print(version("gridwall"))' 2>/dev/null || true)
say "installing $(basename "$wheel") and its dependencies from wheels/ (no index)"
quietly "${pip[@]}" install --no-index --find-links "$here/wheels" "$wheel"
if [ -n "$before" ]; then
  # same version number, perhaps another build: the wheel wins; its pinned dependencies are in place already
  quietly "${pip[@]}" install --no-index --no-deps --force-reinstall "$wheel"
fi
ln -sfn "$venv/bin/gridwall" /usr/local/bin/gridwall
cp "$here/MANIFEST" "$prefix/BUNDLE"
[ ! -f "$here/README.md" ] || cp "$here/README.md" "$prefix/README.md"   # the units' Documentation=
say "gridwall $("$venv/bin/python" -c 'from importlib.metadata import version; print(version("gridwall"))') in $venv;" \
    "/usr/local/bin/gridwall points at it"

# -- 3. the service user ----------------------------------------------------------------------------------------
if getent passwd gridwall >/dev/null; then
  say "user gridwall exists"
else
  quietly useradd --system --user-group --home-dir /var/lib/gridwall --shell /usr/sbin/nologin gridwall
  say "created system user gridwall (home /var/lib/gridwall)"
fi
install -d -m 750 -o gridwall -g gridwall /var/lib/gridwall

# -- 4. service files, when the bundle has them -----------------------------------------------------------------
shopt -s nullglob
units=("$here"/deploy/*.service "$here"/deploy/*.socket "$here"/deploy/*.target "$here"/deploy/*.timer)
shopt -u nullglob
if [ ${#units[@]} -gt 0 ]; then
  install -d -m 755 /etc/systemd/system
  install -m 644 "${units[@]}" /etc/systemd/system/
  names=$(for u in "${units[@]}"; do basename "$u"; done | tr '\n' ' ')
  say "systemd units installed: $names"
  if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
fi
if [ -f "$here/deploy/gridwall.env.example" ]; then
  install -d -m 750 -o root -g gridwall /etc/gridwall
  if [ -f /etc/gridwall/gridwall.env ]; then
    say "/etc/gridwall/gridwall.env exists: left as it is"
  else
    # the example's secrets filled in, each of its own (the wall's key once, for the API and the wall alike)
    "$venv/bin/python" - "$here/deploy/gridwall.env.example" /etc/gridwall/gridwall.env.new <<'PY'
import re, secrets, sys
text, wall = open(sys.argv[1], encoding="utf-8").read(), secrets.token_urlsafe(32)
def fill(m):
    value = wall if m[1] in ("GRIDWALL_API_WALL_KEY", "GRIDWALL_WALL_API_KEY") else secrets.token_urlsafe(32)
    return f"{m[1]}={value}"
open(sys.argv[2], "w", encoding="utf-8").write(re.sub(r"(?m)^(GRIDWALL_[A-Z0-9_]+)=change-me$", fill, text))
PY
    install -m 640 -o root -g gridwall /etc/gridwall/gridwall.env.new /etc/gridwall/gridwall.env
    rm -f /etc/gridwall/gridwall.env.new
    say "wrote /etc/gridwall/gridwall.env from the example, with secrets of its own: review its settings"
  fi
  if [ ! -f /etc/gridwall/api-keys.toml ]; then
    # an admin key for this machine's operator: the hash in the keys file, the key itself readable by root only
    made=$("$venv/bin/python" -m api.security new admin installer)
    umask 077; printf '%s\n' "$made" | sed -n 's/^# give this key to the client (shown once): //p' > /etc/gridwall/admin-key
    umask 022; printf '%s\n' "$made" | grep -v '^# give this key' > /etc/gridwall/api-keys.toml
    chown root:gridwall /etc/gridwall/api-keys.toml; chmod 640 /etc/gridwall/api-keys.toml
    say "wrote /etc/gridwall/api-keys.toml with an admin key (the key: /etc/gridwall/admin-key, root only)"
  fi
fi
if [ ${#units[@]} -gt 0 ]; then
  say "done. Next: systemctl enable --now $names; then add the hall's people (gridwall user add, README)"
else
  say "done. Next: gridwall db up, then gridwall serve (see the README)"
fi
