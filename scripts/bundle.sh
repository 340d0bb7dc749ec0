#!/usr/bin/env bash
# Build the offline bundle: one archive that installs gridwall on a clean Debian bookworm (amd64) machine with no
# network at all. Run it where PyPI and Debian's mirror are reachable, as root (debootstrap tells which packages a
# clean machine has):
#
#   scripts/bundle.sh [--with-browser] [OUT]
#
# OUT is the archive to write (default dist/gridwall-offline-<version>-bookworm-amd64.tar; a folder: that name in
# it). The archive holds one folder with
#   install.sh          the installer (deploy/install.sh), run as root on the target; README.md
#   wheels/             the gridwall wheel built from this checkout and a wheel of every runtime dependency, pinned
#                       as in pyproject.toml (CPython 3.11, manylinux x86_64: what bookworm's python3 runs)
#   debs/               PostgreSQL 15 + PostGIS 3, python3 + python3-venv, a CJK font (and Chromium with
#                       --with-browser) with every package they need that a clean bookworm lacks, and a flat apt
#                       index of them (Packages)
#   deploy/             the systemd units and gridwall.env.example from deploy/, when this checkout has them
#   MANIFEST            what went in: commit, date, packages and wheels with their versions
#
# The crux is the package closure for a *clean* machine, not for this one (where most are installed already):
# apt resolves against a dpkg status that holds exactly what `debootstrap --variant=minbase bookworm` installs, at
# the release's versions, in an apt state of its own (this machine's apt lists and status are left alone).
#
# Caches (kept between runs; delete at will): apt's lists and .debs under ${GRIDWALL_BUNDLE_CACHE:-~/.cache/
# gridwall-bundle}, wheels in pip's own cache.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

with_browser=0
out=""
for arg in "$@"; do
  case "$arg" in
    --with-browser) with_browser=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "bundle: unknown option $arg (see --help)" >&2; exit 2 ;;
    *) [ -z "$out" ] || { echo "bundle: one OUT only" >&2; exit 2; }; out=$arg ;;
  esac
done

started=$SECONDS
die() { echo "bundle: $*" >&2; exit 1; }
step() { echo "bundle: [$((SECONDS - started))s] $*"; }

[ "$(id -u)" -eq 0 ] || die "run as root: debootstrap (which tells what a clean machine holds) needs it"
for tool in apt-get dpkg-scanpackages debootstrap; do
  command -v "$tool" >/dev/null || die "$tool is missing: apt-get install dpkg-dev debootstrap (scripts/setup.sh does)"
done
python=${GRIDWALL_PYTHON:-}
if [ -z "$python" ]; then
  if [ -x .venv/bin/python ]; then python=.venv/bin/python; else python=python3; fi
fi
"$python" -m pip --version >/dev/null 2>&1 || die "$python has no pip (set GRIDWALL_PYTHON to a Python with pip)"

version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' pyproject.toml | head -1)
[ -n "$version" ] || die "no version in pyproject.toml"
name=gridwall-offline-$version-bookworm-amd64
[ $with_browser -eq 1 ] && name=$name-browser
if [ -z "$out" ]; then out=dist/$name.tar; elif [ -d "$out" ]; then out=${out%/}/$name.tar; fi
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

cache=${GRIDWALL_BUNDLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gridwall-bundle}
mkdir -p "$cache"
exec 9> "$cache/lock"    # one build at a time per cache: apt's state there is not shared safely
flock 9
work=$(mktemp -d "$(dirname "$out")/.bundle-XXXXXX")
trap 'rm -rf "$work"' EXIT
top=$work/$name
mkdir -p "$top/wheels" "$top/debs"

# 1. Wheels: gridwall from this checkout (tracked and new files, not what .gitignore leaves out), then every
#    runtime dependency at its pinned version, as binary wheels for bookworm's CPython 3.11 on x86_64.
step "building the gridwall wheel from $repo"
src=$work/src
mkdir -p "$src"
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || die "$repo is not a git checkout: the wheel is built from its files"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  if [ -e "$f" ]; then printf '%s\0' "$f"; fi     # a file deleted but not yet committed is left out
done | tar --null -T - -cf - | tar -xf - -C "$src"
"$python" -m pip wheel -q --no-deps --wheel-dir "$work/own" "$src" >/dev/null
own=$(ls "$work"/own/gridwall-*.whl)
cp "$own" "$top/wheels/"

step "downloading the dependencies' wheels"
platforms=()
for glibc in $(seq 36 -1 17) 12 5; do platforms+=(--platform "manylinux_2_${glibc}_x86_64"); done
platforms+=(--platform manylinux2014_x86_64 --platform manylinux2010_x86_64 --platform manylinux1_x86_64)
"$python" -m pip download -q --only-binary=:all: "${platforms[@]}" --python-version 3.11 --implementation cp \
  --abi cp311 --dest "$top/wheels" "$own" 2>&1 | { grep -v "is ignored: it is neither a file" || true; } >&2

# 2. Debian packages, resolved against a clean bookworm.
apt_dir=$cache/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || die "$keyring is missing: apt-get install debian-archive-keyring"
mirror=${GRIDWALL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${GRIDWALL_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
cat > "$apt_dir/sources.list" <<EOF
deb [signed-by=$keyring] $mirror bookworm main
deb [signed-by=$keyring] $mirror bookworm-updates main
deb [signed-by=$keyring] $security bookworm-security main
EOF
apt_opts=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::State::status=$apt_dir/status" -o "Dir::Cache=$apt_dir/cache"
  -o APT::Architecture=amd64 -o APT::Architectures::=amd64 -o Acquire::Languages=none
  -o Acquire::GzipIndexes=false -o Debug::NoLocking=1 -o APT::Sandbox::User=root -o APT::Install-Recommends=false
)
step "reading bookworm's package lists"
[ -f "$apt_dir/status" ] || : > "$apt_dir/status"
apt-get "${apt_opts[@]}" -qq update

# What a clean machine holds: debootstrap's minbase set, at the versions of the bookworm release itself (a machine
# installed from it and never upgraded). The set is kept per release index, so a warm run asks debootstrap nothing.
release=$apt_dir/lists/$(ls "$apt_dir/lists" | grep '_dists_bookworm_InRelease$')
minbase=$cache/minbase-$(sha256sum "$release" | cut -c1-16).txt
if [ ! -s "$minbase" ]; then
  step "asking debootstrap what a clean bookworm (minbase) holds"
  rm -f "$cache"/minbase-*.txt
  debootstrap --variant=minbase --arch=amd64 --print-debs bookworm "$work/debootstrap" "$mirror" \
    2> "$work/debootstrap.log" > "$work/minbase" || die "debootstrap failed: $(tail -5 "$work/debootstrap.log")"
  tr ' ' '\n' < "$work/minbase" | grep . | sort -u > "$minbase.tmp"
  mv "$minbase.tmp" "$minbase"
fi
packages_file=$apt_dir/lists/$(ls "$apt_dir/lists" | grep '_dists_bookworm_main_binary-amd64_Packages$')
awk -v list="$minbase" '
  BEGIN { while ((getline l < list) > 0) want[l] = 1; RS = "" }
  {
    n = split($0, L, "\n"); name = ""
    for (i = 1; i <= n; i++) if (L[i] ~ /^Package: /) name = substr(L[i], 10)
    if (!(name in want)) next
    keep = 0; out = ""
    for (i = 1; i <= n; i++) {
      if (L[i] ~ /^[A-Za-z-]+:/) {
        f = L[i]; sub(/:.*/, "", f)
        keep = f ~ /^(Package|Essential|Priority|Section|Installed-Size|Maintainer|Architecture|Multi-Arch|Source|Version|Replaces|Provides|Depends|Pre-Depends|Breaks|Conflicts)$/
      }
      if (keep) out = out L[i] "\n"
      if (L[i] ~ /^Package: /) out = out "Status: install ok installed\n"
    }
    printf "%s\n", out; delete want[name]
  }
  END { for (n in want) { print "bundle: " n " (minbase) is not in bookworm main" > "/dev/stderr"; exit 1 } }
' "$packages_file" > "$apt_dir/status"

# "Inst perl-base [old] (5.36.0-7+deb12u4 Debian-Security:12/stable-security [amd64])" -> "perl-base 5.36.0-7+deb12u4 amd64"
# (a line may end in "[]" too: apt's note on its ordering)
plan_of() {
  awk '/^Inst /{ for (i = 3; i <= NF; i++) if ($i ~ /^\(/) break
                 for (j = i; j <= NF; j++) if ($j ~ /\]\)$/) break
                 a = $j; gsub(/[][)]/, "", a); print $2, substr($i, 2), a }'
}

wanted=(postgresql-15-postgis-3 python3 python3-venv fonts-wqy-microhei)
[ $with_browser -eq 1 ] && wanted+=(chromium)
step "downloading ${wanted[*]} and what a clean bookworm lacks of their dependencies"
apt-get "${apt_opts[@]}" -qq -y install --download-only "${wanted[@]}" >/dev/null
# the .debs of this closure exactly (the cache may hold older versions too)
apt-get "${apt_opts[@]}" -s install "${wanted[@]}" | plan_of | while read -r pkg ver arch; do
  deb=$apt_dir/cache/archives/${pkg}_${ver//:/%3a}_$arch.deb
  [ -f "$deb" ] || die "apt did not fetch $pkg $ver ($deb)"
  ln "$deb" "$top/debs/" 2>/dev/null || cp "$deb" "$top/debs/"
done
apt-get "${apt_opts[@]}" -qq autoclean
(cd "$top/debs" && dpkg-scanpackages --multiversion . /dev/null 2>/dev/null > Packages)
printf '%s\n' "${wanted[@]}" > "$top/debs/WANTED"

# The index must carry the whole closure on its own: resolve again with the bundle as the only source.
step "checking that the bundle alone installs them on a clean bookworm"
check=$work/check
mkdir -p "$check/lists/partial" "$check/cache/archives/partial"
echo "deb [trusted=yes] file:$top/debs ./" > "$check/sources.list"
check_opts=("${apt_opts[@]}" -o "Dir::Etc::SourceList=$check/sources.list" -o "Dir::State::Lists=$check/lists"
            -o "Dir::Cache=$check/cache")
apt-get "${check_opts[@]}" -qq update
apt-get "${check_opts[@]}" -s install "${wanted[@]}" > "$check/plan" ||
  die "the bundle's packages do not install on their own: $(tail -5 "$check/plan")"

# 3. The installer, the service files another part of the project writes (when present), and a manifest.
cp deploy/install.sh "$top/install.sh"
chmod 755 "$top/install.sh"
cp README.md "$top/README.md"
shopt -s nullglob
deploy_files=(deploy/*.service deploy/*.socket deploy/*.target deploy/*.timer deploy/gridwall.env.example)
shopt -u nullglob    # (a name with no wildcard stays when absent: keep what exists)
for i in "${!deploy_files[@]}"; do [ -f "${deploy_files[$i]}" ] || unset "deploy_files[$i]"; done
if [ ${#deploy_files[@]} -gt 0 ]; then
  mkdir -p "$top/deploy"
  cp "${deploy_files[@]}" "$top/deploy/"
fi
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
{
  echo "gridwall $version offline bundle for Debian bookworm amd64"
  echo "commit: $commit"
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "browser: $([ $with_browser -eq 1 ] && echo yes || echo no)"
  echo
  echo "[debs]"
  plan_of < "$check/plan" | cut -d' ' -f1,2
  echo
  echo "[wheels]"
  (cd "$top/wheels" && ls)
  echo
  echo "[deploy]"
  (cd "$top" && ls deploy 2>/dev/null || true)
} > "$top/MANIFEST"

# 4. One archive. Wheels and .debs are compressed already: a plain tar.
tar --sort=name --owner=0 --group=0 --numeric-owner -C "$work" -cf "$out.tmp" "$name"
mv "$out.tmp" "$out"
echo "bundle: wrote $out ($(du -h "$out" | cut -f1): $(ls "$top/wheels" | wc -l) wheels," \
     "$(ls "$top"/debs/*.deb | wc -l) .debs) in $((SECONDS - started)) s"
