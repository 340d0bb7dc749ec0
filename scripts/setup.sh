#!/usr/bin/env bash
# Install what gridwall needs and is missing, on Debian bookworm. Safe to run again:
# it skips every step whose result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# 1. Debian packages: PostgreSQL 15 with PostGIS 3, Chromium and a CJK font for the browser tests.
missing=()
dpkg -s postgresql-15-postgis-3 >/dev/null 2>&1 || missing+=(postgresql-15-postgis-3)
dpkg -s chromium >/dev/null 2>&1 || missing+=(chromium)
dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || missing+=(fonts-wqy-microhei)   # Chinese labels in Chromium
# the offline bundle (scripts/bundle.sh) and its test: a clean bookworm image, a flat apt index
dpkg -s debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
dpkg -s dpkg-dev >/dev/null 2>&1 || missing+=(dpkg-dev)
dpkg -s iproute2 >/dev/null 2>&1 || missing+=(iproute2)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. A virtual environment with the package and its dev extras, reinstalled when pyproject.toml changes.
python=${GRIDWALL_PYTHON:-python3.11}
command -v "$python" >/dev/null 2>&1 || python=python3
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $("$python" --version)"
  "$python" -m venv .venv
fi
stamp=.venv/.gridwall-pyproject
want=$(sha256sum pyproject.toml | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  echo "setup: installing gridwall and its dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev]"
  echo "$want" > "$stamp"
fi
